"""SUMMARY.md of a render: the stack at a glance for a reviewer."""

from __future__ import annotations

from collections import Counter

from components.catalog.sizing import GIB
from components.cost import cost_markdown, estimate_cost
from components.engines import build_plans
from components.render.harness import Recording
from components.spec import DeploymentSpec, resolve_artifact, size_model


def _gib(value: int) -> str:
    return f"{value / GIB:.1f} GiB"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def summary_markdown(spec: DeploymentSpec, recording: Recording) -> str:
    lines = [
        f"# Stack `{recording.stack}`",
        "",
        f"Target **{spec.target.value}**, environment **{spec.environment.value}**.",
        "",
        "Rendered offline by `slm-deploy render`: this is what the program asks for, not a diff",
        "against live state (that is what `pulumi preview` shows).",
        "",
        "## Models",
        "",
    ]
    rows = []
    for model in spec.models:
        artifact = resolve_artifact(model)
        sizing = size_model(model, artifact)
        replicas = (
            f"{model.autoscaling.min_replicas}-{model.autoscaling.max_replicas} (auto)"
            if model.autoscaling
            else str(model.replicas)
        )
        runs_on = (
            f"{model.gpu_count}x GPU ({sizing.gpu_class.name if sizing.gpu_class else 'too large'})"
            if (sizing.use_gpu)
            else "CPU"
        )
        rows.append(
            [
                f"`{model.name}`",
                model.engine.value,
                f"`{artifact.ref}`",
                artifact.quantization or "-",
                str(model.max_context_tokens),
                replicas,
                runs_on,
                _gib(sizing.total_bytes),
                f"{_gib(sizing.memory_request_bytes)} / {_gib(sizing.memory_limit_bytes)}",
            ]
        )
    lines += _table(
        [
            "Model",
            "Engine",
            "Artifact",
            "Quantization",
            "Context",
            "Replicas",
            "Runs on",
            "Needs",
            "Memory req / limit",
        ],
        rows,
    )
    outputs = recording.masked_outputs()
    if outputs:
        lines += ["", "## Outputs", ""]
        lines += _table(["Output", "Value"], [[f"`{k}`", f"`{v}`"] for k, v in outputs.items()])
    counts = Counter(r.type for r in recording.resources)
    lines += ["", f"## Resources ({sum(counts.values())})", ""]
    lines += _table(["Type", "Count"], [[f"`{t}`", str(n)] for t, n in sorted(counts.items())])
    estimate = estimate_cost(recording.stack, spec, build_plans(spec))
    lines += ["", "## Cost", "", cost_markdown(estimate).rstrip("\n")]
    return "\n".join(lines) + "\n"
