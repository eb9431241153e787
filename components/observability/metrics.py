"""The metric names each exporter puts on the wire, with where each list comes from.

Dashboards and alert rules may only use names listed here; a test parses every query and
expression and checks them against these lists. Names are as exposed (counters with
``_total``, histograms as ``_bucket``/``_sum``/``_count``), because that is what PromQL sees.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricSource:
    """One exporter's series names and the source they were taken from."""

    name: str
    names: frozenset[str]
    source: str


def _histogram(name: str) -> tuple[str, str, str]:
    return (f"{name}_bucket", f"{name}_sum", f"{name}_count")


VLLM = MetricSource(
    name="vllm",
    names=frozenset(
        {
            "vllm:num_requests_running",
            "vllm:num_requests_waiting",
            "vllm:kv_cache_usage_perc",
            "vllm:prefix_cache_queries_total",
            "vllm:prefix_cache_hits_total",
            "vllm:num_preemptions_total",
            "vllm:prompt_tokens_total",
            "vllm:generation_tokens_total",
            "vllm:request_success_total",
            *_histogram("vllm:request_prompt_tokens"),
            *_histogram("vllm:request_generation_tokens"),
            *_histogram("vllm:iteration_tokens_total"),
            *_histogram("vllm:time_to_first_token_seconds"),
            *_histogram("vllm:inter_token_latency_seconds"),
            *_histogram("vllm:e2e_request_latency_seconds"),
            *_histogram("vllm:request_queue_time_seconds"),
            *_histogram("vllm:request_prefill_time_seconds"),
            *_histogram("vllm:request_decode_time_seconds"),
            # The API server's HTTP metrics (prometheus_fastapi_instrumentator), unprefixed.
            "http_requests_total",
            *_histogram("http_request_duration_seconds"),
        }
    ),
    source=(
        "vllm-project/vllm:vllm/v1/metrics/loggers.py@005a810 and the 0.12-era snapshot "
        "(PrometheusStatLogger), docs/usage/metrics.md@044a056, HTTP metrics from "
        "docs/design/metrics.md@0328b59; ../shared/research/observability-security.md §1.1-1.3"
    ),
)

ONNX = MetricSource(
    name="onnx",
    names=frozenset(
        {
            "ortgenai:prompt_tokens_total",
            "ortgenai:generation_tokens_total",
            "ortgenai:request_success_total",
            "ortgenai:http_requests_total",
            "ortgenai:num_requests_running",
            "ortgenai:num_requests_waiting",
            *_histogram("ortgenai:time_to_first_token_seconds"),
            *_histogram("ortgenai:inter_token_latency_seconds"),
            *_histogram("ortgenai:e2e_request_latency_seconds"),
            *_histogram("ortgenai:request_prompt_tokens"),
            *_histogram("ortgenai:request_generation_tokens"),
        }
    ),
    source=(
        "images/onnx-server/slm_onnx_server/metrics.py EXPORTED_SERIES (our own server); "
        "checked against that tuple and against the live /metrics in the integration test"
    ),
)

DCGM = MetricSource(
    name="dcgm",
    names=frozenset(
        {
            "DCGM_FI_DEV_SM_CLOCK",
            "DCGM_FI_DEV_MEM_CLOCK",
            "DCGM_FI_DEV_GPU_TEMP",
            "DCGM_FI_DEV_MEMORY_TEMP",
            "DCGM_FI_DEV_POWER_USAGE",
            "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
            "DCGM_FI_DEV_PCIE_REPLAY_COUNTER",
            "DCGM_FI_DEV_GPU_UTIL",
            "DCGM_FI_DEV_MEM_COPY_UTIL",
            "DCGM_FI_DEV_XID_ERRORS",
            "DCGM_FI_DEV_FB_FREE",
            "DCGM_FI_DEV_FB_USED",
            "DCGM_FI_DEV_FB_RESERVED",
            "DCGM_FI_DEV_ROW_REMAP_FAILURE",
        }
    ),
    source=(
        "NVIDIA/dcgm-exporter:etc/default-counters.csv@d5e5f51 (device fields only; names are "
        "emitted verbatim, no _total); ../shared/research/observability-security.md §4.3"
    ),
)

BLACKBOX = MetricSource(
    name="blackbox",
    names=frozenset({"probe_success", "probe_duration_seconds", "probe_http_status_code"}),
    source="prometheus/blackbox_exporter prober/http.go and prober/handler.go (probe_* gauges)",
)

SCRAPE = MetricSource(
    name="scrape",
    names=frozenset({"up", "scrape_duration_seconds"}),
    source="Prometheus adds these per target on every scrape (docs: jobs and instances)",
)

CADVISOR = MetricSource(
    name="cadvisor",
    names=frozenset(
        {
            "container_cpu_usage_seconds_total",
            "container_memory_working_set_bytes",
            "container_spec_memory_limit_bytes",
        }
    ),
    source=(
        "google/cadvisor docs/storage/prometheus.md, served by the kubelet's /metrics/cadvisor, "
        "which kube-prometheus-stack scrapes (Kubernetes only)"
    ),
)

BY_ENGINE: dict[str, MetricSource] = {"vllm": VLLM, "onnx": ONNX}
"""Engines with native metrics; Ollama has none (research §2.1) and is probed instead."""

ALL_SOURCES = (VLLM, ONNX, DCGM, BLACKBOX, SCRAPE, CADVISOR)
