"""Reading resource inputs (Pulumi wire format: camelCase, numbers as floats) for the policies.

Containers are looked at the same way whatever created them: a Docker container, or the pod
template of a Kubernetes workload (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job,
CronJob, Pod). Values the offline render could not know appear as ``<name.output>``
placeholders and secret inputs as ``[secret]``; neither is judged.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

DOCKER_CONTAINER = "docker:index/container:Container"
DOCKER_REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage"
DOCKER_BUILD_IMAGE = "docker-build:index:Image"
AKS_AGENT_POOL = "azure-native:containerservice:AgentPool"
AKS_CLUSTER = "azure-native:containerservice:ManagedCluster"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"

#: Kubernetes workload kinds whose pod template sits at ``spec.template``.
TEMPLATED_WORKLOADS = {
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:apps/v1:DaemonSet",
    "kubernetes:apps/v1:ReplicaSet",
    "kubernetes:batch/v1:Job",
}
CRON_JOB = "kubernetes:batch/v1:CronJob"
POD = "kubernetes:core/v1:Pod"

COMPONENT_LABEL = "app.kubernetes.io/component"
MODEL_SERVER = "model-server"
EXPOSE_PORTS_LABEL = "slm-deploy.dev/expose-ports"
MASK = "[secret]"


def is_unknown(value: Any) -> bool:
    """A value the render could not know: a ``<name.output>`` placeholder or a masked secret."""
    return isinstance(value, str) and (value == MASK or (value.startswith("<") and value.endswith(">")))


def get(value: Any, *path: str) -> Any:
    """``value[path[0]][path[1]]...``, or None where a step is missing or not a mapping."""
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def items(value: Any) -> list[Any]:
    """A list input, or an empty list when absent (never iterate a string by accident)."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return []


@dataclass(frozen=True)
class KubeContainer:
    """One container of a Kubernetes pod spec, with the pod-level settings that apply to it."""

    name: str
    spec: Mapping[str, Any]
    pod_spec: Mapping[str, Any]
    init: bool

    def security(self, key: str) -> Any:
        """A securityContext setting, the container's own winning over the pod's."""
        own = get(self.spec, "securityContext", key)
        return own if own is not None else get(self.pod_spec, "securityContext", key)


def pod_template(resource_type: str, props: Mapping[str, Any]) -> tuple[Mapping[str, Any], Mapping[str, Any]] | None:
    """(pod metadata, pod spec) of a Kubernetes workload, or None for other resources."""
    if resource_type in TEMPLATED_WORKLOADS:
        template = get(props, "spec", "template")
    elif resource_type == CRON_JOB:
        template = get(props, "spec", "jobTemplate", "spec", "template")
    elif resource_type == POD:
        template = props
    else:
        return None
    if not isinstance(template, Mapping):
        return None
    metadata, spec = template.get("metadata"), template.get("spec")
    return (metadata if isinstance(metadata, Mapping) else {}), (spec if isinstance(spec, Mapping) else {})


def kube_containers(resource_type: str, props: Mapping[str, Any]) -> Iterator[KubeContainer]:
    """Every container and init container of a Kubernetes workload."""
    template = pod_template(resource_type, props)
    if template is None:
        return
    _, pod_spec = template
    for key, init in (("initContainers", True), ("containers", False)):
        for container in items(pod_spec.get(key)):
            if isinstance(container, Mapping):
                yield KubeContainer(str(container.get("name", "?")), container, pod_spec, init)


def kube_labels(resource_type: str, props: Mapping[str, Any]) -> dict[str, str]:
    """Labels of the workload and of its pod template together."""
    labels: dict[str, str] = {}
    template = pod_template(resource_type, props)
    for source in (get(props, "metadata", "labels"), template[0].get("labels") if template else None):
        if isinstance(source, Mapping):
            labels.update({str(k): str(v) for k, v in source.items()})
    return labels


def docker_labels(props: Mapping[str, Any]) -> dict[str, str]:
    """A Docker container's ``labels`` input: a list of ``{label, value}`` objects."""
    labels: dict[str, str] = {}
    for entry in items(props.get("labels")):
        if isinstance(entry, Mapping) and "label" in entry:
            labels[str(entry["label"])] = str(entry.get("value", ""))
    return labels


def is_model_server(resource_type: str, props: Mapping[str, Any]) -> bool:
    if resource_type == DOCKER_CONTAINER:
        return docker_labels(props).get(COMPONENT_LABEL) == MODEL_SERVER
    return kube_labels(resource_type, props).get(COMPONENT_LABEL) == MODEL_SERVER
