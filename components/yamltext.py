"""Readable YAML for generated files: block style, keys in the order given, multi-line
strings as ``|`` blocks. Callers choose where long strings fold and whether non-ASCII is
written as is."""

from __future__ import annotations

from typing import Any

import yaml


class _ReadableDumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_ReadableDumper.add_representer(str, _str)


def to_yaml(document: Any, *, width: int, allow_unicode: bool) -> str:
    """``document`` as YAML, long plain strings folded at ``width`` columns, non-ASCII
    characters written as is with ``allow_unicode`` (escaped otherwise)."""
    return yaml.dump(
        document,
        Dumper=_ReadableDumper,
        sort_keys=False,
        default_flow_style=False,
        width=width,
        allow_unicode=allow_unicode,
    )
