"""The GPU node contract, as plain data: what GPU nodes carry, and what runs on them tolerates.

Node pools that offer GPUs (AKS's ``gpuPools``, or any cluster's) label their nodes with
:data:`GPU_NODE_SELECTOR` and taint them :data:`GPU_TAINT_KEY` ``NoSchedule``, so that only pods
that ask for a GPU land there; spot GPU nodes on AKS also carry the spot taint. Model pods
select the label and tolerate the taints (:mod:`components.targets.kube.scheduling`); daemons
every GPU node needs (NVIDIA's device plugin or GPU Operator, the DCGM exporter) select the
label and tolerate :data:`GPU_DAEMON_TOLERATIONS`, one list for all of them. Pure data, so the
data side of observability reads it as well as the targets and the AKS platform.
"""

from __future__ import annotations

from typing import Final

#: Extended resource the NVIDIA device plugin advertises.
GPU_RESOURCE: Final = "nvidia.com/gpu"
#: Label every GPU node carries; whatever must run on GPU nodes (only) selects it.
GPU_NODE_SELECTOR: Final[dict[str, str]] = {"slm-deploy.dev/accelerator": "nvidia"}
#: Taint of GPU nodes (value ``present``, effect NoSchedule).
GPU_TAINT_KEY: Final = "nvidia.com/gpu"
GPU_TAINT_EFFECT: Final = "NoSchedule"
#: AKS puts this taint on spot nodes (value ``spot``, effect NoSchedule).
SPOT_TAINT_KEY: Final = "kubernetes.azure.com/scalesetpriority"
SPOT_TAINT_VALUE: Final = "spot"

#: Tolerations as the Kubernetes API writes them.
GPU_TOLERATION: Final[dict[str, str]] = {"key": GPU_TAINT_KEY, "operator": "Exists", "effect": GPU_TAINT_EFFECT}
SPOT_TOLERATION: Final[dict[str, str]] = {
    "key": SPOT_TAINT_KEY,
    "operator": "Equal",
    "value": SPOT_TAINT_VALUE,
    "effect": "NoSchedule",
}
#: What node daemons of GPU nodes tolerate: every GPU node, spot ones included.
GPU_DAEMON_TOLERATIONS: Final[tuple[dict[str, str], ...]] = (GPU_TOLERATION, SPOT_TOLERATION)


def daemon_tolerations() -> list[dict[str, str]]:
    """A fresh copy of :data:`GPU_DAEMON_TOLERATIONS` for chart values."""
    return [dict(toleration) for toleration in GPU_DAEMON_TOLERATIONS]
