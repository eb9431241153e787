"""Where model pods run: the GPU node contract and spreading replicas over nodes and zones.

The GPU constants are the contract with node pools: AKS GPU pools (and any cluster that wants
GPU models) label their nodes with :data:`GPU_NODE_SELECTOR` and taint them with
:data:`GPU_TAINT_KEY` ``NoSchedule``, so that only pods asking for a GPU land there.
"""

from __future__ import annotations

import pulumi_kubernetes as k8s

#: Extended resource the NVIDIA device plugin advertises.
GPU_RESOURCE = "nvidia.com/gpu"
#: Label every GPU node carries; model pods that ask for a GPU select it.
GPU_NODE_SELECTOR: dict[str, str] = {"slm-deploy.dev/accelerator": "nvidia"}
#: Taint of GPU nodes (value ``present``, effect NoSchedule); GPU pods tolerate it.
GPU_TAINT_KEY = "nvidia.com/gpu"
GPU_TAINT_EFFECT = "NoSchedule"
GPU_TOLERATION = k8s.core.v1.TolerationArgs(key=GPU_TAINT_KEY, operator="Exists", effect=GPU_TAINT_EFFECT)

HOSTNAME_KEY = "kubernetes.io/hostname"
ZONE_KEY = "topology.kubernetes.io/zone"


def topology_spread(selector: dict[str, str]) -> list[k8s.core.v1.TopologySpreadConstraintArgs]:
    """Replicas on different nodes (hard: a node failure takes one replica at most) and, where
    the cluster has zones, across zones (soft: single-zone clusters still schedule)."""
    return [
        k8s.core.v1.TopologySpreadConstraintArgs(
            max_skew=1,
            topology_key=HOSTNAME_KEY,
            when_unsatisfiable="DoNotSchedule",
            label_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector),
        ),
        k8s.core.v1.TopologySpreadConstraintArgs(
            max_skew=1,
            topology_key=ZONE_KEY,
            when_unsatisfiable="ScheduleAnyway",
            label_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector),
        ),
    ]
