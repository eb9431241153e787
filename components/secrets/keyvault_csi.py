"""Secret files from Azure Key Vault through the Secrets Store CSI driver (AKS).

The Kubernetes target's pluggable delivery (:mod:`components.secrets.kubernetes`) with no
Kubernetes Secret at all: values stay in Key Vault, and each pod mounts a ``csi`` volume whose
SecretProviderClass names the vault, the workload identity's client ID and the objects to
fetch. One SecretProviderClass per distinct set of files a container reads, so a container
gets exactly its secrets (the fetch step never sees the API key), and the driver's rotation
reaches the files (no ``subPath``). The pod's service account is federated with the identity
(:mod:`components.platforms.aks.vault`). https://azure.github.io/secrets-store-csi-driver-provider-azure/docs/configurations/identity-access-modes/workload-identity-mode/
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

import pulumi
import pulumi_kubernetes as k8s

from components.plan import SecretFile, ServingPlan
from components.secrets.kubernetes import (
    SecretDelivery,
    SecretDeliveryFactory,
    SecretMounts,
    by_directory,
    directory_mounts,
)

CSI_DRIVER = "secrets-store.csi.k8s.io"
SPC_API_VERSION = "secrets-store.csi.x-k8s.io/v1"

#: (secret name in the store, file name) pairs mounted together in one directory.
FileSet = tuple[tuple[str, str], ...]


def file_set(files: Iterable[SecretFile]) -> FileSet:
    return tuple(sorted((f.secret, PurePosixPath(f.path).name) for f in files))


def file_sets(plans: Sequence[ServingPlan]) -> list[FileSet]:
    """Every distinct set of secret files any container of the plans mounts in one directory."""
    found = {
        file_set(group)
        for plan in plans
        for container in (plan.fetch.container, plan.server)
        for _directory, group in by_directory(container.secret_files)
    }
    return sorted(found)


def class_name(files: FileSet) -> str:
    """``slm-kv-apikey`` for {apiKey}: a DNS name per file set."""
    return "slm-kv-" + "-".join(f"{secret}-{name}" if secret != name else secret for secret, name in files).lower()


def objects_parameter(files: FileSet) -> str:
    """The provider's ``objects`` parameter: a YAML string with one block per secret."""
    lines = ["array:"]
    for secret, name in files:
        lines += ["  - |", f"    objectName: {secret}", "    objectType: secret", f"    objectAlias: {name}"]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class VaultAccess:
    """How pods reach the vault: its name, the tenant, and the workload identity's client ID."""

    vault_name: pulumi.Input[str]
    tenant_id: pulumi.Input[str]
    client_id: pulumi.Input[str]


class KeyVaultCsiFiles:
    """SecretProviderClasses for the stack's file sets, and ``csi`` volumes that use them."""

    def __init__(
        self,
        prefix: str,
        namespace: pulumi.Input[str],
        names: Sequence[str],
        *,
        access: VaultAccess,
        sets: Sequence[FileSet],
        opts: pulumi.ResourceOptions,
        labels: dict[str, str] | None = None,
    ) -> None:
        self._names = set(names)
        self._classes: dict[FileSet, str] = {}
        self._resources: list[pulumi.Resource] = []
        for files in sets:
            missing = {secret for secret, _ in files} - self._names
            if missing:
                raise KeyError(f"secrets {sorted(missing)} were not given to the delivery")
            name = class_name(files)
            self._classes[files] = name
            self._resources.append(
                k8s.apiextensions.CustomResource(
                    f"{prefix}-{name}",
                    api_version=SPC_API_VERSION,
                    kind="SecretProviderClass",
                    metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace, labels=labels),
                    spec={
                        "provider": "azure",
                        "parameters": {
                            "usePodIdentity": "false",
                            "clientID": access.client_id,
                            "keyvaultName": access.vault_name,
                            "tenantId": access.tenant_id,
                            "objects": objects_parameter(files),
                        },
                    },
                    opts=opts,
                )
            )

    @property
    def resources(self) -> list[pulumi.Resource]:
        return list(self._resources)

    def mounts(self, volume_prefix: str, files: Sequence[SecretFile]) -> SecretMounts:
        return directory_mounts(volume_prefix, files, self._volume)

    def _volume(self, name: str, group: list[SecretFile]) -> k8s.core.v1.VolumeArgs:
        """A ``csi`` volume whose SecretProviderClass fetches exactly ``group``."""
        key = file_set(group)
        if key not in self._classes:
            raise KeyError(f"no SecretProviderClass for {key}; pass every plan's file sets to the delivery")
        return k8s.core.v1.VolumeArgs(
            name=name,
            csi=k8s.core.v1.CSIVolumeSourceArgs(
                driver=CSI_DRIVER, read_only=True, volume_attributes={"secretProviderClass": self._classes[key]}
            ),
        )


def key_vault_csi_files(
    access: VaultAccess, plans: Sequence[ServingPlan], labels: dict[str, str] | None = None
) -> SecretDeliveryFactory:
    """The AKS delivery for the Kubernetes target."""
    sets = file_sets(plans)

    def create(
        prefix: str, namespace: pulumi.Input[str], names: Sequence[str], opts: pulumi.ResourceOptions
    ) -> SecretDelivery:
        return KeyVaultCsiFiles(prefix, namespace, names, access=access, sets=sets, opts=opts, labels=labels)

    return create
