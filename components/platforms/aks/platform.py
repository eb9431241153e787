"""The AKS platform: everything Azure-side, then a Kubernetes provider for the cluster.

Order of concerns (one module each): resource group and names, Log Analytics and the
cluster (:mod:`cluster`), node pools (:mod:`pools`), registry and image pushes
(:mod:`registry`, :mod:`images`), Key Vault and workload identity (:mod:`vault`), managed
monitoring when the spec asks for it (:mod:`monitoring`), GPU enablement (:mod:`gpu`). The
kubeconfig comes from the cluster's user credentials and is a secret; the Kubernetes provider
built from it is the only one the Kubernetes side may use.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
from pulumi_azure_native import authorization, containerservice, resources

from components.plan import Container
from components.platforms.aks import names
from components.platforms.aks.cluster import ClusterContext, control_plane_logs, log_workspace, managed_cluster
from components.platforms.aks.gpu import device_plugin, gpu_operator
from components.platforms.aks.images import push_built_images
from components.platforms.aks.monitoring import ManagedMonitoring, MonitoringContext, create_managed_monitoring
from components.platforms.aks.pools import create_pools, gpu_pool_layouts, system_pool_layout, user_pool_layout
from components.platforms.aks.registry import create_registry, grant_registry_access, kubelet_object_id
from components.platforms.aks.roles import BuiltInRole, assign
from components.platforms.aks.rule_groups import RuleGroupArgs
from components.platforms.aks.vault import WorkloadSecrets, create_workload_secrets
from components.secrets import StackSecrets
from components.spec import DeploymentSpec
from components.spec.models import AksSettings


def decode_kubeconfig(value: str) -> str:
    """AKS returns kubeconfigs base64-encoded (research/pulumi-azure.md §2.3)."""
    return base64.b64decode(value).decode("utf-8")


class AksPlatform(pulumi.ComponentResource):
    """An AKS cluster with its pools, registry, Key Vault, identities and monitoring."""

    kubeconfig: pulumi.Output[str]
    """The cluster user's kubeconfig (a secret)."""
    cluster_name: pulumi.Output[str]
    registry_login_server: pulumi.Output[str]
    key_vault_uri: pulumi.Output[str]
    grafana_endpoint: pulumi.Output[str] | None
    """Managed Grafana's URL when monitoring is managed."""
    provider: k8s.Provider
    """The Kubernetes provider for this cluster; nothing Kubernetes-side may use another."""

    def __init__(
        self,
        name: str,
        spec: DeploymentSpec,
        secrets: StackSecrets,
        *,
        namespace: str,
        service_accounts: Sequence[str],
        pod_secrets: Sequence[str] = (),
        built_images: Sequence[Container] = (),
        rule_groups: Sequence[RuleGroupArgs] = (),
        dashboards: Mapping[str, str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """``service_accounts`` (in ``namespace``) are federated with the models' identity, which
        may read the stack secrets ``pod_secrets`` and nothing else; only those enter Key Vault."""
        super().__init__("slm-deploy:platforms:Aks", name, None, opts)
        assert spec.aks is not None
        aks: AksSettings = spec.aks
        child = pulumi.ResourceOptions(parent=self)
        client = authorization.get_client_config_output(opts=pulumi.InvokeOutputOptions(parent=self))
        tags = {"app": "slm-deploy", "stack": name, "environment": spec.environment.value, **aks.tags}

        group = resources.ResourceGroup(
            f"{name}-rg",
            resource_group_name=names.resource_group_name(name, aks.resource_group),
            location=aks.location,
            tags=tags,
            opts=child,
        )
        suffix = random.RandomString(
            f"{name}-suffix", length=names.SUFFIX_LENGTH, special=False, upper=False, opts=child
        ).result
        ctx = ClusterContext(name, group.name, aks.location, client.tenant_id, tags)

        workspace = log_workspace(ctx, aks, child)
        self.cluster = managed_cluster(
            ctx, aks, system_pool_layout(aks), workspace, child, managed_metrics=spec.managed_monitoring
        )
        control_plane_logs(ctx, self.cluster, workspace, child)
        gpu_layouts = gpu_pool_layouts(spec)
        self.pools = create_pools(
            name,
            [user_pool_layout(aks)],
            resource_group_name=group.name,
            cluster=self.cluster,
            driver_by_aks=None,
            tags=tags,
            opts=child,
        ) + create_pools(
            name,
            gpu_layouts,
            resource_group_name=group.name,
            cluster=self.cluster,
            driver_by_aks=aks.gpu_driver == "aks",
            tags=tags,
            opts=child,
        )

        registry = create_registry(
            name,
            name=aks.registry_name or suffix.apply(lambda s: names.registry_name(name, s)),
            sku=aks.registry_sku,
            resource_group_name=group.name,
            location=aks.location,
            tags=tags,
            opts=child,
        )
        pushes = any(c for c in built_images)
        grants = grant_registry_access(
            name,
            registry,
            kubelet_object_id=kubelet_object_id(self.cluster),
            deployer_object_id=client.object_id,
            deployer_principal_type=aks.deployer_principal_type,
            subscription_id=client.subscription_id,
            push=pushes,
            opts=child,
        )
        self.image_refs = push_built_images(
            name,
            built_images,
            login_server=registry.login_server,
            opts=pulumi.ResourceOptions(parent=self, depends_on=grants),
        )

        self.workload: WorkloadSecrets = create_workload_secrets(
            name,
            aks,
            secrets,
            cluster=self.cluster,
            vault_name=aks.key_vault_name or suffix.apply(lambda s: names.key_vault_name(name, s)),
            namespace=namespace,
            service_accounts=service_accounts,
            pod_secrets=pod_secrets,
            resource_group_name=group.name,
            tenant_id=client.tenant_id,
            subscription_id=client.subscription_id,
            location=aks.location,
            tags=tags,
            opts=child,
        )
        self.tenant_id = client.tenant_id

        self.monitoring: ManagedMonitoring | None = None
        if spec.managed_monitoring:
            self.monitoring = create_managed_monitoring(
                MonitoringContext(
                    name,
                    group.name,
                    aks.location,
                    client.subscription_id,
                    client.object_id,
                    aks.deployer_principal_type,
                    tags,
                ),
                spec,
                secrets,
                self.cluster,
                rule_groups=rule_groups,
                dashboards=dashboards or {},
                opts=child,
            )

        admin_grants: list[pulumi.Resource] = []
        if aks.azure_rbac:
            # With Azure RBAC the deploying identity needs a Kubernetes role to apply objects.
            admin_grants.append(
                assign(
                    f"{name}-deployer-cluster-admin",
                    role=BuiltInRole.AKS_RBAC_CLUSTER_ADMIN,
                    scope=self.cluster.id,
                    principal_id=client.object_id,
                    subscription_id=client.subscription_id,
                    principal_type=aks.deployer_principal_type,
                    opts=child,
                )
            )

        credentials = containerservice.list_managed_cluster_user_credentials_output(
            resource_group_name=group.name,
            resource_name=self.cluster.name,
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        self.kubeconfig = pulumi.Output.secret(credentials.kubeconfigs[0].value.apply(decode_kubeconfig))
        self.cluster_name = self.cluster.name
        self.registry_login_server = registry.login_server
        self.key_vault_uri = self.workload.vault_uri
        self.grafana_endpoint = self.monitoring.grafana_endpoint if self.monitoring else None
        self.provider = k8s.Provider(
            f"{name}-aks",
            kubeconfig=self.kubeconfig,
            # A rotated credential is the same cluster: do not replace every object.
            cluster_identifier=names.cluster_name(name),
            # Destroying still works after the cluster itself is gone.
            delete_unreachable=True,
            enable_server_side_apply=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*self.pools, *admin_grants]),
        )
        on_cluster = pulumi.ResourceOptions(parent=self, provider=self.provider)
        if gpu_layouts:
            device_plugin(on_cluster) if aks.gpu_driver == "aks" else gpu_operator(on_cluster)

        outputs: dict[str, pulumi.Output[str]] = {
            "kubeconfig": self.kubeconfig,
            "clusterName": self.cluster_name,
            "registryLoginServer": self.registry_login_server,
            "keyVaultUri": self.key_vault_uri,
        }
        if self.grafana_endpoint is not None:
            outputs["grafanaEndpoint"] = self.grafana_endpoint
        self.outputs = outputs
        self.register_outputs(dict(outputs))
