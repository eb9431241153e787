"""One runbook per alert, markdown from templates/observability/runbook.md.j2."""

from __future__ import annotations

from collections.abc import Sequence

from components.observability.rules import AlertRule, RuleGroup
from components.templating import render_template


def _dashboard(group: RuleGroup) -> str:
    uid = group.name  # dashboards of an engine share the rule group's name (slm-vllm, slm-gpu)
    return f"Grafana, folder slm-deploy: `{uid}` (and `slm-overview`)"


def runbook(rule: AlertRule, group: RuleGroup, stack: str) -> str:
    labels = ", ".join(f"`{k}`" for k in sorted(rule.scenario.labels))
    return render_template(
        "observability/runbook.md.j2",
        alert=rule,
        title=rule.title,
        stack=stack,
        labels=labels,
        native=rule.metrics != ("probe_success",),
        dashboard=_dashboard(group),
    )


def runbooks(groups: Sequence[RuleGroup], stack: str) -> dict[str, str]:
    """Alert name -> markdown."""
    return {rule.name: runbook(rule, group, stack) for group in groups for rule in group.rules}
