"""What each validator found, and how the check prints it and turns it into an exit status.

A validator result is a row of the table. A row fails when the tool reported findings or
could not run at all (a missing tool is a failure with an install hint, never a skip).
Skips and unchecked objects are listed, but never counted as passed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Finding:
    """One problem, printed as ``file: object: check: message``."""

    file: str
    obj: str
    check: str
    message: str

    def line(self) -> str:
        return f"{self.file}: {self.obj}: {self.check}: {self.message}"


@dataclass
class Result:
    """One validator's row: what it looked at, and what it found."""

    validator: str
    checked: str
    count: int = 0
    findings: list[Finding] = field(default_factory=list)
    skips: list[Finding] = field(default_factory=list)
    unchecked: list[Finding] = field(default_factory=list)
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None or bool(self.findings)

    @property
    def outcome(self) -> str:
        if self.error is not None:
            return f"FAILED: {self.error}"
        if self.findings:
            return f"FAILED: {len(self.findings)} finding(s)"
        if self.count == 0:
            return "nothing to check"
        notes = []
        if self.skips:
            notes.append(f"{len(self.skips)} skip(s)")
        if self.unchecked:
            notes.append(f"{len(self.unchecked)} unchecked")
        return "passed" + (f" ({', '.join(notes)})" if notes else "")


def _table(rows: Sequence[tuple[str, str, str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = []
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def render_report(target: str, results: Sequence[Result]) -> str:
    """The table, then every finding, skip and unchecked object, one per line."""
    rows = [("validator", "checked", "result")]
    rows += [(r.validator, r.checked, r.outcome) for r in results]
    lines = [f"slm-deploy check: {target}", "", *_table(rows)]
    sections = (
        ("findings", [f for r in results for f in r.findings]),
        ("skips (allowed: checkov.io/skip annotation with a reason)", [f for r in results for f in r.skips]),
        ("unchecked (no schema; not counted as passed)", [f for r in results for f in r.unchecked]),
    )
    for title, items in sections:
        if items:
            lines += ["", f"{title}:", *(f"  {item.line()}" for item in items)]
    failed = [r.validator for r in results if r.failed]
    lines += ["", f"FAILED: {', '.join(failed)}" if failed else "all validators passed"]
    return "\n".join(lines) + "\n"


def exit_status(results: Sequence[Result]) -> int:
    """0 when every validator passed, 1 otherwise."""
    return 1 if any(r.failed for r in results) else 0
