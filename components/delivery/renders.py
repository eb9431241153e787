"""Reading render folders (``slm-deploy render`` output) for comparison.

A *render* is a folder with ``plan.json``; a *render set* is a folder of renders, one per
stack (what CI writes when it renders every stack). Anything else is unusable input.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Per-kind folders whose text files are compared line by line.
KIND_FOLDERS = ("docker", "kubernetes", "observability", "azure")


class RenderInputError(Exception):
    """A path is not a render or a render set; the message is one line."""


@dataclass(frozen=True)
class Render:
    stack: str
    resources: dict[str, dict[str, Any]]
    """By URN."""
    outputs: dict[str, Any]
    files: dict[str, str] = field(default_factory=dict)
    """Text files of the per-kind folders, by relative path."""
    cost: dict[str, Any] | None = None
    """cost.json, when the render has one."""


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise RenderInputError(f"{path}: cannot be read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise RenderInputError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None


def load_render(folder: Path) -> Render:
    plan = _read_json(folder / "plan.json")
    if not isinstance(plan, dict) or not isinstance(plan.get("resources"), list) or "stack" not in plan:
        raise RenderInputError(f"{folder / 'plan.json'}: expected an object with 'stack' and a 'resources' list")
    resources: dict[str, dict[str, Any]] = {}
    for index, resource in enumerate(plan["resources"]):
        if not isinstance(resource, dict) or not isinstance(resource.get("urn"), str):
            raise RenderInputError(f"{folder / 'plan.json'}: resources[{index}] has no 'urn'")
        resources[resource["urn"]] = resource
    files: dict[str, str] = {}
    for kind in KIND_FOLDERS:
        for path in sorted((folder / kind).rglob("*")):
            if path.is_file():
                try:
                    files[path.relative_to(folder).as_posix()] = path.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as exc:
                    raise RenderInputError(f"{path}: cannot be read as text: {exc}") from None
    cost_path = folder / "cost.json"
    cost = _read_json(cost_path) if cost_path.is_file() else None
    outputs = plan.get("outputs") or {}
    return Render(str(plan["stack"]), resources, outputs if isinstance(outputs, dict) else {}, files, cost)


def load_renders(path: Path) -> tuple[bool, dict[str, Render]]:
    """``(is_set, renders by stack)``: one render, or every render in a render set (may be empty)."""
    if not path.is_dir():
        raise RenderInputError(f"{path}: no such folder (expected a render or a folder of renders)")
    if (path / "plan.json").is_file():
        render = load_render(path)
        return False, {render.stack: render}
    children = sorted(p for p in path.iterdir() if p.is_dir() and (p / "plan.json").is_file())
    others = [p for p in path.iterdir() if p.name not in {c.name for c in children} and not p.name.startswith(".")]
    if not children and others:
        raise RenderInputError(f"{path}: neither a render (no plan.json) nor a folder of renders")
    renders: dict[str, Render] = {}
    for child in children:
        render = load_render(child)
        renders[child.name] = render
    return True, renders
