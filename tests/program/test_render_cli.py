"""`slm-deploy render` end to end, through the console script, as a user runs it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROGRAM, REPO, STACKS

CLI = [sys.executable, "-m", "components.cli"]


def slm_deploy(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project's program and stack files in a scratch folder."""
    shutil.copy(REPO / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    shutil.copy(PROGRAM, tmp_path / "__main__.py")
    shutil.copytree(STACKS, tmp_path / "stacks")
    return tmp_path


def read_all(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_render_twice_gives_identical_files(project: Path) -> None:
    first = slm_deploy("render", "local", "--out", "build/a", cwd=project)
    second = slm_deploy("render", "local", "--out", "build/b", cwd=project)
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    a, b = read_all(project / "build/a"), read_all(project / "build/b")
    assert {"plan.json", "SUMMARY.md"} <= set(a)
    assert a == b


def test_rendering_again_replaces_the_previous_render(project: Path) -> None:
    out = project / "build" / "local"
    assert slm_deploy("render", "local", cwd=project).returncode == 0
    (out / "stale.txt").write_text("old")
    assert slm_deploy("render", "local", cwd=project).returncode == 0
    assert not (out / "stale.txt").exists()


def test_wrong_engine_exits_2_names_the_key_and_writes_nothing(project: Path) -> None:
    text = (project / "stacks" / "Pulumi.local.yaml").read_text().replace("engine: ollama", "engine: vlm")
    (project / "stacks" / "Pulumi.bad.yaml").write_text(text)
    result = slm_deploy("render", "bad", cwd=project)
    assert result.returncode == 2
    assert result.stderr.strip() == "slm-deploy:models[0].engine: 'vlm' is not one of vllm, ollama, onnx"
    assert "Traceback" not in result.stderr + result.stdout
    assert not (project / "build").exists()


def test_unknown_stack_exits_2(project: Path) -> None:
    result = slm_deploy("render", "nope", cwd=project)
    assert result.returncode == 2
    assert "Pulumi.nope.yaml: no such stack file (known stacks: " in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (project / "build").exists()


def test_errors_raised_outside_cli_py_are_one_line_under_python_m_too(tmp_path: Path) -> None:
    """`python -m components.cli` runs cli.py as __main__: errors the helpers raise (here the
    preview helper's) must still be caught by main() and printed as one line."""
    event = tmp_path / "event.json"
    event.write_text("{}")
    result = slm_deploy("preview-stack", "--event", str(event), "--dry-run")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "event: no 'pull_request' object (is this a pull_request event payload?)"
    ]


def test_unparsable_stack_exits_2(project: Path) -> None:
    (project / "stacks" / "Pulumi.broken.yaml").write_text("config:\n  slm-deploy:target: [docker\n")
    result = slm_deploy("render", "broken", cwd=project)
    assert result.returncode == 2
    assert "not valid YAML at line" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (project / "build").exists()


def test_render_refuses_to_wipe_a_folder_that_is_not_a_render(project: Path) -> None:
    precious = project / "notes"
    precious.mkdir()
    (precious / "keep.txt").write_text("mine")
    result = slm_deploy("render", "local", "--out", "notes", cwd=project)
    assert result.returncode == 2
    assert (precious / "keep.txt").read_text() == "mine"


def test_pulumi_up_with_invalid_config_fails_cleanly_before_any_resource(project: Path) -> None:
    """The program itself (as `pulumi up` runs it) raises RunError with the same message."""
    from components.render import run_program
    from components.spec import read_stack_file

    text = (project / "stacks" / "Pulumi.local.yaml").read_text().replace("engine: ollama", "engine: vlm")
    (project / "stacks" / "Pulumi.bad.yaml").write_text(text)
    stack = read_stack_file(project / "stacks", "bad")
    import pulumi

    with pytest.raises(pulumi.RunError, match=r"slm-deploy:models\[0\]\.engine: 'vlm' is not one of"):
        run_program(project / "__main__.py", stack.config, stack.secret_keys, stack="bad")


def test_schema_and_catalog_commands() -> None:
    schema = slm_deploy("schema")
    assert schema.returncode == 0 and '"slm-deploy:models"' in schema.stdout
    catalog = slm_deploy("catalog")
    assert catalog.returncode == 0
    for preset in ("phi-4-mini-instruct", "qwen3-0.6b", "gemma-3-12b-it", "qwen2.5-3b-instruct"):
        assert preset in catalog.stdout
