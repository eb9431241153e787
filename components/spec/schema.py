"""JSON Schema of a stack file, generated from the spec models (for editor completion)."""

from __future__ import annotations

from typing import Any

from components.spec.errors import NAMESPACE
from components.spec.models import DeploymentSpec

SCHEMA_ID = "https://slm-deploy.dev/schema/stack.schema.json"


def stack_file_schema() -> dict[str, Any]:
    """Schema of ``Pulumi.<stack>.yaml``: our keys typed, other providers' keys free."""
    model = DeploymentSpec.model_json_schema(by_alias=True, mode="validation")
    ours = {f"{NAMESPACE}:{name}": prop for name, prop in model["properties"].items()}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "slm-deploy stack file (stacks/Pulumi.<stack>.yaml)",
        "type": "object",
        "properties": {
            "config": {
                "type": "object",
                "description": model.get("description", ""),
                "properties": ours,
                "required": [f"{NAMESPACE}:{name}" for name in model.get("required", [])],
                "propertyNames": {"anyOf": [{"enum": sorted(ours)}, {"not": {"pattern": f"^{NAMESPACE}:"}}]},
            },
            "secretsprovider": {"type": "string"},
            "encryptedkey": {"type": "string"},
            "encryptionsalt": {"type": "string"},
            "environment": {"type": "array", "items": {"type": "string"}},
        },
        "additionalProperties": False,
        "$defs": model.get("$defs", {}),
    }
