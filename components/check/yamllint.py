"""yamllint on every YAML file of the render, with the repository's config
(components/check/config/yamllint.yaml); warnings count as findings too."""

from __future__ import annotations

import re
from pathlib import Path

from components.check.inputs import Inputs
from components.check.report import Finding, Result
from components.check.tools import ToolMissingError, find_tool_for, run_tool, squeeze

VALIDATOR = "yamllint"
CONFIG = Path(__file__).parent / "config" / "yamllint.yaml"
#: ``file:line:col: [level] message (rule)`` from ``--format parsable``.
LINE = re.compile(
    r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): \[(?P<level>\w+)\] (?P<message>.*?)(?: \((?P<rule>[\w-]+)\))?$"
)


def validate(inputs: Inputs) -> Result:
    files = inputs.yaml_files
    checked = f"{len(files)} YAML files in the render"
    try:
        yamllint = find_tool_for("yamllint", inputs)
    except ToolMissingError as exc:
        return Result(VALIDATOR, checked, error=str(exc))
    result = Result(VALIDATOR, checked, count=len(files))
    if not files:
        return result
    run = run_tool([yamllint, "--config-file", CONFIG, "--format", "parsable", "--strict", *files])
    for line in run.stdout.splitlines():
        match = LINE.match(line.strip())
        if match is None:
            continue
        rule = f"yamllint/{match['rule'] or 'syntax'}"
        where = f"line {match['line']}:{match['col']}"
        result.findings.append(
            Finding(inputs.show(match["file"]), where, rule, f"{match['level']}: {match['message']}")
        )
    if run.returncode != 0 and not result.findings:
        result.error = f"yamllint failed (exit {run.returncode}): {squeeze(run.output)}"
    return result
