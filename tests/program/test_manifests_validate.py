"""Every rendered Kubernetes object of the cluster stacks (any cluster, and AKS) validates strictly.

kubernetes-validate checks each manifest the way the API server's OpenAPI schema would
(strict: unknown fields are errors) for the oldest and newest Kubernetes versions we support
(the versions `slm-deploy check` uses). Custom resources are validated by `slm-deploy check`
against vendored schemas; here only built-in API groups are skipped as custom, so a misspelled
built-in kind cannot slip through.
"""

from __future__ import annotations

import json
from typing import Any

import kubernetes_validate
import pytest
import yaml

from components.check.kubernetes_schema import KUBERNETES_VERSIONS, is_builtin
from components.render import render_files, run_program
from components.spec import parse_config
from tests.conftest import PROGRAM, stack_config, stack_file


def _preview_autoscaled() -> dict[str, Any]:
    models = json.loads(stack_file("preview").config["slm-deploy:models"])
    models[0]["autoscaling"] = {"minReplicas": 1, "maxReplicas": 2}
    return {"slm-deploy:models": models}


def _cluster_per_replica() -> dict[str, Any]:
    kubernetes = json.loads(stack_file("cluster").config["slm-deploy:kubernetes"])
    return {"slm-deploy:kubernetes": kubernetes | {"modelCache": "per-replica"}}


#: The shipped cluster stacks, and variants that render the other kinds (HPA, a GPU StatefulSet).
VARIANTS = {
    "cluster": ("cluster", {}),
    "preview": ("preview", {}),
    "staging": ("staging", {}),
    "prod": ("prod", {}),
    "preview-hpa": ("preview", _preview_autoscaled()),
    "cluster-per-replica": ("cluster", _cluster_per_replica()),
}


@pytest.fixture(scope="module")
def rendered_objects() -> dict[str, list[tuple[str, dict[str, Any]]]]:
    objects = {}
    for variant, (stack, change) in VARIANTS.items():
        config, secret_keys = stack_config(stack, change)
        recording = run_program(PROGRAM, config, secret_keys, stack=stack)
        files = render_files(recording, parse_config(config))
        objects[variant] = [
            (path, yaml.safe_load(content))
            for path, content in sorted(files.items())
            if path.startswith("kubernetes/") and "/_helm/" not in path
        ]
    return objects


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_object_is_valid_in_strict_mode(
    rendered_objects: dict[str, list[tuple[str, dict[str, Any]]]], variant: str, version: str
) -> None:
    documents = rendered_objects[variant]
    kinds = {doc["kind"] for _, doc in documents}
    assert {"Namespace", "NetworkPolicy", "Service", "PodDisruptionBudget"} <= kinds
    assert kinds & {"Deployment", "StatefulSet"}
    failures = []
    for path, document in documents:
        if not is_builtin(document["apiVersion"]):
            continue
        try:
            kubernetes_validate.validate(document, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            failures.append(f"{path}: {'.'.join(str(p) for p in error.path)}: {error.message}")
    assert not failures, "\n".join(failures)


def test_variants_render_the_kinds_they_exist_for(
    rendered_objects: dict[str, list[tuple[str, dict[str, Any]]]],
) -> None:
    def kinds(variant: str) -> set[str]:
        return {doc["kind"] for _, doc in rendered_objects[variant]}

    assert "HorizontalPodAutoscaler" in kinds("preview-hpa")
    assert "StatefulSet" in kinds("cluster-per-replica")
    assert {"Deployment", "ScaledObject", "Ingress", "PersistentVolumeClaim"} <= kinds("cluster")


def test_an_invalid_object_is_caught() -> None:
    """The validator is strict: an unknown field fails (so the test above can fail)."""
    document = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}, "spec": {"portz": []}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(document, KUBERNETES_VERSIONS[0], strict=True)


SPC = ("secrets-store.csi.x-k8s.io/v1", "SecretProviderClass")


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_aks_model_namespaces_hold_no_secret(
    rendered_objects: dict[str, list[tuple[str, dict[str, Any]]]], stack: str
) -> None:
    """On AKS the model servers read their secrets from Key Vault through the CSI driver."""
    documents = rendered_objects[stack]
    assert {"SecretProviderClass"} <= {doc["kind"] for _, doc in documents}
    assert not [path for path, doc in documents if doc["kind"] == "Secret" and f"/slm-{stack}/" in path]


def test_secret_provider_classes_have_the_azure_provider_shape(
    rendered_objects: dict[str, list[tuple[str, dict[str, Any]]]],
) -> None:
    classes = [doc for _, doc in rendered_objects["staging"] if (doc["apiVersion"], doc["kind"]) == SPC]
    assert classes
    for spc in classes:
        assert spc["spec"]["provider"] == "azure"
        parameters = spc["spec"]["parameters"]
        assert set(parameters) == {"usePodIdentity", "clientID", "keyvaultName", "tenantId", "objects"}
        objects = yaml.safe_load(parameters["objects"])
        entries = [yaml.safe_load(entry) for entry in objects["array"]]
        assert entries and all(
            set(e) == {"objectName", "objectType", "objectAlias"} and e["objectType"] == "secret" for e in entries
        )
