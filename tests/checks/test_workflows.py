"""The GitHub workflows: pinned actions, least privilege, secrets only where an environment
guards them, the policy pack on every preview and update; and proof that the workflow linters
`make lint-workflows` runs (it runs them on the shipped workflows) catch what they are there for."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
BIN = Path(sys.executable).parent
PINNED = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}$")


def load(path: Path) -> dict[Any, Any]:
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict)
    return document


def steps(document: dict[Any, Any]) -> list[dict[str, Any]]:
    return [step for job in document["jobs"].values() for step in job.get("steps", [])]


def test_the_expected_workflows_exist() -> None:
    assert {p.name for p in WORKFLOWS} == {"pull-request.yml", "preview-stacks.yml", "preview-sweep.yml", "deploy.yml"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actions_are_pinned_by_commit_with_the_version_noted(path: Path) -> None:
    text = path.read_text()
    for line in text.splitlines():
        if "uses:" in line:
            ref = line.split("uses:", 1)[1].split("#")[0].strip()
            assert PINNED.match(ref), f"{path.name}: {ref} is not pinned to a full commit SHA"
            assert re.search(r"# v\d+\.\d+\.\d+$", line), f"{path.name}: say which version {ref} is"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_least_privilege_and_no_pull_request_target(path: Path) -> None:
    document = load(path)
    triggers = document[True]  # YAML 1.1 reads the key `on` as True
    assert "pull_request_target" not in triggers and "workflow_run" not in triggers
    assert document["permissions"] == {}, "no default token permissions; jobs ask for what they use"
    for name, job in document["jobs"].items():
        assert "permissions" in job, f"{path.name}:{name} must declare its permissions"
        assert "write-all" not in str(job["permissions"])
    for step in steps(document):
        if str(step.get("uses", "")).startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False


def test_deploys_go_through_environments_and_prod_waits_for_staging() -> None:
    deploy = load(REPO / ".github" / "workflows" / "deploy.yml")
    assert deploy["jobs"]["staging"]["environment"] == "staging"
    assert deploy["jobs"]["prod"]["environment"] == "production"
    assert deploy["jobs"]["prod"]["needs"] == "staging"
    for job in deploy["jobs"].values():
        pulumi = [s for s in job["steps"] if str(s.get("uses", "")).startswith("pulumi/actions@")]
        assert [s["with"]["command"] for s in pulumi] == ["up"]


def test_pulumi_steps_run_only_behind_the_credentials_gate() -> None:
    for path in WORKFLOWS:
        for step in steps(load(path)):
            if str(step.get("uses", "")).startswith(("pulumi/actions@", "azure/login@")):
                assert "steps.gate.outputs.ready == 'true'" in step.get("if", "") or "steps.exists" in step.get(
                    "if", ""
                ), f"{path.name}: {step.get('uses')} runs without the credentials gate"


def jobs() -> list[tuple[str, str, dict[str, Any]]]:
    return [(path.name, name, job) for path in WORKFLOWS for name, job in load(path)["jobs"].items()]


def uses_secrets(value: Any) -> bool:
    return "secrets." in str(value)


def test_pull_request_previews_run_in_their_own_read_only_environment() -> None:
    """pulumi preview runs the pull request's code: it gets the `pr-preview` environment's
    read-only credentials, never those of the environments that deploy."""
    job = load(REPO / ".github" / "workflows" / "pull-request.yml")["jobs"]["pulumi-preview"]
    assert job["environment"] == "pr-preview"
    deploying = {"staging", "production", "preview"}
    for workflow, name, job in jobs():
        if workflow == "pull-request.yml":
            assert job.get("environment") not in deploying, f"{name}: pull requests never get deploy credentials"


def test_secrets_only_in_environment_jobs_and_only_in_the_steps_that_use_them() -> None:
    for workflow, name, job in jobs():
        where = f"{workflow}:{name}"
        assert not uses_secrets(job.get("env")), f"{where}: secrets in the job's env reach every step"
        if any(uses_secrets(step) for step in job["steps"]):
            assert job.get("environment"), f"{where}: secrets without an environment guarding them"
        for step in job["steps"]:
            if uses_secrets(step.get("run")):
                pytest.fail(f"{where}: a run script reads a secret inline; pass it through the step's env")
            if step.get("id") == "gate":
                # the gate sees whether secrets are set, never their values
                assert all(" != ''" in str(value) for value in step["env"].values() if uses_secrets(value)), where


def test_every_preview_and_update_enforces_the_policy_pack() -> None:
    found = 0
    for workflow, name, job in jobs():
        for step in job["steps"]:
            if str(step.get("uses", "")).startswith("pulumi/actions@") and step.get("with", {}).get("command") in (
                "preview",
                "up",
            ):
                assert step["with"].get("policyPacks") == "policies", f"{workflow}:{name}"
                found += 1
    assert found == 4  # the PR previews, the preview stack, staging and prod
    assert (REPO / "policies" / "PulumiPolicy.yaml").is_file()


def test_jobs_with_credentials_install_only_the_project_virtualenv() -> None:
    """`make setup` adds the validators (a checkov virtualenv, Prometheus from apt): jobs that
    hold credentials run `make venv`, which the policy pack and the program need."""
    for workflow, name, job in jobs():
        commands = [str(step.get("run", "")) for step in job["steps"]]
        if job.get("environment"):
            assert not any("make setup" in c for c in commands), f"{workflow}:{name}"
            if any(str(step.get("uses", "")).startswith("pulumi/actions@") for step in job["steps"]):
                assert any("make venv" in c for c in commands), f"{workflow}:{name}"
    render = load(REPO / ".github" / "workflows" / "pull-request.yml")["jobs"]["render-diff"]
    assert any("make -C head venv" in str(step.get("run", "")) for step in render["steps"])


def _tool(name: str) -> str:
    found = BIN / name if (BIN / name).exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: run make setup")
    return str(found)


BAD_WORKFLOW = """\
name: bad
on: pull_request_target
jobs:
  build:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - run: echo "${{ github.event.pull_request.title }}"
"""


def test_the_workflow_linters_reject_a_dangerous_workflow(tmp_path: Path) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "bad.yml").write_text(BAD_WORKFLOW)
    zizmor = subprocess.run(
        [_tool("zizmor"), "--offline", "--no-progress", str(workflows)], capture_output=True, text=True, check=False
    )
    assert zizmor.returncode != 0
    assert "dangerous-triggers" in zizmor.stdout and "template-injection" in zizmor.stdout
    actionlint = subprocess.run(
        [_tool("actionlint"), str(workflows / "bad.yml")], capture_output=True, text=True, check=False
    )
    assert actionlint.returncode != 0 and "potentially untrusted" in actionlint.stdout
    schema = subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(workflows / "bad.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert schema.returncode == 0  # the schema checks shape only: the other two catch the danger
    (workflows / "bad.yml").write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    stepz: []\n")
    schema = subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(workflows / "bad.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert schema.returncode != 0
