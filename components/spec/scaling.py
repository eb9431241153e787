"""How many pods a model may run and what it scales on: facts the spec rules and the
Kubernetes target share, so a rule and the objects it guards cannot disagree."""

from __future__ import annotations

from typing import TYPE_CHECKING

from components.catalog import Engine

if TYPE_CHECKING:
    from components.spec.models import ModelSpec

#: Pods a Deployment's rolling update adds before it removes an old one (maxSurge; with
#: maxUnavailable 0 a rollout never drops below capacity). A StatefulSet (per-replica cache)
#: replaces its pods in place and adds none.
SURGE_PODS = 1
#: Engines whose servers export a queue gauge (``<prefix>num_requests_waiting``): they scale on
#: queue depth with KEDA reading Prometheus; the others scale on CPU.
QUEUE_METRIC_ENGINES = frozenset({Engine.VLLM, Engine.ONNX})


def max_replicas(model: ModelSpec) -> int:
    """The most replicas the model runs: the autoscaler's maximum, else its fixed count."""
    if model.autoscaling is not None:
        return model.autoscaling.max_replicas
    return model.replicas if model.replicas is not None else 1


def max_pods(model: ModelSpec, *, per_replica_cache: bool) -> int:
    """The most pods the model runs at once, a rollout's surge pod included."""
    return max_replicas(model) + (0 if per_replica_cache else SURGE_PODS)


def scales_on_queue(model: ModelSpec) -> bool:
    """The model is autoscaled by KEDA from Prometheus: on its queue gauge, or from zero."""
    scaling = model.autoscaling
    return scaling is not None and (model.engine in QUEUE_METRIC_ENGINES or scaling.scale_to_zero)
