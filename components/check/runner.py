"""Run every validator over a render folder and the repository's Dockerfiles.

Every validator runs every time: one that has nothing to look at says so in the table, and
one whose tool is missing fails (with an install hint) even then, so a machine that passes
``slm-deploy check`` here is known to run all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from components.check import checkov, crossguard, hadolint, kubernetes_schema, prometheus, yamllint
from components.check.inputs import Inputs
from components.check.report import Result

Validator = Callable[[Inputs], Result]

VALIDATORS: list[Validator] = [
    kubernetes_schema.validate,
    checkov.validate,
    hadolint.validate,
    prometheus.check_config,
    prometheus.check_rules,
    prometheus.run_rule_tests,
    prometheus.check_alertmanager,
    yamllint.validate,
    crossguard.validate,
]


def run_checks(render: Path, repo: Path | None) -> list[Result]:
    """One result per validator, in table order."""
    inputs = Inputs.gather(render, repo)
    return [validator(inputs) for validator in VALIDATORS]
