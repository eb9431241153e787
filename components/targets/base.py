"""What every target gives back to the Deployment."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class PublishedModel:
    """How clients reach one model on a target."""

    model: str
    base_url: str
    """The OpenAI base URL clients use (``.../v1``)."""
    internal_url: str
    """The URL other workloads next to the server use."""


class ServingTarget(Protocol):
    @property
    def published(self) -> Sequence[PublishedModel]: ...
