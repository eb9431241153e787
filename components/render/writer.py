"""Turn a recording into the render folder: plan.json, SUMMARY.md and per-kind folders."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from components.render.azure_files import azure_files
from components.render.cost_files import cost_files
from components.render.docker_files import docker_files
from components.render.harness import Recording
from components.render.kubernetes_files import kubernetes_files
from components.render.observability_files import observability_render
from components.render.summary import summary_markdown
from components.spec import DeploymentSpec

#: Functions that add files for one kind of resource (``docker/``, ``kubernetes/``, ...).
Extractor = Callable[[Recording, DeploymentSpec], dict[str, str]]
EXTRACTORS: list[Extractor] = [docker_files, kubernetes_files, azure_files, cost_files, observability_render]


class RenderDirectoryError(Exception):
    """The output directory holds something that is not an earlier render."""


def plan_json(recording: Recording) -> str:
    """Every resource in URN order with masked inputs, and the stack outputs."""
    resources = [
        {
            "urn": r.urn,
            "type": r.type,
            "name": r.name,
            "parent": r.parent,
            "provider": r.provider,
            "custom": r.custom,
            "inputs": r.inputs,
        }
        for r in sorted(recording.resources, key=lambda r: r.urn)
    ]
    document = {"stack": recording.stack, "resources": resources, "outputs": recording.masked_outputs()}
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def render_files(recording: Recording, spec: DeploymentSpec) -> dict[str, str]:
    """Relative path -> content of every file of the render."""
    files = {"plan.json": plan_json(recording), "SUMMARY.md": summary_markdown(spec, recording)}
    for extractor in EXTRACTORS:
        for path, content in extractor(recording, spec).items():
            if path in files:
                raise ValueError(f"two extractors write {path}")
            files[path] = content
    return files


def write_render(files: dict[str, str], out_dir: Path) -> None:
    """Replace ``out_dir`` with exactly ``files``; refuse to wipe a folder that is not a render."""
    if out_dir.exists():
        if not out_dir.is_dir() or (any(out_dir.iterdir()) and not (out_dir / "plan.json").is_file()):
            raise RenderDirectoryError(f"{out_dir}: exists and is not an earlier render; choose another --out")
        shutil.rmtree(out_dir)
    for relative, content in sorted(files.items()):
        path = out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
