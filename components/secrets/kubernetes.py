"""Secret files in Kubernetes pods: the pluggable piece a cluster target delivers secrets with.

A plan names secret files (``SecretFile``: store name and path). A :class:`SecretDelivery`
turns a container's secret files into pod volumes and mounts; the target never sees how the
values get there. :class:`KubernetesSecretFiles` keeps one Secret per stack (built from
:class:`~components.secrets.StackSecrets`, so values stay Pulumi secrets) and mounts the
keys a container reads as files through volume items. AKS can substitute a Key Vault +
Secrets Store CSI implementation (a ``csi`` volume naming a SecretProviderClass) without
touching the rest of the target.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import PurePosixPath
from typing import Protocol, TypeVar

import pulumi
import pulumi_kubernetes as k8s

from components.plan import SecretFile
from components.secrets.stack_secrets import StackSecrets

#: Owner and group may read; with the pod's fsGroup the non-root user reads through its group.
SECRET_FILE_MODE = 0o440
#: Annotation listing the keys a Secret holds (names only), for operators and the render.
KEYS_ANNOTATION = "slm-deploy.dev/keys"


@dataclass(frozen=True)
class SecretMounts:
    """Volumes a pod needs and mounts a container needs to read its secret files."""

    volumes: list[k8s.core.v1.VolumeArgs] = field(default_factory=list)
    mounts: list[k8s.core.v1.VolumeMountArgs] = field(default_factory=list)


class SecretDelivery(Protocol):
    """How secret files reach pods of one namespace."""

    def mounts(self, volume_prefix: str, files: Sequence[SecretFile]) -> SecretMounts:
        """Volumes (named from ``volume_prefix``) and read-only mounts for ``files``."""
        ...

    @property
    def resources(self) -> list[pulumi.Resource]:
        """What workloads must wait for (the Secret, a SecretProviderClass)."""
        ...


#: Builds the delivery for a namespace: (resource name prefix, namespace, secret names, options
#: carrying the parent and the cluster's provider).
SecretDeliveryFactory = Callable[[str, pulumi.Input[str], Sequence[str], pulumi.ResourceOptions], SecretDelivery]


class _MountedFile(Protocol):
    @property
    def path(self) -> str: ...


#: A file a container reads at ``path``: a secret file, or a plan's config file.
MountedFile = TypeVar("MountedFile", bound=_MountedFile)


def by_directory(files: Sequence[MountedFile]) -> list[tuple[str, list[MountedFile]]]:
    """Files grouped by the directory they are mounted in, in path order."""
    ordered = sorted(files, key=lambda f: f.path)
    return [
        (directory, list(group))
        for directory, group in groupby(ordered, key=lambda f: str(PurePosixPath(f.path).parent))
    ]


def directory_mounts(
    volume_prefix: str,
    files: Sequence[MountedFile],
    volume: Callable[[str, list[MountedFile]], k8s.core.v1.VolumeArgs],
    kind: str = "secrets",
) -> SecretMounts:
    """One volume per directory the files live in (``<prefix>-<kind>``, ``-1``, ...), built by
    ``volume`` from its name and files, each mounted read-only at its directory. Every secret
    delivery shares this (only the volume differs), and so do a plan's config files."""
    result = SecretMounts()
    for index, (directory, group) in enumerate(by_directory(files)):
        name = f"{volume_prefix}-{kind}" + (f"-{index}" if index else "")
        result.volumes.append(volume(name, group))
        result.mounts.append(k8s.core.v1.VolumeMountArgs(name=name, mount_path=directory, read_only=True))
    return result


class KubernetesSecretFiles:
    """One Secret per stack; each container mounts the keys it reads as files."""

    def __init__(
        self,
        prefix: str,
        namespace: pulumi.Input[str],
        names: Sequence[str],
        *,
        secrets: StackSecrets,
        opts: pulumi.ResourceOptions,
        labels: dict[str, str] | None = None,
    ) -> None:
        self.secret_name = "slm-secrets"
        self._names = sorted(set(names))
        self._resources: list[pulumi.Resource] = []
        if not self._names:
            return
        self.secret = k8s.core.v1.Secret(
            f"{prefix}-secrets",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=self.secret_name,
                namespace=namespace,
                labels=labels,
                annotations={KEYS_ANNOTATION: ",".join(self._names)},
            ),
            type="Opaque",
            string_data={name: secrets.value(name) for name in self._names},
            opts=opts,
        )
        self._resources.append(self.secret)

    @property
    def resources(self) -> list[pulumi.Resource]:
        return list(self._resources)

    def mounts(self, volume_prefix: str, files: Sequence[SecretFile]) -> SecretMounts:
        return directory_mounts(volume_prefix, files, self._volume)

    def _volume(self, name: str, group: list[SecretFile]) -> k8s.core.v1.VolumeArgs:
        """The stack's Secret, with the keys of ``group`` as files."""
        missing = {f.secret for f in group} - set(self._names)
        if missing:
            raise KeyError(f"secrets {sorted(missing)} were not given to the delivery")
        return k8s.core.v1.VolumeArgs(
            name=name,
            secret=k8s.core.v1.SecretVolumeSourceArgs(
                secret_name=self.secret_name,
                default_mode=SECRET_FILE_MODE,
                items=[k8s.core.v1.KeyToPathArgs(key=f.secret, path=PurePosixPath(f.path).name) for f in group],
            ),
        )


def kubernetes_secret_files(secrets: StackSecrets, labels: dict[str, str] | None = None) -> SecretDeliveryFactory:
    """The default delivery of a cluster target: a Kubernetes Secret mounted as files."""

    def create(
        prefix: str, namespace: pulumi.Input[str], names: Sequence[str], opts: pulumi.ResourceOptions
    ) -> SecretDelivery:
        return KubernetesSecretFiles(prefix, namespace, names, secrets=secrets, opts=opts, labels=labels)

    return create
