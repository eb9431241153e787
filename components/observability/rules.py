"""Alert rules defined once, as data: one group per engine in the stack, plus GPUs.

Each rule carries its expression, ``for`` and severity (from ``spec.alerting``), its
annotations, and a :class:`Scenario`: series on which it must fire and series on which it
must stay silent. The Prometheus rule files, the PrometheusRule objects and the
``promtool test rules`` files are all generated from these objects.

Every alert has the labels ``severity`` and ``model`` (GPU alerts carry ``model`` where the
scrape attaches it). Thresholds appear literally in the expressions, so each environment
gets its own rule files.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from components.observability.inventory import INFERENCE_ROUTES, EngineGroup, ScrapedModel, engine_groups
from components.plan import ServingPlan
from components.spec import DeploymentSpec
from components.spec.durations import duration_seconds, format_duration
from components.spec.models import Threshold

#: Rate window of every expression; long enough for a 15 s scrape interval and short tests.
RATE_WINDOW = "5m"
RATE_WINDOW_MINUTES = 5
DCGM_JOB = "dcgm"
PAGE, TICKET = "page", "ticket"
VALUE = '{{ printf "%.3g" $value }}'


def number(value: float) -> str:
    """A float as PromQL reads it back exactly (``10``, ``0.1``, ``1e-05``)."""
    text = repr(float(value))
    return text.removesuffix(".0")


def selector(name: str, labels: Mapping[str, str]) -> str:
    """``name{a="x", b="y"}`` with labels in order, as promtool input series are written."""
    inner = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


@dataclass(frozen=True)
class Series:
    selector: str
    values: str
    """promtool's expanding notation, e.g. ``0+10x20``."""


@dataclass(frozen=True)
class Scenario:
    """A bad case on which the alert fires with ``labels`` and ``value``, and a good case."""

    bad: tuple[Series, ...]
    good: tuple[Series, ...]
    labels: Mapping[str, str]
    value: float


@dataclass(frozen=True)
class AlertRule:
    name: str
    condition: str
    """What the alert is about (``target_down``, ``ttft``, ...): selects the runbook text."""
    title: str
    """The engine or component it watches, for people (``vLLM``, ``GPU``)."""
    expr: str
    for_: str
    severity: str
    summary: str
    description: str
    runbook_url: str
    scenario: Scenario
    metrics: tuple[str, ...] = field(default=())
    """Series names the expression reads, for the runbook."""

    @property
    def labels(self) -> dict[str, str]:
        return {"severity": self.severity}

    @property
    def annotations(self) -> dict[str, str]:
        return {"summary": self.summary, "description": self.description, "runbook_url": self.runbook_url}

    def to_rule(self) -> dict[str, Any]:
        """The rule as Prometheus (and a PrometheusRule's spec) reads it."""
        return {
            "alert": self.name,
            "expr": self.expr,
            "for": self.for_,
            "labels": self.labels,
            "annotations": self.annotations,
        }


@dataclass(frozen=True)
class RuleGroup:
    name: str
    rules: tuple[AlertRule, ...]

    def to_group(self) -> dict[str, Any]:
        return {"name": self.name, "rules": [r.to_rule() for r in self.rules]}


# --- building ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    """What every rule of a stack shares: thresholds, severities and the runbook location."""

    spec: DeploymentSpec
    runbook_base: str

    def severity(self, klass: str) -> str:
        severities = self.spec.alerting.severities
        return severities.page if klass == PAGE else severities.ticket

    def runbook(self, alert: str) -> str:
        return f"{self.runbook_base}/{alert}.md"


def eval_minutes(for_: str) -> int:
    """When a condition held since the first sample has surely fired: the rate window fills,
    then ``for`` elapses, plus two minutes of slack. The rule tests evaluate at this minute."""
    return math.ceil(duration_seconds(for_) / 60) + RATE_WINDOW_MINUTES + 2


def _samples(for_: str) -> str:
    """The count for promtool's ``axN`` notation: a sample every minute up to the evaluation."""
    return str(eval_minutes(for_))


def _labels(group: EngineGroup, model: ScrapedModel) -> dict[str, str]:
    """Target labels a scrape gives every series of a model."""
    return {"job": group.job, "model": model.model, "instance": f"{model.model}:{model.port}"}


def _engine_labels(group: EngineGroup, model: ScrapedModel) -> dict[str, str]:
    """Target labels plus the engine's own ``model_name`` label."""
    return {**_labels(group, model), "model_name": model.model}


def _rule(
    ctx: _Context,
    *,
    name: str,
    title: str,
    klass: str,
    condition: str,
    expr: str,
    for_: str,
    summary: str,
    description: str,
    scenario: Scenario,
    metrics: tuple[str, ...],
) -> AlertRule:
    """A rule with the stack's severity for ``klass`` (PAGE or TICKET) and the runbook named after it."""
    return AlertRule(
        name=name,
        condition=condition,
        title=title,
        expr=expr,
        for_=for_,
        severity=ctx.severity(klass),
        summary=summary,
        description=description,
        runbook_url=ctx.runbook(name),
        scenario=scenario,
        metrics=metrics,
    )


def _latency_rule(
    ctx: _Context, group: EngineGroup, *, alert: str, condition: str, metric: str, what: str, threshold: Threshold
) -> AlertRule:
    model = group.models[0]
    name = group.metric(metric)
    low, high = number(threshold.value / 2), number(threshold.value * 2)
    n = _samples(threshold.for_)
    series = _engine_labels(group, model)

    def buckets(counts: tuple[str, str, str]) -> tuple[Series, ...]:
        return tuple(
            Series(selector(f"{name}_bucket", {**series, "le": le}), f"{count}x{n}")
            for le, count in zip((low, high, "+Inf"), counts, strict=True)
        )

    limit = number(threshold.value)
    return _rule(
        ctx,
        name=f"{group.profile.alert_prefix}{alert}",
        title=group.profile.title,
        klass=TICKET,
        condition=condition,
        expr=(
            f"histogram_quantile(0.95, sum by (model, le) "
            f'(rate({name}_bucket{{job="{group.job}"}}[{RATE_WINDOW}]))) > {limit}'
        ),
        for_=threshold.for_,
        summary=f"{{{{ $labels.model }}}}: p95 {what} above {limit}s",
        description=(
            f"The 95th percentile {what} of {{{{ $labels.model }}}} ({group.profile.title}) is {VALUE}s, "
            f"above {limit}s, for {threshold.for_}."
        ),
        scenario=Scenario(
            # Every observation above the highest finite bucket: p95 is that bucket's bound.
            bad=buckets(("0", "0", "0+10")),
            good=buckets(("0+10", "0+10", "0+10")),
            labels={"model": model.model},
            value=float(high),
        ),
        metrics=(f"{name}_bucket",),
    )


def target_down_for(threshold: str, group: EngineGroup) -> str:
    """How long a server may be unreachable before its target-down alert fires: the longest
    startup budget of the engine's servers, or ``targetDownFor`` when that is longer. A cold
    start (weights loading) leaves /metrics and the health endpoint unanswered for up to the
    budget; it must not page."""
    budget = group.startup_budget_seconds
    return threshold if duration_seconds(threshold) >= budget else format_duration(budget)


def _target_down(ctx: _Context, group: EngineGroup) -> AlertRule:
    model = group.models[0]
    threshold = ctx.spec.alerting.thresholds.target_down_for
    for_ = target_down_for(threshold, group)
    n = _samples(for_)
    if group.profile.native:
        metric, labels, how = "up", _labels(group, model), "its /metrics endpoint cannot be scraped"
    else:
        target = f"http://{model.model}:{model.port}{model.path}"
        metric, labels, how = "probe_success", {**_labels(group, model), "instance": target}, "its health probe fails"
    return _rule(
        ctx,
        name=f"{group.profile.alert_prefix}TargetDown",
        title=group.profile.title,
        klass=PAGE,
        condition="target_down",
        expr=f'{metric}{{job="{group.job}"}} == 0',
        for_=for_,
        summary="{{ $labels.model }} is down ({{ $labels.instance }})",
        description=(
            f"{group.profile.title} server {{{{ $labels.instance }}}} of model {{{{ $labels.model }}}} has been "
            f"unreachable for {for_}: {how}. The alert waits {for_}, the longest startup budget of the "
            f"{group.profile.title} servers ({format_duration(group.startup_budget_seconds)}) or targetDownFor "
            f"({threshold}) if longer, so a cold start does not fire it."
        ),
        scenario=Scenario(
            bad=(Series(selector(metric, labels), f"0x{n}"),),
            good=(Series(selector(metric, labels), f"1x{n}"),),
            labels=labels,
            value=0.0,
        ),
        metrics=(metric,),
    )


def _error_ratio(ctx: _Context, group: EngineGroup) -> AlertRule:
    model = group.models[0]
    threshold = ctx.spec.alerting.thresholds.error_ratio
    n = _samples(threshold.for_)
    counter, route = group.http_counter, group.profile.route_label
    base = {**_labels(group, model), route: "/v1/chat/completions"}
    errors = selector(counter, {**base, "status": group.profile.status_error})
    ok = selector(counter, {**base, "status": group.profile.status_ok})
    per_minute = 1000
    good_errors = math.floor(per_minute * threshold.value / 2)
    good = [Series(ok, f"0+{per_minute - good_errors}x{n}")]
    if good_errors:
        good.append(Series(errors, f"0+{good_errors}x{n}"))
    limit = number(threshold.value)
    matcher = f'job="{group.job}", {route}=~"{INFERENCE_ROUTES}"'
    return _rule(
        ctx,
        name=f"{group.profile.alert_prefix}HighErrorRatio",
        title=group.profile.title,
        klass=PAGE,
        condition="error_ratio",
        expr=(
            f'sum by (model) (rate({counter}{{{matcher}, status=~"5.."}}[{RATE_WINDOW}])) '
            f"/ sum by (model) (rate({counter}{{{matcher}}}[{RATE_WINDOW}])) > {limit}"
        ),
        for_=threshold.for_,
        summary=f"{{{{ $labels.model }}}}: more than {limit} of requests fail",
        description=(
            f"{VALUE} of the inference requests to {{{{ $labels.model }}}} ({group.profile.title}) were answered "
            f"with a 5xx status over {RATE_WINDOW}, above {limit}, for {threshold.for_}."
        ),
        scenario=Scenario(
            bad=(Series(errors, f"0+10x{n}"),),
            good=tuple(good),
            labels={"model": model.model},
            value=1.0,
        ),
        metrics=(counter,),
    )


def _queue(ctx: _Context, group: EngineGroup) -> AlertRule:
    model = group.models[0]
    threshold = ctx.spec.alerting.thresholds.queue_depth
    n = _samples(threshold.for_)
    name = group.metric("num_requests_waiting")
    waiting = math.floor(threshold.value) + 1
    series = selector(name, _engine_labels(group, model))
    limit = number(threshold.value)
    return _rule(
        ctx,
        name=f"{group.profile.alert_prefix}QueueBuildup",
        title=group.profile.title,
        klass=TICKET,
        condition="queue",
        expr=f'avg by (model) ({name}{{job="{group.job}"}}) > {limit}',
        for_=threshold.for_,
        summary="{{ $labels.model }}: requests are queueing",
        description=(
            f"On average {VALUE} requests per replica of {{{{ $labels.model }}}} ({group.profile.title}) are "
            f"waiting, above {limit}, for {threshold.for_}."
        ),
        scenario=Scenario(
            bad=(Series(series, f"{waiting}x{n}"),),
            good=(Series(series, f"0x{n}"),),
            labels={"model": model.model},
            value=float(waiting),
        ),
        metrics=(name,),
    )


def _kv_cache(ctx: _Context, group: EngineGroup) -> AlertRule:
    model = group.models[0]
    threshold = ctx.spec.alerting.thresholds.kv_cache_usage
    n = _samples(threshold.for_)
    name = group.metric("kv_cache_usage_perc")
    series = selector(name, _engine_labels(group, model))
    full = number((1 + threshold.value) / 2)
    limit = number(threshold.value)
    return _rule(
        ctx,
        name=f"{group.profile.alert_prefix}KVCacheNearFull",
        title=group.profile.title,
        klass=TICKET,
        condition="kv_cache",
        expr=f'max by (model) ({name}{{job="{group.job}"}}) > {limit}',
        for_=threshold.for_,
        summary="{{ $labels.model }}: KV cache nearly full",
        description=(
            f"The KV cache of {{{{ $labels.model }}}} ({group.profile.title}) is {VALUE} used (0 to 1), "
            f"above {limit}, for {threshold.for_}; requests will be preempted or queued."
        ),
        scenario=Scenario(
            bad=(Series(series, f"{full}x{n}"),),
            good=(Series(series, f"{number(threshold.value / 2)}x{n}"),),
            labels={"model": model.model},
            value=float(full),
        ),
        metrics=(name,),
    )


def _stalled(ctx: _Context, group: EngineGroup) -> AlertRule:
    model = group.models[0]
    for_ = ctx.spec.alerting.thresholds.engine_stalled_for
    n = _samples(for_)
    running, tokens = group.metric("num_requests_running"), group.metric("generation_tokens_total")
    labels = _engine_labels(group, model)
    job = f'{{job="{group.job}"}}'
    return _rule(
        ctx,
        name=f"{group.profile.alert_prefix}EngineStalled",
        title=group.profile.title,
        klass=PAGE,
        condition="stalled",
        expr=(
            f"(sum by (model) ({running}{job}) > 0) and on (model) "
            f"(sum by (model) (rate({tokens}{job}[{RATE_WINDOW}])) == 0)"
        ),
        for_=for_,
        summary="{{ $labels.model }}: requests run but no tokens come out",
        description=(
            f"{VALUE} requests are running on {{{{ $labels.model }}}} ({group.profile.title}) but it generated "
            f"no token in {RATE_WINDOW}, for {for_}: the engine is stalled."
        ),
        scenario=Scenario(
            bad=(Series(selector(running, labels), f"2x{n}"), Series(selector(tokens, labels), f"0x{n}")),
            good=(Series(selector(running, labels), f"2x{n}"), Series(selector(tokens, labels), f"0+600x{n}")),
            labels={"model": model.model},
            value=2.0,
        ),
        metrics=(running, tokens),
    )


def _engine_group(ctx: _Context, group: EngineGroup) -> RuleGroup:
    thresholds = ctx.spec.alerting.thresholds
    rules = [_target_down(ctx, group)]
    if group.profile.native:
        rules += [
            _latency_rule(
                ctx,
                group,
                alert="HighTimeToFirstToken",
                condition="ttft",
                metric="time_to_first_token_seconds",
                what="time to first token",
                threshold=thresholds.time_to_first_token_p95_seconds,
            ),
            _latency_rule(
                ctx,
                group,
                alert="HighInterTokenLatency",
                condition="itl",
                metric="inter_token_latency_seconds",
                what="inter-token latency",
                threshold=thresholds.inter_token_latency_p95_seconds,
            ),
            _error_ratio(ctx, group),
            _queue(ctx, group),
        ]
        if group.profile.kv_cache:
            rules.append(_kv_cache(ctx, group))
        rules.append(_stalled(ctx, group))
    return RuleGroup(f"slm-{group.job}", tuple(rules))


# --- GPUs ----------------------------------------------------------------------------------


def _gpu_labels(models: Sequence[str]) -> dict[str, str]:
    return {
        "job": DCGM_JOB,
        "instance": "dcgm-exporter:9400",
        "gpu": "0",
        "UUID": "GPU-00000000-0000-0000-0000-000000000000",
        "model": ",".join(models),
    }


def _gpu_group(ctx: _Context, models: Sequence[str]) -> RuleGroup:
    thresholds = ctx.spec.alerting.thresholds
    labels = _gpu_labels(models)
    job = f'{{job="{DCGM_JOB}"}}'
    where = "GPU {{ $labels.gpu }} on {{ $labels.instance }}"

    xid = selector("DCGM_FI_DEV_XID_ERRORS", labels)
    n_xid = _samples("0m")
    temp = thresholds.gpu_temperature_celsius
    n_temp = _samples(temp.for_)
    temp_series = selector("DCGM_FI_DEV_GPU_TEMP", labels)
    mem = thresholds.gpu_memory_usage
    n_mem = _samples(mem.for_)
    total = 1000
    used_bad, used_good = math.ceil(total * (1 + mem.value) / 2), math.floor(total * mem.value / 2)

    def fb(used: int) -> tuple[Series, ...]:
        return (
            Series(selector("DCGM_FI_DEV_FB_USED", labels), f"{used}x{n_mem}"),
            Series(selector("DCGM_FI_DEV_FB_FREE", labels), f"{total - used}x{n_mem}"),
        )

    rules = (
        _rule(
            ctx,
            name="GpuXidError",
            title="GPU",
            klass=PAGE,
            condition="gpu_xid",
            expr=f"max_over_time(DCGM_FI_DEV_XID_ERRORS{job}[{RATE_WINDOW}]) > 0",
            for_="0m",
            summary=f"{where}: XID error {VALUE}",
            description=(
                f"{where} (models {{{{ $labels.model }}}}) reported XID error {VALUE} in the last {RATE_WINDOW}. "
                "XID 48, 63, 64, 74, 79, 92, 94, 95, 119 and 120 point at hardware or driver faults."
            ),
            scenario=Scenario(
                bad=(Series(xid, f"0 0 79x{n_xid}"),),
                good=(Series(xid, f"0x{n_xid}"),),
                labels=labels,
                value=79.0,
            ),
            metrics=("DCGM_FI_DEV_XID_ERRORS",),
        ),
        _rule(
            ctx,
            name="GpuHighTemperature",
            title="GPU",
            klass=TICKET,
            condition="gpu_temperature",
            expr=f"DCGM_FI_DEV_GPU_TEMP{job} > {number(temp.value)}",
            for_=temp.for_,
            summary=f"{where}: {VALUE} °C",
            description=(
                f"{where} (models {{{{ $labels.model }}}}) has been at {VALUE} °C, above "
                f"{number(temp.value)} °C, for {temp.for_}; it will throttle."
            ),
            scenario=Scenario(
                bad=(Series(temp_series, f"{number(temp.value + 10)}x{n_temp}"),),
                good=(Series(temp_series, f"{number(temp.value - 20)}x{n_temp}"),),
                labels=labels,
                value=float(number(temp.value + 10)),
            ),
            metrics=("DCGM_FI_DEV_GPU_TEMP",),
        ),
        _rule(
            ctx,
            name="GpuMemoryNearFull",
            title="GPU",
            klass=TICKET,
            condition="gpu_memory",
            expr=(
                f"DCGM_FI_DEV_FB_USED{job} / (DCGM_FI_DEV_FB_USED{job} + DCGM_FI_DEV_FB_FREE{job}) "
                f"> {number(mem.value)}"
            ),
            for_=mem.for_,
            summary=f"{where}: framebuffer {VALUE} used",
            description=(
                f"{where} (models {{{{ $labels.model }}}}) has {VALUE} of its memory in use (0 to 1), above "
                f"{number(mem.value)}, for {mem.for_}. vLLM preallocates --gpu-memory-utilization, so about "
                "0.9 is normal."
            ),
            scenario=Scenario(bad=fb(used_bad), good=fb(used_good), labels=labels, value=used_bad / total),
            metrics=("DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_FREE"),
        ),
    )
    return RuleGroup("slm-gpu", rules)


def runbook_base(spec: DeploymentSpec) -> str:
    base = spec.alerting.runbook_base_url
    return base.rstrip("/") if base else "runbooks"


def rule_groups(spec: DeploymentSpec, plans: Sequence[ServingPlan]) -> list[RuleGroup]:
    """Every rule group of the stack: one per engine, and ``slm-gpu`` when a model uses a GPU."""
    ctx = _Context(spec, runbook_base(spec))
    groups = [_engine_group(ctx, group) for group in engine_groups(plans)]
    gpu = [p.model for p in plans if p.uses_gpu]
    if gpu:
        groups.append(_gpu_group(ctx, gpu))
    return groups


def alert_rules(groups: Sequence[RuleGroup]) -> list[AlertRule]:
    return [rule for group in groups for rule in group.rules]
