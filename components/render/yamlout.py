"""Deterministic, readable YAML for rendered files (block style, multi-line strings as ``|``)."""

from __future__ import annotations

from typing import Any

from components import yamltext


def sorted_keys(value: Any) -> Any:
    """Nested mappings in key order (recorded inputs keep none that matters); lists keep theirs."""
    if isinstance(value, dict):
        return {key: sorted_keys(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [sorted_keys(item) for item in value]
    return value


def to_yaml(document: Any) -> str:
    """YAML with keys in the order given (callers sort where order is not meaningful), long
    strings never folded, non-ASCII escaped."""
    return yamltext.to_yaml(document, width=4096, allow_unicode=False)
