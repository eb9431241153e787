"""The ``slm-deploy catalog`` table: every preset and engine build with its sizing."""

from __future__ import annotations

from components.catalog.models import Engine
from components.catalog.sizing import GIB, SizingRequest, size_deployment
from components.catalog.store import load_catalog


def _gib(value: int) -> str:
    return f"{value / GIB:.1f}"


def catalog_rows(context_tokens: int, concurrency: int) -> list[list[str]]:
    rows = []
    catalog = load_catalog()
    for name in catalog.names():
        preset = catalog.presets[name]
        for engine in Engine:
            support = preset.engines.get(engine)
            if support is None:
                continue
            for quantization, variant in support.variants.items():
                context = min(context_tokens, preset.context_length)
                sizing = size_deployment(
                    SizingRequest(
                        engine,
                        variant.weight_bytes,
                        context,
                        concurrency,
                        preset.architecture,
                        variant.gpu,
                        quantization,
                        requires_bf16=preset.requires_bf16_on(engine),
                    )
                )
                rows.append(
                    [
                        name,
                        f"{preset.parameters / 1e9:.2f}B",
                        str(preset.context_length),
                        preset.license,
                        engine.value,
                        quantization + ("*" if variant.default else ""),
                        _gib(variant.weight_bytes),
                        _gib(sizing.total_bytes),
                        (sizing.gpu_class.name if sizing.gpu_class else "none fits") if sizing.use_gpu else "CPU",
                        sizing.gpu_class.vm_size if sizing.gpu_class else "-",
                        f"{sizing.gpu_memory_utilization:.2f}" if sizing.gpu_memory_utilization else "-",
                        f"{_gib(sizing.memory_request_bytes)}/{_gib(sizing.memory_limit_bytes)}",
                    ]
                )
    return rows


HEADER = [
    "PRESET",
    "PARAMS",
    "CONTEXT",
    "LICENSE",
    "ENGINE",
    "QUANT",
    "WEIGHTS GiB",
    "NEEDS GiB",
    "RUNS ON",
    "AZURE VM",
    "GPU UTIL",
    "MEM REQ/LIM GiB",
]


def catalog_table(context_tokens: int = 4096, concurrency: int = 4) -> str:
    rows = [HEADER, *catalog_rows(context_tokens, concurrency)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.append("")
    lines.append(
        f"Sized for {context_tokens} context tokens x {concurrency} concurrent sequences; * marks the default "
        "quantization. Formula: components/catalog/sizing.py."
    )
    return "\n".join(lines)
