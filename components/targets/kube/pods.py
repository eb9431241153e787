"""The pod of one model server, from its plan.

The fetch step is an init container that fills the model cache (read-write), bounded by the
plan's timeout; the server mounts the cache read-only. Every container meets the "restricted"
Pod Security Standard (non-root, no privilege escalation, all capabilities dropped, seccomp
RuntimeDefault) with a read-only root filesystem; the engine's writable paths are emptyDirs
(RAM-backed where the plan says, e.g. /dev/shm). Secret files come from a
:class:`~components.secrets.kubernetes.SecretDelivery`, plain files from a ConfigMap.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

import pulumi
import pulumi_kubernetes as k8s

from components.gpu_nodes import GPU_NODE_SELECTOR, GPU_RESOURCE
from components.plan import (
    COMPONENT_MODEL_SERVER,
    LABEL_COMPONENT,
    LABEL_INSTANCE,
    Check,
    ConfigFile,
    Container,
    Probes,
    Resources,
    ServingPlan,
)
from components.secrets.kubernetes import SecretDelivery, directory_mounts
from components.targets.kube.scheduling import GPU_TOLERATION, topology_spread
from components.targets.kube.units import cpu, memory

#: The volume holding the model cache in every pod (a PVC or a volumeClaimTemplate).
CACHE_VOLUME = "cache"
#: Failed readiness / liveness checks in a row before Kubernetes acts.
FAILURE_THRESHOLD = 3
#: Time a server gets to finish running requests when a pod stops.
TERMINATION_GRACE_SECONDS = 60


def selector(plan: ServingPlan) -> dict[str, str]:
    """Labels that select a model's server pods (immutable once deployed)."""
    return {LABEL_INSTANCE: plan.model, LABEL_COMPONENT: COMPONENT_MODEL_SERVER}


def slug(path: str) -> str:
    """``/home/vllm`` -> ``home-vllm``: a volume-name-safe form of a path."""
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "root"


def config_key(container: Container, item: ConfigFile) -> str:
    """The ConfigMap key of a container's plain file."""
    return f"{container.name}-{PurePosixPath(item.path).name}"


def config_data(plan: ServingPlan) -> dict[str, str]:
    """Every plain file of the plan's containers, by ConfigMap key."""
    return {config_key(c, f): f.content for c in (plan.fetch.container, plan.server) for f in c.config_files}


@dataclass(frozen=True)
class PodInputs:
    """What a model's pod needs besides its plan."""

    plan: ServingPlan
    images: Mapping[str, pulumi.Input[str]]
    """Image reference per container name."""
    secrets: SecretDelivery
    service_account: str
    config_map: str | None = None
    cache_claim: str | None = None
    """PVC of a shared cache; None when a volumeClaimTemplate provides the cache volume."""
    spread: bool = False
    """Replicas may be more than one: spread them over nodes and zones."""
    image_pull_secrets: Sequence[str] = ()
    gpu_tolerations: Sequence[k8s.core.v1.TolerationArgs] = (GPU_TOLERATION,)
    """Taints GPU pods tolerate (a platform with spot GPU nodes adds the spot taint)."""


def resources(values: Resources) -> k8s.core.v1.ResourceRequirementsArgs:
    requests = {"cpu": cpu(values.cpu_request_millis), "memory": memory(values.memory_request_bytes)}
    limits = {"cpu": cpu(values.cpu_limit_millis), "memory": memory(values.memory_limit_bytes)}
    if values.gpu_count:
        requests[GPU_RESOURCE] = limits[GPU_RESOURCE] = str(values.gpu_count)
    return k8s.core.v1.ResourceRequirementsArgs(requests=requests, limits=limits)


def security_context(container: Container) -> k8s.core.v1.SecurityContextArgs:
    return k8s.core.v1.SecurityContextArgs(
        run_as_user=container.run_as_user,
        run_as_group=container.run_as_group,
        run_as_non_root=True,
        privileged=False,
        allow_privilege_escalation=False,
        read_only_root_filesystem=True,
        capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
    )


def probe(check: Check, *, period: int, timeout: int, failure_threshold: int) -> k8s.core.v1.ProbeArgs:
    """An HTTP GET where the plan offers one (no process per check), else the command."""
    http = check.http
    return k8s.core.v1.ProbeArgs(
        http_get=k8s.core.v1.HTTPGetActionArgs(path=http.path, port=http.port) if http else None,
        exec_=None if http else k8s.core.v1.ExecActionArgs(command=list(check.command)),
        period_seconds=period,
        timeout_seconds=timeout,
        failure_threshold=failure_threshold,
        success_threshold=1,
    )


def _probe(values: Probes | None, kind: str) -> k8s.core.v1.ProbeArgs | None:
    """Startup gets the plan's whole budget; readiness and liveness only start after it."""
    if values is None:
        return None
    check: Check = getattr(values, kind)
    threshold = values.startup_failure_threshold if kind == "startup" else FAILURE_THRESHOLD
    return probe(check, period=values.period_seconds, timeout=values.timeout_seconds, failure_threshold=threshold)


def _writable_volumes(container: Container) -> tuple[list[k8s.core.v1.VolumeArgs], list[k8s.core.v1.VolumeMountArgs]]:
    volumes, mounts = [], []
    for writable in container.writable_paths:
        name = f"{container.name}-{slug(writable.path)}"
        volumes.append(
            k8s.core.v1.VolumeArgs(
                name=name,
                empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(
                    medium="Memory" if writable.memory else None,
                    size_limit=memory(writable.size_bytes),
                ),
            )
        )
        mounts.append(k8s.core.v1.VolumeMountArgs(name=name, mount_path=writable.path))
    return volumes, mounts


def _config_volumes(
    container: Container, config_map: str | None
) -> tuple[list[k8s.core.v1.VolumeArgs], list[k8s.core.v1.VolumeMountArgs]]:
    if not container.config_files:
        return [], []
    if config_map is None:
        raise ValueError(f"container {container.name} has config files but the pod has no ConfigMap")

    def volume(name: str, items: list[ConfigFile]) -> k8s.core.v1.VolumeArgs:
        return k8s.core.v1.VolumeArgs(
            name=name,
            config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(
                name=config_map,
                default_mode=0o444,
                items=[
                    k8s.core.v1.KeyToPathArgs(key=config_key(container, f), path=PurePosixPath(f.path).name)
                    for f in items
                ],
            ),
        )

    built = directory_mounts(container.name, container.config_files, volume, kind="config")
    return built.volumes, built.mounts


@dataclass
class _Built:
    container: k8s.core.v1.ContainerArgs
    volumes: list[k8s.core.v1.VolumeArgs]


def _container(
    container: Container,
    inputs: PodInputs,
    *,
    command: Sequence[str] | None,
) -> _Built:
    volumes, mounts = _writable_volumes(container)
    config_volumes, config_mounts = _config_volumes(container, inputs.config_map)
    secret_mounts = inputs.secrets.mounts(container.name, container.secret_files)
    volumes += config_volumes + secret_mounts.volumes
    mounts += config_mounts + secret_mounts.mounts
    if container.cache is not None:
        mounts.append(
            k8s.core.v1.VolumeMountArgs(
                name=CACHE_VOLUME, mount_path=container.cache.path, read_only=container.cache.read_only
            )
        )
    mounts.sort(key=lambda m: str(m.mount_path))
    checks = container.probes  # the server's; a fetch step has none
    args = k8s.core.v1.ContainerArgs(
        name=container.name,
        image=inputs.images[container.name],
        image_pull_policy="Always",
        command=list(command) if command else None,
        args=list(container.args) or None,
        env=[k8s.core.v1.EnvVarArgs(name=k, value=v) for k, v in sorted(container.env.items())] or None,
        ports=[
            k8s.core.v1.ContainerPortArgs(name=p.name, container_port=p.container_port, protocol="TCP")
            for p in container.ports
        ]
        or None,
        resources=resources(container.resources) if container.resources else None,
        security_context=security_context(container),
        volume_mounts=mounts,
        termination_message_policy="FallbackToLogsOnError",
        startup_probe=_probe(checks, "startup"),
        readiness_probe=_probe(checks, "readiness"),
        liveness_probe=_probe(checks, "liveness"),
    )
    return _Built(args, volumes)


def pod_template(inputs: PodInputs) -> k8s.core.v1.PodTemplateSpecArgs:
    """The pod template of a model's Deployment or StatefulSet."""
    plan = inputs.plan
    fetch = plan.fetch.container
    init = _container(fetch, inputs, command=plan.fetch.command)
    server = _container(plan.server, inputs, command=plan.server.command)
    volumes = init.volumes + server.volumes
    if inputs.cache_claim is not None:
        volumes.append(
            k8s.core.v1.VolumeArgs(
                name=CACHE_VOLUME,
                persistent_volume_claim=k8s.core.v1.PersistentVolumeClaimVolumeSourceArgs(
                    claim_name=inputs.cache_claim
                ),
            )
        )
    volumes.sort(key=lambda v: str(v.name))
    gpu = plan.uses_gpu
    return k8s.core.v1.PodTemplateSpecArgs(
        metadata=k8s.meta.v1.ObjectMetaArgs(
            labels=dict(sorted(plan.labels.items())),
            # `kubectl logs` and `exec` pick the server, not the fetch step.
            annotations={"kubectl.kubernetes.io/default-container": plan.server.name},
        ),
        spec=k8s.core.v1.PodSpecArgs(
            service_account_name=inputs.service_account,
            automount_service_account_token=False,
            enable_service_links=False,
            termination_grace_period_seconds=TERMINATION_GRACE_SECONDS,
            security_context=k8s.core.v1.PodSecurityContextArgs(
                run_as_non_root=True,
                # The cache volume and emptyDirs are group-owned by this group and group-writable,
                # so every container (including vLLM's group-0 user) reaches them as a member.
                fs_group=plan.server.run_as_user,
                fs_group_change_policy="OnRootMismatch",
                seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
            ),
            init_containers=[init.container],
            containers=[server.container],
            volumes=volumes,
            node_selector=dict(GPU_NODE_SELECTOR) if gpu else None,
            tolerations=list(inputs.gpu_tolerations) if gpu else None,
            topology_spread_constraints=topology_spread(selector(plan)) if inputs.spread else None,
            image_pull_secrets=[k8s.core.v1.LocalObjectReferenceArgs(name=n) for n in inputs.image_pull_secrets]
            or None,
        ),
    )
