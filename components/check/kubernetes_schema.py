"""kubernetes-validate (strict) on every Kubernetes object, against the oldest and newest
Kubernetes versions we support; custom resources against vendored published schemas.

Kubernetes versions, chosen from AKS's release calendar as of late 2026
(MicrosoftDocs/azure-aks-docs, articles/aks/supported-kubernetes-versions.md) and from the
schemas kubernetes-validate 1.37.0 ships (1.25 to 1.37):

- newest, 1.37: newest upstream minor (Aug 2026), AKS GA Oct 2026, newest schema set;
- oldest, 1.32: AKS standard support covers 1.35-1.37 in late 2026, but AKS long-term
  support (premium tier) keeps 1.32 until Mar 2027, so manifests must still apply there.

Custom resource kinds with no vendored schema are reported as unchecked, never as passed.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from components.check.inputs import Inputs, KubeObject
from components.check.report import Finding, Result

KUBERNETES_VERSIONS = ("1.32", "1.37")
VALIDATOR = "kubernetes-validate"
SCHEMAS = Path(__file__).parent / "schemas"


def crd_schema_path(api_version: str, kind: str) -> Path | None:
    """``schemas/<group>/<kind>_<version>.json`` (the datreeio/CRDs-catalog layout)."""
    if "/" not in api_version:
        return None
    group, version = api_version.split("/", 1)
    return SCHEMAS / group / f"{kind.lower()}_{version}.json"


@cache
def _load_schema(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def _crd_errors(obj: KubeObject, schema_path: Path) -> list[str]:
    schema = _load_schema(schema_path)
    validator_class = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    errors = sorted(validator_class(schema).iter_errors(obj.doc), key=lambda e: list(map(str, e.path)))
    return [f"{'.'.join(map(str, e.path)) or '(root)'}: {e.message}" for e in errors]


@cache
def _builtin_prefixes() -> frozenset[str]:
    """API group prefixes kubernetes-validate has schemas for (``apps``, ``networking``, ...).

    Its schema files are named ``<kind>-<first label of the group>-<version>.json``.
    """
    from importlib.resources import files

    import kubernetes_validate

    latest = f"v{kubernetes_validate.latest_version()}-local"
    folder = files("kubernetes_validate").joinpath("kubernetes-json-schema", latest)
    names = [entry.name.removesuffix(".json").split("-") for entry in folder.iterdir()]
    return frozenset(parts[1] for parts in names if len(parts) == 3)


def is_builtin(api_version: str) -> bool:
    """A Kubernetes API (core or ``*.k8s.io`` group known to kubernetes-validate), not a CRD."""
    if "/" not in api_version:
        return True
    group = api_version.split("/", 1)[0]
    ours = "." not in group or group.endswith(".k8s.io")
    return ours and group.split(".", 1)[0] in _builtin_prefixes()


def _object_errors(obj: KubeObject) -> tuple[dict[str, list[str]], bool]:
    """Errors by message -> versions that reported it; and whether any schema was found.

    A built-in API missing from one version's schemas is an error for that version (removed,
    or not yet served there); a custom resource simply has no schema here.
    """
    import kubernetes_validate

    errors: dict[str, list[str]] = {}
    checked = False
    builtin = is_builtin(obj.api_version)
    for version in KUBERNETES_VERSIONS:
        try:
            kubernetes_validate.validate(obj.doc, version, strict=True)
            checked = True
        except kubernetes_validate.SchemaNotFoundError:
            if builtin:
                checked = True
                errors.setdefault(f"(root): {obj.api_version} {obj.kind} is not served", []).append(version)
        except kubernetes_validate.ValidationError as exc:
            checked = True
            path = ".".join(map(str, exc.path)) or "(root)"
            errors.setdefault(f"{path}: {exc.message}", []).append(version)
    return errors, checked


def validate(inputs: Inputs) -> Result:
    versions = ", ".join(KUBERNETES_VERSIONS)
    try:
        import kubernetes_validate  # noqa: F401
    except ImportError:
        return Result(VALIDATOR, f"Kubernetes objects ({versions})", error="not installed: run `make setup`")
    objects, parse_errors = inputs.kubernetes_objects()
    result = Result(VALIDATOR, "")
    result.findings += [Finding(file, "-", "yaml", message) for file, message in parse_errors]
    by_crd_schema = 0
    for obj in objects:
        if "apiVersion" not in obj.doc or "kind" not in obj.doc:
            result.findings.append(Finding(obj.file, obj.label, VALIDATOR, "apiVersion and kind are required"))
            continue
        errors, checked = _object_errors(obj)
        if not checked:
            schema_path = crd_schema_path(obj.api_version, obj.kind)
            if schema_path is None or not schema_path.is_file():
                why = f"no schema for {obj.api_version} {obj.kind} in kubernetes-validate or components/check/schemas"
                result.unchecked.append(Finding(obj.file, obj.label, VALIDATOR, why))
                continue
            by_crd_schema += 1
            errors = {message: ["CRD schema"] for message in _crd_errors(obj, schema_path)}
        for message, where in errors.items():
            result.findings.append(Finding(obj.file, obj.label, VALIDATOR, f"{message} ({', '.join(where)})"))
    result.count = len(objects) + len(parse_errors)
    validated = len(objects) - len(result.unchecked)
    result.checked = f"{validated} of {len(objects)} objects, strict, Kubernetes {versions}"
    if by_crd_schema:
        result.checked += f" ({by_crd_schema} by vendored CRD schema)"
    return result
