"""Prometheus metrics with vLLM's names under the `ortgenai:` prefix.

Dashboards and alert rules are templated by prefix, so every engine metric mirrors its
vLLM namesake (same type, unit and `model_name` label). EXPORTED_SERIES is the one list
of names that appear on the wire; the observability code and the tests read it from here.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics

PREFIX = "ortgenai:"

# Exposition adds suffixes: counters end in _total, histograms in _bucket/_sum/_count.
COUNTERS = (
    f"{PREFIX}prompt_tokens_total",
    f"{PREFIX}generation_tokens_total",
    f"{PREFIX}request_success_total",
    f"{PREFIX}http_requests_total",
)
GAUGES = (
    f"{PREFIX}num_requests_running",
    f"{PREFIX}num_requests_waiting",
)
HISTOGRAMS = (
    f"{PREFIX}time_to_first_token_seconds",
    f"{PREFIX}inter_token_latency_seconds",
    f"{PREFIX}e2e_request_latency_seconds",
    f"{PREFIX}request_prompt_tokens",
    f"{PREFIX}request_generation_tokens",
)
EXPORTED_SERIES: tuple[str, ...] = (
    *COUNTERS,
    *GAUGES,
    *(f"{name}{suffix}" for name in HISTOGRAMS for suffix in ("_bucket", "_sum", "_count")),
)

# vLLM's buckets, extended downwards: a small model on a CPU answers in milliseconds.
TTFT_BUCKETS = (
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75,
    1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0,
)  # fmt: skip
ITL_BUCKETS = (
    0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15,
    0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0,
)  # fmt: skip
E2E_BUCKETS = (
    0.01, 0.05, 0.1, 0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0,
    30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0,
)  # fmt: skip
TOKEN_BUCKETS = tuple(float(m * 10**e) for e in range(6) for m in (1, 2, 5))

# Finish reasons as vLLM labels them; `abort` covers client disconnects and shutdown.
FINISHED_REASONS = ("stop", "length", "abort", "error")


def _strip(name: str, suffix: str = "") -> str:
    """prometheus_client wants counter names without _total; it adds the suffix itself."""
    return name.removesuffix(suffix)


class ServerMetrics:
    """All collectors of one server, in a registry of their own (tests build several apps)."""

    def __init__(self, model_name: str) -> None:
        # <name>_created series double the counter output for no dashboard use.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        label = ["model_name"]
        self.model_name = model_name
        self.running = Gauge(_strip(GAUGES[0]), "Requests generating tokens.", label, registry=r).labels(model_name)
        self.waiting = Gauge(_strip(GAUGES[1]), "Requests admitted but not yet generating.", label, registry=r).labels(
            model_name
        )
        self.prompt_tokens = Counter(
            _strip(COUNTERS[0], "_total"), "Prompt tokens processed.", label, registry=r
        ).labels(model_name)
        self.generation_tokens = Counter(_strip(COUNTERS[1], "_total"), "Tokens generated.", label, registry=r).labels(
            model_name
        )
        self._success = Counter(
            _strip(COUNTERS[2], "_total"),
            "Finished requests by finish reason.",
            [*label, "finished_reason"],
            registry=r,
        )
        self.http_requests = Counter(
            _strip(COUNTERS[3], "_total"),
            "HTTP responses by route and status code.",
            ["path", "status"],
            registry=r,
        )
        self.ttft = Histogram(HISTOGRAMS[0], "Time to first token.", label, buckets=TTFT_BUCKETS, registry=r).labels(
            model_name
        )
        self.itl = Histogram(
            HISTOGRAMS[1], "Time between consecutive tokens.", label, buckets=ITL_BUCKETS, registry=r
        ).labels(model_name)
        self.e2e = Histogram(
            HISTOGRAMS[2], "End-to-end request latency.", label, buckets=E2E_BUCKETS, registry=r
        ).labels(model_name)
        self.request_prompt_tokens = Histogram(
            HISTOGRAMS[3], "Prompt length per request.", label, buckets=TOKEN_BUCKETS, registry=r
        ).labels(model_name)
        self.request_generation_tokens = Histogram(
            HISTOGRAMS[4], "Generated tokens per request.", label, buckets=TOKEN_BUCKETS, registry=r
        ).labels(model_name)
        for reason in FINISHED_REASONS:
            self._success.labels(model_name, reason)

    def finished(self, reason: str) -> None:
        self._success.labels(self.model_name, reason).inc()
