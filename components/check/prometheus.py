"""promtool and amtool on the rendered observability files, one file per run so each finding
names its file: ``check config`` on Prometheus configurations, ``check rules`` on rule files,
``test rules`` on rule tests (whose ``rule_files`` are relative to the test file's folder),
and amtool ``check-config`` on Alertmanager configurations.

The pinned Alertmanager (v0.28.1) knows webhook ``url_file`` and ``msteamsv2_configs``; an
older amtool (Debian 12 ships 0.25) rejects both. With such an amtool each configuration is
checked as :func:`~components.observability.alertmanager.legacy_check_view` rewrites it (just
those two fields replaced by placeholders), and the table says so.

Rendered configurations name paths inside the Prometheus container (rule files, secrets), so
``check config`` runs with ``--syntax-only``; the rule files are checked on their own.
Works with promtool 2.42 (Debian 12's prometheus package).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml

from components.check.inputs import Inputs
from components.check.report import Finding, Result
from components.check.tools import Run, ToolMissingError, find_tool_for, run_tool, squeeze
from components.observability.alertmanager import legacy_check_view

#: promtool check rules: ``file: 5:15: group "g", rule 1, "Alert": message``.
RULE_ERROR = re.compile(r'group "(?P<group>[^"]*)", rule (?P<rule>\d+)(?:, "(?P<name>[^"]*)")?')
#: promtool test rules: ``alertname: X, time: 14m,`` or ``expr: "...", time: 6m,``.
TEST_ERROR = re.compile(r"(?:alertname: (?P<alert>[^,]+)|expr: (?P<expr>.+?)), time: (?P<time>[^,\s]+)")
#: The first amtool that reads every field the pinned Alertmanager's configuration uses.
AMTOOL_CURRENT = (0, 28)
AMTOOL_VERSION = re.compile(r"version (\d+)\.(\d+)")


def _failure_text(run: Run) -> str:
    """What promtool/amtool said after FAILED, else everything it printed."""
    output = run.output
    return squeeze(output[output.find("FAILED") :] if "FAILED" in output else output)


def _rule_object(text: str) -> str:
    match = RULE_ERROR.search(text)
    if match is None:
        return "-"
    return f"group {match['group']}, rule {match['rule']}" + (f" {match['name']}" if match["name"] else "")


def _test_objects(text: str) -> str:
    found = [f"{m['alert'] or m['expr']}@{m['time']}" for m in TEST_ERROR.finditer(text)]
    return ", ".join(dict.fromkeys(found)) or "-"


def _per_file(
    *,
    name: str,
    tool: str,
    files: Sequence[Path],
    checked: str,
    inputs: Inputs,
    command: Callable[[Path, Path], list[str | Path]],
    name_object: Callable[[str], str],
) -> Result:
    try:
        program = find_tool_for(tool, inputs)
    except ToolMissingError as exc:
        return Result(name, checked, error=str(exc))
    result = Result(name, checked, count=len(files))
    for path in files:
        run = run_tool(command(program, path), cwd=path.parent)
        if run.returncode != 0:
            text = _failure_text(run)
            result.findings.append(Finding(inputs.show(path), name_object(text), name, text))
    return result


def check_config(inputs: Inputs) -> Result:
    files = inputs.prometheus_configs
    return _per_file(
        name="promtool check config",
        tool="promtool",
        files=files,
        checked=f"{len(files)} Prometheus configurations (syntax)",
        inputs=inputs,
        command=lambda tool, path: [tool, "check", "config", "--syntax-only", path.name],
        name_object=lambda _text: "config",
    )


def check_rules(inputs: Inputs) -> Result:
    files = inputs.rule_files
    return _per_file(
        name="promtool check rules",
        tool="promtool",
        files=files,
        checked=f"{len(files)} rule files",
        inputs=inputs,
        command=lambda tool, path: [tool, "check", "rules", path.name],
        name_object=_rule_object,
    )


def run_rule_tests(inputs: Inputs) -> Result:
    files = inputs.rule_tests
    return _per_file(
        name="promtool test rules",
        tool="promtool",
        files=files,
        checked=f"{len(files)} rule test files",
        inputs=inputs,
        command=lambda tool, path: [tool, "test", "rules", path.name],
        name_object=_test_objects,
    )


def amtool_is_current(program: Path) -> bool:
    """The amtool reads webhook ``url_file`` and Teams receivers (an unparsable version counts as current)."""
    match = AMTOOL_VERSION.search(run_tool([program, "--version"]).output)
    return match is None or (int(match[1]), int(match[2])) >= AMTOOL_CURRENT


def check_alertmanager(inputs: Inputs) -> Result:
    files = inputs.alertmanager_configs
    checked = f"{len(files)} Alertmanager configurations"
    try:
        current = amtool_is_current(find_tool_for("amtool", inputs))
    except ToolMissingError:
        current = True  # _per_file reports the missing tool
    with tempfile.TemporaryDirectory(prefix="slm-amtool-") as scratch:

        def target(path: Path) -> Path:
            if current:
                return path
            try:
                text = legacy_check_view(path.read_text())
            except (yaml.YAMLError, AttributeError, TypeError):
                return path  # not a configuration to rewrite: amtool reports it as it is
            view = Path(scratch) / f"{len(list(Path(scratch).iterdir()))}-{path.name}"
            view.write_text(text)
            return view

        return _per_file(
            name="amtool check-config",
            tool="amtool",
            files=files,
            checked=checked if current else f"{checked} (as amtool < 0.28 reads them: url_file, Teams as placeholders)",
            inputs=inputs,
            command=lambda tool, path: [tool, "check-config", target(path)],
            name_object=lambda _text: "config",
        )
