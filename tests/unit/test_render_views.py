"""Small pure parts of the render: key order and the physical names Azure files show."""

from __future__ import annotations

import pytest

from components.render.azure_files import azure_view
from components.render.azure_placeholders import ARM_TYPES, azure_outputs
from components.render.recorder import RecordedResource
from components.render.yamlout import sorted_keys, to_yaml


def test_sorted_keys_orders_nested_mappings_and_keeps_list_order() -> None:
    value = {"b": [{"z": 1, "a": 2}, 3], "a": {"y": None, "x": "s"}}
    ordered = sorted_keys(value)
    assert to_yaml(ordered) == "a:\n  x: s\n  y: null\nb:\n- a: 2\n  z: 1\n- 3\n"
    assert ordered == value


@pytest.mark.parametrize("type_token", sorted(t for t, arm in ARM_TYPES.items() if arm.name_input))
def test_an_azure_file_names_a_resource_as_its_placeholder_outputs_do(type_token: str) -> None:
    name_input = ARM_TYPES[type_token].name_input
    assert name_input is not None
    # Parent names and a stray `name` must not win over the type's own name input.
    inputs = {"resourceName": "parent", "vaultName": "parent", "resourceGroupName": "rg", "name": "decoy"}
    inputs[name_input] = "physical"
    resource = RecordedResource(f"urn:{type_token}", type_token, "logical", True, inputs)
    assert azure_view(resource)["name"] == azure_outputs(type_token, "logical", inputs)["name"] == "physical"


def test_an_azure_resource_without_a_name_input_keeps_its_logical_name() -> None:
    role = RecordedResource("urn:role", "azure-native:authorization:RoleAssignment", "acr-pull", True, {"scope": "/x"})
    assert azure_view(role)["name"] == "acr-pull"
    setting = RecordedResource(
        "urn:diag", "azure-native:monitor:DiagnosticSetting", "aks-diagnostics", True, {"name": "control-plane"}
    )
    assert azure_view(setting)["name"] == "control-plane"
