"""`slm-deploy diff` on real renders of the shipped `local` stack, changed through the harness."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from components.cli import main
from components.delivery.diff import diff_renders
from components.delivery.diff_report import COMMENT_MARKER, diff_markdown
from components.delivery.renders import load_render
from components.render import Recording, render_files, write_render
from components.spec import parse_config
from tests.conftest import RunStack, stack_config, stack_file


def models_with(**changes: Any) -> list[dict[str, Any]]:
    models = json.loads(stack_file("local").config["slm-deploy:models"])
    changed = copy.deepcopy(models)
    for key, value in changes.items():
        target = changed[0]
        *parents, leaf = key.split(".")
        for parent in parents:
            target = target[parent]
        target[leaf] = value
    return list(changed)


def write(recording: Recording, config: dict[str, str], folder: Path) -> Path:
    write_render(render_files(recording, parse_config(config)), folder)
    return folder


def render_stack(
    run_stack: RunStack, stack: str, folder: Path, overrides: dict[str, Any] | None = None, **kw: Any
) -> Path:
    recording = run_stack(stack, overrides, **kw)
    config, _ = stack_config(stack, overrides, kw.get("secrets"))
    return write(recording, config, folder)


def render_local(run_stack: RunStack, folder: Path, overrides: dict[str, Any] | None = None, **kw: Any) -> Path:
    return render_stack(run_stack, "local", folder, overrides, **kw)


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_identical_renders_show_no_change(run_stack: RunStack, tmp_path: Path) -> None:
    a = render_local(run_stack, tmp_path / "a")
    b = render_local(run_stack, tmp_path / "b")
    diff = diff_renders(load_render(a), load_render(b))
    assert diff.status == "unchanged"
    assert diff.resources == [] and diff.files == [] and diff.outputs == []


def test_a_changed_model_setting_is_one_changed_resource_with_its_input_and_file(
    run_stack: RunStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = render_local(run_stack, tmp_path / "a")
    b = render_local(
        run_stack, tmp_path / "b", {"slm-deploy:models": models_with(**{"modelfile.parameters.temperature": 0.5})}
    )
    diff = diff_renders(load_render(a), load_render(b))
    assert [(r.kind, r.name) for r in diff.resources] == [("changed", "local-qwen3-small-fetch")]
    assert [c.path for c in diff.resources[0].changes] == ["inputs.uploads[0].content"]
    assert [f.path for f in diff.files] == ["docker/modelfiles/qwen3-small.Modelfile"]
    assert "-PARAMETER temperature 0.3\n+PARAMETER temperature 0.5\n" in diff.files[0].diff

    code, out, _ = cli(capsys, "diff", str(a), str(b))
    assert code == 0
    assert "stack local: changed (0 added, 1 changed, 0 removed, 1 files)" in out


def test_a_changed_concurrency_changes_server_and_fetch_inputs(run_stack: RunStack, tmp_path: Path) -> None:
    a = render_local(run_stack, tmp_path / "a")
    b = render_local(run_stack, tmp_path / "b", {"slm-deploy:models": models_with(concurrency=3)})
    diff = diff_renders(load_render(a), load_render(b))
    changed = {r.name: r for r in diff.resources}
    assert set(changed) == {"local-qwen3-small-fetch", "local-qwen3-small-server"}
    server = {c.path: (c.old, c.new) for c in changed["local-qwen3-small-server"].changes}
    assert server["inputs.envs[7]"] == ("OLLAMA_NUM_PARALLEL=2", "OLLAMA_NUM_PARALLEL=3")


def test_a_new_model_adds_resources_and_files(run_stack: RunStack, tmp_path: Path) -> None:
    a = render_local(run_stack, tmp_path / "a")
    second = {"name": "gemma-small", "engine": "ollama", "preset": "gemma-3-1b-it"}
    b = render_local(run_stack, tmp_path / "b", {"slm-deploy:models": [*models_with(), second]})
    diff = diff_renders(load_render(a), load_render(b))
    added = {r.name for r in diff.resources if r.kind == "added"}
    assert "local-gemma-small-server" in added
    assert not [r for r in diff.resources if r.kind == "removed"]
    assert any(f.kind == "added" and "gemma-small" in f.path for f in diff.files)
    assert [c.path for c in diff.outputs] == ["endpoints.gemma-small", "servedModelNames.gemma-small"]


def test_secret_values_never_appear_in_a_diff(
    run_stack: RunStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """local-onnx hands its API key to the server as a file: the secret is in a resource's inputs.
    Renders hold it masked, so a rotated key is no change at all, and neither value is printed."""
    a = render_stack(
        run_stack, "local-onnx", tmp_path / "a", secrets={"slm-deploy:secrets": {"apiKey": "one-Sekr3t-long-enough"}}
    )
    b = render_stack(
        run_stack, "local-onnx", tmp_path / "b", secrets={"slm-deploy:secrets": {"apiKey": "two-Sekr3t-long-enough"}}
    )
    server = load_render(b).resources
    assert any("[secret]" in json.dumps(r["inputs"]) for r in server.values())
    assert diff_renders(load_render(a), load_render(b)).resources == []
    for fmt in ("text", "markdown"):
        code, out, _ = cli(capsys, "diff", str(a), str(b), "--format", fmt)
        assert code == 0
        assert "Sekr3t" not in out


def test_a_value_that_turns_secret_is_reported_without_its_value(tmp_path: Path) -> None:
    def render(folder: Path, value: str) -> Path:
        folder.mkdir()
        resource = {"urn": "urn:x::t::n", "type": "t", "name": "n", "inputs": {"token": value}}
        (folder / "plan.json").write_text(json.dumps({"stack": "s", "resources": [resource], "outputs": {}}))
        return folder

    diff = diff_renders(load_render(render(tmp_path / "a", "visible")), load_render(render(tmp_path / "b", "[secret]")))
    text = diff_markdown([diff])
    assert "secret (not shown)" in text and "visible" not in text


def test_render_sets_pair_stacks_by_name_and_markdown_is_bounded(
    run_stack: RunStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    render_local(run_stack, tmp_path / "base" / "local")
    second = {"name": "gemma-small", "engine": "ollama", "preset": "gemma-3-1b-it"}
    render_local(run_stack, tmp_path / "head" / "local", {"slm-deploy:models": [*models_with(), second]})
    render_local(run_stack, tmp_path / "head" / "extra")  # a stack that is new on the head

    code, full, _ = cli(capsys, "diff", str(tmp_path / "base"), str(tmp_path / "head"), "--format", "markdown")
    assert code == 0
    assert full.startswith(COMMENT_MARKER)
    assert "| `extra` | added |" in full and "| `local` | changed |" in full
    assert "Cut:" not in full

    limit = 3000
    code, cut, _ = cli(
        capsys,
        "diff",
        str(tmp_path / "base"),
        str(tmp_path / "head"),
        "--format",
        "markdown",
        "--max-chars",
        str(limit),
    )
    assert code == 0
    assert len(cut) <= limit
    assert "> **Cut:**" in cut
    assert cut.count("```") % 2 == 0, "a cut comment must not leave a code fence open"
    assert "| `local` | changed |" in cut, "the summary table survives the cut"


def _folder_with(path: Path, name: str, content: str) -> Path:
    path.mkdir()
    (path / name).write_text(content)
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing", "no such folder"),
        (lambda p: _folder_with(p / "notes", "x.txt", "x"), "neither a render"),
        (lambda p: _folder_with(p / "bad", "plan.json", "{"), "not valid JSON"),
        (lambda p: _folder_with(p / "shape", "plan.json", "[]"), "expected an object"),
    ],
)
def test_unusable_inputs_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: Any, message: str
) -> None:
    good = tmp_path / "good"
    good.mkdir()
    (good / "plan.json").write_text(json.dumps({"stack": "s", "resources": [], "outputs": {}}))
    code, out, err = cli(capsys, "diff", str(make(tmp_path)), str(good))
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1
    assert out == ""


def test_render_includes_cost_json_and_summary_cost_section(run_stack: RunStack, tmp_path: Path) -> None:
    folder = render_local(run_stack, tmp_path / "r")
    cost = json.loads((folder / "cost.json").read_text())
    assert cost["target"] == "docker" and cost["priced"] is False
    summary = (folder / "SUMMARY.md").read_text()
    assert "## Cost" in summary and "nothing here is billed by a cloud" in summary


def test_a_changed_replica_count_is_one_changed_resource(run_stack: RunStack, tmp_path: Path) -> None:
    models = json.loads(stack_file("preview").config["slm-deploy:models"])
    more = [{**models[0], "replicas": 2}, *models[1:]]
    a = render_stack(run_stack, "preview", tmp_path / "a")
    b = render_stack(run_stack, "preview", tmp_path / "b", {"slm-deploy:models": more})
    diff = diff_renders(load_render(a), load_render(b))
    changed = {r.name: r for r in diff.resources if r.kind == "changed"}
    assert {r.kind for r in diff.resources} == {"changed"}
    # One workload changes; the namespace quota, derived from every model's pods on purpose,
    # makes room for the second replica and its cache claim.
    workloads = [r for r in changed.values() if r.type == "kubernetes:apps/v1:StatefulSet"]
    assert [r.name for r in workloads] == ["preview-qwen3-small-server"]
    paths = [c.path for c in workloads[0].changes]
    assert "inputs.spec.replicas" in paths
    spread = "inputs.spec.template.spec.topologySpreadConstraints"
    assert all(p == "inputs.spec.replicas" or p.startswith(spread) for p in paths), "replicas > 1 spread out"
    assert set(changed) == {"preview-qwen3-small-server", "preview-quota"}
    quota = {c.path: (c.old, c.new) for c in changed["preview-quota"].changes}
    assert quota == {
        "inputs.spec.hard.pods": ("1", "2"),
        "inputs.spec.hard.persistentvolumeclaims": ("1", "2"),
        "inputs.spec.hard.requests.storage": ("3Gi", "6Gi"),
    }
