"""What makes GPUs schedulable: the NVIDIA device plugin, or the NVIDIA GPU Operator.

With ``gpuDriver: aks`` AKS installs the driver on GPU nodes and the program adds NVIDIA's
device plugin (its Helm chart), which advertises ``nvidia.com/gpu``; with ``operator`` the GPU
Operator Helm release installs driver, toolkit and plugin. Either runs only on GPU nodes
(node selector on the GPU pool label) and tolerates their taints, spot included.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components.gpu_nodes import GPU_NODE_SELECTOR, daemon_tolerations

#: NVIDIA's device plugin chart (https://github.com/NVIDIA/k8s-device-plugin#deployment-via-helm);
#: 0.18.0 is the release NVIDIA's static manifest pins (deployments/static/nvidia-device-plugin.yml).
DEVICE_PLUGIN_CHART = "nvidia-device-plugin"
DEVICE_PLUGIN_REPO = "https://nvidia.github.io/k8s-device-plugin"
DEVICE_PLUGIN_VERSION = "0.18.0"
#: https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/getting-started.html
#: (chart version not verifiable offline; check `helm search repo nvidia/gpu-operator` before use)
GPU_OPERATOR_CHART = "gpu-operator"
GPU_OPERATOR_REPO = "https://helm.ngc.nvidia.com/nvidia"
GPU_OPERATOR_VERSION = "v25.3.0"

#: The chart's default affinity wants Node Feature Discovery labels AKS nodes do not have; a
#: list replaces the default, so the plugin lands exactly on the GPU pools' label.
GPU_NODE_AFFINITY = {
    "nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [
                {
                    "matchExpressions": [
                        {"key": key, "operator": "In", "values": [value]} for key, value in GPU_NODE_SELECTOR.items()
                    ]
                }
            ]
        }
    }
}


def device_plugin(opts: pulumi.ResourceOptions) -> k8s.helm.v3.Release:
    """NVIDIA's device plugin chart. It needs root on the node (it serves a socket in the
    kubelet's root-owned device-plugin directory), so it is NVIDIA's maintained release in
    kube-system rather than one of our hardened workloads."""
    return k8s.helm.v3.Release(
        "nvidia-device-plugin",
        name="nvidia-device-plugin",
        chart=DEVICE_PLUGIN_CHART,
        version=DEVICE_PLUGIN_VERSION,
        namespace="kube-system",
        repository_opts={"repo": DEVICE_PLUGIN_REPO},
        atomic=True,
        values={
            "affinity": GPU_NODE_AFFINITY,
            "tolerations": daemon_tolerations(),
            "priorityClassName": "system-node-critical",
            "failOnInitError": False,
        },
        opts=opts,
    )


def gpu_operator(opts: pulumi.ResourceOptions) -> k8s.helm.v3.Release:
    """The GPU Operator as a real Helm release (it has hooks and CRDs; research §4.3)."""
    return k8s.helm.v3.Release(
        "gpu-operator",
        name="gpu-operator",
        chart=GPU_OPERATOR_CHART,
        version=GPU_OPERATOR_VERSION,
        namespace="gpu-operator",
        create_namespace=True,
        repository_opts={"repo": GPU_OPERATOR_REPO},
        values={
            "daemonsets": {"tolerations": daemon_tolerations()},
            "node-feature-discovery": {"worker": {"tolerations": daemon_tolerations()}},
            "operator": {"defaultRuntime": "containerd"},
            # Monitoring runs its own DCGM exporter on GPU nodes (in-cluster and managed alike).
            "dcgmExporter": {"enabled": False},
        },
        opts=opts,
    )
