"""What makes GPUs schedulable: the NVIDIA device plugin, or the NVIDIA GPU Operator.

With ``gpuDriver: aks`` AKS installs the driver on GPU nodes and the program adds NVIDIA's
device plugin DaemonSet, which advertises ``nvidia.com/gpu``; with ``operator`` the GPU
Operator Helm release installs driver, toolkit and plugin. Either runs only on GPU nodes
(node selector on the GPU pool label) and tolerates their taints, spot included.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.platforms.aks.pools import GPU_NODE_LABEL, GPU_NODE_LABEL_VALUE, SPOT_TAINT_KEY
from components.targets.kube.scheduling import GPU_TAINT_KEY

#: NVIDIA's static manifest pins this tag:
#: https://github.com/NVIDIA/k8s-device-plugin/blob/main/deployments/static/nvidia-device-plugin.yml
DEVICE_PLUGIN_IMAGE = "nvcr.io/nvidia/k8s-device-plugin:v0.18.0"
#: https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/getting-started.html
#: (chart version not verifiable offline; check `helm search repo nvidia/gpu-operator` before use)
GPU_OPERATOR_CHART = "gpu-operator"
GPU_OPERATOR_REPO = "https://helm.ngc.nvidia.com/nvidia"
GPU_OPERATOR_VERSION = "v25.3.0"

TOLERATIONS = [
    {"key": GPU_TAINT_KEY, "operator": "Exists", "effect": "NoSchedule"},
    {"key": SPOT_TAINT_KEY, "operator": "Equal", "value": "spot", "effect": "NoSchedule"},
]
#: checkov findings a device plugin cannot avoid, each with its reason (checkov.io/skipN).
CHECKOV_SKIPS = {
    "checkov.io/skip1": "CKV_K8S_21=the device plugin belongs in kube-system next to the other node agents",
    "checkov.io/skip2": "CKV_K8S_43=NVIDIA publishes the plugin by tag; pin a digest with the image override",
    "checkov.io/skip3": "CKV_K8S_38=the plugin talks to the kubelet, not the API server, and mounts no token",
}


def device_plugin(opts: pulumi.ResourceOptions) -> k8s.apps.v1.DaemonSet:
    labels = {"app.kubernetes.io/name": "nvidia-device-plugin", "app.kubernetes.io/part-of": "slm-deploy"}
    metadata: Any = {"name": "nvidia-device-plugin", "namespace": "kube-system", "labels": labels}
    spec: Any = {
        "selector": {"match_labels": labels},
        "update_strategy": {"type": "RollingUpdate"},
        "template": {
            "metadata": {"labels": labels, "annotations": CHECKOV_SKIPS},
            "spec": {
                "priority_class_name": "system-node-critical",
                "node_selector": {GPU_NODE_LABEL: GPU_NODE_LABEL_VALUE},
                "tolerations": TOLERATIONS,
                "automount_service_account_token": False,
                "security_context": {"seccomp_profile": {"type": "RuntimeDefault"}},
                "containers": [
                    {
                        "name": "nvidia-device-plugin",
                        "image": DEVICE_PLUGIN_IMAGE,
                        "image_pull_policy": "IfNotPresent",
                        "env": [{"name": "FAIL_ON_INIT_ERROR", "value": "false"}],
                        "security_context": {
                            "allow_privilege_escalation": False,
                            "capabilities": {"drop": ["ALL"]},
                            "read_only_root_filesystem": True,
                        },
                        "resources": {
                            "requests": {"cpu": "50m", "memory": "64Mi"},
                            "limits": {"cpu": "200m", "memory": "128Mi"},
                        },
                        "volume_mounts": [{"name": "device-plugin", "mount_path": "/var/lib/kubelet/device-plugins"}],
                    }
                ],
                "volumes": [{"name": "device-plugin", "host_path": {"path": "/var/lib/kubelet/device-plugins"}}],
            },
        },
    }
    return k8s.apps.v1.DaemonSet("nvidia-device-plugin", metadata=metadata, spec=spec, opts=opts)


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
            "daemonsets": {"tolerations": TOLERATIONS},
            "node-feature-discovery": {"worker": {"tolerations": TOLERATIONS}},
            "operator": {"defaultRuntime": "containerd"},
        },
        opts=opts,
    )
