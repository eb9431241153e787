"""Types of the model catalog (components/catalog/presets.yaml).

A preset holds facts from a model card: size, context length, licence, the attention shape
that drives KV-cache sizing, and per engine the artifacts that exist for it, one *variant*
per quantization, each with the bytes its weights occupy.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator


class Engine(StrEnum):
    """The serving engines slm-deploy knows."""

    VLLM = "vllm"
    OLLAMA = "ollama"
    ONNX = "onnx"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Architecture(_Frozen):
    """The attention shape, from the model's config.json; it sets the KV-cache size per token."""

    num_layers: int = Field(gt=0)
    num_kv_heads: int = Field(gt=0)
    head_dim: int = Field(gt=0)
    sliding_window: int | None = Field(
        default=None,
        description="Window of the local-attention layers, when the model alternates local and global layers.",
    )
    global_layer_every: int | None = Field(
        default=None, description="Every n-th layer attends globally (Gemma 3: 6); the others use the window."
    )

    def kv_cache_tokens_per_layer(self, context_tokens: int) -> float:
        """Mean number of cached tokens per layer for a sequence of ``context_tokens``."""
        if self.sliding_window is None or self.global_layer_every is None:
            return float(context_tokens)
        local = min(context_tokens, self.sliding_window)
        share_global = 1 / self.global_layer_every
        return share_global * context_tokens + (1 - share_global) * local


class Variant(_Frozen):
    """One downloadable artifact of a model for one engine and quantization."""

    ref: str = Field(description="Hugging Face repository (vLLM, ONNX) or Ollama tag.")
    subfolder: str | None = Field(default=None, description="Folder inside the repository (ONNX GenAI).")
    weight_bytes: int = Field(gt=0, description="Bytes of the weights on disk and in memory.")
    source: str = Field(description="Where the size and reference were read (card or file URL).")
    default: bool = Field(default=False, description="Chosen when the stack names no quantization.")
    gpu: bool | None = Field(
        default=None,
        description="True: needs a GPU; False: CPU build; None: either (ONNX variants are built per device).",
    )


class EngineSupport(_Frozen):
    """What a preset offers one engine."""

    variants: dict[str, Variant] = Field(min_length=1, description="Quantization name -> artifact.")
    tool_call_parser: str | None = Field(default=None, description="vLLM --tool-call-parser for this model.")

    @model_validator(mode="after")
    def _one_default(self) -> EngineSupport:
        defaults = [q for q, v in self.variants.items() if v.default]
        if len(defaults) != 1:
            raise ValueError(f"exactly one variant must be the default, found {defaults or 'none'}")
        return self

    @property
    def default_quantization(self) -> str:
        return next(q for q, v in self.variants.items() if v.default)


class Preset(_Frozen):
    """A model the catalog knows, with facts taken from its model card."""

    display_name: str
    parameters: int = Field(gt=0, description="Parameter count.")
    context_length: int = Field(gt=0, description="Longest context the model supports, in tokens.")
    license: str
    card: HttpUrl = Field(description="The model card the facts were taken from.")
    gated: bool = Field(default=False, description="The Hugging Face repository requires accepting terms (token).")
    requires_bf16: bool = Field(
        default=False,
        description="vLLM refuses float16 for the architecture (numerical instability): it needs a GPU with "
        "bfloat16 (compute capability 8.0, Ampere) and never runs as float16.",
    )
    architecture: Architecture
    engines: dict[Engine, EngineSupport]
    notes: str | None = None

    def requires_bf16_on(self, engine: Engine) -> bool:
        """The engine needs a bfloat16 GPU for this model: only vLLM refuses float16."""
        return self.requires_bf16 and engine is Engine.VLLM
