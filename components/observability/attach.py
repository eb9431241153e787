"""Monitoring attached to a stack's target (Pulumi side).

On Docker the monitoring services are service plans the Docker target runs like model
servers. On a cluster, :class:`components.observability.kubernetes.KubernetesMonitoring`
installs or reuses the Prometheus operator stack, with the target's provider and namespace.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi

from components.observability.alertmanager import receiver_secrets
from components.observability.config_files import observability_files
from components.observability.docker_services import docker_services
from components.observability.grafana_settings import GRAFANA_ADMIN_SECRET
from components.plan import ServingPlan
from components.secrets import StackSecrets
from components.spec import DeploymentSpec
from components.targets.base import ServingTarget

__all__ = ["GRAFANA_ADMIN_SECRET", "attach_monitoring", "monitoring_secrets"]


def monitoring_secrets(spec: DeploymentSpec) -> set[str]:
    """Secrets the monitoring stack reads: Grafana's admin password (generated unless the
    stack sets it) and the receivers' URLs and passwords."""
    if not spec.observability.enabled:
        return set()
    needed = set(receiver_secrets(spec))
    if spec.observability.grafana and not spec.managed_monitoring:  # Managed Grafana signs in with Entra ID
        needed.add(GRAFANA_ADMIN_SECRET)
    return needed


def attach_monitoring(
    stack: str, spec: DeploymentSpec, plans: Sequence[ServingPlan], target: ServingTarget, secrets: StackSecrets
) -> dict[str, str]:
    """Run the stack's monitoring next to its models; URLs published on the host, by service alias."""
    if not spec.observability.enabled or spec.managed_monitoring:
        # AKS with Azure Monitor: the platform created the rules, scraping and dashboards.
        return {}
    cluster = target.cluster
    if cluster is not None:
        from components.observability.k8s_objects import ClusterScrapes
        from components.observability.kubernetes import KubernetesMonitoring

        KubernetesMonitoring(
            stack,
            spec,
            plans,
            cluster.provider,
            cluster.namespace_name,
            pulumi.ResourceOptions(parent=cluster, depends_on=[cluster.namespace]),
            secrets=secrets,
            scrapes=ClusterScrapes(control_plane=not cluster.managed_control_plane, kube_proxy=cluster.kube_proxy),
        )
        return {}
    from components.targets.docker import DockerTarget

    if isinstance(target, DockerTarget):
        files = observability_files(spec, plans, stack, docker=True)
        return target.run_services(docker_services(spec, plans, files))
    raise TypeError(f"no monitoring for a {type(target).__name__}")
