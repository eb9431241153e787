"""Kubernetes quantities and Prometheus durations, formatted and parsed in one place."""

from __future__ import annotations

import math
import re

MIB = 1024**2
GIB = 1024**3
_DURATION = re.compile(r"^([0-9]+)(ms|s|m|h|d|w|y)$")
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def cpu(millis: int) -> str:
    """``2000`` -> ``"2"``, ``500`` -> ``"500m"``."""
    return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"


def memory(size_bytes: int) -> str:
    """Bytes rounded up to whole MiB, written as Gi when exact: ``"8Gi"``, ``"1536Mi"``."""
    mib = math.ceil(size_bytes / MIB)
    return f"{mib // 1024}Gi" if mib % 1024 == 0 else f"{mib}Mi"


def storage(size_bytes: int) -> str:
    """Bytes rounded up to whole GiB: volume sizes."""
    return f"{math.ceil(size_bytes / GIB)}Gi"


def duration_seconds(duration: str) -> int:
    """A Prometheus duration (``60s``, ``5m``) in whole seconds, at least 0."""
    match = _DURATION.match(duration)
    if match is None:
        raise ValueError(f"not a duration: {duration!r}")
    return int(int(match.group(1)) * _SECONDS[match.group(2)])


def go_duration(seconds: int) -> str:
    """Seconds as a Pulumi custom timeout (``"45m"``), rounded up to whole minutes."""
    return f"{max(1, math.ceil(seconds / 60))}m"
