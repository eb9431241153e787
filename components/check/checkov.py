"""checkov on the rendered Kubernetes manifests and on every Dockerfile, in one run.

Zero failed checks is the bar. A skip is accepted only when it comes from a
``checkov.io/skip<N>: <CHECK_ID>=<reason>`` annotation on the object itself, with a reason;
every accepted skip is listed in the report, any other skip is a finding.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from components.check.inputs import Inputs, KubeObject
from components.check.report import Finding, Result
from components.check.tools import ToolMissingError, find_tool_for, run_tool, squeeze

VALIDATOR = "checkov"
SKIP_PREFIX = "checkov.io/skip"
#: No network: no guideline download, no external modules.
ENV = {"BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false", "LOG_LEVEL": "ERROR"}


def _reports(stdout: str) -> list[dict[str, Any]]:
    """checkov prints one report object, or a list of them when several frameworks ran."""
    start = min((i for i in (stdout.find("{"), stdout.find("[")) if i >= 0), default=-1)
    if start < 0:
        raise ValueError("no JSON report in checkov's output")
    data = json.loads(stdout[start:])
    reports = data if isinstance(data, list) else [data]
    return [r for r in reports if isinstance(r, dict) and "results" in r]


def _skip_reason(obj: KubeObject | None, check_id: str) -> str | None:
    """The reason given by a ``checkov.io/skip`` annotation for ``check_id``, if any."""
    if obj is None:
        return None
    annotations = (obj.doc.get("metadata") or {}).get("annotations") or {}
    for key, value in annotations.items():
        if str(key).startswith(SKIP_PREFIX) and "=" in str(value):
            skipped, reason = str(value).split("=", 1)
            if skipped.strip() == check_id and reason.strip():
                return reason.strip()
    return None


def _object_for(objects: list[KubeObject], file: str, resource: str) -> KubeObject | None:
    """checkov names resources ``Kind.namespace.name``; find the object it means."""
    in_file = [o for o in objects if o.file == file]
    for obj in in_file:
        meta = obj.doc.get("metadata") or {}
        if resource.startswith(f"{obj.kind}.") and resource.endswith(f".{meta.get('name')}"):
            return obj
    return in_file[0] if len(in_file) == 1 else None


def _resource(check: dict[str, Any]) -> str:
    """checkov names Dockerfile resources ``<absolute path>.<instruction>``; keep the instruction."""
    resource, path = str(check["resource"]), str(check.get("file_abs_path") or "")
    if path and resource.startswith(path):
        return resource[len(path) :].lstrip(".") or "(whole file)"
    return resource


def validate(inputs: Inputs) -> Result:
    manifests, dockerfiles = inputs.kubernetes_files, inputs.dockerfiles
    checked = f"{len(manifests)} Kubernetes files, {len(dockerfiles)} Dockerfiles"
    if not dockerfiles:
        checked += " (no Dockerfiles)"
    try:
        checkov = find_tool_for("checkov", inputs)
    except ToolMissingError as exc:
        return Result(VALIDATOR, checked, error=str(exc))
    result = Result(VALIDATOR, checked, count=len(manifests) + len(dockerfiles))
    if result.count == 0:
        return result
    command: list[str | Path] = [checkov, "--output", "json", "--compact", "--skip-download"]
    command += ["--framework", "kubernetes", "dockerfile"]
    for path in [*manifests, *dockerfiles]:
        command += ["--file", path.resolve()]
    run = run_tool(command, env=ENV)
    try:
        reports = _reports(run.stdout)
    except ValueError as exc:
        result.error = f"checkov did not run ({exc}; exit {run.returncode}): {squeeze(run.output)}"
        return result
    objects, _ = inputs.kubernetes_objects()
    for report in reports:
        results = report["results"]
        for check in results.get("failed_checks", []):
            file = inputs.show(check.get("file_abs_path") or check["file_path"])
            result.findings.append(Finding(file, _resource(check), check["check_id"], check["check_name"]))
        for check in results.get("skipped_checks", []):
            file = inputs.show(check.get("file_abs_path") or check["file_path"])
            obj = _object_for(objects, file, check["resource"])
            reason = _skip_reason(obj, check["check_id"])
            if reason is None:
                message = f"skipped without a {SKIP_PREFIX}<N>: {check['check_id']}=<reason> annotation on the object"
                result.findings.append(Finding(file, check["resource"], check["check_id"], message))
            else:
                result.skips.append(Finding(file, check["resource"], check["check_id"], f"skipped: {reason}"))
        for path in results.get("parsing_errors", []):
            result.findings.append(Finding(inputs.show(path), "-", "checkov", "could not be parsed"))
    return result
