"""Shared fixtures: the repository, its stack files, and running the program under mocks."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from components.render import Recording, run_program
from components.spec import StackFile, read_stack_file

REPO = Path(__file__).resolve().parent.parent
STACKS = REPO / "stacks"
PROGRAM = REPO / "__main__.py"


def shipped_stacks() -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in STACKS.glob("Pulumi.*.yaml"))


def stack_file(name: str) -> StackFile:
    return read_stack_file(STACKS, name)


RunStack = Callable[..., Recording]


@pytest.fixture
def run_stack() -> RunStack:
    """Run the real program for a shipped stack, with config keys replaced or added.

    ``overrides`` maps config keys to Python values (JSON-encoded like the CLI does);
    ``secrets`` maps config keys to secret values (marked secret like ``--secret``).
    """

    def run(name: str, overrides: dict[str, Any] | None = None, secrets: dict[str, Any] | None = None) -> Recording:
        stack = stack_file(name)
        config = dict(stack.config)
        secret_keys = set(stack.secret_keys)
        for key, value in {**(overrides or {}), **(secrets or {})}.items():
            config[key] = value if isinstance(value, str) else json.dumps(value)
        secret_keys |= set(secrets or {})
        return run_program(PROGRAM, config, sorted(secret_keys), stack=name)

    return run
