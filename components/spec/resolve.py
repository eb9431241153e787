"""Which artifact a model spec means: the catalog variant, or the custom source.

Rules, engines and sizing all ask the same question ("what exactly is downloaded, how big is
it, what can it do"), so it is answered once here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from components.catalog import (
    Architecture,
    Engine,
    Preset,
    Sizing,
    SizingRequest,
    load_catalog,
    size_deployment,
)
from components.spec.errors import Problem

if TYPE_CHECKING:
    from components.spec.models import ModelSpec

#: Precisions of onnxruntime-genai's model builder and bytes per parameter they produce
#: (int4 block-32 weights keep fp16 scales and unquantized embeddings: about 0.6).
ONNX_CONVERSION_BYTES_PER_PARAMETER = {"int4": 0.6, "fp16": 2.0, "fp32": 4.0}
#: vLLM --quantization methods accepted for custom checkpoints.
VLLM_QUANTIZATION_METHODS = (
    "awq",
    "awq_marlin",
    "gptq",
    "gptq_marlin",
    "fp8",
    "bitsandbytes",
    "compressed-tensors",
)


class ArtifactError(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(str(problem))


@dataclass(frozen=True)
class ModelArtifact:
    """What one model spec downloads and serves."""

    engine: Engine
    quantization: str | None
    ref: str
    """Hugging Face repository (vLLM, ONNX) or Ollama tag."""
    subfolder: str | None
    convert: bool
    """ONNX only: ``ref`` is a Hugging Face checkpoint to convert with the model builder."""
    weight_bytes: int
    parameters: int
    context_length: int
    architecture: Architecture | None
    tool_call_parser: str | None
    gated: bool
    requires_bf16: bool = False
    """The engine refuses float16 for this model (Gemma 3 on vLLM): it needs a GPU with bfloat16."""

    @property
    def downloads_from_huggingface(self) -> bool:
        return self.engine is not Engine.OLLAMA


def resolve_artifact(model: ModelSpec) -> ModelArtifact:
    """The artifact of ``model``; raises :class:`ArtifactError` naming the offending key."""
    if model.preset is not None:
        preset = load_catalog().get(model.preset)
        if preset is None:
            known = ", ".join(load_catalog().names())
            raise ArtifactError(Problem(("preset",), f"{model.preset!r} is not a preset; known: {known}"))
        return _from_preset(model, model.preset, preset)
    if model.source is None:
        raise ArtifactError(Problem(("preset",), "set exactly one of preset and source"))
    return _from_source(model)


def _preset_artifact(
    model: ModelSpec,
    preset: Preset,
    *,
    quantization: str,
    ref: str,
    subfolder: str | None,
    convert: bool,
    weight_bytes: int,
    tool_call_parser: str | None,
) -> ModelArtifact:
    return ModelArtifact(
        engine=model.engine,
        quantization=quantization,
        ref=ref,
        subfolder=subfolder,
        convert=convert,
        weight_bytes=weight_bytes,
        parameters=preset.parameters,
        context_length=preset.context_length,
        architecture=preset.architecture,
        tool_call_parser=tool_call_parser,
        gated=preset.gated,
        requires_bf16=preset.requires_bf16_on(model.engine),
    )


def _from_preset(model: ModelSpec, name: str, preset: Preset) -> ModelArtifact:
    support = preset.engines.get(model.engine)
    vllm = preset.engines.get(Engine.VLLM)
    if support is None and model.engine is Engine.ONNX and vllm is not None:
        precision = _builder_precision(model, f"{name} (no published ONNX build)")
        source = vllm.variants[vllm.default_quantization]
        weight = int(preset.parameters * ONNX_CONVERSION_BYTES_PER_PARAMETER[precision])
        return _preset_artifact(
            model,
            preset,
            quantization=precision,
            ref=source.ref,
            subfolder=None,
            convert=True,
            weight_bytes=weight,
            tool_call_parser=None,
        )
    if support is None:
        engines = ", ".join(sorted(e.value for e in preset.engines))
        raise ArtifactError(Problem(("engine",), f"preset {name} has no {model.engine.value} build; it has {engines}"))
    quantization = model.quantization or support.default_quantization
    variant = support.variants.get(quantization)
    if variant is None:
        choices = ", ".join(support.variants)
        raise ArtifactError(
            Problem(
                ("quantization",),
                f"{quantization!r} is not available for {name} on {model.engine.value}; choose one of {choices}",
            )
        )
    if model.engine is Engine.ONNX and variant.gpu is not None and variant.gpu != (model.gpu_count > 0):
        needs = "a GPU (gpu: true)" if variant.gpu else "a CPU (gpu: false)"
        raise ArtifactError(Problem(("quantization",), f"{quantization!r} is a build for {needs}"))
    return _preset_artifact(
        model,
        preset,
        quantization=quantization,
        ref=variant.ref,
        subfolder=variant.subfolder,
        convert=False,
        weight_bytes=variant.weight_bytes,
        tool_call_parser=support.tool_call_parser,
    )


def _builder_precision(model: ModelSpec, what: str) -> str:
    """The model builder's precision for a conversion: the stack's quantization, int4 by default."""
    precision = model.quantization or "int4"
    if precision not in ONNX_CONVERSION_BYTES_PER_PARAMETER:
        choices = ", ".join(ONNX_CONVERSION_BYTES_PER_PARAMETER)
        raise ArtifactError(
            Problem(
                ("quantization",), f"{precision!r} is not a model builder precision for {what}; choose one of {choices}"
            )
        )
    return precision


def _from_source(model: ModelSpec) -> ModelArtifact:
    source = model.source
    assert source is not None
    ref: str | None
    subfolder = None
    convert = False
    quantization = model.quantization
    if model.engine is Engine.VLLM:
        ref = source.huggingface
        key = "huggingface"
        if model.quantization is not None and model.quantization not in VLLM_QUANTIZATION_METHODS:
            choices = ", ".join(VLLM_QUANTIZATION_METHODS)
            raise ArtifactError(
                Problem(
                    ("quantization",),
                    f"{model.quantization!r} is not a vLLM quantization; choose one of {choices}",
                )
            )
    elif model.engine is Engine.OLLAMA:
        ref, key = source.ollama, "ollama"
        if model.quantization is not None:
            raise ArtifactError(
                Problem(("quantization",), "for a custom Ollama model the tag decides the quantization")
            )
    else:
        ref, key, subfolder = source.onnx, "onnx", source.onnx_subfolder
        if ref is None and source.huggingface is not None:
            ref, convert = source.huggingface, True
            quantization = _builder_precision(model, f"converting {ref}")
        elif model.quantization is not None:
            raise ArtifactError(
                Problem(("quantization",), "for a published ONNX build the build decides the quantization")
            )
    if ref is None:
        raise ArtifactError(Problem(("source", key), f"is required for engine {model.engine.value}"))
    return ModelArtifact(
        engine=model.engine,
        quantization=quantization,
        ref=ref,
        subfolder=subfolder,
        convert=convert,
        weight_bytes=source.weight_bytes,
        parameters=source.parameters,
        context_length=source.context_length,
        architecture=None,
        tool_call_parser=None,
        gated=source.gated,
    )


def size_model(model: ModelSpec, artifact: ModelArtifact | None = None) -> Sizing:
    """Catalog sizing for ``model`` at its context window and concurrency."""
    artifact = artifact or resolve_artifact(model)
    return size_deployment(
        SizingRequest(
            engine=model.engine,
            weight_bytes=artifact.weight_bytes,
            max_context_tokens=model.max_context_tokens,
            concurrency=model.concurrency,
            architecture=artifact.architecture,
            gpu=model.gpu_count > 0,
            quantization=artifact.quantization,
            requires_bf16=artifact.requires_bf16,
        )
    )
