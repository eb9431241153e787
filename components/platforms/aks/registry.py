"""The container registry: no admin user, pulls by the kubelet identity, pushes by the deployer.

Images the program builds (the ONNX Runtime server) are pushed here and pulled by the nodes
with AcrPull on the cluster's kubelet identity; no registry password exists anywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import containerregistry, containerservice

from components.platforms.aks.roles import MANAGED_IDENTITY, BuiltInRole, assign


@dataclass(frozen=True)
class Registry:
    registry: containerregistry.Registry
    login_server: pulumi.Output[str]


def create_registry(
    stack: str,
    *,
    name: pulumi.Input[str],
    sku: str,
    resource_group_name: pulumi.Input[str],
    location: str,
    tags: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> Registry:
    registry = containerregistry.Registry(
        f"{stack}-acr",
        registry_name=name,
        resource_group_name=resource_group_name,
        location=location,
        sku={"name": sku},
        admin_user_enabled=False,
        anonymous_pull_enabled=False,
        tags=dict(tags),
        opts=opts,
    )
    return Registry(registry=registry, login_server=registry.login_server)


def kubelet_object_id(cluster: containerservice.ManagedCluster) -> pulumi.Output[str]:
    """The object ID of the identity the nodes pull images with."""

    def object_id(profile: Mapping[str, containerservice.outputs.UserAssignedIdentityResponse] | None) -> str:
        return str((profile or {})["kubeletidentity"].object_id)

    found: pulumi.Output[str] = cluster.identity_profile.apply(object_id)
    return found


def grant_registry_access(
    stack: str,
    registry: Registry,
    *,
    kubelet_object_id: pulumi.Input[str],
    deployer_object_id: pulumi.Input[str],
    deployer_principal_type: str,
    subscription_id: pulumi.Input[str],
    push: bool,
    opts: pulumi.ResourceOptions,
) -> list[pulumi.Resource]:
    """AcrPull for the nodes; AcrPush for whoever runs ``pulumi up`` when it pushes images."""
    grants: list[pulumi.Resource] = [
        assign(
            f"{stack}-acr-pull",
            role=BuiltInRole.ACR_PULL,
            scope=registry.registry.id,
            principal_id=kubelet_object_id,
            subscription_id=subscription_id,
            principal_type=MANAGED_IDENTITY,
            opts=opts,
        )
    ]
    if push:
        grants.append(
            assign(
                f"{stack}-acr-push",
                role=BuiltInRole.ACR_PUSH,
                scope=registry.registry.id,
                principal_id=deployer_object_id,
                subscription_id=subscription_id,
                principal_type=deployer_principal_type,
                opts=opts,
            )
        )
    return grants
