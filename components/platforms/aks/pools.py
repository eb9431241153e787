"""Node pools: a system pool for critical add-ons, GPU pools for the model servers.

The layout (sizes, counts, taints, labels) is plain data computed from the spec, so tests and
the policy pack can reason about it; :func:`create_gpu_pools` turns it into AgentPools. GPU
pools carry the ``nvidia.com/gpu`` taint and the labels the Kubernetes target's tolerations
and node selectors match, so only GPU workloads land there and they land nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi_azure_native import containerservice

from components.gpu_nodes import (
    GPU_NODE_SELECTOR,
    GPU_TAINT_EFFECT,
    GPU_TAINT_KEY,
    SPOT_TAINT_KEY,
    SPOT_TAINT_VALUE,
)
from components.spec import DeploymentSpec
from components.spec.aks_rules import gpu_pool_vm_size
from components.spec.models import AksSettings, NodePool

#: Keeps application pods off the system pool (AKS's documented system-pool taint).
SYSTEM_TAINT = "CriticalAddonsOnly=true:NoSchedule"
#: GPU nodes repel every pod that does not tolerate the GPU taint; the key, effect and node
#: label are the GPU node contract (components/gpu_nodes.py).
GPU_TAINT = f"{GPU_TAINT_KEY}=present:{GPU_TAINT_EFFECT}"
#: AKS puts this taint on spot nodes; it is declared too so the program states what nodes carry.
SPOT_TAINT = f"{SPOT_TAINT_KEY}={SPOT_TAINT_VALUE}:NoSchedule"


@dataclass(frozen=True)
class PoolLayout:
    """One node pool as Azure will be asked for it."""

    name: str
    vm_size: str
    min_count: int
    max_count: int
    mode: str
    taints: tuple[str, ...]
    labels: Mapping[str, str] = field(default_factory=dict)
    zones: tuple[str, ...] = ()
    spot: bool = False
    eviction_policy: str = "Delete"
    spot_max_price: float | None = None
    os_disk_size_gb: int | None = None

    @property
    def initial_count(self) -> int:
        """Autoscaled pools start at their minimum."""
        return self.min_count


def system_pool_layout(aks: AksSettings) -> PoolLayout:
    pool = aks.system_pool
    return PoolLayout(
        name=pool.name,
        vm_size=pool.vm_size or "Standard_D4s_v5",
        min_count=pool.min_count,
        max_count=pool.max_count,
        mode="System",
        taints=(SYSTEM_TAINT,),
        zones=tuple(pool.zones),
        os_disk_size_gb=pool.os_disk_size_gb,
    )


def user_pool_layout(aks: AksSettings) -> PoolLayout:
    pool = aks.user_pool
    return PoolLayout(
        name=pool.name,
        vm_size=pool.vm_size or "Standard_D4s_v5",
        min_count=pool.min_count,
        max_count=pool.max_count,
        mode="User",
        taints=(),
        labels={"slm-deploy.dev/pool": pool.name},
        zones=tuple(pool.zones),
        os_disk_size_gb=pool.os_disk_size_gb,
    )


def _gpu_layout(spec: DeploymentSpec, pool: NodePool) -> PoolLayout:
    taints = (GPU_TAINT, SPOT_TAINT) if pool.spot else (GPU_TAINT,)
    return PoolLayout(
        name=pool.name,
        vm_size=gpu_pool_vm_size(spec, pool),
        min_count=pool.min_count,
        max_count=pool.max_count,
        mode="User",
        taints=taints,
        labels={**GPU_NODE_SELECTOR, "slm-deploy.dev/pool": pool.name},
        zones=tuple(pool.zones),
        spot=pool.spot,
        eviction_policy=pool.eviction_policy,
        spot_max_price=(-1 if pool.spot_max_price is None else pool.spot_max_price) if pool.spot else None,
        os_disk_size_gb=pool.os_disk_size_gb,
    )


def gpu_pool_layouts(spec: DeploymentSpec) -> list[PoolLayout]:
    """The stack's GPU pools; a pool without ``vmSize`` gets the catalog sizing's VM."""
    assert spec.aks is not None
    return [_gpu_layout(spec, pool) for pool in spec.aks.gpu_pools]


def pool_arguments(layout: PoolLayout, gpu_driver: str | None) -> dict[str, Any]:
    """Arguments shared by the cluster's inline system pool and standalone AgentPools."""
    arguments: dict[str, Any] = {
        "mode": layout.mode,
        "vm_size": layout.vm_size,
        "count": layout.initial_count,
        "enable_auto_scaling": True,
        "min_count": layout.min_count,
        "max_count": layout.max_count,
        "node_taints": list(layout.taints),
        "node_labels": dict(layout.labels) or None,
        "availability_zones": list(layout.zones) or None,
        "os_type": "Linux",
        "os_sku": "Ubuntu",
        "type": "VirtualMachineScaleSets",
        "os_disk_size_gb": layout.os_disk_size_gb,
        "upgrade_settings": {"max_surge": "33%"} if not layout.spot else None,
    }
    if layout.spot:
        arguments.update(
            scale_set_priority="Spot",
            scale_set_eviction_policy=layout.eviction_policy,
            spot_max_price=layout.spot_max_price,
        )
    if gpu_driver is not None:
        arguments["gpu_profile"] = {"driver": gpu_driver}
    return arguments


def create_pools(
    stack: str,
    layouts: Sequence[PoolLayout],
    *,
    resource_group_name: pulumi.Input[str],
    cluster: containerservice.ManagedCluster,
    driver_by_aks: bool | None,
    tags: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> list[containerservice.AgentPool]:
    """One AgentPool per layout. For GPU pools ``driver_by_aks`` False leaves the driver to the
    GPU Operator; None means a pool without GPUs."""
    return [
        containerservice.AgentPool(
            f"{stack}-pool-{layout.name}",
            resource_group_name=resource_group_name,
            resource_name_=cluster.name,
            agent_pool_name=layout.name,
            tags=dict(tags),
            opts=opts,
            **pool_arguments(layout, None if driver_by_aks is None else "Install" if driver_by_aks else "None"),
        )
        for layout in layouts
    ]
