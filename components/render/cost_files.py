"""``cost.json`` of a render: the stack's cost estimate as data, so `slm-deploy diff` can show
the cost change between two renders."""

from __future__ import annotations

from components.cost import cost_json, estimate_cost
from components.engines import build_plans
from components.render.harness import Recording
from components.spec import DeploymentSpec


def cost_files(recording: Recording, spec: DeploymentSpec) -> dict[str, str]:
    return {"cost.json": cost_json(estimate_cost(recording.stack, spec, build_plans(spec)))}
