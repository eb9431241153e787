"""OpenAI-compatible model server on onnxruntime-genai (the slm-deploy ONNX engine)."""

import os

__version__ = "0.1.0"

# ONNX Runtime and onnxruntime-genai otherwise record telemetry, with a persistent device id,
# in a database under $HOME/.cache; a server neither phones home nor writes outside /tmp.
# Set ORT_DISABLE_TELEMETRY=0 explicitly to opt back in.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
