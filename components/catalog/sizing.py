"""How much memory a model deployment needs, and what to run it on.

The formula (all figures in bytes)::

    kv_cache  = 2 (K and V) x layers x kv_heads x head_dim x kv_dtype_bytes
                x cached_tokens_per_layer(max_context_tokens) x concurrency
    overhead  = engine runtime constant + 5 % of the weights (activations, buffers)
    total     = weights + kv_cache + overhead

``cached_tokens_per_layer`` is the context length, except for models that alternate
sliding-window and global layers (Gemma 3), whose local layers hold at most the window.
A model without a known architecture (a custom ``source``) uses a conservative
160 KiB per token, above every grouped-query-attention SLM in the catalog.

From ``total`` follow the recommendations:

* GPU or CPU: the stack's explicit choice, else GPU for vLLM (its default image is CUDA-only)
  and for anything above 12 GiB, else CPU.
* GPU class: the smallest entry of ``GPU_CLASSES`` whose memory x 0.95 holds ``total`` and
  whose compute capability runs the quantization (FP8 needs Ampere; a T4 has no bfloat16, so
  engines serve bf16 checkpoints there as float16), and which has bfloat16 when the model
  cannot run as float16 (``requires_bf16``: Gemma 3 on vLLM).
* vLLM ``--gpu-memory-utilization``: ``total / gpu_memory`` plus 5 % headroom, rounded up
  to 0.05 and kept within [0.50, 0.95]; vLLM gives whatever it reserves beyond the weights to
  the KV cache, so more than needed only buys concurrency.
* vLLM ``--max-model-len``: the stack's ``maxContextTokens``.
* Container memory: on CPU the request is ``total``; on a GPU host memory only stages the
  weights, so the request is the weights plus 2 GiB. The limit is the request plus 25 %,
  rounded up to 256 MiB.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from components.catalog.models import Architecture, Engine

GIB = 1024**3
MIB = 1024**2

#: Conservative KV-cache bytes per token when the architecture is unknown.
FALLBACK_KV_BYTES_PER_TOKEN = 160 * 1024
#: Bytes per cached K or V element (fp16/bf16 KV cache, every engine's default).
KV_DTYPE_BYTES = 2
#: Fixed memory each engine needs besides weights and KV cache.
ENGINE_OVERHEAD_BYTES = {
    (Engine.VLLM, True): 2 * GIB,  # CUDA context, CUDA graphs, sampler buffers
    (Engine.VLLM, False): int(1.5 * GIB),  # torch CPU runtime, tokenizer, API server
    (Engine.OLLAMA, True): int(1.0 * GIB),
    (Engine.OLLAMA, False): int(0.6 * GIB),
    (Engine.ONNX, True): int(1.0 * GIB),
    (Engine.ONNX, False): int(0.5 * GIB),
}
GPU_RECOMMENDED_ABOVE_BYTES = 12 * GIB
GPU_FIT_FRACTION = 0.95


@dataclass(frozen=True)
class GpuClass:
    """One single-GPU Azure VM size per GPU class (sizes from learn.microsoft.com VM size pages)."""

    name: str
    memory_bytes: int
    vm_size: str
    vcpus: int
    ram_bytes: int
    compute_capability: float
    source: str

    @property
    def supports_bf16(self) -> bool:
        """bfloat16 needs compute capability 8.0 (Ampere); a T4 serves bf16 checkpoints as float16."""
        return self.compute_capability >= 8.0


GPU_CLASSES: tuple[GpuClass, ...] = (
    GpuClass(
        "T4",
        16 * GIB,
        "Standard_NC4as_T4_v3",
        4,
        28 * GIB,
        7.5,
        "https://learn.microsoft.com/azure/virtual-machines/sizes/gpu-accelerated/ncast4v3-series",
    ),
    GpuClass(
        "A10",
        24 * GIB,
        "Standard_NV36ads_A10_v5",
        36,
        440 * GIB,
        8.6,
        "https://learn.microsoft.com/azure/virtual-machines/sizes/gpu-accelerated/nvadsa10v5-series",
    ),
    GpuClass(
        "A100",
        80 * GIB,
        "Standard_NC24ads_A100_v4",
        24,
        220 * GIB,
        8.0,
        "https://learn.microsoft.com/azure/virtual-machines/sizes/gpu-accelerated/nca100v4-series",
    ),
    GpuClass(
        "H100",
        94 * GIB,  # H100 NVL on the NCads H100 v5 series
        "Standard_NC40ads_H100_v5",
        40,
        320 * GIB,
        9.0,
        "https://learn.microsoft.com/azure/virtual-machines/sizes/gpu-accelerated/ncadsh100v5-series",
    ),
)


#: Azure GPU VM sizes whose GPU predates Ampere and so has no bfloat16, by family pattern
#: (learn.microsoft.com, "GPU accelerated" VM size series pages): the GPU's name and its
#: compute capability. Sizes that match none are newer (A10, A100, H100, ...) or unknown.
PRE_AMPERE_VM_SIZES: tuple[tuple[str, str, float], ...] = (
    (r"Standard_NC\d+as_T4_v3", "T4", 7.5),  # NCasT4_v3
    (r"Standard_NC\d+r?s_v3|Standard_ND40rs_v2", "V100", 7.0),  # NCv3, NDv2
    (r"Standard_NC\d+r?s_v2", "P100", 6.0),  # NCv2 (retired)
    (r"Standard_ND\d+r?s", "P40", 6.1),  # ND (retired)
    (r"Standard_NV\d+(s_v3)?", "M60", 5.2),  # NV, NVv3
    (r"Standard_NC\d+r?", "K80", 3.7),  # NC (retired)
)


def gpu_without_bf16(vm_size: str) -> str | None:
    """The GPU of ``vm_size`` when it is known to lack bfloat16 (``T4``), else None."""
    for pattern, gpu, _capability in PRE_AMPERE_VM_SIZES:
        if re.fullmatch(pattern, vm_size):
            return gpu
    return None


@dataclass(frozen=True)
class SizingRequest:
    """What sizing needs to know about one model deployment."""

    engine: Engine
    weight_bytes: int
    max_context_tokens: int
    concurrency: int
    architecture: Architecture | None = None
    gpu: bool | None = None  # None: let sizing recommend
    quantization: str | None = None
    requires_bf16: bool = False
    """The engine cannot run the model as float16: only GPUs with bfloat16 qualify."""


@dataclass(frozen=True)
class Sizing:
    """Memory a deployment needs and the recommendations that follow."""

    weight_bytes: int
    kv_cache_bytes: int
    overhead_bytes: int
    total_bytes: int
    use_gpu: bool
    gpu_class: GpuClass | None
    gpu_memory_utilization: float | None
    max_model_len: int
    memory_request_bytes: int
    memory_limit_bytes: int

    @property
    def fits(self) -> bool:
        """False when a GPU is wanted but no single GPU in the table holds the model."""
        return not self.use_gpu or self.gpu_class is not None


def kv_cache_bytes(architecture: Architecture | None, context_tokens: int, concurrency: int) -> int:
    """KV-cache bytes for ``concurrency`` sequences of ``context_tokens`` each."""
    if architecture is None:
        return FALLBACK_KV_BYTES_PER_TOKEN * context_tokens * concurrency
    per_layer_token = 2 * architecture.num_kv_heads * architecture.head_dim * KV_DTYPE_BYTES
    tokens = architecture.kv_cache_tokens_per_layer(context_tokens)
    return math.ceil(architecture.num_layers * per_layer_token * tokens * concurrency)


def _round_up(value: float, step: int) -> int:
    return int(math.ceil(value / step) * step)


#: Lowest compute capability vLLM serves a quantization on: FP8 runs weight-only (Marlin) from
#: Ampere (8.0); AWQ and GPTQ kernels need Turing (7.5). https://docs.vllm.ai/en/latest/features/quantization/
MIN_COMPUTE_CAPABILITY = {"fp8": 8.0, "awq": 7.5, "gptq": 7.5}


def smallest_gpu_class(
    total_bytes: int, quantization: str | None = None, *, requires_bf16: bool = False
) -> GpuClass | None:
    """The smallest GPU that holds ``total_bytes``, runs ``quantization`` and, when the model
    requires it, has bfloat16."""
    needed = MIN_COMPUTE_CAPABILITY.get(quantization or "", 0.0)
    for gpu in GPU_CLASSES:
        if requires_bf16 and not gpu.supports_bf16:
            continue
        if total_bytes <= gpu.memory_bytes * GPU_FIT_FRACTION and gpu.compute_capability >= needed:
            return gpu
    return None


def size_deployment(request: SizingRequest) -> Sizing:
    """Apply the formula of this module's docstring."""
    kv = kv_cache_bytes(request.architecture, request.max_context_tokens, request.concurrency)
    preliminary_gpu = request.gpu if request.gpu is not None else True
    base_overhead = ENGINE_OVERHEAD_BYTES[(request.engine, preliminary_gpu)]
    total_if_gpu = request.weight_bytes + kv + base_overhead + int(0.05 * request.weight_bytes)

    if request.gpu is not None:
        use_gpu = request.gpu
    else:
        use_gpu = request.engine is Engine.VLLM or total_if_gpu > GPU_RECOMMENDED_ABOVE_BYTES

    overhead = ENGINE_OVERHEAD_BYTES[(request.engine, use_gpu)] + int(0.05 * request.weight_bytes)
    total = request.weight_bytes + kv + overhead

    gpu_class = (
        smallest_gpu_class(total, request.quantization, requires_bf16=request.requires_bf16) if use_gpu else None
    )
    utilization: float | None = None
    if use_gpu and request.engine is Engine.VLLM and gpu_class is not None:
        wanted = total / gpu_class.memory_bytes + 0.05
        utilization = min(0.95, max(0.50, math.ceil(wanted * 20 - 1e-9) / 20))

    request_bytes = request.weight_bytes + 2 * GIB if use_gpu else total
    request_bytes = _round_up(request_bytes, 256 * MIB)
    limit_bytes = _round_up(request_bytes * 1.25, 256 * MIB)
    return Sizing(
        weight_bytes=request.weight_bytes,
        kv_cache_bytes=kv,
        overhead_bytes=overhead,
        total_bytes=total,
        use_gpu=use_gpu,
        gpu_class=gpu_class,
        gpu_memory_utilization=utilization,
        max_model_len=request.max_context_tokens,
        memory_request_bytes=request_bytes,
        memory_limit_bytes=limit_bytes,
    )
