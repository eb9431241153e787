"""The sizing formula of components/catalog/sizing.py, checked by hand-computed figures."""

from __future__ import annotations

import pytest

from components.catalog import Architecture, Engine, SizingRequest, size_deployment
from components.catalog.sizing import GIB, GPU_CLASSES, gpu_without_bf16, kv_cache_bytes

PHI4_MINI = Architecture(num_layers=32, num_kv_heads=8, head_dim=128)


def test_kv_cache_is_two_tensors_per_layer_per_token() -> None:
    # 2 (K,V) x 32 layers x 8 heads x 128 dims x 2 bytes = 128 KiB per token
    assert kv_cache_bytes(PHI4_MINI, 4096, 4) == 128 * 1024 * 4096 * 4


def test_sliding_window_layers_cache_at_most_the_window() -> None:
    gemma = Architecture(num_layers=6, num_kv_heads=1, head_dim=256, sliding_window=1024, global_layer_every=6)
    # one global layer holds 8192 tokens, five local layers hold 1024 each
    per_token_per_layer = 2 * 1 * 256 * 2
    assert kv_cache_bytes(gemma, 8192, 1) == per_token_per_layer * (8192 + 5 * 1024)


def test_unknown_architecture_uses_the_conservative_fallback() -> None:
    assert kv_cache_bytes(None, 1000, 2) == 160 * 1024 * 1000 * 2


def test_cpu_deployment_requests_the_total_and_limits_a_quarter_more() -> None:
    sizing = size_deployment(SizingRequest(Engine.OLLAMA, 2 * GIB, 4096, 1, PHI4_MINI, gpu=False))
    assert not sizing.use_gpu and sizing.gpu_class is None and sizing.gpu_memory_utilization is None
    assert sizing.total_bytes == 2 * GIB + 512 * 1024**2 + int(0.6 * GIB) + int(0.05 * 2 * GIB)
    assert sizing.memory_request_bytes >= sizing.total_bytes
    assert sizing.memory_request_bytes % (256 * 1024**2) == 0
    assert sizing.memory_limit_bytes >= 1.25 * sizing.memory_request_bytes


def test_vllm_is_recommended_a_gpu_and_a_utilization_that_holds_the_total() -> None:
    sizing = size_deployment(SizingRequest(Engine.VLLM, 7 * GIB, 4096, 4, PHI4_MINI))
    assert sizing.use_gpu and sizing.gpu_class is not None
    assert sizing.gpu_class.name == "T4"
    assert sizing.gpu_memory_utilization is not None
    assert sizing.gpu_memory_utilization * sizing.gpu_class.memory_bytes >= sizing.total_bytes
    assert sizing.max_model_len == 4096


def test_smallest_fitting_gpu_is_chosen() -> None:
    fits = [size_deployment(SizingRequest(Engine.VLLM, w * GIB, 2048, 1, PHI4_MINI)) for w in (10, 17, 60, 120)]
    assert [s.gpu_class.name if s.gpu_class else None for s in fits] == ["T4", "A10", "A100", None]
    assert not fits[-1].fits


def test_fp8_is_never_placed_on_a_gpu_without_support() -> None:
    sizing = size_deployment(SizingRequest(Engine.VLLM, 2 * GIB, 2048, 1, PHI4_MINI, quantization="fp8"))
    assert sizing.gpu_class is not None and sizing.gpu_class.compute_capability >= 8.0


@pytest.mark.parametrize("engine", [Engine.OLLAMA, Engine.ONNX])
def test_small_cpu_engines_are_recommended_the_cpu(engine: Engine) -> None:
    assert not size_deployment(SizingRequest(engine, 2 * GIB, 4096, 4, PHI4_MINI)).use_gpu


def test_large_models_are_recommended_a_gpu() -> None:
    assert size_deployment(SizingRequest(Engine.OLLAMA, 14 * GIB, 4096, 4, PHI4_MINI)).use_gpu


def test_a_model_that_needs_bfloat16_skips_gpus_without_it() -> None:
    plain = size_deployment(SizingRequest(Engine.VLLM, 2 * GIB, 2048, 1, PHI4_MINI))
    bf16 = size_deployment(SizingRequest(Engine.VLLM, 2 * GIB, 2048, 1, PHI4_MINI, requires_bf16=True))
    assert plain.gpu_class is not None and plain.gpu_class.name == "T4"
    assert bf16.gpu_class is not None and bf16.gpu_class.name == "A10" and bf16.gpu_class.supports_bf16
    assert bf16.gpu_memory_utilization is not None
    assert bf16.gpu_memory_utilization * bf16.gpu_class.memory_bytes >= bf16.total_bytes


@pytest.mark.parametrize(
    ("vm_size", "gpu"),
    [
        ("Standard_NC4as_T4_v3", "T4"),
        ("Standard_NC64as_T4_v3", "T4"),
        ("Standard_NC6s_v3", "V100"),
        ("Standard_NC24rs_v3", "V100"),
        ("Standard_ND40rs_v2", "V100"),
        ("Standard_NV12s_v3", "M60"),
        ("Standard_NV36ads_A10_v5", None),
        ("Standard_NC24ads_A100_v4", None),
        ("Standard_NC40ads_H100_v5", None),
        ("Standard_D4s_v5", None),
    ],
)
def test_vm_sizes_without_bfloat16_are_known_by_family(vm_size: str, gpu: str | None) -> None:
    assert gpu_without_bf16(vm_size) == gpu


def test_gpu_classes_agree_with_the_vm_size_families() -> None:
    for gpu_class in GPU_CLASSES:
        assert (gpu_without_bf16(gpu_class.vm_size) is None) == gpu_class.supports_bf16, gpu_class.name


def test_gpu_table_is_ordered_by_memory() -> None:
    memories = [g.memory_bytes for g in GPU_CLASSES]
    assert memories == sorted(memories)


def test_catalog_table_never_places_a_model_that_needs_bfloat16_on_a_t4() -> None:
    from components.catalog.table import catalog_rows

    rows = catalog_rows(context_tokens=1024, concurrency=1)
    gemma_on_vllm = [row for row in rows if row[0].startswith("gemma-3") and row[4] == "vllm"]
    assert len(gemma_on_vllm) == 3
    assert all(row[8] not in ("T4", "CPU") for row in gemma_on_vllm), gemma_on_vllm
    assert any(row[8] == "T4" for row in rows if row[0] == "qwen3-0.6b" and row[4] == "vllm")
