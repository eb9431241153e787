"""The data side of observability never imports Pulumi (DESIGN: the pure core)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO

PURE = [
    "metrics",
    "inventory",
    "rules",
    "rule_tests",
    "dashboards",
    "alertmanager",
    "runbooks",
    "layout",
    "images",
    "config_files",
    "docker_services",
    "grafana_settings",
    "k8s_objects",
]


def test_pure_modules_do_not_load_pulumi() -> None:
    imports = "; ".join(f"import components.observability.{name}" for name in PURE)
    code = f"import sys; {imports}; print(sorted(m for m in sys.modules if m.split('.')[0].startswith('pulumi')))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_pulumi_side_does() -> None:
    """The check above can fail: importing the component loads Pulumi."""
    code = "import sys; import components.observability.kubernetes; print('pulumi' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.stdout.strip() == "True", result.stderr
