"""The namespace's ResourceQuota and LimitRange, from the plans and the spec.

Unless the stack sets ``quotaCpu`` / ``quotaMemory`` / ``quotaGpu``, the quota is exactly what
every model needs at its maximum replica count plus a Deployment's rolling-update surge pod, counting a
pod as the larger of its init container (the fetch step) and its server, as the scheduler
does. A runaway autoscaler or a stray workload then hits the quota, not the cluster. The
LimitRange gives containers without resources small defaults and caps any container at the
largest one the plans need.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi_kubernetes as k8s

from components.catalog.sizing import MIB
from components.gpu_nodes import GPU_RESOURCE
from components.plan import Resources, ServingPlan
from components.spec.models import Autoscaling, KubernetesSettings, ModelSpec
from components.spec.scaling import max_pods, max_replicas
from components.targets.kube.units import cpu, memory, storage

DEFAULT_CPU_MILLIS, DEFAULT_MEMORY = 500, 512 * MIB
DEFAULT_CPU_REQUEST_MILLIS, DEFAULT_MEMORY_REQUEST = 100, 128 * MIB


@dataclass(frozen=True)
class ModelScale:
    """A plan with its model spec, the most pods it may run and whether each pod has its own
    cache; the counts come from :mod:`components.spec.scaling`, which the spec rules use too."""

    plan: ServingPlan
    model: ModelSpec
    per_replica_cache: bool

    @property
    def scaling(self) -> Autoscaling | None:
        return self.model.autoscaling

    @property
    def max_replicas(self) -> int:
        return max_replicas(self.model)

    @property
    def max_pods(self) -> int:
        """A Deployment surges one pod during a rollout; a StatefulSet replaces pods in place."""
        return max_pods(self.model, per_replica_cache=self.per_replica_cache)

    @property
    def cache_claims(self) -> int:
        return self.max_replicas if self.per_replica_cache else 1


def pod_resources(plan: ServingPlan) -> Resources:
    """What one pod counts against the quota: per dimension, the larger of init and server."""
    parts = [c.resources for c in (plan.fetch.container, plan.server) if c.resources is not None]
    return Resources(
        memory_request_bytes=max(r.memory_request_bytes for r in parts),
        memory_limit_bytes=max(r.memory_limit_bytes for r in parts),
        cpu_request_millis=max(r.cpu_request_millis for r in parts),
        cpu_limit_millis=max(r.cpu_limit_millis for r in parts),
        gpu_count=max(r.gpu_count for r in parts),
    )


def quota_hard(models: Sequence[ModelScale], settings: KubernetesSettings) -> dict[str, str]:
    cpu_requests = cpu_limits = memory_requests = memory_limits = gpus = pods = claims = cache = 0
    for model in models:
        per_pod = pod_resources(model.plan)
        cpu_requests += per_pod.cpu_request_millis * model.max_pods
        cpu_limits += per_pod.cpu_limit_millis * model.max_pods
        memory_requests += per_pod.memory_request_bytes * model.max_pods
        memory_limits += per_pod.memory_limit_bytes * model.max_pods
        gpus += per_pod.gpu_count * model.max_pods
        pods += model.max_pods
        claims += model.cache_claims
        cache += model.plan.cache_size_bytes * model.cache_claims
    hard = {
        "requests.cpu": settings.quota_cpu or cpu(cpu_requests),
        "limits.cpu": settings.quota_cpu or cpu(cpu_limits),
        "requests.memory": settings.quota_memory or memory(memory_requests),
        "limits.memory": settings.quota_memory or memory(memory_limits),
        f"requests.{GPU_RESOURCE}": str(settings.quota_gpu if settings.quota_gpu is not None else gpus),
        "pods": str(pods),
        "persistentvolumeclaims": str(claims),
        "requests.storage": storage(cache),
        # Model servers are reached through ClusterIP Services (and an Ingress or Gateway):
        # nothing in the namespace may open a node port or a cloud load balancer.
        "services.loadbalancers": "0",
        "services.nodeports": "0",
    }
    return dict(sorted(hard.items()))


def limit_range(plans: Sequence[ServingPlan]) -> k8s.core.v1.LimitRangeSpecArgs:
    containers = [c.resources for p in plans for c in (p.fetch.container, p.server) if c.resources is not None]
    largest_cpu = max([DEFAULT_CPU_MILLIS, *(r.cpu_limit_millis for r in containers)])
    largest_memory = max([DEFAULT_MEMORY, *(r.memory_limit_bytes for r in containers)])
    return k8s.core.v1.LimitRangeSpecArgs(
        limits=[
            k8s.core.v1.LimitRangeItemArgs(
                type="Container",
                default={"cpu": cpu(DEFAULT_CPU_MILLIS), "memory": memory(DEFAULT_MEMORY)},
                default_request={"cpu": cpu(DEFAULT_CPU_REQUEST_MILLIS), "memory": memory(DEFAULT_MEMORY_REQUEST)},
                max={"cpu": cpu(largest_cpu), "memory": memory(largest_memory)},
            ),
            k8s.core.v1.LimitRangeItemArgs(
                type="PersistentVolumeClaim",
                max={"storage": storage(max(p.cache_size_bytes for p in plans))},
            ),
        ]
    )
