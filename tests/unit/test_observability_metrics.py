"""Every metric name in a dashboard query or an alert expression is one its exporter has
(components/observability/metrics.py, each list with its source). Queries are parsed with a
real PromQL parser (promql-parser), not searched with regular expressions."""

from __future__ import annotations

import re

import promql_parser
import pytest

from components.observability import metrics
from components.observability.dashboards import dashboard_specs
from components.observability.rules import rule_groups
from tests.observability_support import spec_and_plans

#: Which exporters a rule group or a dashboard may read.
ALLOWED = {
    "slm-vllm": metrics.VLLM.names | metrics.SCRAPE.names,
    "slm-onnx": metrics.ONNX.names | metrics.SCRAPE.names,
    "slm-ollama": metrics.BLACKBOX.names | metrics.CADVISOR.names | metrics.SCRAPE.names,
    "slm-gpu": metrics.DCGM.names,
    "slm-overview": metrics.VLLM.names | metrics.ONNX.names | metrics.BLACKBOX.names | metrics.SCRAPE.names,
}
#: Grafana's variables, replaced by values PromQL accepts.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "${model:regex}": ".*", "$model": ".*"}


def metric_names(expr: str) -> set[str]:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    assert "$" not in expr, f"unknown Grafana variable in {expr}"
    if expr.startswith("label_values("):
        expr = re.fullmatch(r"label_values\((.*), \w+\)", expr)[1]  # type: ignore[index]
    names: list[str | None] = []

    def visit(node: object) -> bool:
        if isinstance(node, promql_parser.VectorSelector):
            names.append(node.name)
        return True

    promql_parser.walk(promql_parser.parse(expr), visit)
    assert None not in names, f"a selector without a metric name in {expr}"
    return {n for n in names if n is not None}


def test_the_parser_sees_through_functions_and_ranges() -> None:
    found = metric_names('histogram_quantile(0.95, sum by (le) (rate(a_bucket{x="1"}[$__rate_interval]))) / b > 1')
    assert found == {"a_bucket", "b"}


def test_every_rule_reads_only_exported_metrics() -> None:
    spec, plans = spec_and_plans()
    for group in rule_groups(spec, plans):
        for rule in group.rules:
            used = metric_names(rule.expr)
            assert used, rule.name
            assert used <= ALLOWED[group.name], f"{rule.name}: {sorted(used - ALLOWED[group.name])}"
            assert set(rule.metrics) <= used, rule.name


def test_every_dashboard_query_reads_only_exported_metrics() -> None:
    _, plans = spec_and_plans()
    dashboards = dashboard_specs(plans)
    assert {d.uid for d in dashboards} == set(ALLOWED)
    for dashboard in dashboards:
        queries = dashboard.queries()
        assert queries, dashboard.uid
        for query in queries:
            used = metric_names(query)
            assert used, f"{dashboard.uid}: no metric in {query}"
            assert used <= ALLOWED[dashboard.uid], f"{dashboard.uid}: {sorted(used - ALLOWED[dashboard.uid])}"


@pytest.mark.parametrize("source", metrics.ALL_SOURCES, ids=lambda s: s.name)
def test_every_list_says_where_it_comes_from(source: metrics.MetricSource) -> None:
    assert source.names and len(source.source) > 20


def test_removed_vllm_names_are_not_in_the_list() -> None:
    """Renamed in vLLM 0.9/0.11 (research §1.3): a dashboard using them is silently empty."""
    for old in ("vllm:gpu_cache_usage_perc", "vllm:time_per_output_token_seconds_bucket", "vllm:num_preemptions"):
        assert old not in metrics.VLLM.names


def test_plans_prefixes_match_the_lists() -> None:
    _, plans = spec_and_plans()
    prefixes = {p.engine: p.metrics.prefix for p in plans}
    assert prefixes == {"vllm": "vllm:", "onnx": "ortgenai:", "ollama": None}
    for engine, source in metrics.BY_ENGINE.items():
        prefix = prefixes[engine]
        assert prefix is not None
        assert all(n.startswith(prefix) for n in source.names if ":" in n), engine


def test_onnx_list_is_the_servers_own() -> None:
    """The ONNX server declares what it exposes (EXPORTED_SERIES); the live /metrics is
    compared in tests/integration/test_observability_live.py."""
    from slm_onnx_server.metrics import EXPORTED_SERIES, PREFIX

    assert frozenset(EXPORTED_SERIES) == metrics.ONNX.names
    _, plans = spec_and_plans()
    assert {p.metrics.prefix for p in plans if p.engine == "onnx"} == {PREFIX}
