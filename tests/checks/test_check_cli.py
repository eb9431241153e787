"""`slm-deploy check` end to end, as a user runs it: real validators on fixture renders.

Each bad fixture (tests/checks/fixtures/bad-*) is a render folder with one known problem that
its validator must report; the good fixture and every shipped stack must pass all of them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import REPO, shipped_stacks

FIXTURES = Path(__file__).parent / "fixtures"
CLI = [sys.executable, "-m", "components.cli", "check"]
VALIDATORS = [
    "kubernetes-validate",
    "checkov",
    "hadolint",
    "promtool check config",
    "promtool check rules",
    "promtool test rules",
    "amtool check-config",
    "yamllint",
    "crossguard policies",
]


@pytest.fixture(scope="module")
def fixture_runs() -> dict[str, subprocess.CompletedProcess[str]]:
    """One check per fixture folder, run side by side (checkov, the slow part, once per folder)."""
    names = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        results = pool.map(lambda name: check("--from", str(FIXTURES / name)), names)
        return dict(zip(names, results, strict=True))


def check(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False)


def rows(stdout: str) -> dict[str, str]:
    """validator -> its table line."""
    table = {}
    for line in stdout.splitlines():
        for name in VALIDATORS:
            if line.startswith(name + "  "):
                table[name] = line
    return table


def test_good_fixture_passes_every_validator_and_lists_skips_and_unchecked_kinds(
    fixture_runs: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    result = fixture_runs["good"]
    assert result.returncode == 0, result.stdout + result.stderr
    table = rows(result.stdout)
    assert list(table) == VALIDATORS
    for name in VALIDATORS:
        if name == "hadolint":
            continue  # the good render ships no Dockerfile; the repository's are checked by `check local`
        assert " passed" in table[name], table[name]
    assert "nothing to check" in table["hadolint"] or "passed" in table["hadolint"]
    # The annotated skip is listed with its reason; it is not a finding.
    assert "CKV_K8S_43: skipped: images are pinned by tag" in result.stdout
    # cert-manager's Certificate has no vendored schema: listed as unchecked, not counted as passed.
    assert "11 of 12 objects" in table["kubernetes-validate"]
    assert "(4 by vendored CRD schema)" in table["kubernetes-validate"]
    assert "1 unchecked" in table["kubernetes-validate"]
    assert "Certificate/slm/qwen3-small: kubernetes-validate: no schema" in result.stdout
    assert "all validators passed" in result.stdout


#: (fixture folder, validator row that must fail, start of a finding line it must print)
BAD = [
    (
        "bad-kubernetes-schema",
        "kubernetes-validate",
        "kubernetes/deployment-slm-qwen3-small.yaml: Deployment/slm/qwen3-small: kubernetes-validate: "
        "spec.template.spec.containers.0: Additional properties are not allowed ('imagePullPolcy' was unexpected)",
    ),
    (
        "bad-kubernetes-schema",
        "kubernetes-validate",
        "kubernetes/scaledobject-slm-qwen3-small.yaml: ScaledObject/slm/qwen3-small: kubernetes-validate: "
        "spec: Additional properties are not allowed ('maxReplicas' was unexpected) (CRD schema)",
    ),
    (
        "bad-kubernetes-schema",
        "kubernetes-validate",
        "kubernetes/podmonitor-slm-vllm.yaml: PodMonitor/slm/slm-vllm: kubernetes-validate: "
        "spec.podMetricsEndpoints.0: Additional properties are not allowed ('relabellings' was unexpected) "
        "(CRD schema)",
    ),
    (
        "bad-kubernetes-schema",
        "kubernetes-validate",
        "kubernetes/poddisruptionbudget-slm-qwen3-small.yaml: PodDisruptionBudget/slm/qwen3-small: "
        "kubernetes-validate: (root): policy/v1beta1 PodDisruptionBudget is not served (1.32, 1.37)",
    ),
    (
        "bad-checkov",
        "checkov",
        "kubernetes/deployment-slm-root.yaml: Deployment.slm.root-server: CKV_K8S_23: "
        "Minimize the admission of root containers",
    ),
    (
        "bad-checkov",
        "checkov",
        "kubernetes/deployment-slm-root.yaml: Deployment.slm.root-server: CKV_K8S_43: "
        "skipped without a checkov.io/skip",
    ),
    (
        "bad-checkov",
        "checkov",
        "kubernetes/deployment-slm-root.yaml: Deployment.slm.root-server: CKV_K8S_15: "
        "skipped without a checkov.io/skip",
    ),
    (
        "bad-dockerfile",
        "checkov",
        "images/app/Dockerfile: (whole file): CKV_DOCKER_3: Ensure that a user for the container has been created",
    ),
    ("bad-dockerfile", "hadolint", "images/app/Dockerfile: line 2: DL3008: warning: Pin versions in apt get install"),
    (
        "bad-promtool-config",
        "promtool check config",
        "observability/prometheus/prometheus.yml: config: promtool check config: FAILED: parsing YAML file "
        'prometheus.yml: not a valid duration string: "15x"',
    ),
    (
        "bad-promtool-rules",
        "promtool check rules",
        "observability/prometheus/rules/slm-serving.yml: group slm-serving, rule 1 ModelServerDown: "
        "promtool check rules: FAILED:",
    ),
    (
        "bad-promtool-test",
        "promtool test rules",
        "observability/prometheus/tests/slm-serving.test.yml: ModelServerDown@14m: promtool test rules: FAILED:",
    ),
    (
        "bad-amtool",
        "amtool check-config",
        'observability/alertmanager/alertmanager.yml: config: amtool check-config: FAILED: undefined receiver "pager"',
    ),
    (
        "bad-yamllint",
        "yamllint",
        'docker/container-qwen3-small.yaml: line 5:3: yamllint/key-duplicates: error: duplication of key "image"',
    ),
    (
        "bad-policies",
        "crossguard policies",
        "plan.json: docker:index/container:Container qwen3-small: images-pinned: "
        "container: image 'ollama/ollama:latest' uses the :latest tag",
    ),
]


@pytest.mark.parametrize(("fixture", "validator", "finding"), BAD, ids=[f"{b[0]}:{b[1]}" for b in BAD])
def test_bad_fixture_fails_and_names_the_finding(
    fixture_runs: dict[str, subprocess.CompletedProcess[str]], fixture: str, validator: str, finding: str
) -> None:
    result = fixture_runs[fixture]
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAILED" in rows(result.stdout)[validator]
    assert any(line.strip().startswith(finding) for line in result.stdout.splitlines()), result.stdout


@pytest.mark.parametrize("stack", shipped_stacks())
def test_shipped_stack_passes_and_lists_every_validator(stack: str, tmp_path: Path) -> None:
    result = check(stack, "--out", str(tmp_path / stack))
    assert result.returncode == 0, result.stdout + result.stderr
    assert list(rows(result.stdout)) == VALIDATORS
    assert "FAILED" not in result.stdout
    assert (tmp_path / stack / "plan.json").is_file()


def test_a_missing_tool_is_a_failure_with_an_install_hint(tmp_path: Path) -> None:
    # Only this Python on PATH: promtool and amtool (Debian packages) cannot be found.
    env = {**os.environ, "PATH": str(tmp_path)}
    result = check("--from", str(FIXTURES / "bad-amtool"), env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    table = rows(result.stdout)
    assert "FAILED: amtool not found: run `make setup`" in table["amtool check-config"]
    # promtool has nothing to check in this fixture, and still fails: a missing tool is never a skip.
    assert "FAILED: promtool not found: run `make setup`" in table["promtool check rules"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give a stack name or --from DIR"),
        (("local", "--from", "build/local"), "give a stack name or --from DIR"),
        (("--from", "stacks"), "not a render folder (no plan.json)"),
        (("--from", "tests/checks/fixtures/good", "--out", "x"), "--out only applies when rendering a stack"),
        (("no-such-stack",), "no-such-stack"),
    ],
)
def test_usage_errors_exit_2_with_one_line(args: tuple[str, ...], message: str) -> None:
    result = check(*args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
