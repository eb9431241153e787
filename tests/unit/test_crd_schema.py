"""tools/crd_schema.py: the catalog's CRD conversion, applied to a small CRD."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from tools.crd_schema import convert

CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "spec": {
        "versions": [
            {
                "name": "v1",
                "schema": {
                    "openAPIV3Schema": {
                        "description": "A widget.",
                        "type": "object",
                        "properties": {
                            "metadata": {"type": "object"},
                            "spec": {
                                "description": "What the widget does.",
                                "type": "object",
                                "required": ["size"],
                                "properties": {
                                    "size": {"type": "integer", "minimum": 1, "description": "How big."},
                                    # A field that is called description is data, not a doc string.
                                    "description": {"type": "string", "maxLength": 5},
                                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                                    "ports": {
                                        "type": "array",
                                        "items": {"type": "object", "properties": {"port": {"type": "integer"}}},
                                    },
                                },
                            },
                        },
                    }
                },
            }
        ]
    },
}


def test_conversion_is_strict_below_the_root_and_drops_only_doc_strings() -> None:
    schema = convert(CRD, "v1")
    assert "additionalProperties" not in schema  # the root stays open (apiVersion, kind, status)
    spec = schema["properties"]["spec"]
    assert spec["additionalProperties"] is False
    assert spec["properties"]["ports"]["items"]["additionalProperties"] is False
    assert spec["properties"]["labels"]["additionalProperties"] == {"type": "string"}
    assert spec["properties"]["description"] == {"type": "string", "maxLength": 5}
    assert "description" not in spec and "description" not in spec["properties"]["size"]
    assert spec["properties"]["size"] == {"type": "integer", "minimum": 1}


def test_converted_schema_rejects_a_misspelled_field_and_keeps_published_limits() -> None:
    validator = jsonschema.Draft7Validator(convert(CRD, "v1"))
    ok = {"apiVersion": "x/v1", "kind": "Widget", "spec": {"size": 2, "ports": [{"port": 80}]}}
    assert list(validator.iter_errors(ok)) == []
    messages = [e.message for e in validator.iter_errors({"spec": {"size": 0, "ports": [{"prot": 80}]}})]
    assert "Additional properties are not allowed ('prot' was unexpected)" in messages
    assert "0 is less than the minimum of 1" in messages


def test_a_version_the_crd_does_not_serve_is_named() -> None:
    with pytest.raises(ValueError, match="version v2 not in the CRD \\(it has v1\\)"):
        convert(CRD, "v2")
