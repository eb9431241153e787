"""The CrossGuard validator of `slm-deploy check` on hand-written plan.json files: a resource
it cannot judge is one clear finding, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from components.check.crossguard import validate
from components.check.inputs import Inputs

CONTAINER = "docker:index/container:Container"


def check(tmp_path: Path, resources: Any) -> list[str]:
    (tmp_path / "plan.json").write_text(json.dumps({"stack": "t", "resources": resources, "outputs": {}}))
    result = validate(Inputs.gather(tmp_path, None))
    assert result.error is None, result.error
    return [finding.line() for finding in result.findings]


def test_resources_without_urn_or_name_are_one_finding_each(tmp_path: Path) -> None:
    found = check(
        tmp_path,
        [
            {"type": CONTAINER, "name": "web", "inputs": {"image": "nginx:1.27"}},
            {"type": CONTAINER, "urn": "urn:pulumi:t::p::x::y", "inputs": {}},
            "not-a-resource",
            {"type": CONTAINER, "name": "x", "urn": "urn:x", "inputs": ["a"]},
        ],
    )
    assert found == [
        "plan.json: resources[0]: plan.json: has no urn: not a resource the render writes",
        "plan.json: resources[1]: plan.json: has no name: not a resource the render writes",
        "plan.json: resources[2]: plan.json: is not an object (str)",
        "plan.json: resources[3]: plan.json: has inputs that are not an object",
    ]


def test_well_formed_resources_are_judged_and_a_read_with_an_empty_urn_is_one(tmp_path: Path) -> None:
    reference = {"type": "pulumi:pulumi:StackReference", "name": "cluster", "urn": "", "inputs": {"name": "a/b/c"}}
    latest = {"type": CONTAINER, "name": "web", "urn": "urn:pulumi:t::p::c::web", "inputs": {"image": "nginx"}}
    found = check(tmp_path, [reference, latest])
    assert any(line.startswith(f"plan.json: {CONTAINER} web: images-pinned:") for line in found)
    assert not any("pulumi:pulumi:StackReference" in line for line in found)


def test_a_plan_whose_resources_are_not_a_list_is_an_error_row(tmp_path: Path) -> None:
    (tmp_path / "plan.json").write_text(json.dumps({"resources": {"a": 1}}))
    result = validate(Inputs.gather(tmp_path, None))
    assert result.failed and result.error == "cannot read plan.json: resources is not a list"
