"""Replica counts: disruption budgets, and autoscaling when the stack asks for it.

A plan whose engine exports a queue metric (``<prefix>num_requests_waiting``: vLLM's, and the
ONNX server's under its own prefix) scales on queue depth with a KEDA ScaledObject reading
Prometheus; a plan without one (CPU-bound engines with no metrics) scales on CPU with a
HorizontalPodAutoscaler. Stabilization windows and bounds come from the spec; a model scales
to zero only when the spec says so, and then wakes on the spec's wake query, because no pod
exports the queue metric at zero replicas.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import pulumi_kubernetes as k8s

from components.plan import ServingPlan
from components.spec.durations import duration_seconds
from components.spec.models import Autoscaling

KEDA_API_VERSION = "keda.sh/v1alpha1"
#: How often KEDA asks Prometheus (seconds).
KEDA_POLLING_SECONDS = 15
#: Failed Prometheus queries in a row before KEDA falls back to a fixed replica count.
KEDA_FALLBACK_FAILURES = 3
#: At most this many pods added or removed per period: model servers start slowly, and a
#: burst of cold starts only adds load on the cache and the registry.
STEP_PODS = 1
SCALE_UP_PERIOD_SECONDS = 60
SCALE_DOWN_PERIOD_SECONDS = 120


@dataclass(frozen=True)
class Workload:
    kind: str
    name: str
    api_version: str = "apps/v1"


def queue_metric(plan: ServingPlan) -> str | None:
    """The gauge of waiting requests, when the engine exports vLLM-style metrics."""
    if plan.metrics.prefix is None or plan.metrics.port is None:
        return None
    return f"{plan.metrics.prefix}num_requests_waiting"


def disruption_budget(selector: dict[str, str]) -> k8s.policy.v1.PodDisruptionBudgetSpecArgs:
    """One pod at a time may be evicted: drains proceed, replicas > 1 keep serving.
    Pods that are not ready may always be evicted, so a crash-looping pod never blocks a drain."""
    return k8s.policy.v1.PodDisruptionBudgetSpecArgs(
        max_unavailable=1,
        selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector),
        unhealthy_pod_eviction_policy="AlwaysAllow",
    )


def behavior(scaling: Autoscaling) -> dict[str, Any]:
    """The HPA ``behavior`` (the API's own field names): one pod per period up and down, after
    the spec's stabilization windows. Defined once: KEDA passes it to the HPA it creates, and
    the CPU autoscaler uses it as is."""

    def rules(window: str, period: int) -> dict[str, Any]:
        return {
            "stabilizationWindowSeconds": int(duration_seconds(window)),
            "selectPolicy": "Max",
            "policies": [{"type": "Pods", "value": STEP_PODS, "periodSeconds": period}],
        }

    return {
        "scaleUp": rules(scaling.scale_up_stabilization, SCALE_UP_PERIOD_SECONDS),
        "scaleDown": rules(scaling.scale_down_stabilization, SCALE_DOWN_PERIOD_SECONDS),
    }


def cpu_autoscaler(target: Workload, scaling: Autoscaling) -> k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs:
    """Scale on CPU utilization (of the requests) for engines without a queue metric."""
    return k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs(
        scale_target_ref=k8s.autoscaling.v2.CrossVersionObjectReferenceArgs(
            api_version=target.api_version, kind=target.kind, name=target.name
        ),
        min_replicas=max(1, scaling.min_replicas),
        max_replicas=scaling.max_replicas,
        metrics=[
            k8s.autoscaling.v2.MetricSpecArgs(
                type="Resource",
                resource=k8s.autoscaling.v2.ResourceMetricSourceArgs(
                    name="cpu",
                    target=k8s.autoscaling.v2.MetricTargetArgs(
                        type="Utilization", average_utilization=scaling.target_cpu_utilization
                    ),
                ),
            )
        ],
        # Pulumi sends a mapping's keys unchanged, and these are already the API's names.
        behavior=cast(k8s.autoscaling.v2.HorizontalPodAutoscalerBehaviorArgs, behavior(scaling)),
    )


def queue_query(metric: str, namespace: str, model: str) -> str:
    return f'sum({metric}{{namespace="{namespace}",model_name="{model}"}})'


def scaled_object(
    target: Workload,
    plan: ServingPlan,
    scaling: Autoscaling,
    *,
    namespace: str,
    prometheus_url: str,
) -> dict[str, Any]:
    """The ScaledObject spec: queue depth per replica from Prometheus, and the wake query."""
    triggers: list[dict[str, Any]] = []
    metric = queue_metric(plan)
    if metric is not None:
        triggers.append(
            {
                "type": "prometheus",
                "name": "queue-depth",
                "metricType": "AverageValue",
                "metadata": {
                    "serverAddress": prometheus_url,
                    "query": queue_query(metric, namespace, plan.model),
                    "threshold": str(scaling.target_queue_depth),
                    "ignoreNullValues": "true",
                },
            }
        )
    if scaling.scale_to_zero and scaling.wake_query is not None:
        triggers.append(
            {
                "type": "prometheus",
                "name": "wake",
                "metricType": "AverageValue",
                "metadata": {
                    "serverAddress": prometheus_url,
                    "query": scaling.wake_query,
                    "threshold": str(scaling.target_queue_depth),
                    "activationThreshold": "0",
                    "ignoreNullValues": "true",
                },
            }
        )
    minimum = 0 if scaling.scale_to_zero else max(1, scaling.min_replicas)
    return {
        "scaleTargetRef": {"apiVersion": target.api_version, "kind": target.kind, "name": target.name},
        "minReplicaCount": minimum,
        "maxReplicaCount": scaling.max_replicas,
        "pollingInterval": KEDA_POLLING_SECONDS,
        "cooldownPeriod": int(duration_seconds(scaling.scale_down_stabilization)),
        "fallback": {"failureThreshold": KEDA_FALLBACK_FAILURES, "replicas": max(1, scaling.min_replicas)},
        "advanced": {
            "restoreToOriginalReplicaCount": False,
            "horizontalPodAutoscalerConfig": {"name": f"{target.name}-keda", "behavior": behavior(scaling)},
        },
        "triggers": triggers,
    }
