"""Rules of the ``aks`` section: what Azure would refuse, refused before any resource exists.

Name formats (Key Vault, registry, node pools, resource group) are checked by the models;
what needs several fields, the models of the stack or the catalog is checked here. The GPU
VM size of a pool is resolved here too, so rules and the platform component agree on it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from components.catalog.sizing import GPU_CLASSES
from components.spec.errors import Problem
from components.spec.models import GPU_VM_SIZE_PREFIX, GpuRequest
from components.spec.resolve import ArtifactError, resolve_artifact, size_model
from components.spec.scaling import SURGE_PODS, max_pods, max_replicas, scales_on_queue

if TYPE_CHECKING:
    from components.spec.models import AksNetwork, AksSettings, DeploymentSpec, NodePool

#: Azure Monitor action groups have email and webhook receivers, but no Slack or Teams type.
ACTION_GROUP_RECEIVERS = ("email", "webhook")


class PoolSizeError(Exception):
    """A GPU pool's VM size cannot be derived from the stack's models."""


def wanted_gpu_vm_sizes(spec: DeploymentSpec) -> dict[str, str]:
    """The VM size each GPU model asks for: its ``gpu.vmSize``, else its catalog sizing's class."""
    sizes: dict[str, str] = {}
    for model in spec.models:
        if model.gpu_count == 0:
            continue
        if isinstance(model.gpu, GpuRequest) and model.gpu.vm_size is not None:
            sizes[model.name] = model.gpu.vm_size
            continue
        if model.gpu_count > 1:
            raise PoolSizeError(
                f"model {model.name} wants {model.gpu_count} GPUs; the catalog sizes single-GPU VMs only, "
                "so set its gpu.vmSize or the pool's vmSize"
            )
        try:
            sizing = size_model(model, resolve_artifact(model))
        except ArtifactError:
            continue  # reported by the model rules
        if sizing.gpu_class is not None:
            sizes[model.name] = sizing.gpu_class.vm_size
    return sizes


def gpu_pool_vm_size(spec: DeploymentSpec, pool: NodePool) -> str:
    """The pool's own ``vmSize``, else the largest catalog GPU VM any GPU model of the stack needs."""
    if pool.vm_size is not None:
        return pool.vm_size
    wanted = set(wanted_gpu_vm_sizes(spec).values())
    if not wanted:
        raise PoolSizeError("no model of the stack uses a GPU, so the pool's size cannot be derived; set vmSize")
    if len(wanted) == 1:
        return wanted.pop()
    order = [gpu.vm_size for gpu in GPU_CLASSES]
    unknown = sorted(wanted - set(order))
    if unknown:
        raise PoolSizeError(f"models ask for {', '.join(unknown)}, which the catalog cannot rank; set vmSize")
    return max(wanted, key=order.index)


def aks_problems(spec: DeploymentSpec) -> list[Problem]:
    """Every broken AKS rule, at its key path."""
    aks = spec.aks
    if aks is None:
        return []
    problems = _system_pool(aks, spec)
    problems += _user_pool(aks)
    problems += _gpu_pools(aks, spec)
    problems += _gpu_capacity(aks, spec)
    problems += _network(aks.network, aks.private_cluster)
    problems += _access(aks)
    problems += _managed_monitoring(aks, spec)
    return problems


def _counts(pool: NodePool, path: tuple[str | int, ...]) -> list[Problem]:
    if pool.min_count > pool.max_count:
        return [Problem((*path, "minCount"), f"{pool.min_count} is above maxCount {pool.max_count}")]
    return []


def _system_pool(aks: AksSettings, spec: DeploymentSpec) -> list[Problem]:
    path: tuple[str | int, ...] = ("aks", "systemPool")
    pool = aks.system_pool
    problems = _counts(pool, path)
    if pool.spot:
        problems.append(Problem((*path, "spot"), "a system pool cannot use spot VMs (AKS refuses it)"))
    if pool.min_count < 1:
        problems.append(Problem((*path, "minCount"), "a system pool needs at least 1 node (AKS refuses 0)"))
    elif spec.environment.value == "prod" and pool.min_count < 2:
        problems.append(Problem((*path, "minCount"), f"{pool.min_count}: prod needs at least 2 system nodes"))
    if pool.vm_size is not None and pool.vm_size.startswith(GPU_VM_SIZE_PREFIX):
        problems.append(Problem((*path, "vmSize"), f"{pool.vm_size} is a GPU size; GPUs belong in gpuPools"))
    return problems


def _user_pool(aks: AksSettings) -> list[Problem]:
    path: tuple[str | int, ...] = ("aks", "userPool")
    pool = aks.user_pool
    problems = _counts(pool, path)
    if pool.name == aks.system_pool.name:
        problems.append(Problem((*path, "name"), f"{pool.name!r} is already used by systemPool"))
    if pool.spot:
        problems.append(
            Problem((*path, "spot"), "CPU model servers and monitoring need nodes that stay; spot is for gpuPools")
        )
    if pool.vm_size is not None and pool.vm_size.startswith(GPU_VM_SIZE_PREFIX):
        problems.append(Problem((*path, "vmSize"), f"{pool.vm_size} is a GPU size; GPUs belong in gpuPools"))
    return problems


def _gpu_pools(aks: AksSettings, spec: DeploymentSpec) -> list[Problem]:
    problems: list[Problem] = []
    seen = {aks.system_pool.name: "systemPool"}
    seen.setdefault(aks.user_pool.name, "userPool")
    for index, pool in enumerate(aks.gpu_pools):
        path: tuple[str | int, ...] = ("aks", "gpuPools", index)
        if pool.name in seen:
            problems.append(Problem((*path, "name"), f"{pool.name!r} is already used by {seen[pool.name]}"))
        seen.setdefault(pool.name, f"gpuPools[{index}]")
        problems += _counts(pool, path)
        if spec.environment.value == "prod" and pool.min_count < 1:
            problems.append(
                Problem((*path, "minCount"), "0: prod keeps at least 1 GPU node (a cold GPU node takes minutes)")
            )
        if pool.spot_max_price is not None and not pool.spot:
            problems.append(Problem((*path, "spotMaxPrice"), "only applies with spot: true"))
        try:
            size = gpu_pool_vm_size(spec, pool)
        except PoolSizeError as exc:
            problems.append(Problem((*path, "vmSize"), str(exc)))
            continue
        if not size.startswith(GPU_VM_SIZE_PREFIX):
            problems.append(
                Problem((*path, "vmSize"), f"{size} has no GPU (Azure GPU VMs are the N series: Standard_NC...)")
            )
    gpu_models = [i for i, m in enumerate(spec.models) if m.gpu_count > 0]
    if gpu_models and not aks.gpu_pools:
        problems += [
            Problem(("models", i, "gpu"), "target aks needs a GPU pool for this model: add aks.gpuPools")
            for i in gpu_models
        ]
    return problems


def gpus_per_node(spec: DeploymentSpec, pool: NodePool) -> int:
    """GPUs of one node of the pool: one on every catalog GPU VM; on another size at least the
    most any model asks for (a pod runs on one node), which is what the rules can rely on."""
    if gpu_pool_vm_size(spec, pool) in {gpu.vm_size for gpu in GPU_CLASSES}:
        return 1
    return max([1, *(model.gpu_count for model in spec.models)])


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _gpu_capacity(aks: AksSettings, spec: DeploymentSpec) -> list[Problem]:
    """The GPU pools at their maxCount hold every GPU model at its maximum replicas plus the
    pod a rolling update adds (maxSurge 1, maxUnavailable 0): otherwise a rollout at full scale
    waits forever for a GPU that the autoscaler may not add."""
    gpu_models = [model for model in spec.models if model.gpu_count > 0]
    if not gpu_models or not aks.gpu_pools:
        return []
    try:
        per_node = [gpus_per_node(spec, pool) for pool in aks.gpu_pools]
    except PoolSizeError:
        return []  # reported at the pool's vmSize
    per_replica = spec.kubernetes is not None and spec.kubernetes.model_cache == "per-replica"
    needed = sum(max_pods(model, per_replica_cache=per_replica) * model.gpu_count for model in gpu_models)
    capacity = sum(pool.max_count * gpus for pool, gpus in zip(aks.gpu_pools, per_node, strict=True))
    if capacity >= needed:
        return []
    surge = "" if per_replica else f" + {SURGE_PODS} rolling-update surge pod"
    parts = "; ".join(
        f"{model.name}: {_count(max_replicas(model), 'replica')}{surge} x {_count(model.gpu_count, 'GPU')}"
        for model in gpu_models
    )
    if len(aks.gpu_pools) == 1:
        (pool,), (gpus,) = aks.gpu_pools, per_node
        wanted = -(-(needed - capacity) // gpus) + pool.max_count
        path: tuple[str | int, ...] = ("aks", "gpuPools", 0, "maxCount")
        fix = f"raise it to {wanted}"
    else:
        path, fix = ("aks", "gpuPools"), "raise their maxCount"
    return [Problem(path, f"{capacity} GPUs at most, but the GPU models need {needed} ({parts}): {fix}")]


def _network(network: AksNetwork, private_cluster: bool) -> list[Problem]:
    path = ("aks", "network")
    problems: list[Problem] = []
    if network.pod_cidr.overlaps(network.service_cidr):
        problems.append(Problem((*path, "serviceCidr"), f"{network.service_cidr} overlaps podCidr {network.pod_cidr}"))
    if network.dns_service_ip not in network.service_cidr:
        problems.append(
            Problem((*path, "dnsServiceIp"), f"{network.dns_service_ip} is outside serviceCidr {network.service_cidr}")
        )
    elif int(network.dns_service_ip) - int(network.service_cidr.network_address) < 2:
        problems.append(
            Problem(
                (*path, "dnsServiceIp"),
                f"{network.dns_service_ip} is reserved (the network address or the kubernetes service's .1)",
            )
        )
    if private_cluster and network.authorized_ip_ranges:
        problems.append(
            Problem((*path, "authorizedIpRanges"), "a private cluster has no public API server to restrict")
        )
    return problems


def _access(aks: AksSettings) -> list[Problem]:
    if not aks.local_accounts and not aks.azure_rbac and not aks.admin_group_object_ids:
        return [
            Problem(
                ("aks", "localAccounts"),
                "false leaves nobody able to sign in: set azureRbac: true or adminGroupObjectIds",
            )
        ]
    return []


def _managed_monitoring(aks: AksSettings, spec: DeploymentSpec) -> list[Problem]:
    if aks.monitoring != "managed":
        return []
    problems = [
        Problem(
            ("alerting", "receivers", index, "type"),
            f"{receiver.type!r}: Azure Monitor action groups (aks.monitoring: managed) take "
            f"{' or '.join(ACTION_GROUP_RECEIVERS)} receivers",
        )
        for index, receiver in enumerate(spec.alerting.receivers)
        if receiver.type not in ACTION_GROUP_RECEIVERS
    ]
    problems += [
        Problem(
            ("models", index, "autoscaling"),
            "queue-depth autoscaling (KEDA) reads an in-cluster Prometheus, which aks.monitoring: managed "
            "does not run; use monitoring: in-cluster, or fixed replicas",
        )
        for index, model in enumerate(spec.models)
        if scales_on_queue(model)
    ]
    return problems
