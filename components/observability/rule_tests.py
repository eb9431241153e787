"""``promtool test rules`` files generated from the rule definitions.

For every alert two tests: its scenario's bad series, on which it must fire with exactly the
expected labels and fully rendered annotations, and the good series, on which it must stay
silent. The expected annotations are the rule's own templates filled in here; they use only
``{{ $labels.<name> }}`` and ``{{ printf "%.3g" $value }}``, whose output Python reproduces
exactly (both format the same IEEE double the same way).
"""

from __future__ import annotations

import re
from typing import Any

from components.observability.rules import VALUE, AlertRule, RuleGroup, Series, eval_minutes

_LABEL = re.compile(r"\{\{ \$labels\.([A-Za-z_][A-Za-z0-9_]*) \}\}")


class TemplateError(ValueError):
    pass


def render_annotation(template: str, labels: dict[str, str], value: float) -> str:
    """Fill an annotation the way Prometheus will; refuse any other template syntax."""
    text = template.replace(VALUE, format(value, ".3g"))
    text = _LABEL.sub(lambda m: labels.get(m[1], ""), text)
    if "{{" in text:
        raise TemplateError(f"annotation uses template syntax the tests cannot predict: {template!r}")
    return text


def _series(series: tuple[Series, ...]) -> list[dict[str, str]]:
    return [{"series": s.selector, "values": s.values} for s in series]


def _expected(rule: AlertRule) -> dict[str, Any]:
    labels = {**rule.scenario.labels, **rule.labels}
    return {
        "exp_labels": dict(sorted(labels.items())),
        "exp_annotations": {
            key: render_annotation(text, labels, rule.scenario.value) for key, text in rule.annotations.items()
        },
    }


def rule_tests(group: RuleGroup, rule_file: str) -> dict[str, Any]:
    """The test file for one group; ``rule_file`` is relative to the test file's folder."""
    tests: list[dict[str, Any]] = []
    for rule in group.rules:
        at = f"{eval_minutes(rule.for_)}m"
        for series, alerts in ((rule.scenario.bad, [_expected(rule)]), (rule.scenario.good, [])):
            tests.append(
                {
                    "interval": "1m",
                    "input_series": _series(series),
                    "alert_rule_test": [{"eval_time": at, "alertname": rule.name, "exp_alerts": alerts}],
                }
            )
    return {"rule_files": [rule_file], "evaluation_interval": "1m", "tests": tests}
