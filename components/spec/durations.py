"""Prometheus durations (``30s``, ``5m``, ``1h30m``) in seconds and back, in one place.

Stack files, alert rules, autoscaler windows and Azure rule groups all speak Prometheus
durations; this is the one parser (pure, no Pulumi) every one of them uses.
"""

from __future__ import annotations

import re

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_PART = re.compile(r"([0-9]+)(ms|s|m|h|d|w|y)")


class DurationError(ValueError):
    pass


def duration_parts(duration: str) -> list[tuple[int, str]]:
    """``"1h30m"`` -> ``[(1, "h"), (30, "m")]``; anything else is a :class:`DurationError`."""
    parts = _PART.findall(duration)
    if not parts or "".join(n + u for n, u in parts) != duration:
        raise DurationError(f"not a Prometheus duration: {duration!r}")
    return [(int(number), unit) for number, unit in parts]


def duration_seconds(duration: str) -> float:
    """Seconds of a Prometheus duration: ``"5m"`` -> 300, ``"1h30m"`` -> 5400, ``"1500ms"`` -> 1.5."""
    return sum(number * _UNITS[unit] for number, unit in duration_parts(duration))


def format_duration(seconds: int) -> str:
    """Whole seconds as a single-unit duration the stack file also accepts: 600 -> ``"10m"``,
    7200 -> ``"2h"``, 150 -> ``"150s"``."""
    if seconds < 0:
        raise DurationError(f"a duration cannot be negative: {seconds}")
    for unit in ("d", "h", "m"):
        size = int(_UNITS[unit])
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
