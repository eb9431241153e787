"""Dashboards: built with the SDK build of the Grafana we deploy, datasource and model as
variables, the overview's panels, one dashboard per engine, one for GPUs."""

from __future__ import annotations

import importlib.metadata
import json

from components.observability import images
from components.observability.dashboards import build, dashboard_json, dashboard_specs
from tests.observability_support import ALL_ENGINES, spec_and_plans


def test_the_sdk_build_matches_the_grafana_image() -> None:
    installed = importlib.metadata.version("grafana-foundation-sdk")
    assert installed == images.GRAFANA_SDK
    assert installed.split("!")[1] == images.GRAFANA.tag


def test_one_dashboard_per_engine_plus_overview_and_gpus() -> None:
    _, plans = spec_and_plans()
    assert [d.uid for d in dashboard_specs(plans)] == [
        "slm-overview",
        "slm-ollama",
        "slm-onnx",
        "slm-vllm",
        "slm-gpu",
    ]
    _, cpu_only = spec_and_plans(models=[ALL_ENGINES[2]])
    assert [d.uid for d in dashboard_specs(cpu_only)] == ["slm-overview", "slm-ollama"]


def test_variables_datasource_and_multi_value_model() -> None:
    _, plans = spec_and_plans()
    for spec in dashboard_specs(plans):
        dashboard = build(spec)
        variables = {v["name"]: v for v in dashboard["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource"
        assert variables["datasource"]["query"] == "prometheus"
        model = variables["model"]
        assert model["type"] == "query" and model["multi"] is True and model["includeAll"] is True
        assert model["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        panels = [p for p in dashboard["panels"] if p["type"] != "row"]
        assert panels, spec.uid
        for panel in panels:
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
            assert panel["targets"], panel["title"]
            for target in panel["targets"]:
                assert 'model=~"$model"' in target["expr"] or "${model:regex}" in target["expr"], target["expr"]
        ids = [p["id"] for p in dashboard["panels"]]
        assert len(ids) == len(set(ids)), spec.uid
        assert dashboard["schemaVersion"] == 41  # Grafana 11.6's dashboard schema


def test_overview_has_rates_errors_latency_tokens_and_queue() -> None:
    _, plans = spec_and_plans()
    overview = build(dashboard_specs(plans)[0])
    panels = {p["title"]: p for p in overview["panels"] if p["type"] != "row"}
    assert set(panels) == {
        "Requests finished per second",
        "Error ratio (5xx)",
        "Tokens per second",
        "Time to first token",
        "End-to-end latency",
        "Queue (requests waiting)",
        "Servers up",
    }
    legends = [t["legendFormat"] for t in panels["Time to first token"]["targets"]]
    assert legends == ["{{model}} p50", "{{model}} p95"] * 2  # vLLM and ONNX
    exprs = " ".join(t["expr"] for t in panels["End-to-end latency"]["targets"])
    assert "vllm:e2e_request_latency_seconds_bucket" in exprs
    assert "ortgenai:e2e_request_latency_seconds_bucket" in exprs
    assert panels["Servers up"]["type"] == "stat"


def test_vllm_dashboard_shows_the_kv_cache_and_onnx_does_not() -> None:
    _, plans = spec_and_plans()
    by_uid = {d.uid: d for d in dashboard_specs(plans)}
    titles = {uid: {p.title for _, panels in by_uid[uid].rows for p in panels} for uid in ("slm-vllm", "slm-onnx")}
    assert "KV cache usage" in titles["slm-vllm"]
    assert "KV cache usage" not in titles["slm-onnx"]


def test_json_is_deterministic() -> None:
    _, plans = spec_and_plans()
    first = [dashboard_json(d) for d in dashboard_specs(plans)]
    second = [dashboard_json(d) for d in dashboard_specs(plans)]
    assert first == second
    assert all(json.loads(text)["uid"] for text in first)
