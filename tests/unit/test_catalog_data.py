"""Checks on the model catalog data (components/catalog/presets.yaml).

Plain Python: loads every preset through the pydantic models and checks the numbers are
plausible, so a typo in a size or a context length fails here rather than in a deployment.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.catalog import load_catalog
from components.catalog.models import Engine, Preset

CATALOG = Path(__file__).resolve().parents[2] / "components" / "catalog" / "presets.yaml"

REQUIRED = {
    "phi-4-mini-instruct",
    "qwen3-0.6b",
    "qwen3-1.7b",
    "qwen3-4b",
    "qwen3-8b",
    "gemma-3-1b-it",
    "gemma-3-4b-it",
    "gemma-3-12b-it",
    "qwen2.5-3b-instruct",
}
GEMMA = {"gemma-3-1b-it", "gemma-3-4b-it", "gemma-3-12b-it"}

# Bytes per parameter (weights incl. embeddings) that a variant of each quantization may have.
# 16-bit: 2 bytes, +/- embeddings stored twice (untied lm_head) and rounded card counts.
# 8-bit: 1 byte for linear layers, but FP8 checkpoints keep embeddings in BF16, which weighs
#   most in the smallest models (Qwen3-0.6B-FP8 ~1.8).
# 4-bit (GGUF Q4_K_M, AWQ): 0.5 byte plus scales and higher-precision embeddings.
# ONNX int4: the CPU builds keep embeddings in fp32 (Phi-4-mini CPU: ~1.3).
BYTES_PER_PARAM: dict[str, tuple[float, float]] = {
    "bf16": (1.6, 2.6),
    "fp16": (1.6, 2.6),
    "fp8": (0.9, 1.9),
    "q8_0": (0.9, 1.9),
    "awq": (0.4, 1.0),
    "q4_k_m": (0.4, 1.0),
    "int4-cpu": (0.4, 1.6),
    "int4-gpu": (0.4, 1.6),
}
DNS_1123 = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$")


def _raw() -> dict[str, Any]:
    with CATALOG.open(encoding="utf-8") as f:
        data = yaml.safe_load(f)
    assert isinstance(data, dict)
    presets = data["presets"]
    assert isinstance(presets, dict)
    return presets


def _presets() -> dict[str, Preset]:
    return {name: Preset.model_validate(raw) for name, raw in _raw().items()}


PRESETS = _presets()


def test_the_catalog_loader_serves_every_preset_of_the_file() -> None:
    catalog = load_catalog()
    assert sorted(catalog.names()) == sorted(_raw())
    for name, preset in PRESETS.items():
        assert catalog.get(name) == preset, name


def test_required_presets_are_present() -> None:
    missing = REQUIRED - set(PRESETS)
    assert not missing, sorted(missing)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_name_is_dns_1123(name: str) -> None:
    assert DNS_1123.match(name), name


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_context_length_and_parameters_are_positive(name: str) -> None:
    preset = PRESETS[name]
    assert preset.context_length > 0
    assert preset.parameters > 0
    # Every model here has at least a 32K context; a smaller number is likely a typo (K vs tokens).
    assert preset.context_length >= 32_768


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_gated_exactly_for_gemma(name: str) -> None:
    assert PRESETS[name].gated is (name in GEMMA)


@pytest.mark.parametrize("name", sorted(GEMMA))
def test_gemma_has_interleaved_sliding_window(name: str) -> None:
    arch = PRESETS[name].architecture
    assert arch.sliding_window is not None and arch.sliding_window > 0
    assert arch.global_layer_every == 6


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_has_a_default_vllm_and_ollama_variant(name: str) -> None:
    engines = PRESETS[name].engines
    vllm = engines[Engine.VLLM]
    assert vllm.default_quantization == "bf16"
    assert vllm.variants["bf16"].gpu is True
    assert engines[Engine.OLLAMA].default_quantization == "q4_k_m"
    if Engine.ONNX in engines:
        assert engines[Engine.ONNX].variants[engines[Engine.ONNX].default_quantization].gpu is False


@pytest.mark.parametrize(
    ("name", "parser"),
    [
        ("phi-4-mini-instruct", "phi4_mini_json"),
        ("qwen3-0.6b", "hermes"),
        ("qwen3-8b", "hermes"),
        ("qwen2.5-3b-instruct", "hermes"),
        ("gemma-3-4b-it", None),
    ],
)
def test_tool_call_parser(name: str, parser: str | None) -> None:
    assert PRESETS[name].engines[Engine.VLLM].tool_call_parser == parser


def _variants() -> list[tuple[str, str, str]]:
    return [
        (name, engine.value, quant)
        for name, preset in sorted(PRESETS.items())
        for engine, support in preset.engines.items()
        for quant in support.variants
    ]


@pytest.mark.parametrize(("name", "engine", "quant"), _variants())
def test_weight_bytes_plausible_for_parameters_and_quantization(name: str, engine: str, quant: str) -> None:
    preset = PRESETS[name]
    variant = preset.engines[Engine(engine)].variants[quant]
    assert quant in BYTES_PER_PARAM, f"no plausibility band for quantization {quant!r}"
    low, high = BYTES_PER_PARAM[quant]
    ratio = variant.weight_bytes / preset.parameters
    assert low <= ratio <= high, f"{name}/{engine}/{quant}: {ratio:.2f} bytes/param"


@pytest.mark.parametrize(("name", "engine", "quant"), _variants())
def test_variant_names_its_source(name: str, engine: str, quant: str) -> None:
    variant = PRESETS[name].engines[Engine(engine)].variants[quant]
    assert variant.source.startswith("https://"), variant.source
    assert variant.ref.strip() == variant.ref and variant.ref


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_ollama_refs_are_tags_of_one_library_model(name: str) -> None:
    refs = [v.ref for v in PRESETS[name].engines[Engine.OLLAMA].variants.values()]
    assert all(":" in ref and "/" not in ref for ref in refs), refs
    assert len({ref.split(":")[0] for ref in refs}) == 1, refs
