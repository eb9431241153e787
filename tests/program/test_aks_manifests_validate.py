"""The AKS stacks' Kubernetes objects validate strictly against the API schemas.

The same check as for any cluster (tests/program/test_kubernetes_manifests_validate.py), on
what the AKS target renders: the model servers with CSI secret volumes and
SecretProviderClasses (a custom resource: listed, not schema-checked, but its shape is
asserted here).
"""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest
import yaml

from components.render import render_files, run_program
from components.spec import parse_config
from tests.conftest import PROGRAM, stack_file

KUBERNETES_VERSIONS = ["1.31.0", "1.37.0"]
SPC = ("secrets-store.csi.x-k8s.io/v1", "SecretProviderClass")
CUSTOM_KINDS = {
    ("keda.sh/v1alpha1", "ScaledObject"),
    SPC,
    ("azmonitoring.coreos.com/v1", "PodMonitor"),
    ("monitoring.coreos.com/v1", "PodMonitor"),
    ("monitoring.coreos.com/v1", "PrometheusRule"),
}


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[tuple[str, dict[str, Any]]]]:
    objects = {}
    for stack in ("staging", "prod"):
        config = dict(stack_file(stack).config)
        recording = run_program(PROGRAM, config, stack_file(stack).secret_keys, stack=stack)
        files = render_files(recording, parse_config(config))
        objects[stack] = [
            (path, yaml.safe_load(text))
            for path, text in sorted(files.items())
            if path.startswith("kubernetes/") and "/_helm/" not in path
        ]
    return objects


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_every_aks_object_is_valid_in_strict_mode(
    rendered: dict[str, list[tuple[str, dict[str, Any]]]], stack: str, version: str
) -> None:
    documents = rendered[stack]
    kinds = {doc["kind"] for _, doc in documents}
    assert {"Namespace", "Deployment", "SecretProviderClass", "NetworkPolicy"} <= kinds
    # The model servers' namespace holds no Secret: their secrets come from Key Vault.
    assert not [path for path, doc in documents if doc["kind"] == "Secret" and f"/slm-{stack}/" in path]
    failures = []
    for path, document in documents:
        if (document["apiVersion"], document["kind"]) in CUSTOM_KINDS:
            continue
        try:
            kubernetes_validate.validate(document, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            failures.append(f"{path}: {'.'.join(str(p) for p in error.path)}: {error.message}")
    assert not failures, "\n".join(failures)


def test_secret_provider_classes_have_the_azure_provider_shape(
    rendered: dict[str, list[tuple[str, dict[str, Any]]]],
) -> None:
    classes = [doc for _, doc in rendered["staging"] if (doc["apiVersion"], doc["kind"]) == SPC]
    assert classes
    for spc in classes:
        assert spc["spec"]["provider"] == "azure"
        parameters = spc["spec"]["parameters"]
        assert set(parameters) == {"usePodIdentity", "clientID", "keyvaultName", "tenantId", "objects"}
        objects = yaml.safe_load(parameters["objects"])
        entries = [yaml.safe_load(entry) for entry in objects["array"]]
        assert all(
            set(e) == {"objectName", "objectType", "objectAlias"} and e["objectType"] == "secret" for e in entries
        )
