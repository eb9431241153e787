"""Targets turn serving plans into Pulumi resources; one module per target.

Modules are imported on demand so a Docker stack never loads the Azure SDK.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi

from components.plan import ServingPlan
from components.secrets import StackSecrets
from components.spec import DeploymentSpec, Target
from components.targets.base import PublishedModel, ServingTarget

__all__ = ["PublishedModel", "ServingTarget", "create_target"]


def create_target(
    name: str,
    spec: DeploymentSpec,
    plans: Sequence[ServingPlan],
    secrets: StackSecrets,
    opts: pulumi.ResourceOptions,
) -> ServingTarget:
    """The target component the stack names, with its children under ``opts.parent``."""
    if spec.target is Target.DOCKER:
        from components.targets.docker import DockerTarget

        return DockerTarget(name, spec, plans, secrets, opts)
    if spec.target is Target.KUBERNETES:
        from components.targets.kubernetes import KubernetesTarget

        return KubernetesTarget(name, spec, plans, secrets, opts)
    raise NotImplementedError(f"target {spec.target.value} is not available yet")
