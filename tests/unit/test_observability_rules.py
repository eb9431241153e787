"""Alert rules as data: thresholds and severities from the spec, promtool accepts the rule
files and their generated tests pass (and fail when a rule is broken)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from components.observability.inventory import InventoryError, engine_groups
from components.observability.rules import alert_rules, rule_groups
from components.observability.runbooks import runbooks
from components.spec.durations import format_duration
from tests.observability_support import make_spec, rendered, run, spec_and_plans, tool

ENGINE_ALERTS = {
    "slm-vllm": {
        "VllmTargetDown",
        "VllmHighTimeToFirstToken",
        "VllmHighInterTokenLatency",
        "VllmHighErrorRatio",
        "VllmQueueBuildup",
        "VllmKVCacheNearFull",
        "VllmEngineStalled",
    },
    "slm-onnx": {
        "OnnxTargetDown",
        "OnnxHighTimeToFirstToken",
        "OnnxHighInterTokenLatency",
        "OnnxHighErrorRatio",
        "OnnxQueueBuildup",
        "OnnxEngineStalled",
    },
    "slm-ollama": {"OllamaTargetDown"},
    "slm-gpu": {"GpuXidError", "GpuHighTemperature", "GpuMemoryNearFull"},
}


def test_every_engine_gets_its_group_and_gpus_theirs() -> None:
    spec, plans = spec_and_plans()
    groups = {g.name: {r.name for r in g.rules} for g in rule_groups(spec, plans)}
    assert groups == ENGINE_ALERTS


def test_no_gpu_no_gpu_group() -> None:
    spec, plans = spec_and_plans(models=[m for m in make_spec().model_dump(by_alias=True)["models"][1:]])
    assert [g.name for g in rule_groups(spec, plans)] == ["slm-ollama", "slm-onnx"]


def test_every_alert_has_severity_model_and_annotations() -> None:
    spec, plans = spec_and_plans()
    for rule in alert_rules(rule_groups(spec, plans)):
        assert set(rule.labels) == {"severity"}, rule.name
        assert set(rule.annotations) == {"summary", "description", "runbook_url"}, rule.name
        assert rule.runbook_url == f"runbooks/{rule.name}.md"
        if not rule.name.startswith("Gpu"):
            # model comes from the expression: aggregated by it, or a target label
            assert "model" in rule.scenario.labels, rule.name


def test_thresholds_and_for_come_from_the_spec() -> None:
    thresholds = {"timeToFirstTokenP95Seconds": {"value": 3.5, "for": "2m"}, "targetDownFor": "20m"}
    spec, plans = spec_and_plans(alerting={"thresholds": thresholds, "runbookBaseUrl": "https://wiki.example/rb/"})
    rules = {r.name: r for r in alert_rules(rule_groups(spec, plans))}
    assert rules["VllmHighTimeToFirstToken"].expr.endswith("> 3.5")
    assert rules["VllmHighTimeToFirstToken"].for_ == "2m"
    assert rules["OnnxHighTimeToFirstToken"].expr.endswith("> 3.5")
    assert rules["OllamaTargetDown"].for_ == "20m"
    # untouched keys keep the environment's defaults (dev: 0.5 s inter-token latency, 10m)
    assert rules["VllmHighInterTokenLatency"].expr.endswith("> 0.5")
    assert rules["VllmHighInterTokenLatency"].for_ == "10m"
    assert rules["GpuXidError"].runbook_url == "https://wiki.example/rb/GpuXidError.md"


def test_target_down_waits_out_the_longest_cold_start_of_the_engine() -> None:
    """prod pages after 3m, but a vLLM server may take its whole startup budget to load the
    weights: its target-down alert waits that long; an engine that starts faster keeps 3m."""
    spec, plans = spec_and_plans(environment="prod")
    assert spec.alerting.thresholds.target_down_for == "3m"
    budget = {p.engine: p.server.probes.startup_budget_seconds for p in plans if p.server.probes}
    assert budget["vllm"] > 180 >= budget["onnx"], budget
    rules = {r.name: r for r in alert_rules(rule_groups(spec, plans))}
    assert rules["VllmTargetDown"].for_ == format_duration(budget["vllm"])
    assert rules["OnnxTargetDown"].for_ == "3m"
    vllm = rules["VllmTargetDown"].description
    assert f"waits {format_duration(budget['vllm'])}, the longest startup budget" in vllm
    runbook = runbooks(rule_groups(spec, plans), "prod")["VllmTargetDown"]
    assert f"It fires only after `{format_duration(budget['vllm'])}`: the longest startup budget" in runbook


@pytest.mark.parametrize(
    ("environment", "page", "ticket"),
    [("dev", "warning", "info"), ("staging", "warning", "warning"), ("prod", "critical", "warning")],
)
def test_severity_classes_follow_the_environment(environment: str, page: str, ticket: str) -> None:
    spec, plans = spec_and_plans(environment=environment)
    rules = {r.name: r for r in alert_rules(rule_groups(spec, plans))}
    for name in ("VllmTargetDown", "OnnxHighErrorRatio", "VllmEngineStalled", "GpuXidError", "OllamaTargetDown"):
        assert rules[name].severity == page, name
    for name in ("VllmHighTimeToFirstToken", "OnnxQueueBuildup", "VllmKVCacheNearFull", "GpuHighTemperature"):
        assert rules[name].severity == ticket, name


def test_prefixes_and_jobs_come_from_the_plans() -> None:
    spec, plans = spec_and_plans()
    rules = {r.name: r for r in alert_rules(rule_groups(spec, plans))}
    assert 'ortgenai:time_to_first_token_seconds_bucket{job="onnx"}' in rules["OnnxHighTimeToFirstToken"].expr
    assert 'vllm:kv_cache_usage_perc{job="vllm"}' in rules["VllmKVCacheNearFull"].expr
    # vLLM's HTTP counter is its FastAPI instrumentator's, unprefixed, labelled by handler
    assert 'http_requests_total{job="vllm", handler=~"/v1/.*"' in rules["VllmHighErrorRatio"].expr
    assert 'ortgenai:http_requests_total{job="onnx", path=~"/v1/.*"' in rules["OnnxHighErrorRatio"].expr


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_promtool_checks_the_rules_and_their_tests_pass(tmp_path: Path, environment: str) -> None:
    promtool = tool("promtool")
    folder = rendered(tmp_path, make_spec(environment=environment)) / "prometheus"
    rule_files = sorted((folder / "rules").glob("*.yml"))
    tests = sorted((folder / "tests").glob("*.yml"))
    assert [p.stem for p in rule_files] == sorted(ENGINE_ALERTS)
    assert [p.name.removesuffix(".test.yml") for p in tests] == sorted(ENGINE_ALERTS)
    checked = run([promtool, "check", "rules", *rule_files])
    assert checked.returncode == 0, checked.stdout + checked.stderr
    result = run([promtool, "test", "rules", *(t.name for t in tests)], cwd=folder / "tests")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(tests)


def test_each_alert_is_tested_firing_and_silent(tmp_path: Path) -> None:
    folder = rendered(tmp_path, make_spec()) / "prometheus" / "tests"
    paths = sorted(folder.glob("*.yml"))
    assert [p.name.removesuffix(".test.yml") for p in paths] == sorted(ENGINE_ALERTS)
    for path in paths:
        document = yaml.safe_load(path.read_text())
        cases = [(t["alertname"], bool(t["exp_alerts"])) for test in document["tests"] for t in test["alert_rule_test"]]
        alerts = ENGINE_ALERTS[path.name.removesuffix(".test.yml")]
        assert sorted(cases) == sorted([(a, True) for a in alerts] + [(a, False) for a in alerts])


@pytest.mark.parametrize(
    ("alert", "broken"),
    [
        ("VllmHighTimeToFirstToken", "> 1000000"),  # can never fire: the bad case must catch it
        ("OnnxQueueBuildup", "> -1"),  # always fires: the good case must catch it
    ],
)
def test_a_broken_rule_fails_its_generated_test(tmp_path: Path, alert: str, broken: str) -> None:
    promtool = tool("promtool")
    folder = rendered(tmp_path, make_spec()) / "prometheus"
    group = "slm-vllm" if alert.startswith("Vllm") else "slm-onnx"
    rule_file = folder / "rules" / f"{group}.yml"
    document = yaml.safe_load(rule_file.read_text())
    for rule in document["groups"][0]["rules"]:
        if rule["alert"] == alert:
            rule["expr"] = rule["expr"].rsplit(" > ", 1)[0] + f" {broken}"
    rule_file.write_text(yaml.safe_dump(document))
    result = run([promtool, "test", "rules", f"{group}.test.yml"], cwd=folder / "tests")
    assert result.returncode != 0
    assert f"alertname: {alert}" in result.stdout + result.stderr


def test_the_models_of_a_native_engine_share_one_metrics_path() -> None:
    """Checked once, where engines are grouped; a probed engine's health paths may differ."""
    models = [
        {"name": "onnx-a", "engine": "onnx", "preset": "qwen3-0.6b", "quantization": "int4-cpu"},
        {"name": "onnx-b", "engine": "onnx", "preset": "qwen3-0.6b", "quantization": "int4-cpu"},
    ]
    _, plans = spec_and_plans(models=models)
    assert engine_groups(plans)[0].metrics_path == plans[0].metrics.path
    moved = [plans[0], replace(plans[1], metrics=replace(plans[1].metrics, path="/other"))]
    with pytest.raises(InventoryError, match=r"onnx serve metrics on different paths: \['/metrics', '/other'\]"):
        engine_groups(moved)
