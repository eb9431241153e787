"""What a stack's plans say about monitoring: which engines run, how each is scraped.

This is the one place that knows engines by name, as data (titles, alert name prefixes, the
HTTP counter each engine exports). Metric prefixes, ports and paths always come from the
plans, so a change to an engine's plan reaches every rule and dashboard.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from components.plan import ServingPlan


@dataclass(frozen=True)
class EngineProfile:
    """Facts about one engine's metrics that its plan does not carry."""

    engine: str
    title: str
    alert_prefix: str
    native: bool
    """Exports /metrics; otherwise probed through the blackbox exporter."""
    kv_cache: bool = False
    """Exports ``<prefix>kv_cache_usage_perc``."""
    http_counter: str = "{prefix}http_requests_total"
    """The HTTP request counter; vLLM's comes from its FastAPI instrumentator, unprefixed."""
    route_label: str = "path"
    status_error: str = "500"
    """A 5xx value of the counter's ``status`` label (vLLM groups codes as ``5xx``)."""
    status_ok: str = "200"


PROFILES: dict[str, EngineProfile] = {
    "vllm": EngineProfile(
        "vllm",
        "vLLM",
        "Vllm",
        native=True,
        kv_cache=True,
        http_counter="http_requests_total",
        route_label="handler",
        status_error="5xx",
        status_ok="2xx",
    ),
    "onnx": EngineProfile("onnx", "ONNX Runtime GenAI", "Onnx", native=True),
    "ollama": EngineProfile("ollama", "Ollama", "Ollama", native=False),
}

#: Routes that serve inference; health checks and scrapes stay out of error ratios.
INFERENCE_ROUTES = "/v1/.*"


@dataclass(frozen=True)
class ScrapedModel:
    model: str
    port: int
    """The metrics port (native) or the API port (probed)."""
    path: str
    """The metrics path (native) or the health path a probe fetches."""


@dataclass(frozen=True)
class EngineGroup:
    """All models of one engine in the stack: one scrape job, one rule group, one dashboard."""

    profile: EngineProfile
    prefix: str
    """Metric name prefix from the plans; empty for probed engines."""
    models: tuple[ScrapedModel, ...]
    startup_budget_seconds: int = 0
    """The longest startup budget of the engine's servers: how long a cold start may leave
    a server unreachable."""

    @property
    def job(self) -> str:
        return self.profile.engine

    def metric(self, name: str) -> str:
        return f"{self.prefix}{name}"

    @property
    def metrics_path(self) -> str:
        """Where a native engine's models serve metrics (:func:`engine_groups` checks it is one path)."""
        return self.models[0].path

    @property
    def http_counter(self) -> str:
        return self.profile.http_counter.format(prefix=self.prefix)


class InventoryError(ValueError):
    pass


def engine_groups(plans: Sequence[ServingPlan]) -> list[EngineGroup]:
    """One group per engine, in engine order; models in stack order. The models of an engine
    share its metric prefix and, when native, its metrics path."""
    by_engine: dict[str, list[ServingPlan]] = {}
    for plan in plans:
        by_engine.setdefault(plan.engine, []).append(plan)
    groups = []
    for engine in sorted(by_engine):
        members = by_engine[engine]
        profile = PROFILES.get(engine)
        if profile is None:
            raise InventoryError(f"no monitoring profile for engine {engine!r}")
        prefixes = {p.metrics.prefix or "" for p in members}
        if len(prefixes) != 1:
            raise InventoryError(f"models of engine {engine} export different prefixes: {sorted(prefixes)}")
        if profile.native != all(p.metrics.native for p in members):
            raise InventoryError(f"engine {engine}: plans and profile disagree on native metrics")
        models = tuple(
            ScrapedModel(p.model, p.metrics.port, p.metrics.path or "/metrics")
            if p.metrics.port is not None
            else ScrapedModel(p.model, p.api_port, p.metrics.health_path)
            for p in members
        )
        paths = {m.path for m in models}
        if profile.native and len(paths) != 1:
            raise InventoryError(f"models of engine {engine} serve metrics on different paths: {sorted(paths)}")
        budget = max(p.server.probes.startup_budget_seconds if p.server.probes else 0 for p in members)
        groups.append(EngineGroup(profile, prefixes.pop(), models, budget))
    return groups
