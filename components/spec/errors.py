"""One-line, key-path-first error messages for a stack configuration.

Pydantic reports errors as location tuples; users think in Pulumi config keys. Every problem
becomes one line such as ``slm-deploy:models[1].engine: 'vlm' is not one of vllm, ollama, onnx``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic.alias_generators import to_camel

#: The Pulumi project's name (Pulumi.yaml), which is also the namespace of its config keys.
NAMESPACE = "slm-deploy"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the configuration, at one key path."""

    path: tuple[str | int, ...]
    message: str

    def __str__(self) -> str:
        return f"{format_path(self.path)}: {self.message}"


class SpecError(Exception):
    """The stack configuration is invalid; ``problems`` holds one entry per mistake."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class RuleViolationError(ValueError):
    """Raised inside a model validator to report problems at precise paths below the model."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


def format_path(path: Sequence[str | int]) -> str:
    """``("models", 1, "engine")`` -> ``slm-deploy:models[1].engine``."""
    if not path:
        return NAMESPACE
    head, *rest = path
    text = f"{NAMESPACE}:{head}"
    for part in rest:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _choices(expected: str) -> str:
    """Pydantic's "'a', 'b' or 'c'" -> "a, b, c"."""
    return ", ".join(p.strip().strip("'\"") for p in expected.replace(" or ", ",").split(",") if p.strip())


def _message(error: Any, known_keys: Iterable[str]) -> str:
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if kind in ("literal_error", "enum"):
        return f"{value!r} is not one of {_choices(str(ctx.get('expected', '')))}"
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return f"is not a known key{_did_you_mean(str(error['loc'][-1]), list(known_keys))}"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    message = str(error["msg"])
    message = message[0].lower() + message[1:] if message else message
    if value is not None and not isinstance(value, dict | list):
        return f"{message}, got {value!r}"
    return message


def _did_you_mean(key: str, known_keys: list[str]) -> str:
    """A hint for a misspelt key; a snake_case key gets its camelCase spelling."""
    camel = to_camel(key)
    if camel != key and camel in known_keys:
        return f" (stack files spell keys in camelCase: did you mean {camel!r}?)"
    close = difflib.get_close_matches(key, known_keys, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def problems_from_validation_error(exc: ValidationError, model: Any) -> list[Problem]:
    """Translate a pydantic error into problems with config key paths."""
    problems: list[Problem] = []
    for error in exc.errors():
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, RuleViolationError):
            base = tuple(_clean_loc(error["loc"]))
            problems.extend(Problem(base + p.path, p.message) for p in cause.problems)
            continue
        loc = _clean_loc(error["loc"])
        problems.append(Problem(tuple(loc), _message(error, _sibling_keys(model, loc))))
    return problems


def _clean_loc(loc: Sequence[str | int]) -> list[str | int]:
    """Drop the pydantic-internal parts of a location (union branch tags, function names)."""
    return [p for p in loc if isinstance(p, int) or not (p.startswith("function-") or "[" in p)]


def _sibling_keys(model: Any, loc: Sequence[str | int]) -> list[str]:
    """The keys valid next to the last element of ``loc``, for did-you-mean hints."""
    current = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = _field_by_alias(current, part)
        if field is None:
            return []
        current = _model_of(field.annotation)
        if current is None:
            return []
    return [f.alias or n for n, f in current.model_fields.items()]


def _field_by_alias(model: Any, alias: str) -> Any:
    for name, field in model.model_fields.items():
        if alias in (name, field.alias):
            return field
    return None


def _model_of(annotation: Any) -> Any:
    """The pydantic model inside ``X``, ``X | None`` or ``list[X]``, if any."""
    if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_of(arg)
        if found is not None:
            return found
    return None
