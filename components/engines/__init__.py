"""Engines turn a model spec into a target-neutral ServingPlan; one module per engine."""

from __future__ import annotations

from collections.abc import Callable

from components.catalog import Engine
from components.engines import ollama, onnx, vllm
from components.plan import ServingPlan
from components.spec import DeploymentSpec, ModelSpec

PlanBuilder = Callable[[ModelSpec, DeploymentSpec], ServingPlan]

BUILDERS: dict[Engine, PlanBuilder] = {
    Engine.VLLM: vllm.build_plan,
    Engine.OLLAMA: ollama.build_plan,
    Engine.ONNX: onnx.build_plan,
}


def build_plan(model: ModelSpec, spec: DeploymentSpec) -> ServingPlan:
    """The plan for one model of ``spec``."""
    return BUILDERS[model.engine](model, spec)


def build_plans(spec: DeploymentSpec) -> list[ServingPlan]:
    return [build_plan(model, spec) for model in spec.models]
