"""The ``docker/`` folder of a render: each container, network, volume and image, readably,
and the generated config files containers receive (Modelfiles)."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from components.render.harness import Recording
from components.render.recorder import MASK, RecordedResource
from components.render.yamlout import sorted_keys, to_yaml
from components.spec import DeploymentSpec

KINDS = {
    "docker:index/container:Container": "container",
    "docker:index/network:Network": "network",
    "docker:index/volume:Volume": "volume",
    "docker:index/remoteImage:RemoteImage": "image",
    "docker-build:index:Image": "build",
}

CONTAINER_FIELDS = (
    "name",
    "image",
    "entrypoints",
    "command",
    "envs",
    "ports",
    "volumes",
    "mounts",
    "tmpfs",
    "shmSize",
    "uploads",
    "healthcheck",
    "wait",
    "waitTimeout",
    "restart",
    "mustRun",
    "user",
    "readOnly",
    "capabilities",
    "securityOpts",
    "memory",
    "memoryReservation",
    "cpus",
    "deviceRequests",
    "networksAdvanced",
    "labels",
)


def _uploads(value: Any) -> Any:
    """Paths and sizes of uploaded files; contents live in their own files or are secret."""
    if value == MASK:
        return MASK
    return [
        {"file": u["file"], "content": MASK if u.get("content") == MASK else f"{len(u.get('content', ''))} bytes"}
        for u in value
    ]


def _labels(value: Any) -> Any:
    return value if value == MASK else {item["label"]: item["value"] for item in value}


def _container(resource: RecordedResource) -> dict[str, Any]:
    inputs = resource.inputs
    view: dict[str, Any] = {"kind": "container", "resource": resource.name}
    for field in CONTAINER_FIELDS:
        if field not in inputs:
            continue
        value = inputs[field]
        if field == "uploads":
            value = _uploads(value)
        elif field == "labels":
            value = _labels(value)
        view[field] = sorted_keys(value)
    return view


def _other(kind: str, resource: RecordedResource) -> dict[str, Any]:
    return {"kind": kind, "resource": resource.name, **sorted_keys(resource.inputs)}


def docker_files(recording: Recording, spec: DeploymentSpec) -> dict[str, str]:
    files: dict[str, str] = {}
    for resource in sorted(recording.resources, key=lambda r: r.name):
        kind = KINDS.get(resource.type)
        if kind is None:
            continue
        view = _container(resource) if kind == "container" else _other(kind, resource)
        files[f"docker/{kind}s/{resource.name}.yaml"] = to_yaml(view)
        uploads = resource.inputs.get("uploads", [])
        if kind == "container" and uploads != MASK:
            for upload in uploads:
                if upload["file"].endswith("Modelfile") and upload.get("content") not in (None, MASK):
                    model = resource.name.removeprefix(f"{recording.stack}-").removesuffix("-fetch")
                    files[f"docker/modelfiles/{model}.{PurePosixPath(upload['file']).name}"] = upload["content"]
    return files
