"""hadolint on every Dockerfile of the repository (and of the render), with the repository's
config (components/check/config/hadolint.yaml): every rule it reports is a finding."""

from __future__ import annotations

import json
from pathlib import Path

from components.check.inputs import Inputs
from components.check.report import Finding, Result
from components.check.tools import ToolMissingError, find_tool_for, run_tool, squeeze

VALIDATOR = "hadolint"
CONFIG = Path(__file__).parent / "config" / "hadolint.yaml"


def validate(inputs: Inputs) -> Result:
    dockerfiles = inputs.dockerfiles
    checked = f"{len(dockerfiles)} Dockerfiles" if dockerfiles else "no Dockerfiles in the repository or render"
    try:
        hadolint = find_tool_for("hadolint", inputs)
    except ToolMissingError as exc:
        return Result(VALIDATOR, checked, error=str(exc))
    result = Result(VALIDATOR, checked, count=len(dockerfiles))
    if not dockerfiles:
        return result
    run = run_tool([hadolint, "--config", CONFIG, "--format", "json", "--no-color", *dockerfiles])
    try:
        problems = json.loads(run.stdout or "[]")
    except json.JSONDecodeError:
        result.error = f"hadolint did not run (exit {run.returncode}): {squeeze(run.output)}"
        return result
    for problem in problems:
        where = f"line {problem.get('line', '?')}"
        message = f"{problem.get('level', 'error')}: {problem.get('message', '')}"
        result.findings.append(Finding(inputs.show(problem["file"]), where, problem["code"], message))
    if run.returncode != 0 and not result.findings:
        result.error = f"hadolint failed (exit {run.returncode}): {squeeze(run.output)}"
    return result
