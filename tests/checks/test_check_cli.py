"""`slm-deploy check`: real validators on fixture renders and on every shipped stack.

Two runs go through the command end to end, as a user runs it (the good fixture, and one bad
one). Each bad fixture (tests/checks/fixtures/bad-*) is a render folder with one known
problem: its own validator runs on it in-process and must report it. Every shipped stack is
rendered once and checked by every validator; checkov and hadolint scan the repository's
Dockerfiles once, together with the manifests of all stacks, instead of once per stack.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from components.check import checkov, hadolint
from components.check.inputs import Inputs, find_dockerfiles
from components.check.report import Result, exit_status
from components.check.runner import VALIDATORS, run_checks
from components.cli import Project, main, render_stack
from tests.conftest import REPO, shipped_stacks

FIXTURES = Path(__file__).parent / "fixtures"
CLI = [sys.executable, "-m", "components.cli"]
WORKERS = os.cpu_count() or 2


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], cwd=REPO, capture_output=True, text=True, timeout=600, check=False)


#: The rows of the table, in order; the runner's validators in the same order.
NAMES = [
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
BY_NAME: dict[str, Callable[[Inputs], Result]] = dict(zip(NAMES, VALIDATORS, strict=True))


def rows(stdout: str) -> dict[str, str]:
    """validator -> its table line."""
    table = {}
    for line in stdout.splitlines():
        for name in NAMES:
            if line.startswith(name + "  "):
                table[name] = line
    return table


# --- end to end: one good, one bad -----------------------------------------------------------


@pytest.fixture(scope="module")
def end_to_end() -> dict[str, subprocess.CompletedProcess[str]]:
    """`slm-deploy check --from` on the good fixture and on one bad one, side by side."""
    names = ["good", "bad-promtool-rules"]
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        results = pool.map(lambda name: cli("check", "--from", str(FIXTURES / name)), names)
        return dict(zip(names, results, strict=True))


def test_good_fixture_passes_every_validator_and_lists_skips_and_unchecked_kinds(
    end_to_end: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    result = end_to_end["good"]
    assert result.returncode == 0, result.stdout + result.stderr
    table = rows(result.stdout)
    assert list(table) == NAMES
    for name in NAMES:
        assert " passed" in table[name], table[name]
    # The render holds no Dockerfile: checkov and hadolint check the repository's (the ONNX server).
    dockerfiles = len(find_dockerfiles(REPO))
    assert dockerfiles >= 1
    assert f"{dockerfiles} Dockerfiles" in table["hadolint"]
    assert f"12 Kubernetes files, {dockerfiles} Dockerfiles" in table["checkov"]
    # The annotated skip is listed with its reason; it is not a finding.
    assert "CKV_K8S_43: skipped: images are pinned by tag" in result.stdout
    # cert-manager's Certificate has no vendored schema: listed as unchecked, not counted as passed.
    assert "11 of 12 objects" in table["kubernetes-validate"]
    assert "(4 by vendored CRD schema)" in table["kubernetes-validate"]
    assert "1 unchecked" in table["kubernetes-validate"]
    assert "Certificate/slm/qwen3-small: kubernetes-validate: no schema" in result.stdout
    assert "all validators passed" in result.stdout


def test_bad_fixture_fails_the_command_and_prints_the_finding(
    end_to_end: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    result = end_to_end["bad-promtool-rules"]
    assert result.returncode == 1, result.stdout + result.stderr
    table = rows(result.stdout)
    assert list(table) == NAMES
    assert "FAILED" in table["promtool check rules"]
    assert [name for name, line in table.items() if "FAILED" in line] == ["promtool check rules"]
    finding = "observability/prometheus/rules/slm-serving.yml: group slm-serving, rule 1 ModelServerDown: "
    assert any(line.strip().startswith(finding) for line in result.stdout.splitlines()), result.stdout
    assert result.stdout.rstrip().endswith("FAILED: promtool check rules")


# --- each bad fixture, by its own validator ----------------------------------------------------

#: (fixture folder, validator that must fail, start of a finding line it must report)
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


@pytest.fixture(scope="module")
def bad_results() -> dict[tuple[str, str], Result]:
    """Each (fixture, validator) pair once, side by side (checkov is the slow one)."""
    pairs = sorted({(fixture, validator) for fixture, validator, _ in BAD})

    def run(pair: tuple[str, str]) -> Result:
        fixture, validator = pair
        return BY_NAME[validator](Inputs.gather(FIXTURES / fixture, None))

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return dict(zip(pairs, pool.map(run, pairs), strict=True))


@pytest.mark.parametrize(("fixture", "validator", "finding"), BAD, ids=[f"{b[0]}:{b[1]}" for b in BAD])
def test_bad_fixture_fails_its_validator_with_the_finding(
    bad_results: dict[tuple[str, str], Result], fixture: str, validator: str, finding: str
) -> None:
    result = bad_results[(fixture, validator)]
    assert result.failed and result.outcome.startswith("FAILED"), result
    lines = [f.line() for f in result.findings]
    assert any(line.startswith(finding) for line in lines), lines


def test_every_fixture_folder_is_exercised() -> None:
    folders = {p.name for p in FIXTURES.iterdir() if p.is_dir()}
    assert folders == {"good"} | {fixture for fixture, _, _ in BAD}


# --- every shipped stack -----------------------------------------------------------------------


#: The validators that look at the repository's Dockerfiles run once, in the test below.
REPOSITORY_WIDE = ("checkov", "hadolint")


@pytest.fixture(scope="module")
def shipped_renders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every shipped stack rendered as `slm-deploy render` does (in this process: the program
    runs under mocks, a few seconds for all of them)."""
    out = tmp_path_factory.mktemp("shipped")
    project = Project.find(REPO)
    renders = {}
    for stack in shipped_stacks():
        render_stack(project, stack, out / stack)
        renders[stack] = out / stack
    return renders


@pytest.fixture(scope="module")
def shipped_results(shipped_renders: dict[str, Path]) -> dict[str, list[Result]]:
    """Per stack, every validator but the repository-wide ones, run side by side."""
    tasks = [(stack, name) for stack in shipped_renders for name in NAMES if name not in REPOSITORY_WIDE]

    def run(task: tuple[str, str]) -> Result:
        stack, name = task
        return BY_NAME[name](Inputs.gather(shipped_renders[stack], None))

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        results = list(pool.map(run, tasks))
    by_stack: dict[str, list[Result]] = {stack: [] for stack in shipped_renders}
    for (stack, _), result in zip(tasks, results, strict=True):
        by_stack[stack].append(result)
    return by_stack


@pytest.mark.parametrize("stack", shipped_stacks())
def test_shipped_stack_passes_every_validator(
    shipped_renders: dict[str, Path], shipped_results: dict[str, list[Result]], stack: str
) -> None:
    results = shipped_results[stack]
    assert [r.validator for r in results] == [name for name in NAMES if name not in REPOSITORY_WIDE]
    failed = [f"{r.validator}: {r.outcome}: {[f.line() for f in r.findings]}" for r in results if r.failed]
    assert not failed
    assert (shipped_renders[stack] / "plan.json").is_file()


def test_shipped_manifests_and_the_repositorys_dockerfiles_pass_checkov_and_hadolint(
    shipped_renders: dict[str, Path], tmp_path: Path
) -> None:
    """One checkov run over the Kubernetes manifests of every stack and the repository's
    Dockerfiles (what `slm-deploy check <stack>` runs per stack), and one hadolint run."""
    combined = tmp_path / "all-stacks"
    for stack, render in shipped_renders.items():
        if (render / "kubernetes").is_dir():
            shutil.copytree(render / "kubernetes", combined / "kubernetes" / stack)
    inputs = Inputs.gather(combined, REPO)
    assert inputs.dockerfiles and inputs.kubernetes_files
    scanned = checkov.validate(inputs)
    assert not scanned.failed, [f.line() for f in scanned.findings] or scanned.error
    assert scanned.count == len(inputs.kubernetes_files) + len(inputs.dockerfiles)
    linted = hadolint.validate(inputs)
    assert not linted.failed, [f.line() for f in linted.findings] or linted.error
    assert linted.count == len(inputs.dockerfiles)


# --- missing tools and usage errors ------------------------------------------------------------


def test_a_missing_tool_is_a_failure_with_an_install_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing on PATH: promtool and amtool (Debian packages) cannot be found.
    monkeypatch.setenv("PATH", str(tmp_path))
    inputs = Inputs.gather(FIXTURES / "bad-amtool", None)
    amtool, promtool = BY_NAME["amtool check-config"](inputs), BY_NAME["promtool check rules"](inputs)
    assert amtool.outcome.startswith("FAILED: amtool not found: run `make setup`")
    # promtool has nothing to check in this fixture, and still fails: a missing tool is never a skip.
    assert promtool.outcome.startswith("FAILED: promtool not found: run `make setup`")
    assert exit_status([amtool]) == exit_status([promtool]) == 1


def test_the_check_of_a_render_runs_every_validator_in_table_order() -> None:
    """Also proves BY_NAME pairs each row with its own validator."""
    results = run_checks(FIXTURES / "bad-amtool", None)
    assert [r.validator for r in results] == NAMES
    assert [name for name, fn in BY_NAME.items() if fn(Inputs.gather(FIXTURES / "bad-amtool", None)).failed] == [
        "amtool check-config"
    ]


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
def test_usage_errors_exit_2_with_one_line(
    args: tuple[str, ...], message: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(REPO)
    assert main(["check", *args]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
