"""Grafana dashboards built with grafana-foundation-sdk: an overview of all models, one per
engine in the stack, and one for GPUs.

Every dashboard has the datasource as a variable (``$datasource``, so it works with file
provisioning and the kube-prometheus-stack sidecar alike) and ``model`` as a multi-value
variable. Queries take metric prefixes and jobs from the plans (through
:mod:`components.observability.inventory`). The SDK build is pinned to the Grafana version
the stack deploys (:data:`components.observability.images.GRAFANA`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from grafana_foundation_sdk.builders import prometheus, stat, timeseries
from grafana_foundation_sdk.builders.dashboard import Dashboard, DatasourceVariable, QueryVariable, Row
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef

from components.observability.inventory import INFERENCE_ROUTES, EngineGroup, engine_groups
from components.observability.rules import DCGM_JOB
from components.plan import ServingPlan

DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
WINDOW = "$__rate_interval"
MODEL = 'model=~"$model"'
TAGS = ["slm-deploy"]


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str


@dataclass(frozen=True)
class PanelSpec:
    title: str
    unit: str
    queries: tuple[Query, ...]
    kind: str = "timeseries"
    description: str = ""


@dataclass(frozen=True)
class DashboardSpec:
    uid: str
    title: str
    tags: tuple[str, ...]
    model_query: str
    """The query the ``model`` variable takes its values from."""
    rows: tuple[tuple[str, tuple[PanelSpec, ...]], ...]

    def queries(self) -> list[str]:
        return [q.expr for _, panels in self.rows for p in panels for q in p.queries] + [self.model_query]


# --- queries -------------------------------------------------------------------------------


def _sel(group: EngineGroup, extra: str = "") -> str:
    return "{" + ", ".join(filter(None, (f'job="{group.job}"', MODEL, extra))) + "}"


def _rate(group: EngineGroup, metric: str, by: str = "model", extra: str = "") -> str:
    return f"sum by ({by}) (rate({metric}{_sel(group, extra)}[{WINDOW}]))"


def _quantile(group: EngineGroup, q: float, metric: str) -> str:
    return f"histogram_quantile({q}, {_rate(group, group.metric(metric) + '_bucket', by='model, le')})"


def _error_ratio(group: EngineGroup) -> str:
    routes = f'{group.profile.route_label}=~"{INFERENCE_ROUTES}"'
    errors = _rate(group, group.http_counter, extra=f'{routes}, status=~"5.."')
    return f"{errors} / {_rate(group, group.http_counter, extra=routes)}"


def _latency(group: EngineGroup, metric: str, quantiles: Sequence[float]) -> tuple[Query, ...]:
    return tuple(Query(_quantile(group, q, metric), f"{{{{model}}}} p{round(q * 100)}") for q in quantiles)


# --- dashboards ----------------------------------------------------------------------------


def overview(groups: Sequence[EngineGroup]) -> DashboardSpec:
    """All models: request rate, error ratio, latency p50/p95, tokens/s, queue, health."""
    native = [g for g in groups if g.profile.native]
    probed = [g for g in groups if not g.profile.native]

    def per_group(build: Any) -> tuple[Query, ...]:
        return tuple(q for g in native for q in build(g))

    health = tuple(Query(f"max by (model) (up{_sel(g)})", "{{model}}") for g in native) + tuple(
        Query(f"max by (model) (probe_success{_sel(g)})", "{{model}}") for g in probed
    )
    traffic = (
        PanelSpec(
            "Requests finished per second",
            "reqps",
            per_group(lambda g: (Query(_rate(g, g.metric("request_success_total")), "{{model}}"),)),
        ),
        PanelSpec("Error ratio (5xx)", "percentunit", per_group(lambda g: (Query(_error_ratio(g), "{{model}}"),))),
        PanelSpec(
            "Tokens per second",
            "short",
            per_group(
                lambda g: (
                    Query(_rate(g, g.metric("generation_tokens_total")), "{{model}} generated"),
                    Query(_rate(g, g.metric("prompt_tokens_total")), "{{model}} prompt"),
                )
            ),
        ),
    )
    latency = (
        PanelSpec(
            "Time to first token",
            "s",
            per_group(lambda g: _latency(g, "time_to_first_token_seconds", (0.5, 0.95))),
        ),
        PanelSpec(
            "End-to-end latency",
            "s",
            per_group(lambda g: _latency(g, "e2e_request_latency_seconds", (0.5, 0.95))),
        ),
    )
    load = (
        PanelSpec(
            "Queue (requests waiting)",
            "short",
            per_group(lambda g: (Query(f"sum by (model) ({g.metric('num_requests_waiting')}{_sel(g)})", "{{model}}"),)),
        ),
        PanelSpec("Servers up", "short", health, kind="stat", description="1 when scraped or probed successfully"),
    )
    rows = [("Traffic", traffic), ("Latency", latency), ("Load", load)] if native else [("Load", load[1:])]
    return DashboardSpec(
        uid="slm-overview",
        title="SLM overview",
        tags=("overview",),
        model_query='label_values(up{model!=""}, model)',
        rows=tuple(rows),
    )


def native_engine(group: EngineGroup) -> DashboardSpec:
    """One engine with /metrics: latency, throughput, scheduler, HTTP, and its own extras."""
    running, waiting = group.metric("num_requests_running"), group.metric("num_requests_waiting")
    latency = (
        PanelSpec("Time to first token", "s", _latency(group, "time_to_first_token_seconds", (0.5, 0.95, 0.99))),
        PanelSpec("Inter-token latency", "s", _latency(group, "inter_token_latency_seconds", (0.5, 0.95, 0.99))),
        PanelSpec("End-to-end latency", "s", _latency(group, "e2e_request_latency_seconds", (0.5, 0.95))),
    )
    throughput = (
        PanelSpec(
            "Tokens per second",
            "short",
            (
                Query(_rate(group, group.metric("generation_tokens_total")), "{{model}} generated"),
                Query(_rate(group, group.metric("prompt_tokens_total")), "{{model}} prompt"),
            ),
        ),
        PanelSpec(
            "Finished requests by reason",
            "reqps",
            (
                Query(
                    _rate(group, group.metric("request_success_total"), by="model, finished_reason"),
                    "{{model}} {{finished_reason}}",
                ),
            ),
        ),
        PanelSpec(
            "HTTP responses by status",
            "reqps",
            (Query(_rate(group, group.http_counter, by="model, status"), "{{model}} {{status}}"),),
        ),
        PanelSpec("Error ratio (5xx)", "percentunit", (Query(_error_ratio(group), "{{model}}"),)),
    )
    scheduler = [
        PanelSpec(
            "Requests running and waiting",
            "short",
            (
                Query(f"sum by (model) ({running}{_sel(group)})", "{{model}} running"),
                Query(f"sum by (model) ({waiting}{_sel(group)})", "{{model}} waiting"),
            ),
        ),
        PanelSpec(
            "Prompt and generation length p50",
            "short",
            (
                Query(_quantile(group, 0.5, "request_prompt_tokens"), "{{model}} prompt"),
                Query(_quantile(group, 0.5, "request_generation_tokens"), "{{model}} generation"),
            ),
        ),
    ]
    if group.profile.kv_cache:
        scheduler += [
            PanelSpec(
                "KV cache usage",
                "percentunit",
                (Query(f"max by (model) ({group.metric('kv_cache_usage_perc')}{_sel(group)})", "{{model}}"),),
            ),
            PanelSpec(
                "Preemptions per second",
                "short",
                (Query(_rate(group, group.metric("num_preemptions_total")), "{{model}}"),),
            ),
            PanelSpec(
                "Prefix cache hit ratio",
                "percentunit",
                (
                    Query(
                        f"{_rate(group, group.metric('prefix_cache_hits_total'))} / "
                        f"{_rate(group, group.metric('prefix_cache_queries_total'))}",
                        "{{model}}",
                    ),
                ),
            ),
        ]
    return DashboardSpec(
        uid=f"slm-{group.job}",
        title=f"SLM {group.profile.title}",
        tags=(group.job,),
        model_query=f'label_values(up{{job="{group.job}"}}, model)',
        rows=(("Latency", latency), ("Throughput", throughput), ("Scheduler", tuple(scheduler))),
    )


def probed_engine(group: EngineGroup) -> DashboardSpec:
    """An engine without /metrics (Ollama): the blackbox probe and, on Kubernetes, cAdvisor's
    container metrics (the pods of a model are named after it)."""
    pods = 'container="server", pod=~"${model:regex}-.*"'
    health = (
        PanelSpec("Health probe", "short", (Query(f"max by (model) (probe_success{_sel(group)})", "{{model}}"),)),
        PanelSpec(
            "Probe duration", "s", (Query(f"max by (model) (probe_duration_seconds{_sel(group)})", "{{model}}"),)
        ),
    )
    containers = (
        PanelSpec(
            "Container CPU (cores)",
            "short",
            (Query(f"sum by (pod) (rate(container_cpu_usage_seconds_total{{{pods}}}[{WINDOW}]))", "{{pod}}"),),
            description="cAdvisor through the kubelet (Kubernetes targets)",
        ),
        PanelSpec(
            "Container memory",
            "bytes",
            (
                Query(f"sum by (pod) (container_memory_working_set_bytes{{{pods}}})", "{{pod}} working set"),
                Query(f"max by (pod) (container_spec_memory_limit_bytes{{{pods}}})", "{{pod}} limit"),
            ),
            description="cAdvisor through the kubelet (Kubernetes targets)",
        ),
    )
    return DashboardSpec(
        uid=f"slm-{group.job}",
        title=f"SLM {group.profile.title}",
        tags=(group.job,),
        model_query=f'label_values(probe_success{{job="{group.job}"}}, model)',
        rows=(("Health", health), ("Containers", containers)),
    )


def gpus() -> DashboardSpec:
    """GPUs from the DCGM exporter."""
    sel = f'{{job="{DCGM_JOB}", {MODEL}}}'
    by = "{{instance}} GPU {{gpu}}"
    panels = (
        PanelSpec("Temperature", "celsius", (Query(f"DCGM_FI_DEV_GPU_TEMP{sel}", by),)),
        PanelSpec("Power", "watt", (Query(f"DCGM_FI_DEV_POWER_USAGE{sel}", by),)),
        PanelSpec("Utilization", "percent", (Query(f"DCGM_FI_DEV_GPU_UTIL{sel}", by),)),
        PanelSpec(
            "Framebuffer used",
            "percentunit",
            (Query(f"DCGM_FI_DEV_FB_USED{sel} / (DCGM_FI_DEV_FB_USED{sel} + DCGM_FI_DEV_FB_FREE{sel})", by),),
        ),
        PanelSpec("SM clock", "hertz", (Query(f"DCGM_FI_DEV_SM_CLOCK{sel} * 1000000", by),)),
        PanelSpec("Last XID error", "short", (Query(f"max_over_time(DCGM_FI_DEV_XID_ERRORS{sel}[{WINDOW}])", by),)),
    )
    return DashboardSpec(
        uid="slm-gpu",
        title="SLM GPUs",
        tags=("gpu",),
        model_query=f'label_values(DCGM_FI_DEV_GPU_TEMP{{job="{DCGM_JOB}"}}, model)',
        rows=(("GPUs", panels),),
    )


def dashboard_specs(plans: Sequence[ServingPlan]) -> list[DashboardSpec]:
    groups = engine_groups(plans)
    specs = [overview(groups)]
    specs += [native_engine(g) if g.profile.native else probed_engine(g) for g in groups]
    if any(p.uses_gpu for p in plans):
        specs.append(gpus())
    return specs


# --- JSON ----------------------------------------------------------------------------------


def _panel(spec: PanelSpec, panel_id: int) -> Any:
    panel = (stat.Panel() if spec.kind == "stat" else timeseries.Panel()).title(spec.title).unit(spec.unit)
    panel = panel.id(panel_id).datasource(DATASOURCE).span(12 if spec.kind == "timeseries" else 24).height(8)
    if spec.description:
        panel = panel.description(spec.description)
    for index, query in enumerate(spec.queries):
        panel = panel.with_target(
            prometheus.Dataquery().ref_id(chr(ord("A") + index)).expr(query.expr).legend_format(query.legend)
        )
    return panel


def build(spec: DashboardSpec) -> dict[str, Any]:
    """The dashboard as Grafana's JSON model (a plain dict)."""
    dashboard = (
        Dashboard(spec.title)
        .uid(spec.uid)
        .tags([*TAGS, *spec.tags])
        .refresh("30s")
        .time("now-1h", "now")
        .readonly()
        .with_variable(DatasourceVariable("datasource").label("Data source").type("prometheus"))
        .with_variable(
            QueryVariable("model")
            .label("Model")
            .datasource(DATASOURCE)
            .query(spec.model_query)
            .multi(True)
            .include_all(True)
            .all_value(".*")
        )
    )
    panel_id = 1
    for title, panels in spec.rows:
        dashboard = dashboard.with_row(Row(title).id(panel_id))
        panel_id += 1
        for panel in panels:
            dashboard = dashboard.with_panel(_panel(panel, panel_id))
            panel_id += 1
    built: dict[str, Any] = json.loads(json.dumps(dashboard.build(), cls=JSONEncoder))
    return built


def dashboard_json(spec: DashboardSpec) -> str:
    return json.dumps(build(spec), indent=2, sort_keys=True) + "\n"
