"""The ``azure/`` folder of a render: one readable YAML per Azure resource.

Files are grouped by resource type (``azure/managedcluster/staging-aks.yaml``); each shows the
physical name, the logical name and every input the program sets, keys sorted, secret values
``[secret]``. Role assignments also name their built-in role, so a reviewer sees "AcrPull on
the registry" rather than a GUID.
"""

from __future__ import annotations

from typing import Any

from components.render.azure_placeholders import ARM_TYPES
from components.render.harness import Recording
from components.render.recorder import RecordedResource
from components.render.yamlout import sorted_keys, to_yaml
from components.spec import DeploymentSpec

PREFIX = "azure-native:"


def _role_names() -> dict[str, str]:
    from components.platforms.aks.roles import DISPLAY_NAMES

    return {role.value: name for role, name in DISPLAY_NAMES.items()}


def _physical_name(resource: RecordedResource) -> str:
    """The name Azure gives the resource: the input :data:`ARM_TYPES` names for its type (the same
    one the placeholders build its id from), else a plain ``name`` input, else the logical name."""
    arm = ARM_TYPES.get(resource.type)
    keys = (arm.name_input,) if arm is not None and arm.name_input else ()
    for key in (*keys, "name"):
        value = resource.inputs.get(key)
        if isinstance(value, str):
            return value
    return resource.name


def azure_view(resource: RecordedResource) -> dict[str, Any]:
    """What one Azure resource asks for, readably."""
    module, kind = resource.type[len(PREFIX) :].split(":", 1)
    view: dict[str, Any] = {
        "type": f"{module}.{kind}",
        "name": _physical_name(resource),
        "resource": resource.name,
    }
    if kind == "RoleAssignment":
        guid = str(resource.inputs.get("roleDefinitionId", "")).rsplit("/", 1)[-1]
        view["role"] = _role_names().get(guid, "unknown built-in role")
    view["inputs"] = sorted_keys(resource.inputs)
    return view


def azure_files(recording: Recording, spec: DeploymentSpec) -> dict[str, str]:
    files: dict[str, str] = {}
    for resource in sorted(recording.resources, key=lambda r: (r.type, r.name)):
        if not resource.type.startswith(PREFIX) or not resource.custom:
            continue
        kind = resource.type.rsplit(":", 1)[-1].lower()
        files[f"azure/{kind}/{resource.name}.yaml"] = to_yaml(azure_view(resource))
    return files
