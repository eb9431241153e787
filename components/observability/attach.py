"""Monitoring attached to a stack's target (Pulumi side).

On Docker the monitoring services are service plans the Docker target runs like model
servers. On Kubernetes the Kubernetes target creates
:class:`components.observability.kubernetes.KubernetesMonitoring` itself, with its provider
and namespace.
"""

from __future__ import annotations

from collections.abc import Sequence

from components.observability.alertmanager import receiver_secrets
from components.observability.config_files import observability_files
from components.observability.docker_services import GRAFANA_ADMIN_SECRET, docker_services

__all__ = ["GRAFANA_ADMIN_SECRET", "attach_monitoring", "monitoring_secrets"]
from components.plan import ServingPlan
from components.spec import DeploymentSpec, Target
from components.targets.base import ServingTarget


def monitoring_secrets(spec: DeploymentSpec) -> set[str]:
    """Secrets the monitoring stack reads: Grafana's admin password (generated unless the
    stack sets it) and the receivers' URLs and passwords."""
    if not spec.observability.enabled:
        return set()
    needed = set(receiver_secrets(spec))
    if spec.observability.grafana:
        needed.add(GRAFANA_ADMIN_SECRET)
    return needed


def attach_monitoring(
    stack: str, spec: DeploymentSpec, plans: Sequence[ServingPlan], target: ServingTarget
) -> dict[str, str]:
    """Run the stack's monitoring where the target needs it here; URLs by service alias."""
    if not spec.observability.enabled or spec.target is not Target.DOCKER:
        return {}
    from components.targets.docker import DockerTarget

    if not isinstance(target, DockerTarget):
        raise TypeError(f"a docker stack got a {type(target).__name__}")
    files = observability_files(spec, plans, stack, docker=True)
    return target.run_services(docker_services(spec, plans, files))
