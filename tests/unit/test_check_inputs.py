"""What `slm-deploy check` looks at and how it judges a row (plain Python, no tools run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.check.inputs import find_dockerfiles
from components.check.kubernetes_schema import crd_schema_path, is_builtin
from components.check.report import Finding, Result, exit_status
from components.check.tools import QUOTE_LIMIT, ToolMissingError, find_tool, squeeze


def touch(root: Path, relative: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("FROM scratch\n")


def test_dockerfiles_are_found_everywhere_but_venvs_builds_and_fixtures(tmp_path: Path) -> None:
    for relative in [
        "Dockerfile",
        "images/onnx-server/Dockerfile",
        "images/gpu/Dockerfile.cuda",
        "images/tools/tools.Dockerfile",
        ".venv/lib/site-packages/pkg/Dockerfile",
        ".venv-tools/checkov/lib/Dockerfile",
        "build/local/Dockerfile",
        "node_modules/x/Dockerfile",
        "tests/checks/fixtures/bad-dockerfile/images/app/Dockerfile",
    ]:
        touch(tmp_path, relative)
    found = [str(p.relative_to(tmp_path)) for p in find_dockerfiles(tmp_path)]
    assert found == [
        "Dockerfile",
        "images/gpu/Dockerfile.cuda",
        "images/onnx-server/Dockerfile",
        "images/tools/tools.Dockerfile",
    ]


def test_a_render_folder_is_searched_without_pruning_fixtures(tmp_path: Path) -> None:
    touch(tmp_path, "tests/checks/fixtures/bad/Dockerfile")
    assert find_dockerfiles(tmp_path, prune_fixtures=False) == [tmp_path / "tests/checks/fixtures/bad/Dockerfile"]


def test_builtin_apis_and_custom_resources_are_told_apart() -> None:
    assert all(is_builtin(a) for a in ["v1", "apps/v1", "policy/v1beta1", "networking.k8s.io/v1", "resource.k8s.io/v1"])
    custom = ["monitoring.coreos.com/v1", "keda.sh/v1alpha1", "gateway.networking.k8s.io/v1"]
    assert not any(is_builtin(a) for a in custom)
    path = crd_schema_path("keda.sh/v1alpha1", "ScaledObject")
    assert path is not None
    assert path.is_file()
    assert crd_schema_path("v1", "Pod") is None


def test_a_row_fails_on_findings_or_a_missing_tool_and_unchecked_is_not_a_pass() -> None:
    clean = Result("yamllint", "2 files", count=2)
    unchecked = Result("kubernetes-validate", "1 of 2", count=2, unchecked=[Finding("f", "o", "c", "no schema")])
    empty = Result("hadolint", "no Dockerfiles")
    assert (clean.outcome, unchecked.outcome, empty.outcome) == ("passed", "passed (1 unchecked)", "nothing to check")
    assert exit_status([clean, unchecked, empty]) == 0
    found = Result("amtool check-config", "1 file", count=1, findings=[Finding("a.yml", "config", "amtool", "bad")])
    missing = Result("promtool check rules", "0 rule files", error=str(ToolMissingError("promtool")))
    assert found.outcome == "FAILED: 1 finding(s)"
    assert missing.outcome.startswith("FAILED: promtool not found: run `make setup`")
    assert exit_status([clean, found]) == exit_status([clean, missing]) == 1


def test_find_tool_names_the_install_hint_when_nothing_has_it() -> None:
    with pytest.raises(ToolMissingError, match=r"no-such-validator-xyz not found: run `make setup`"):
        find_tool("no-such-validator-xyz", [Path("/nonexistent")])


def test_squeeze_keeps_a_long_output_on_one_line_with_its_beginning_and_end() -> None:
    assert squeeze("FAILED:\n  rules.yml:  bad\n") == "FAILED: rules.yml: bad"
    traceback = "Traceback (most recent call last):\n" + "  File x, line 1\n" * 100 + "ValueError: boom\n"
    quoted = squeeze(traceback)
    assert len(quoted) <= QUOTE_LIMIT
    assert quoted.startswith("Traceback (most recent call last): File x")
    assert quoted.endswith("ValueError: boom")
    assert " ... " in quoted
