"""Where model pods run: the GPU node contract and spreading replicas over nodes and zones.

The GPU constants are the contract with node pools (:mod:`components.gpu_nodes`): AKS GPU
pools (and any cluster that wants GPU models) label their nodes with
``GPU_NODE_SELECTOR`` and taint them with ``GPU_TAINT_KEY`` ``NoSchedule``, so that
only pods asking for a GPU land there.
"""

from __future__ import annotations

import pulumi_kubernetes as k8s

from components.gpu_nodes import GPU_TOLERATION as GPU_TOLERATION_DATA
from components.gpu_nodes import SPOT_TOLERATION as SPOT_TOLERATION_DATA


#: What GPU model pods tolerate (:mod:`components.gpu_nodes`), as pulumi-kubernetes arguments;
#: a platform with spot GPU pools adds the spot toleration.
def toleration(data: dict[str, str]) -> k8s.core.v1.TolerationArgs:
    return k8s.core.v1.TolerationArgs(
        key=data["key"], operator=data["operator"], value=data.get("value"), effect=data["effect"]
    )


GPU_TOLERATION = toleration(GPU_TOLERATION_DATA)
SPOT_TOLERATION = toleration(SPOT_TOLERATION_DATA)

HOSTNAME_KEY = "kubernetes.io/hostname"
ZONE_KEY = "topology.kubernetes.io/zone"


def topology_spread(selector: dict[str, str]) -> list[k8s.core.v1.TopologySpreadConstraintArgs]:
    """Replicas on different nodes (hard: a node failure takes one replica at most) and, where
    the cluster has zones, across zones (soft: single-zone clusters still schedule).

    ``nodeTaintsPolicy: Honor``: only nodes whose taints the pod tolerates count as domains.
    Without it (the default, Ignore) a CPU model's skew counts the tainted GPU and system
    nodes it can never use, each with zero pods, so the hard constraint allows one pod per
    untainted node and no more."""
    return [
        k8s.core.v1.TopologySpreadConstraintArgs(
            max_skew=1,
            topology_key=key,
            when_unsatisfiable=when,
            label_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector),
            node_taints_policy="Honor",
        )
        for key, when in ((HOSTNAME_KEY, "DoNotSchedule"), (ZONE_KEY, "ScheduleAnyway"))
    ]
