"""What every target gives back to the Deployment."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import pulumi

if TYPE_CHECKING:
    from components.targets.kubernetes import KubernetesTarget


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

    @property
    def cluster(self) -> KubernetesTarget | None:
        """The model servers on a Kubernetes cluster (its provider, namespace and what it knows
        about the cluster), where the target runs on one; None on a single host (Docker).
        In-cluster monitoring attaches to it."""
        ...

    @property
    def stack_outputs(self) -> Mapping[str, pulumi.Output[Any]]:
        """Exports only this target has (AKS: kubeconfig, clusterName, ...), by export name."""
        ...
