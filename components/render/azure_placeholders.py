"""Placeholders for what only Azure computes: ARM ids, names, endpoints, identities, credentials.

Under the mock monitor an azure-native resource returns its inputs only. Every output the
program reads from one (``id``, ``name``, ``oidcIssuerProfile.issuerURL``, ``loginServer``,
``properties.vaultUri``, ...) must be filled here, or the inputs wired from it are silently
dropped (../shared/research/pulumi-azure.md §2.3 and §2.6, gotcha 3). Values look like what
Azure returns, with ``<...>`` where Azure would put something unknowable here.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SUBSCRIPTION_ID = "<subscription-id>"
TENANT_ID = "<tenant-id>"
DEPLOYER_OBJECT_ID = "<deployer-object-id>"


@dataclass(frozen=True)
class ArmType:
    """How Azure names and identifies one resource type."""

    name_input: str | None
    """The input holding the physical name; the logical name when absent."""
    path: str
    """ARM path below the resource group (or below the parent in ``parent_input``)."""
    parent_input: str | None = None
    """Input holding the parent resource's name (a pool's cluster, a secret's vault)."""
    extra: Callable[[str, dict[str, Any]], dict[str, Any]] = field(default=lambda _name, _inputs: {})


def _cluster(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    location = inputs.get("location", "<location>")
    return {
        "fqdn": f"{name}.hcp.{location}.azmk8s.io",
        "oidcIssuerProfile": {"issuerURL": f"https://{location}.oic.prod-aks.azure.com/{TENANT_ID}/<{name}-issuer>/"},
        "identityProfile": {
            "kubeletidentity": {
                "clientId": f"<{name}-kubelet.clientId>",
                "objectId": f"<{name}-kubelet.objectId>",
                "resourceId": f"<{name}-kubelet.resourceId>",
            }
        },
        "identity": {"principalId": f"<{name}.principalId>", "tenantId": TENANT_ID},
        "nodeResourceGroup": f"MC_{inputs.get('resourceGroupName', '<rg>')}_{name}_{location}",
    }


def _identity(name: str, _inputs: dict[str, Any]) -> dict[str, Any]:
    return {"clientId": f"<{name}.clientId>", "principalId": f"<{name}.principalId>", "tenantId": TENANT_ID}


def _vault(name: str, _inputs: dict[str, Any]) -> dict[str, Any]:
    return {"properties": {"vaultUri": f"https://{name}.vault.azure.net/"}}


def _secret(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"properties": {"secretUri": f"https://{inputs.get('vaultName', '<vault>')}.vault.azure.net/secrets/{name}"}}


def _registry(name: str, _inputs: dict[str, Any]) -> dict[str, Any]:
    return {"loginServer": f"{name.lower()}.azurecr.io"}


def _grafana(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    location = inputs.get("location", "<location>")
    return {
        "identity": {"principalId": f"<{name}.principalId>", "tenantId": TENANT_ID},
        "properties": {"endpoint": f"https://{name}-<hash>.{location[:3]}.grafana.azure.com"},
    }


def _monitor_workspace(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    location = inputs.get("location", "<location>")
    return {"metrics": {"prometheusQueryEndpoint": f"https://{name}-<hash>.{location}.prometheus.monitor.azure.com"}}


def _log_workspace(name: str, _inputs: dict[str, Any]) -> dict[str, Any]:
    return {"customerId": f"<{name}.customerId>"}


ARM_TYPES: dict[str, ArmType] = {
    "azure-native:resources:ResourceGroup": ArmType("resourceGroupName", ""),
    "azure-native:containerservice:ManagedCluster": ArmType(
        "resourceName", "Microsoft.ContainerService/managedClusters", extra=_cluster
    ),
    "azure-native:containerservice:AgentPool": ArmType(
        "agentPoolName", "Microsoft.ContainerService/managedClusters/{parent}/agentPools", "resourceName"
    ),
    "azure-native:operationalinsights:Workspace": ArmType(
        "workspaceName", "Microsoft.OperationalInsights/workspaces", extra=_log_workspace
    ),
    "azure-native:containerregistry:Registry": ArmType(
        "registryName", "Microsoft.ContainerRegistry/registries", extra=_registry
    ),
    "azure-native:keyvault:Vault": ArmType("vaultName", "Microsoft.KeyVault/vaults", extra=_vault),
    "azure-native:keyvault:Secret": ArmType(
        "secretName", "Microsoft.KeyVault/vaults/{parent}/secrets", "vaultName", extra=_secret
    ),
    "azure-native:managedidentity:UserAssignedIdentity": ArmType(
        "resourceName", "Microsoft.ManagedIdentity/userAssignedIdentities", extra=_identity
    ),
    "azure-native:managedidentity:FederatedIdentityCredential": ArmType(
        "federatedIdentityCredentialResourceName",
        "Microsoft.ManagedIdentity/userAssignedIdentities/{parent}/federatedIdentityCredentials",
        "resourceName",
    ),
    "azure-native:authorization:RoleAssignment": ArmType(
        "roleAssignmentName", "Microsoft.Authorization/roleAssignments"
    ),
    "azure-native:monitor:AzureMonitorWorkspace": ArmType(
        "azureMonitorWorkspaceName", "Microsoft.Monitor/accounts", extra=_monitor_workspace
    ),
    "azure-native:monitor:DataCollectionEndpoint": ArmType(
        "dataCollectionEndpointName", "Microsoft.Insights/dataCollectionEndpoints"
    ),
    "azure-native:monitor:DataCollectionRule": ArmType(
        "dataCollectionRuleName", "Microsoft.Insights/dataCollectionRules"
    ),
    "azure-native:monitor:DataCollectionRuleAssociation": ArmType(
        "associationName", "Microsoft.Insights/dataCollectionRuleAssociations"
    ),
    "azure-native:monitor:ActionGroup": ArmType("actionGroupName", "Microsoft.Insights/actionGroups"),
    "azure-native:alertsmanagement:PrometheusRuleGroup": ArmType(
        "ruleGroupName", "Microsoft.AlertsManagement/prometheusRuleGroups"
    ),
    "azure-native:dashboard:Grafana": ArmType("workspaceName", "Microsoft.Dashboard/grafana", extra=_grafana),
}


def azure_outputs(type_token: str, logical_name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """``id``, ``name`` and the type's computed outputs for one azure-native resource."""
    arm = ARM_TYPES.get(type_token)
    if arm is None:
        return {}
    name = str(inputs.get(arm.name_input, logical_name)) if arm.name_input else logical_name
    group = str(inputs.get("resourceGroupName", name if not arm.path else "<rg>"))
    rg_id = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{group}"
    if arm.path:
        parent = str(inputs.get(arm.parent_input, "<parent>")) if arm.parent_input else ""
        resource_id = f"{rg_id}/providers/{arm.path.format(parent=parent)}/{name}"
    else:
        resource_id = rg_id
    if type_token == "azure-native:authorization:RoleAssignment":
        resource_id = f"{inputs.get('scope', rg_id)}/providers/{arm.path}/{name}"
    return {"id": resource_id, "name": name, **arm.extra(name, inputs)}


def placeholder_kubeconfig(cluster: str = "<aks-cluster>") -> str:
    """A kubeconfig shaped like AKS's clusterUser one, with no credential in it."""
    return (
        "apiVersion: v1\n"
        "kind: Config\n"
        f"clusters:\n- name: {cluster}\n  cluster:\n    server: https://{cluster}.hcp.azmk8s.io:443\n"
        "    certificate-authority-data: <ca-data>\n"
        f"contexts:\n- name: {cluster}\n  context:\n    cluster: {cluster}\n    user: clusterUser\n"
        f"current-context: {cluster}\n"
        "users:\n- name: clusterUser\n  user:\n    token: <aks.kubeconfig>\n"
    )


AZURE_CALL_RESULTS: dict[str, dict[str, Any]] = {
    "azure-native:authorization:getClientConfig": {
        "clientId": "<deployer-client-id>",
        "objectId": DEPLOYER_OBJECT_ID,
        "subscriptionId": SUBSCRIPTION_ID,
        "tenantId": TENANT_ID,
    },
    "azure-native:containerservice:listManagedClusterUserCredentials": {
        "kubeconfigs": [
            {"name": "clusterUser", "value": base64.b64encode(placeholder_kubeconfig().encode()).decode()},
        ]
    },
}
