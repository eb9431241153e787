"""Azure built-in roles by ID, and role assignments scoped to one resource.

Role names can be renamed by Microsoft; IDs cannot, so assignments name roles by ID. Every ID
below was checked against Microsoft's built-in roles reference:
https://learn.microsoft.com/azure/role-based-access-control/built-in-roles
(per-category pages cited on each entry). A role is never assigned at subscription scope: the
policy pack refuses it and :func:`assign` requires a resource's ID as scope.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

import pulumi
from pulumi_azure_native import authorization

#: Managed identities (kubelet, workload identity, Grafana) are service principals.
MANAGED_IDENTITY: Final = "ServicePrincipal"


class BuiltInRole(StrEnum):
    # https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/containers#acrpull
    ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
    # https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/containers#acrpush
    ACR_PUSH = "8311e382-0749-4cb8-b61a-304f252e45ec"
    # https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/containers#azure-kubernetes-service-rbac-cluster-admin
    AKS_RBAC_CLUSTER_ADMIN = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"
    # https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/security#key-vault-secrets-user
    # (also listed in https://learn.microsoft.com/azure/key-vault/general/rbac-guide)
    KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
    # https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/monitor#monitoring-data-reader
    MONITORING_DATA_READER = "b0d8363b-8ddd-447d-831f-62ca05bff136"
    # https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/monitor#grafana-admin
    GRAFANA_ADMIN = "22926164-76b3-42b3-bc55-97df8dab3e41"


#: The names Azure shows for each role (the reference pages' headings).
DISPLAY_NAMES: dict[BuiltInRole, str] = {
    BuiltInRole.ACR_PULL: "AcrPull",
    BuiltInRole.ACR_PUSH: "AcrPush",
    BuiltInRole.AKS_RBAC_CLUSTER_ADMIN: "Azure Kubernetes Service RBAC Cluster Admin",
    BuiltInRole.KEY_VAULT_SECRETS_USER: "Key Vault Secrets User",
    BuiltInRole.MONITORING_DATA_READER: "Monitoring Data Reader",
    BuiltInRole.GRAFANA_ADMIN: "Grafana Admin",
}


def role_definition_id(subscription_id: pulumi.Input[str], role: BuiltInRole) -> pulumi.Output[str]:
    """The full role definition ID ARM expects in a role assignment."""
    return pulumi.Output.concat(
        "/subscriptions/", subscription_id, "/providers/Microsoft.Authorization/roleDefinitions/", role.value
    )


def assign(
    name: str,
    *,
    role: BuiltInRole,
    scope: pulumi.Input[str],
    principal_id: pulumi.Input[str],
    subscription_id: pulumi.Input[str],
    principal_type: str,
    opts: pulumi.ResourceOptions,
) -> authorization.RoleAssignment:
    """Grant ``role`` on one resource (``scope`` is that resource's ID).

    ``principal_type`` (``ServicePrincipal`` for managed identities, ``User`` or
    ``ServicePrincipal`` for the deploying identity) must match the principal: ARM refuses a
    mismatch, and knowing it lets ARM skip the directory lookup that fails for a principal created
    seconds earlier.
    """
    return authorization.RoleAssignment(
        name,
        scope=scope,
        principal_id=principal_id,
        principal_type=principal_type,
        role_definition_id=role_definition_id(subscription_id, role),
        description=f"slm-deploy: {DISPLAY_NAMES[role]}",
        opts=opts,
    )
