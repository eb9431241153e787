"""The AKS target: the Azure platform first, then the model servers on its cluster.

:class:`~components.platforms.aks.AksPlatform` creates the Azure side and hands over a
Kubernetes provider for the new cluster; the model servers are then deployed by
:class:`~components.targets.kubernetes.KubernetesTarget` exactly as on any cluster, on that
provider only, with two substitutions: the model servers' secrets arrive from Key Vault
through the Secrets Store CSI driver (no Kubernetes Secret holds one of them; in-cluster
monitoring keeps Grafana's login and the receivers' URLs in Secrets of its own namespace),
and images the program builds are pushed to the stack's registry by the platform. GPU pods
also tolerate the spot taint when a GPU pool is spot. Monitoring is observability's:
in-cluster, its :class:`~components.observability.kubernetes.KubernetesMonitoring` attaches
to ``cluster`` like on any cluster, told that AKS runs the control plane; managed, its rules
become Azure rule groups, its dashboards go to Managed Grafana and its PodMonitors (the DCGM
exporter's too) to the managed agent.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_kubernetes as k8s

from components.observability import images
from components.observability.k8s_objects import DCGM_RELEASE, dcgm_values
from components.plan import COMMON_LABELS, LocalBuild, ServingPlan, secrets_of
from components.platforms.aks import AksPlatform
from components.platforms.aks.managed_observability import (
    managed_dashboards,
    managed_dcgm_pod_monitor,
    managed_pod_monitors,
    managed_rule_groups,
)
from components.secrets import StackSecrets
from components.secrets.keyvault_csi import VaultAccess, key_vault_csi_files
from components.spec import DeploymentSpec
from components.spec.aks_kubernetes import MANAGED_PROMETHEUS_NAMESPACE, kubernetes_settings_for_aks
from components.targets.base import PublishedModel
from components.targets.kube.scheduling import GPU_TOLERATION, SPOT_TOLERATION
from components.targets.kubernetes import KubernetesTarget, namespace_for, service_account_for


class AksTarget(pulumi.ComponentResource):
    """All model servers of a stack on an AKS cluster the program provisions."""

    published: list[PublishedModel]
    cluster: KubernetesTarget
    """The model servers on the new cluster; in-cluster monitoring attaches to it
    (:func:`components.observability.attach.attach_monitoring`)."""
    stack_outputs: dict[str, pulumi.Output[str]]
    """Exports of this target: kubeconfig (secret), clusterName, registryLoginServer, keyVaultUri,
    grafanaEndpoint (managed monitoring)."""

    def __init__(
        self,
        name: str,
        spec: DeploymentSpec,
        plans: Sequence[ServingPlan],
        secrets: StackSecrets,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("slm-deploy:targets:Aks", name, None, opts)
        assert spec.aks is not None
        settings = kubernetes_settings_for_aks(spec)
        cluster_spec = spec.model_copy(update={"kubernetes": settings})
        namespace = namespace_for(name, settings)
        builds = [c for plan in plans for c in (plan.server, plan.fetch.container) if isinstance(c.image, LocalBuild)]
        managed = spec.managed_monitoring
        self.platform = AksPlatform(
            name,
            spec,
            secrets,
            namespace=namespace,
            service_accounts=[service_account_for(plan) for plan in plans],
            # Only what pods read goes into Key Vault (monitoring reads its secrets elsewhere).
            pod_secrets=secrets_of(plans),
            built_images=builds,
            rule_groups=managed_rule_groups(spec, plans) if managed else (),
            dashboards=managed_dashboards(plans) if managed and spec.observability.grafana else None,
            opts=pulumi.ResourceOptions(parent=self),
        )
        workload = self.platform.workload
        access = VaultAccess(
            vault_name=workload.vault_name, tenant_id=self.platform.tenant_id, client_id=workload.client_id
        )
        spot = any(pool.spot for pool in spec.aks.gpu_pools)
        self.cluster = KubernetesTarget(
            name,
            cluster_spec,
            plans,
            secrets,
            pulumi.ResourceOptions(parent=self, depends_on=[*workload.grants, *workload.secrets.values()]),
            provider=self.platform.provider,
            secret_delivery=key_vault_csi_files(access, plans, labels=dict(COMMON_LABELS)),
            built_images=self.platform.image_refs,
            gpu_tolerations=[GPU_TOLERATION, SPOT_TOLERATION] if spot else None,
            # AKS runs the control plane out of reach; Cilium's dataplane replaces kube-proxy.
            managed_control_plane=True,
            kube_proxy=spec.aks.network.policy != "cilium",
        )
        if managed:
            self._managed_scraping(name, cluster_spec, plans)
        self.published = self.cluster.published
        self.stack_outputs = dict(self.platform.outputs)
        self.register_outputs({})

    def _managed_scraping(self, name: str, spec: DeploymentSpec, plans: Sequence[ServingPlan]) -> None:
        """PodMonitors for the managed Prometheus agent, next to the model servers; with GPUs the
        DCGM exporter (its chart without the operator's ServiceMonitor) and its PodMonitor."""
        opts = pulumi.ResourceOptions(parent=self, provider=self.platform.provider, depends_on=[self.cluster.namespace])
        monitors = managed_pod_monitors(spec, plans, self.cluster.namespace_name)
        if any(plan.uses_gpu for plan in plans):
            chart = images.DCGM_EXPORTER_CHART
            exporter = k8s.helm.v3.Release(
                f"{name}-{DCGM_RELEASE}",
                name=DCGM_RELEASE,
                chart=chart.name,
                version=chart.version,
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=chart.repository),
                # Next to NVIDIA's device plugin: node agents that need host access.
                namespace=MANAGED_PROMETHEUS_NAMESPACE,
                values=dcgm_values(DCGM_RELEASE, service_monitor=False),
                opts=pulumi.ResourceOptions(parent=self, provider=self.platform.provider),
            )
            monitors.append(managed_dcgm_pod_monitor(spec, MANAGED_PROMETHEUS_NAMESPACE, DCGM_RELEASE))
            opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[exporter]))
        for monitor in monitors:
            meta = monitor["metadata"]
            k8s.apiextensions.CustomResource(
                f"{name}-podmonitor-{meta['name']}",
                api_version=monitor["apiVersion"],
                kind=monitor["kind"],
                metadata=k8s.meta.v1.ObjectMetaArgs(**meta),
                spec=monitor["spec"],
                opts=opts,
            )
