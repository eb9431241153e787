"""The stack-file JSON Schema: generated from the models, committed, and valid for every stack."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from components.spec.schema import stack_file_schema
from tests.conftest import STACKS, shipped_stacks

COMMITTED = STACKS / "slm-deploy.schema.json"


def test_committed_schema_is_the_generated_one() -> None:
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert committed == stack_file_schema(), "regenerate: slm-deploy schema > stacks/slm-deploy.schema.json"


@pytest.mark.parametrize("stack", shipped_stacks())
def test_every_shipped_stack_file_validates(stack: str) -> None:
    document = yaml.safe_load((STACKS / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(stack_file_schema()).validate(document)


@pytest.mark.parametrize("stack", shipped_stacks())
def test_every_stack_file_points_editors_at_the_schema(stack: str) -> None:
    first = (STACKS / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=./slm-deploy.schema.json"


def test_schema_refuses_a_wrong_engine_and_unknown_keys() -> None:
    validator = jsonschema.Draft202012Validator(stack_file_schema())
    bad_engine = {
        "config": {
            "slm-deploy:target": "docker",
            "slm-deploy:environment": "dev",
            "slm-deploy:models": [{"name": "a", "engine": "vlm", "preset": "qwen3-0.6b"}],
        }
    }
    assert not validator.is_valid(bad_engine)
    typo = {"config": {"slm-deploy:target": "docker", "slm-deploy:environment": "dev", "slm-deploy:model": []}}
    assert not validator.is_valid(typo)


def test_schema_accepts_secure_values_and_other_namespaces() -> None:
    validator = jsonschema.Draft202012Validator(stack_file_schema())
    document = {
        "config": {
            "slm-deploy:target": "docker",
            "slm-deploy:environment": "dev",
            "slm-deploy:models": [{"name": "a", "engine": "ollama", "preset": "qwen3-0.6b"}],
            "slm-deploy:secrets": {"hfToken": {"secure": "v1:abc"}},
            "docker:host": "unix:///var/run/docker.sock",
        }
    }
    validator.validate(document)
