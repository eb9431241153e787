"""The vendored custom-resource schemas against objects the program really renders.

Shipped stacks cover PodMonitor, Probe and PrometheusRule (test_check_cli.py); the Gateway
exposure is in no shipped stack, so its HTTPRoutes are rendered here and validated the way
`slm-deploy check` does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from components.check import kubernetes_schema
from components.check.inputs import Inputs
from components.check.report import Result
from components.render.kubernetes_files import kubernetes_object
from tests.conftest import RunStack, stack_file


def http_routes(run_stack: RunStack) -> list[dict[str, Any]]:
    exposure = {"kind": "gateway", "host": "models.example.com", "gateway": "gateways/public", "listener": "https"}
    kubernetes = json.loads(stack_file("cluster").config["slm-deploy:kubernetes"]) | {"exposure": exposure}
    recording = run_stack("cluster", {"slm-deploy:kubernetes": kubernetes})
    documents = [kubernetes_object(r) for r in recording.resources if r.type.startswith("kubernetes:")]
    return [d for d in documents if d.get("kind") == "HTTPRoute"]


def check(documents: list[dict[str, Any]], render: Path) -> Result:
    (render / "kubernetes").mkdir(parents=True)
    for document in documents:
        path = render / "kubernetes" / f"httproute-{document['metadata']['name']}.yaml"
        path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return kubernetes_schema.validate(Inputs(render=render))


def test_rendered_http_routes_pass_the_gateway_api_schema_and_a_typo_does_not(
    run_stack: RunStack, tmp_path: Path
) -> None:
    routes = http_routes(run_stack)
    assert len(routes) == 2
    result = check(routes, tmp_path / "good")
    assert result.findings == [] and result.unchecked == []
    assert "(2 by vendored CRD schema)" in result.checked

    routes[0]["spec"]["parentRefs"][0]["sectionNames"] = routes[0]["spec"]["parentRefs"][0].pop("sectionName")
    [finding] = check(routes, tmp_path / "typo").findings
    assert "spec.parentRefs.0: Additional properties are not allowed ('sectionNames' was unexpected)" in finding.message
