"""Shared fixtures: the repository, its stack files, and running the program under mocks."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from components.render import Recording, run_program
from components.spec import DeploymentSpec, StackFile, parse_config, read_stack_file

REPO = Path(__file__).resolve().parent.parent
STACKS = REPO / "stacks"
PROGRAM = REPO / "__main__.py"
#: The tiny real ONNX GenAI model (tools/build_tiny_genai_model.py) the server tests run on.
TINY_GENAI = REPO / "tests" / "fixtures" / "tiny-genai"


def shipped_stacks() -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in STACKS.glob("Pulumi.*.yaml"))


def stack_file(name: str) -> StackFile:
    return read_stack_file(STACKS, name)


def stack_config(
    name: str, overrides: dict[str, Any] | None = None, secrets: dict[str, Any] | None = None
) -> tuple[dict[str, str], list[str]]:
    """A shipped stack's config as the Pulumi CLI passes it, with keys replaced or added.

    ``overrides`` maps config keys to Python values (JSON-encoded like the CLI does, strings
    as they are); ``secrets`` likewise, and their keys are marked secret like ``--secret``.
    """
    stack = stack_file(name)
    config = dict(stack.config)
    for key, value in {**(overrides or {}), **(secrets or {})}.items():
        config[key] = value if isinstance(value, str) else json.dumps(value)
    return config, sorted(set(stack.secret_keys) | set(secrets or {}))


def spec_for(
    name: str, overrides: dict[str, Any] | None = None, secrets: dict[str, Any] | None = None
) -> DeploymentSpec:
    """The validated spec of a shipped stack with the same replacements as :func:`stack_config`."""
    return parse_config(stack_config(name, overrides, secrets)[0])


def run_stack_program(
    name: str, overrides: dict[str, Any] | None = None, secrets: dict[str, Any] | None = None
) -> Recording:
    """Run the real program for a shipped stack (see :func:`stack_config`)."""
    config, secret_keys = stack_config(name, overrides, secrets)
    return run_program(PROGRAM, config, secret_keys, stack=name)


def free_port() -> int:
    """A free TCP port on 127.0.0.1 for a test server."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


RunStack = Callable[..., Recording]


@pytest.fixture
def run_stack() -> RunStack:
    """:func:`run_stack_program` as a fixture."""
    return run_stack_program
