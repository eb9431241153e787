"""Kubernetes quantities and Pulumi timeouts, formatted in one place (Prometheus durations:
:mod:`components.spec.durations`)."""

from __future__ import annotations

import math

from components.catalog.sizing import GIB, MIB


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


def go_duration(seconds: int) -> str:
    """Seconds as a Pulumi custom timeout (``"45m"``), rounded up to whole minutes."""
    return f"{max(1, math.ceil(seconds / 60))}m"
