"""The AKS policies of the CrossGuard pack: a violating and a passing case each, and the
shipped AKS stacks pass all of them."""

from __future__ import annotations

from typing import Any

import pytest

from policies import rules
from tests.unit.test_policies import violations

VAULT = "azure-native:keyvault:Vault"
REGISTRY = "azure-native:containerregistry:Registry"
CLUSTER = "azure-native:containerservice:ManagedCluster"
ROLE = "azure-native:authorization:RoleAssignment"
PROD = {"tags": {"environment": "prod", "app": "slm-deploy"}}
STAGING = {"tags": {"environment": "staging"}}


def vault(purge: bool | None, tags: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = {"enableRbacAuthorization": True}
    if purge is not None:
        properties["enablePurgeProtection"] = purge
    return {**tags, "vaultName": "kv-prod-a1b2c3", "properties": properties}


@pytest.mark.parametrize("purge", [None, False])
def test_prod_vault_without_purge_protection_is_a_violation(purge: bool | None) -> None:
    assert violations(rules.key_vault_purge_protection, VAULT, vault(purge, PROD)) == [
        "prod Key Vault: properties.enablePurgeProtection must be true"
    ]


def test_prod_vault_with_purge_protection_and_other_environments_pass() -> None:
    assert violations(rules.key_vault_purge_protection, VAULT, vault(True, PROD)) == []
    assert violations(rules.key_vault_purge_protection, VAULT, vault(None, STAGING)) == []


@pytest.mark.parametrize("admin", [True, None])
def test_registry_admin_user_must_be_explicitly_off(admin: bool | None) -> None:
    props: dict[str, Any] = {"registryName": "slmprod", "sku": {"name": "Standard"}}
    if admin is not None:
        props["adminUserEnabled"] = admin
    assert violations(rules.registry_admin_user_off, REGISTRY, props) == [
        "container registry: adminUserEnabled must be false"
    ]


def test_registry_without_admin_user_passes() -> None:
    assert violations(rules.registry_admin_user_off, REGISTRY, {"adminUserEnabled": False}) == []


@pytest.mark.parametrize("local", [{"disableLocalAccounts": False}, {}])
def test_prod_cluster_with_local_accounts_is_a_violation(local: dict[str, Any]) -> None:
    assert violations(rules.aks_local_accounts_off_in_prod, CLUSTER, {**PROD, **local}) == [
        "prod AKS cluster: disableLocalAccounts must be true"
    ]


def test_prod_cluster_without_local_accounts_and_staging_clusters_pass() -> None:
    assert violations(rules.aks_local_accounts_off_in_prod, CLUSTER, {**PROD, "disableLocalAccounts": True}) == []
    assert violations(rules.aks_local_accounts_off_in_prod, CLUSTER, {**STAGING, "disableLocalAccounts": False}) == []


@pytest.mark.parametrize(
    "scope",
    [
        "/subscriptions/0000-1111",
        "/subscriptions/0000-1111/",
        "/providers/Microsoft.Management/managementGroups/root-mg",
        "/",
    ],
)
def test_subscription_and_wider_scopes_are_violations(scope: str) -> None:
    found = violations(rules.role_assignments_scoped, ROLE, {"scope": scope, "principalId": "x"})
    assert found == [f"role assignment: scope {scope} is a subscription or wider; scope it to the resource"]


@pytest.mark.parametrize(
    "scope",
    [
        "/subscriptions/0000/resourceGroups/slm-prod/providers/Microsoft.KeyVault/vaults/kv-prod",
        "/subscriptions/0000/resourceGroups/slm-prod",
        "<staging-acr.id>",
    ],
)
def test_resource_scopes_pass(scope: str) -> None:
    assert violations(rules.role_assignments_scoped, ROLE, {"scope": scope}) == []


def test_a_role_assignment_without_scope_is_a_violation() -> None:
    assert violations(rules.role_assignments_scoped, ROLE, {"principalId": "x"}) == [
        "role assignment: scope is missing"
    ]
