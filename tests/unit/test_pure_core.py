"""The pure core never imports Pulumi (DESIGN: spec, catalog, engines, the plan types, the
cost estimate, the delivery helpers and the data side of observability are plain Python,
unit-tested without the engine)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO

#: Packages whose every module is pure, and single pure modules.
PURE_PACKAGES = [
    "components.spec",
    "components.catalog",
    "components.engines",
    "components.cost",
    "components.delivery",
    "components.frontends",
]
#: Observability builds files and objects as data; only its components (attach, kubernetes) are Pulumi.
PURE_OBSERVABILITY = [
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
PURE_MODULES = [
    "components.plan",
    "components.gpu_nodes",
    "components.yamltext",
    "components.templating",
    *(f"components.observability.{name}" for name in PURE_OBSERVABILITY),
]

PROBE = """
import importlib, pkgutil, sys
names = {modules!r}
for package in {packages!r}:
    names.append(package)
    names += [m.name for m in pkgutil.walk_packages(importlib.import_module(package).__path__, package + ".")]
for name in names:
    importlib.import_module(name)
print(len(names), sorted(m for m in sys.modules if m.split(".")[0].startswith("pulumi")))
"""


def loaded_pulumi(packages: list[str], modules: list[str]) -> tuple[int, str]:
    code = PROBE.format(packages=packages, modules=modules)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    count, loaded = result.stdout.strip().split(" ", 1)
    return int(count), loaded


def test_the_pure_core_does_not_load_pulumi() -> None:
    count, loaded = loaded_pulumi(PURE_PACKAGES, PURE_MODULES)
    assert count > 20  # every module of those packages was imported
    assert loaded == "[]"


def test_the_probe_sees_pulumi_when_a_module_loads_it() -> None:
    """The check above can fail: a target module loads Pulumi."""
    for module in ("components.targets.aks", "components.observability.kubernetes"):
        _, loaded = loaded_pulumi([], [module])
        assert "'pulumi'" in loaded, module
