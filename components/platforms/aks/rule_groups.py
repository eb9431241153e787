"""Prometheus rule files converted into Azure Monitor PrometheusRuleGroup arguments.

Observability defines every alert once, as standard Prometheus rule groups (the format
promtool checks). Managed Prometheus does not read rule files: it takes rule groups as ARM
resources, with ISO 8601 durations, numeric severities and action groups instead of
Alertmanager routes. This module is the pure translation; :mod:`monitoring` creates the
resources. https://learn.microsoft.com/azure/azure-monitor/essentials/prometheus-rule-groups
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from components.spec.durations import DurationError, duration_parts, duration_seconds

#: Azure Monitor severities: 0 critical, 1 error, 2 warning, 3 informational, 4 verbose.
SEVERITY = {"critical": 0, "error": 1, "warning": 2, "info": 3, "informational": 3}
DEFAULT_SEVERITY = 3
#: Azure accepts at most 20 rules per rule group, evaluated every 1 to 15 minutes.
MAX_RULES_PER_GROUP = 20
MIN_INTERVAL_SECONDS, MAX_INTERVAL_SECONDS = 60, 900


class RuleConversionError(ValueError):
    pass


def azure_seconds(duration: str) -> int:
    """Seconds of a Prometheus duration Azure can take (``30s``, ``5m``, ``1h30m``, ``2d``:
    no milliseconds, no years)."""
    try:
        parts = duration_parts(duration)
    except DurationError as exc:
        raise RuleConversionError(str(exc)) from None
    if any(unit in ("ms", "y") for _, unit in parts):
        raise RuleConversionError(f"{duration!r}: Azure rule durations take s, m, h, d or w")
    return int(duration_seconds(duration))


def iso_seconds(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    time = "".join(f"{v}{u}" for v, u in ((hours, "H"), (minutes, "M"), (secs, "S")) if v)
    return "P" + (f"{days}D" if days else "") + (f"T{time}" if time else "" if days else "T0S")


def iso_duration(duration: str) -> str:
    """A Prometheus duration as ISO 8601 (``5m`` -> ``PT5M``)."""
    return iso_seconds(azure_seconds(duration))


@dataclass(frozen=True)
class RuleGroupArgs:
    """One PrometheusRuleGroup: name, evaluation interval and rules as ARM wants them."""

    name: str
    interval: str
    rules: tuple[dict[str, Any], ...]


def convert_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    """One Prometheus alerting or recording rule as a PrometheusRule argument (no actions yet)."""
    labels = {str(k): str(v) for k, v in (rule.get("labels") or {}).items()}
    converted: dict[str, Any] = {"expression": str(rule["expr"]).strip(), "enabled": True}
    if "alert" in rule:
        converted["alert"] = str(rule["alert"])
        converted["severity"] = SEVERITY.get(labels.get("severity", ""), DEFAULT_SEVERITY)
        if rule.get("for") and azure_seconds(str(rule["for"])) > 0:
            converted["for_"] = iso_duration(str(rule["for"]))
        converted["annotations"] = {str(k): str(v) for k, v in (rule.get("annotations") or {}).items()} or None
        converted["resolve_configuration"] = {"auto_resolved": True, "time_to_resolve": "PT10M"}
    elif "record" in rule:
        converted["record"] = str(rule["record"])
    else:
        raise RuleConversionError("a rule needs alert or record")
    converted["labels"] = labels or None
    return converted


def convert_groups(groups: Iterable[Mapping[str, Any]], default_interval: str = "1m") -> list[RuleGroupArgs]:
    """Prometheus rule groups as Azure rule groups, split where a group exceeds 20 rules, the
    evaluation interval kept within Azure's 1 to 15 minutes."""
    converted: list[RuleGroupArgs] = []
    for group in groups:
        rules: Sequence[Mapping[str, Any]] = group.get("rules") or []
        seconds = azure_seconds(str(group.get("interval") or default_interval))
        interval = iso_seconds(min(MAX_INTERVAL_SECONDS, max(MIN_INTERVAL_SECONDS, seconds)))
        chunks = [rules[i : i + MAX_RULES_PER_GROUP] for i in range(0, len(rules), MAX_RULES_PER_GROUP)]
        for index, chunk in enumerate(chunks):
            suffix = f"-{index + 1}" if len(chunks) > 1 else ""
            converted.append(
                RuleGroupArgs(
                    name=f"{group['name']}{suffix}",
                    interval=interval,
                    rules=tuple(convert_rule(rule) for rule in chunk),
                )
            )
    return converted
