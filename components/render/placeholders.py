"""Readable stand-ins for outputs that only a real provider computes.

Under the mock monitor nothing is created, so outputs such as a password's ``result`` or a
cluster's kubeconfig must be filled in, or every input wired from them would be silently
dropped. Each entry maps a resource type token to its computed outputs (camelCase wire
names); string values are format strings over ``name`` (the logical name), other values are
used as they are. Outputs listed in ``SECRET_OUTPUTS`` are returned as secrets, as the real
provider marks them.
"""

from __future__ import annotations

from typing import Any

from components.render.azure_placeholders import AZURE_CALL_RESULTS, azure_outputs

COMPUTED_OUTPUTS: dict[str, dict[str, Any]] = {
    "random:index/randomPassword:RandomPassword": {"result": "<{name}.result>"},
    "random:index/randomString:RandomString": {"result": "<{name}.result>"},
    "docker:index/network:Network": {"id": "<{name}.id>"},
    "docker:index/volume:Volume": {"mountpoint": "<{name}.mountpoint>"},
    # A one-shot container (must_run false, attached) reports how it exited; 0 is success.
    "docker:index/container:Container": {"networkDatas": "[]", "exitCode": 0},
    "docker-build:index:Image": {"ref": "<{name}.ref>", "digest": "sha256:<{name}.digest>"},
}

SECRET_OUTPUTS: dict[str, set[str]] = {
    "random:index/randomPassword:RandomPassword": {"result"},
}

#: Outputs a ``pulumi.StackReference`` offers under mocks (the real engine reads them from the
#: referenced stack). A Kubernetes target reads a cluster's kubeconfig this way.
STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference"
STACK_REFERENCE_OUTPUTS = ("kubeconfig",)

#: Results of provider functions (invokes) by token.
CALL_RESULTS: dict[str, dict[str, Any]] = {**AZURE_CALL_RESULTS}


def computed_outputs(type_token: str, name: str, inputs: dict[str, Any] | None = None) -> dict[str, Any]:
    """The placeholder outputs of one resource (``[]`` means an empty list)."""
    outputs: dict[str, Any] = {}
    if type_token == STACK_REFERENCE_TYPE:
        outputs["outputs"] = {key: f"<{name}.{key}>" for key in STACK_REFERENCE_OUTPUTS}
    for key, template in COMPUTED_OUTPUTS.get(type_token, {}).items():
        if isinstance(template, str):
            outputs[key] = [] if template == "[]" else template.format(name=name)
        else:
            outputs[key] = template
    outputs.update(azure_outputs(type_token, name, inputs or {}))
    return outputs
