"""Deterministic, readable YAML for rendered files (block style, multi-line strings as ``|``)."""

from __future__ import annotations

from typing import Any

import yaml


class _ReadableDumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_ReadableDumper.add_representer(str, _str)


def sorted_keys(value: Any) -> Any:
    """Nested mappings in key order (recorded inputs keep none that matters); lists keep theirs."""
    if isinstance(value, dict):
        return {key: sorted_keys(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [sorted_keys(item) for item in value]
    return value


def to_yaml(document: Any) -> str:
    """YAML with keys in the order given (callers sort where order is not meaningful)."""
    return yaml.dump(document, Dumper=_ReadableDumper, sort_keys=False, default_flow_style=False, width=4096)
