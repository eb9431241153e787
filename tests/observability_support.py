"""Stacks and tools the observability tests share: a stack with every engine and a GPU,
files written to a folder, and promtool/amtool runs."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from components.engines import build_plans
from components.observability.config_files import observability_files
from components.plan import ServingPlan
from components.spec import DeploymentSpec, parse_config

#: One model per engine, the vLLM one on a GPU: every rule group and dashboard.
ALL_ENGINES: list[dict[str, Any]] = [
    {"name": "phi4-mini", "engine": "vllm", "preset": "phi-4-mini-instruct", "maxContextTokens": 8192, "gpu": True},
    {"name": "qwen3-onnx", "engine": "onnx", "preset": "qwen3-0.6b", "quantization": "int4-cpu"},
    {"name": "qwen3-small", "engine": "ollama", "preset": "qwen3-0.6b", "quantization": "q4_k_m"},
]


def make_spec(models: list[dict[str, Any]] | None = None, target: str = "docker", **sections: Any) -> DeploymentSpec:
    """A spec from Python values, as the CLI passes config (``environment`` defaults to dev)."""
    config = {"slm-deploy:target": target, "slm-deploy:models": json.dumps(models or ALL_ENGINES)}
    config["slm-deploy:environment"] = sections.pop("environment", "dev")
    for key, value in sections.items():
        config[f"slm-deploy:{key}"] = value if isinstance(value, str) else json.dumps(value)
    return parse_config(config)


def spec_and_plans(**kwargs: Any) -> tuple[DeploymentSpec, list[ServingPlan]]:
    spec = make_spec(**kwargs)
    return spec, build_plans(spec)


def write_files(folder: Path, files: dict[str, str]) -> None:
    for relative, content in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")


def rendered(tmp_path: Path, spec: DeploymentSpec, stack: str = "test", docker: bool = True) -> Path:
    """The stack's observability files written under ``tmp_path``; returns the folder."""
    write_files(tmp_path, observability_files(spec, build_plans(spec), stack, docker=docker))
    return tmp_path / "observability"


def tool(name: str) -> str:
    found = shutil.which(name)
    assert found, f"{name} is not installed: run `make setup` (Debian's prometheus/prometheus-alertmanager)"
    return found


def run(args: list[str | Path], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
