"""The ``kubernetes/`` folder of a render: one YAML file per Kubernetes object.

Files are ``kubernetes/<namespace>/<kind>-<name>.yaml`` (cluster-scoped objects under
``_cluster``), built from the inputs the program registered: exactly what the provider would
apply, ready for review, ``kubectl apply --dry-run`` or a GitOps repository. Secret values
never appear: Pulumi marks them secret and the recorder masks them as ``[secret]``; a Secret
shows its keys (from its ``slm-deploy.dev/keys`` annotation) with masked values. Helm
releases are not Kubernetes objects: they are written readably (chart, repository, version,
values) under ``kubernetes/_helm/``, which validators skip.
"""

from __future__ import annotations

from typing import Any

from components.render.harness import Recording
from components.render.recorder import MASK, RecordedResource
from components.render.yamlout import sorted_keys, to_yaml
from components.secrets.kubernetes import KEYS_ANNOTATION
from components.spec import DeploymentSpec

PREFIX = "kubernetes:"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
CLUSTER_SCOPE = "_cluster"
HELM_FOLDER = "_helm"
#: Top-level fields in the order kubectl shows them; the rest follow alphabetically.
LEADING = ("apiVersion", "kind", "metadata")


def _unmask_keys(document: dict[str, Any]) -> None:
    """A masked Secret payload becomes ``{key: [secret]}`` for the keys the Secret declares."""
    annotations = document.get("metadata", {}).get("annotations", {})
    keys = [k for k in str(annotations.get(KEYS_ANNOTATION, "")).split(",") if k] or ["[masked]"]
    for field in ("data", "stringData"):
        if document.get(field) == MASK:
            document[field] = dict.fromkeys(keys, MASK)


def kubernetes_object(resource: RecordedResource) -> dict[str, Any]:
    """The object a typed or custom resource applies, with a readable field order."""
    inputs = sorted_keys(resource.inputs)
    document = {key: inputs[key] for key in LEADING if key in inputs}
    document.update({key: value for key, value in inputs.items() if key not in LEADING})
    if document.get("kind") == "Secret":
        _unmask_keys(document)
    return document


def helm_release(resource: RecordedResource) -> dict[str, Any]:
    inputs = resource.inputs
    return {
        "kind": "HelmRelease",
        "resource": resource.name,
        "name": inputs.get("name", resource.name),
        "namespace": inputs.get("namespace"),
        "chart": inputs.get("chart"),
        "repository": (inputs.get("repositoryOpts") or {}).get("repo"),
        "version": inputs.get("version"),
        "createNamespace": inputs.get("createNamespace", False),
        "values": sorted_keys(inputs.get("values", {})),
    }


def object_path(document: dict[str, Any]) -> str:
    metadata = document.get("metadata", {})
    namespace = metadata.get("namespace") or CLUSTER_SCOPE
    return f"kubernetes/{namespace}/{str(document['kind']).lower()}-{metadata['name']}.yaml"


def kubernetes_files(recording: Recording, spec: DeploymentSpec) -> dict[str, str]:
    files: dict[str, str] = {}
    for resource in sorted(recording.resources, key=lambda r: r.urn):
        if not resource.type.startswith(PREFIX):
            continue
        if resource.type == HELM_RELEASE:
            release = helm_release(resource)
            path = f"kubernetes/{HELM_FOLDER}/release-{release['name']}.yaml"
            content = to_yaml(release)
        else:
            document = kubernetes_object(resource)
            path = object_path(document)
            content = to_yaml(document)
        if path in files:
            raise ValueError(f"two Kubernetes objects render to {path}")
        files[path] = content
    return files
