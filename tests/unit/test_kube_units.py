"""Quantities and timeouts as the Kubernetes target writes them."""

from __future__ import annotations

import pytest

from components.targets.kube.units import cpu, go_duration, memory, storage


@pytest.mark.parametrize(("millis", "text"), [(2000, "2"), (500, "500m"), (1500, "1500m")])
def test_cpu(millis: int, text: str) -> None:
    assert cpu(millis) == text


@pytest.mark.parametrize(
    ("size", "text"), [(8 * 1024**3, "8Gi"), (1536 * 1024**2, "1536Mi"), (1024**2 + 1, "2Mi"), (1, "1Mi")]
)
def test_memory_rounds_up_to_whole_mebibytes(size: int, text: str) -> None:
    assert memory(size) == text


def test_storage_rounds_up_to_whole_gibibytes() -> None:
    assert storage(3 * 1024**3) == "3Gi"
    assert storage(3 * 1024**3 + 1) == "4Gi"


def test_timeouts_round_up_to_minutes() -> None:
    assert go_duration(61) == "2m"
    assert go_duration(0) == "1m"
