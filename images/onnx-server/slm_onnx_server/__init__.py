"""OpenAI-compatible model server on onnxruntime-genai (the slm-deploy ONNX engine)."""

__version__ = "0.1.0"
