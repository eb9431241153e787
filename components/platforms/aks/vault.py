"""Secrets on AKS: Key Vault with RBAC, the model servers' workload identity, and its grants.

The secrets the model pods read (``apiKey``, ``hfToken``, ...; from ``slm-deploy:secrets`` or
generated) are written into the vault as Pulumi secrets, and only those: monitoring's own
secrets (Grafana's login, the receivers' URLs) never enter it. Each model server's service
account is federated with one user-assigned identity, which may read exactly those secrets:
one Key Vault Secrets User assignment per secret, scoped to ``<vault id>/secrets/<name>``
(https://learn.microsoft.com/azure/key-vault/general/rbac-guide). The Secrets Store CSI
driver mounts them as files; no secret value appears in a Kubernetes object
(research/pulumi-azure.md §7).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import containerservice, keyvault, managedidentity

from components.platforms.aks.roles import MANAGED_IDENTITY, BuiltInRole, assign
from components.secrets import StackSecrets
from components.spec.models import AksSettings

#: The audience Entra ID expects in workload identity token exchanges.
TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"


@dataclass(frozen=True)
class WorkloadSecrets:
    vault: keyvault.Vault
    vault_name: pulumi.Output[str]
    vault_uri: pulumi.Output[str]
    identity: managedidentity.UserAssignedIdentity
    client_id: pulumi.Output[str]
    secrets: Mapping[str, keyvault.Secret]
    """Key Vault secret by stack secret name."""
    grants: list[pulumi.Resource]


def create_vault(
    stack: str,
    aks: AksSettings,
    *,
    name: pulumi.Input[str],
    resource_group_name: pulumi.Input[str],
    tenant_id: pulumi.Input[str],
    location: str,
    tags: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> keyvault.Vault:
    """A vault authorizing by Azure RBAC, soft delete on, purge protection as the spec says.

    Azure refuses ``enablePurgeProtection: false`` (it can only be switched on), so off means
    the property is left out.
    """
    return keyvault.Vault(
        f"{stack}-kv",
        vault_name=name,
        resource_group_name=resource_group_name,
        location=location,
        properties={
            "tenant_id": tenant_id,
            "sku": {"family": "A", "name": "standard"},
            "enable_rbac_authorization": True,
            "enable_soft_delete": True,
            "soft_delete_retention_in_days": aks.key_vault_retention_days,
            "enable_purge_protection": True if aks.key_vault_purge_protection else None,
            "public_network_access": "Enabled",
            "network_acls": {"default_action": "Allow", "bypass": "AzureServices"},
        },
        tags=dict(tags),
        opts=opts,
    )


def store_secrets(
    stack: str,
    vault: keyvault.Vault,
    secrets: StackSecrets,
    names: Sequence[str],
    *,
    resource_group_name: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> dict[str, keyvault.Secret]:
    """The stack secrets ``names`` as Key Vault secrets of the same name (names are alphanumeric)."""
    return {
        key: keyvault.Secret(
            f"{stack}-kv-{key}",
            vault_name=vault.name,
            resource_group_name=resource_group_name,
            secret_name=key,
            properties={"value": secrets.value(key), "content_type": "text/plain"},
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["properties"])),
        )
        for key in sorted(set(names))
    }


def create_workload_secrets(
    stack: str,
    aks: AksSettings,
    secrets: StackSecrets,
    *,
    cluster: containerservice.ManagedCluster,
    vault_name: pulumi.Input[str],
    namespace: str,
    service_accounts: Sequence[str],
    pod_secrets: Sequence[str],
    resource_group_name: pulumi.Output[str],
    tenant_id: pulumi.Output[str],
    subscription_id: pulumi.Output[str],
    location: str,
    tags: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> WorkloadSecrets:
    vault = create_vault(
        stack,
        aks,
        name=vault_name,
        resource_group_name=resource_group_name,
        tenant_id=tenant_id,
        location=location,
        tags=tags,
        opts=opts,
    )
    stored = store_secrets(stack, vault, secrets, pod_secrets, resource_group_name=resource_group_name, opts=opts)
    identity = managedidentity.UserAssignedIdentity(
        f"{stack}-models-identity",
        resource_name_=f"id-slm-{stack}-models",
        resource_group_name=resource_group_name,
        location=location,
        tags=dict(tags),
        opts=opts,
    )
    issuer = cluster.oidc_issuer_profile.apply(lambda p: str(p.issuer_url) if p else "")
    federations: list[pulumi.Resource] = []
    for account in sorted(set(service_accounts)):
        # Azure refuses concurrent writes of credentials under one identity: create them in turn.
        federations.append(
            managedidentity.FederatedIdentityCredential(
                f"{stack}-federation-{account}",
                resource_name_=identity.name,
                resource_group_name=resource_group_name,
                federated_identity_credential_resource_name=f"{namespace}-{account}",
                issuer=issuer,
                subject=f"system:serviceaccount:{namespace}:{account}",
                audiences=[TOKEN_EXCHANGE_AUDIENCE],
                opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=federations[-1:])),
            )
        )
    readers = [
        assign(
            f"{stack}-kv-secrets-user-{key}",
            role=BuiltInRole.KEY_VAULT_SECRETS_USER,
            # The secret's own ARM id: the identity reads this secret and no other.
            scope=secret.id,
            principal_id=identity.principal_id,
            subscription_id=subscription_id,
            principal_type=MANAGED_IDENTITY,
            opts=opts,
        )
        for key, secret in stored.items()
    ]
    return WorkloadSecrets(
        vault=vault,
        vault_name=vault.name,
        vault_uri=vault.properties.apply(lambda p: str(p.vault_uri)),
        identity=identity,
        client_id=identity.client_id,
        secrets=stored,
        grants=[*federations, *readers],
    )
