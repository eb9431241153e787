"""Turn a published CustomResourceDefinition into the JSON schema `slm-deploy check` vendors.

The conversion is datreeio/CRDs-catalog's (its openapi2jsonschema.py): one version's
``openAPIV3Schema``, with ``additionalProperties: false`` on every object below the root that
lists ``properties`` (strict, like kubernetes-validate ``--strict``), so a misspelled field is an
error instead of being silently pruned by the API server. Ours on top: ``description`` texts are
dropped (most of the bytes, no validation). Every validation keyword stays as published.

The input is a CRD (YAML) or an already converted catalog schema (JSON), so both sources in
components/check/schemas/README.md go through the same code:

    python -m tools.crd_schema CRD.yaml v1 > components/check/schemas/<group>/<kind>_<version>.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

#: Keywords whose value is one subschema, a list of them, or a map of name -> subschema.
_ONE = ("items", "additionalProperties", "not")
_MANY = ("allOf", "anyOf", "oneOf")
_NAMED = ("properties", "patternProperties")


def _convert(schema: dict[str, Any], root: bool) -> dict[str, Any]:
    """Walk subschemas only, so a field that happens to be named ``description`` survives."""
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "description" and isinstance(value, str):
            continue
        if key in _NAMED and isinstance(value, dict):
            out[key] = {name: _convert(sub, root=False) for name, sub in value.items()}
        elif key in _ONE and isinstance(value, dict):
            out[key] = _convert(value, root=False)
        elif key in _MANY and isinstance(value, list):
            out[key] = [_convert(sub, root=False) for sub in value]
        else:
            out[key] = value
    if "properties" in out and "additionalProperties" not in out and not root:
        out["additionalProperties"] = False
    return out


def version_schema(document: dict[str, Any], version: str) -> dict[str, Any]:
    """The ``openAPIV3Schema`` of one served version of a CRD, or the document if it is a schema."""
    if document.get("kind") != "CustomResourceDefinition":
        return document
    for entry in document["spec"]["versions"]:
        if entry["name"] == version:
            schema: dict[str, Any] = entry["schema"]["openAPIV3Schema"]
            return schema
    names = ", ".join(entry["name"] for entry in document["spec"]["versions"])
    raise ValueError(f"version {version} not in the CRD (it has {names})")


def convert(document: dict[str, Any], version: str) -> dict[str, Any]:
    return _convert(version_schema(document, version), root=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("source", type=Path, help="CRD YAML or catalog JSON schema")
    parser.add_argument("version", help="CRD version, e.g. v1 (ignored for a JSON schema)")
    args = parser.parse_args(argv)
    document = yaml.safe_load(args.source.read_text(encoding="utf-8"))
    try:
        schema = convert(document, args.version)
    except ValueError as exc:
        print(f"crd_schema: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(json.dumps(schema, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
