"""The AKS cluster and its Log Analytics workspace.

Choices (../shared/research/pulumi-azure.md §6, §7):
- Azure CNI overlay with a network policy engine (Cilium by default), so the NetworkPolicies
  the Kubernetes target writes are enforced, not just stored.
- A system pool tainted ``CriticalAddonsOnly`` and autoscaled, for add-ons only; CPU model
  servers and monitoring run on the untainted user pool, GPU model servers on GPU pools
  (:mod:`components.platforms.aks.pools`).
- OIDC issuer and workload identity on: pods get Entra tokens without stored credentials.
- The Key Vault secrets provider add-on with rotation: secrets arrive as CSI files.
- Container Insights into Log Analytics, control plane logs via a diagnostic setting.
- Automatic upgrade channels; local accounts off and Azure RBAC where the spec says (prod).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import containerservice, monitor, operationalinsights

from components.platforms.aks import names
from components.platforms.aks.pools import PoolLayout, pool_arguments
from components.spec.models import AksSettings

#: How often the secrets provider re-reads Key Vault (rotation reaches the mounted files).
SECRET_ROTATION_POLL = "2m"
#: Control plane log categories kept in Log Analytics (audit without read-only requests).
CONTROL_PLANE_LOGS = ("kube-audit-admin", "kube-apiserver", "cluster-autoscaler", "guard")


@dataclass(frozen=True)
class ClusterContext:
    stack: str
    resource_group_name: pulumi.Output[str]
    location: str
    tenant_id: pulumi.Output[str]
    tags: Mapping[str, str]


def log_workspace(ctx: ClusterContext, aks: AksSettings, opts: pulumi.ResourceOptions) -> operationalinsights.Workspace:
    return operationalinsights.Workspace(
        f"{ctx.stack}-logs",
        workspace_name=f"log-slm-{ctx.stack}",
        resource_group_name=ctx.resource_group_name,
        location=ctx.location,
        sku={"name": "PerGB2018"},
        retention_in_days=aks.log_retention_days,
        tags=dict(ctx.tags),
        opts=opts,
    )


def _network_profile(aks: AksSettings) -> dict[str, object]:
    network = aks.network
    return {
        "network_plugin": "azure",
        "network_plugin_mode": "overlay",
        "network_policy": network.policy,
        "network_dataplane": "cilium" if network.policy == "cilium" else "azure",
        "pod_cidr": str(network.pod_cidr),
        "service_cidr": str(network.service_cidr),
        "dns_service_ip": str(network.dns_service_ip),
        "outbound_type": network.outbound_type,
        "load_balancer_sku": "standard",
    }


def _aad_profile(aks: AksSettings, tenant_id: pulumi.Output[str]) -> dict[str, object] | None:
    if not aks.azure_rbac and not aks.admin_group_object_ids:
        return None
    return {
        "managed": True,
        "enable_azure_rbac": aks.azure_rbac,
        "admin_group_object_ids": [str(g) for g in aks.admin_group_object_ids] or None,
        "tenant_id": tenant_id,
    }


def _api_server(aks: AksSettings) -> dict[str, object] | None:
    if aks.private_cluster:
        return {"enable_private_cluster": True}
    if aks.network.authorized_ip_ranges:
        return {"authorized_ip_ranges": [str(r) for r in aks.network.authorized_ip_ranges]}
    return None


def managed_cluster(
    ctx: ClusterContext,
    aks: AksSettings,
    system_pool: PoolLayout,
    workspace: operationalinsights.Workspace,
    opts: pulumi.ResourceOptions,
    *,
    managed_metrics: bool,
) -> containerservice.ManagedCluster:
    addons: dict[str, object] = {
        "azureKeyvaultSecretsProvider": {
            "enabled": True,
            "config": {"enableSecretRotation": "true", "rotationPollInterval": SECRET_ROTATION_POLL},
        },
        "omsagent": {
            "enabled": True,
            "config": {"logAnalyticsWorkspaceResourceID": workspace.id, "useAADAuth": "true"},
        },
    }
    return containerservice.ManagedCluster(
        f"{ctx.stack}-aks",
        resource_name_=names.cluster_name(ctx.stack),
        resource_group_name=ctx.resource_group_name,
        location=ctx.location,
        dns_prefix=names.dns_prefix(ctx.stack),
        kubernetes_version=aks.kubernetes_version,
        sku={"name": "Base", "tier": aks.sku_tier},
        identity={"type": containerservice.ResourceIdentityType.SYSTEM_ASSIGNED},
        agent_pool_profiles=[{"name": system_pool.name, **pool_arguments(system_pool, None)}],
        network_profile=_network_profile(aks),
        oidc_issuer_profile={"enabled": True},
        security_profile={
            "workload_identity": {"enabled": True},
            "image_cleaner": {"enabled": True, "interval_hours": 168},
        },
        addon_profiles=addons,
        azure_monitor_profile={"metrics": {"enabled": managed_metrics}},
        # KEDA as an AKS add-on: the queue-depth autoscalers of the Kubernetes target need it.
        workload_auto_scaler_profile={"keda": {"enabled": True}},
        enable_rbac=True,
        disable_local_accounts=not aks.local_accounts,
        aad_profile=_aad_profile(aks, ctx.tenant_id),
        api_server_access_profile=_api_server(aks),
        auto_upgrade_profile={
            "upgrade_channel": aks.upgrade_channel,
            "node_os_upgrade_channel": aks.node_os_upgrade_channel,
        },
        tags=dict(ctx.tags),
        opts=opts,
    )


def control_plane_logs(
    ctx: ClusterContext,
    cluster: containerservice.ManagedCluster,
    workspace: operationalinsights.Workspace,
    opts: pulumi.ResourceOptions,
) -> monitor.DiagnosticSetting:
    return monitor.DiagnosticSetting(
        f"{ctx.stack}-aks-diagnostics",
        name="slm-control-plane",
        resource_uri=cluster.id,
        workspace_id=workspace.id,
        logs=[{"category": category, "enabled": True} for category in CONTROL_PLANE_LOGS],
        opts=opts,
    )
