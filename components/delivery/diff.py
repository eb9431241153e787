"""A structured diff of two renders: resources added, removed and changed (with the changed
inputs), per-kind files as unified diffs, and the cost change. Secret values never appear:
an input masked as ``[secret]`` on either side is reported as "secret (not shown)".
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml

from components.delivery.renders import Render

MASK = "[secret]"
SECRET_SHOWN_AS = "secret (not shown)"
ABSENT = object()


@dataclass(frozen=True)
class ValueChange:
    path: str
    old: Any
    new: Any

    @property
    def secret(self) -> bool:
        return MASK in (self.old, self.new)


@dataclass(frozen=True)
class ResourceChange:
    kind: str  # "added" | "removed" | "changed"
    type: str
    name: str
    urn: str
    changes: list[ValueChange] = field(default_factory=list)


@dataclass(frozen=True)
class FileChange:
    kind: str  # "added" | "removed" | "changed"
    path: str
    diff: str


@dataclass(frozen=True)
class CostChange:
    currency: str
    before: dict[str, str] | None
    after: dict[str, str] | None
    complete_before: bool
    complete_after: bool
    priced: bool

    def delta(self, key: str) -> Decimal | None:
        if self.before is None or self.after is None:
            return None
        try:
            return Decimal(self.after[key]) - Decimal(self.before[key])
        except (KeyError, InvalidOperation):
            return None


@dataclass(frozen=True)
class StackDiff:
    stack: str
    status: str  # "changed" | "unchanged" | "added" | "removed"
    resources: list[ResourceChange]
    outputs: list[ValueChange]
    files: list[FileChange]
    cost: CostChange | None

    def count(self, kind: str) -> int:
        return sum(1 for r in self.resources if r.kind == kind)


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict) and value:
        for key in sorted(value):
            _flatten(value[key], f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            _flatten(item, f"{prefix}[{index}]", out)
    else:
        out[prefix] = value


def value_changes(old: Any, new: Any, prefix: str = "") -> list[ValueChange]:
    """Leaf paths whose values differ (absent on one side shows as ``None``)."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    _flatten(old, prefix, before)
    _flatten(new, prefix, after)
    changes = []
    for path in sorted(set(before) | set(after)):
        a, b = before.get(path, ABSENT), after.get(path, ABSENT)
        if a != b:
            changes.append(ValueChange(path, None if a is ABSENT else a, None if b is ABSENT else b))
    return changes


def _resource_changes(base: Render, head: Render) -> list[ResourceChange]:
    changes = []
    for urn in sorted(set(base.resources) | set(head.resources)):
        a, b = base.resources.get(urn), head.resources.get(urn)
        ref = b or a
        assert ref is not None
        if a is None:
            changes.append(ResourceChange("added", ref.get("type", "?"), ref.get("name", "?"), urn))
        elif b is None:
            changes.append(ResourceChange("removed", ref.get("type", "?"), ref.get("name", "?"), urn))
        else:
            fields = value_changes(
                {k: a.get(k) for k in ("parent", "provider", "custom")},
                {k: b.get(k) for k in ("parent", "provider", "custom")},
            )
            fields += value_changes(a.get("inputs", {}), b.get("inputs", {}), "inputs")
            if fields:
                changes.append(ResourceChange("changed", ref.get("type", "?"), ref.get("name", "?"), urn, fields))
    return changes


def _redact_secrets(path: str, text: str) -> str:
    """Kubernetes Secret manifests keep their keys but never their values."""
    if not path.startswith("kubernetes/") or "Secret" not in text:
        return text
    try:
        documents = list(yaml.safe_load_all(text))
    except yaml.YAMLError:
        return text
    changed = False
    for document in documents:
        if isinstance(document, dict) and document.get("kind") == "Secret":
            for section in ("data", "stringData"):
                if isinstance(document.get(section), dict):
                    document[section] = {key: MASK for key in document[section]}
                    changed = True
    if not changed:
        return text
    return yaml.safe_dump_all(documents, sort_keys=False, default_flow_style=False)


def _file_changes(base: Render, head: Render) -> list[FileChange]:
    changes = []
    for path in sorted(set(base.files) | set(head.files)):
        a = _redact_secrets(path, base.files.get(path, ""))
        b = _redact_secrets(path, head.files.get(path, ""))
        if a == b and (path in base.files) == (path in head.files):
            continue
        kind = "added" if path not in base.files else "removed" if path not in head.files else "changed"
        lines = difflib.unified_diff(
            a.splitlines(keepends=True), b.splitlines(keepends=True), f"base/{path}", f"head/{path}", n=3
        )
        diff = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
        changes.append(FileChange(kind, path, diff))
    return changes


def _cost_change(base: Render | None, head: Render | None) -> CostChange | None:
    documents = [r.cost if r is not None else None for r in (base, head)]
    if all(d is None for d in documents):
        return None
    known = next(d for d in documents if d is not None)
    before, after = documents

    def totals(document: dict[str, Any] | None) -> dict[str, str] | None:
        if document is None or not document.get("priced", True):
            return None
        value = document.get("totals")
        return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else None

    return CostChange(
        currency=str(known.get("currency", "")),
        before=totals(before),
        after=totals(after),
        complete_before=bool(before and before.get("complete")),
        complete_after=bool(after and after.get("complete")),
        priced=any(d is not None and d.get("priced", True) for d in documents),
    )


_EMPTY = Render(stack="", resources={}, outputs={})


def diff_renders(base: Render | None, head: Render | None, stack: str | None = None) -> StackDiff:
    """Compare two renders of one stack; ``None`` on one side means the stack is new or gone."""
    name = stack or (head or base or _EMPTY).stack
    a, b = base or _EMPTY, head or _EMPTY
    resources = _resource_changes(a, b)
    outputs = value_changes(a.outputs, b.outputs)
    files = _file_changes(a, b)
    cost = _cost_change(base, head)
    if base is None:
        status = "added"
    elif head is None:
        status = "removed"
    else:
        cost_moved = cost is not None and cost.before != cost.after
        status = "changed" if resources or outputs or files or cost_moved else "unchanged"
    return StackDiff(name, status, resources, outputs, files, cost)


def diff_render_sets(base: dict[str, Render], head: dict[str, Render]) -> list[StackDiff]:
    return [diff_renders(base.get(s), head.get(s), s) for s in sorted(set(base) | set(head))]
