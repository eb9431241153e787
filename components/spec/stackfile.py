"""Reading ``stacks/Pulumi.<stack>.yaml`` the way the Pulumi CLI hands it to a program.

The CLI passes every config value as a string (objects and lists as JSON) and marks keys
that hold ``secure:`` values as secret. Offline we never decrypt: a secure value becomes the
placeholder ``[secret]`` and its key is listed in ``secret_keys``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from components.spec.errors import NAMESPACE as PROJECT

SECRET_PLACEHOLDER = "[secret]"


class StackFileError(Exception):
    """The stack file is missing or unreadable; the message is one line."""


@dataclass(frozen=True)
class StackFile:
    name: str
    path: Path
    config: dict[str, str]
    secret_keys: list[str] = field(default_factory=list)


def stack_path(stacks_dir: Path, stack: str) -> Path:
    return stacks_dir / f"Pulumi.{stack}.yaml"


def known_stacks(stacks_dir: Path) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in stacks_dir.glob("Pulumi.*.yaml"))


def _replace_secure(value: Any) -> tuple[Any, bool]:
    """Swap nested ``{secure: ...}`` for the placeholder; report whether any was found."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return SECRET_PLACEHOLDER, True
        found = False
        out = {}
        for key, item in value.items():
            out[key], secret = _replace_secure(item)
            found |= secret
        return out, found
    if isinstance(value, list):
        pairs = [_replace_secure(item) for item in value]
        return [p[0] for p in pairs], any(p[1] for p in pairs)
    return value, False


def _as_cli_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    if value is None:
        return ""
    return str(value)


def read_stack_file(stacks_dir: Path, stack: str) -> StackFile:
    """Load one stack's config; raises :class:`StackFileError` with a one-line reason."""
    path = stack_path(stacks_dir, stack)
    if not path.is_file():
        known = ", ".join(known_stacks(stacks_dir)) or "none"
        raise StackFileError(f"{path}: no such stack file (known stacks: {known})")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        raise StackFileError(f"{path}: not valid YAML at {where}: {exc.problem}") from None
    except (OSError, yaml.YAMLError) as exc:
        raise StackFileError(f"{path}: cannot be read: {exc}") from None
    if document is None:
        document = {}
    if not isinstance(document, dict) or not isinstance(document.get("config", {}), dict):
        raise StackFileError(f"{path}: expected a mapping with a 'config:' mapping")
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in (document.get("config") or {}).items():
        full_key = key if ":" in str(key) else f"{PROJECT}:{key}"
        plain, secret = _replace_secure(value)
        config[full_key] = _as_cli_string(plain)
        if secret:
            secret_keys.append(full_key)
    return StackFile(stack, path, config, sorted(secret_keys))
