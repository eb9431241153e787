"""The stack configuration: parse and validate it before any resource exists.

``parse_config`` takes config the way the Pulumi engine passes it (fully qualified keys,
string values, JSON for structured ones) and returns a complete, validated
:class:`DeploymentSpec`, or raises :class:`SpecError` with one line per problem.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from pydantic import ValidationError

from components.spec.errors import NAMESPACE, Problem, SpecError
from components.spec.models import DeploymentSpec, Environment, ModelSpec, Target
from components.spec.resolve import ModelArtifact, resolve_artifact, size_model
from components.spec.stackfile import StackFile, StackFileError, read_stack_file

__all__ = [
    "NAMESPACE",
    "DeploymentSpec",
    "Environment",
    "ModelArtifact",
    "ModelSpec",
    "Problem",
    "SpecError",
    "StackFile",
    "StackFileError",
    "Target",
    "parse_config",
    "read_stack_file",
    "resolve_artifact",
    "size_model",
]


def _decode(text: str) -> object:
    """Structured values arrive as JSON; scalars stay strings (pydantic coerces them)."""
    stripped = text.strip()
    if stripped.startswith(("{", "[")):
        return json.loads(stripped)
    return text


def parse_config(config: Mapping[str, str]) -> DeploymentSpec:
    """Validate the ``slm-deploy:*`` keys of ``config``; other namespaces are ignored.

    The stack file is camelCase only: keys are matched by alias, never by Python field name,
    so ``max_context_tokens`` is an unknown key with a hint rather than a second spelling that
    works in some places and not in others (environment defaults are injected camelCase).
    """
    raw: dict[str, object] = {}
    problems: list[Problem] = []
    prefix = f"{NAMESPACE}:"
    for key in sorted(config):
        if not key.startswith(prefix):
            continue
        name = key[len(prefix) :]
        try:
            raw[name] = _decode(config[key])
        except json.JSONDecodeError as exc:
            problems.append(Problem((name,), f"is not valid JSON ({exc.msg} at character {exc.pos})"))
    if problems:
        raise SpecError(problems)
    try:
        return DeploymentSpec.model_validate(raw, by_alias=True, by_name=False)
    except ValidationError as exc:
        from components.spec.errors import problems_from_validation_error

        raise SpecError(problems_from_validation_error(exc, DeploymentSpec)) from None
