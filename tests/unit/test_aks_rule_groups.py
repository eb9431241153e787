"""Prometheus rule groups converted for Azure Monitor managed Prometheus (pure translation)."""

from __future__ import annotations

import pytest

from components.platforms.aks.rule_groups import (
    MAX_RULES_PER_GROUP,
    RuleConversionError,
    convert_groups,
    convert_rule,
    iso_duration,
)


@pytest.mark.parametrize(
    ("prometheus", "iso"),
    [("30s", "PT30S"), ("5m", "PT5M"), ("1h30m", "PT1H30M"), ("90s", "PT1M30S"), ("2d", "P2D"), ("1d12h", "P1DT12H")],
)
def test_durations_become_iso_8601(prometheus: str, iso: str) -> None:
    assert iso_duration(prometheus) == iso


@pytest.mark.parametrize("bad", ["5", "5 m", "10ms", "1y", "m5"])
def test_durations_azure_cannot_take_are_refused(bad: str) -> None:
    with pytest.raises(RuleConversionError):
        iso_duration(bad)


def test_an_alert_keeps_its_expression_labels_and_annotations_and_gets_a_numeric_severity() -> None:
    rule = {
        "alert": "SlmTimeToFirstTokenHigh",
        "expr": "histogram_quantile(0.95, ...) > 2\n",
        "for": "10m",
        "labels": {"severity": "critical", "model": "phi4-mini"},
        "annotations": {"summary": "slow first token"},
    }
    converted = convert_rule(rule)
    assert converted["alert"] == "SlmTimeToFirstTokenHigh"
    assert converted["expression"] == "histogram_quantile(0.95, ...) > 2"
    assert (converted["for_"], converted["severity"]) == ("PT10M", 0)
    assert converted["labels"] == {"severity": "critical", "model": "phi4-mini"}
    assert converted["annotations"] == {"summary": "slow first token"}
    assert convert_rule({**rule, "labels": {"severity": "warning"}})["severity"] == 2


def test_recording_rules_have_no_severity_or_for() -> None:
    converted = convert_rule({"record": "slm:requests:rate5m", "expr": "sum(rate(x[5m]))"})
    assert converted == {
        "record": "slm:requests:rate5m",
        "expression": "sum(rate(x[5m]))",
        "enabled": True,
        "labels": None,
    }


def test_a_rule_without_alert_or_record_is_refused() -> None:
    with pytest.raises(RuleConversionError):
        convert_rule({"expr": "up == 0"})


def test_groups_above_azures_limit_are_split() -> None:
    rules = [{"alert": f"A{i}", "expr": "up == 0"} for i in range(MAX_RULES_PER_GROUP + 3)]
    groups = convert_groups([{"name": "slm-serving", "interval": "2m", "rules": rules}])
    assert [(g.name, len(g.rules), g.interval) for g in groups] == [
        ("slm-serving-1", MAX_RULES_PER_GROUP, "PT2M"),
        ("slm-serving-2", 3, "PT2M"),
    ]
    assert convert_groups([{"name": "small", "rules": rules[:2]}])[0].interval == "PT1M"


@pytest.mark.parametrize(("interval", "iso"), [("15s", "PT1M"), ("1m", "PT1M"), ("5m", "PT5M"), ("1h", "PT15M")])
def test_intervals_stay_within_what_azure_evaluates(interval: str, iso: str) -> None:
    (group,) = convert_groups([{"name": "g", "interval": interval, "rules": [{"alert": "A", "expr": "up"}]}])
    assert group.interval == iso


def test_a_zero_for_is_left_out() -> None:
    assert "for_" not in convert_rule({"alert": "A", "expr": "up == 0", "for": "0s"})
