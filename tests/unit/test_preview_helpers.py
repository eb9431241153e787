"""The PR preview helpers on sample GitHub event payloads and `pulumi stack ls --json` output."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from components.cli import main
from components.delivery.preview import PreviewError, preview_document, preview_names
from components.spec import parse_config, read_stack_file
from tests.conftest import PROGRAM, REPO

FIXTURES = REPO / "tests" / "fixtures" / "delivery"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project whose stacks folder holds the preview template (a test stand-in)."""
    shutil.copy(REPO / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    shutil.copy(PROGRAM, tmp_path / "__main__.py")
    shutil.copytree(FIXTURES / "stacks", tmp_path / "stacks")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def github_outputs(text: str) -> dict[str, str]:
    """Parse `$GITHUB_OUTPUT` syntax, heredoc values included."""
    values: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line and "=" not in line.split("<<")[0]:
            key, delimiter = line.split("<<", 1)
            body = []
            for item in lines:
                if item == delimiter:
                    break
                body.append(item)
            values[key] = "\n".join(body)
        else:
            key, _, value = line.partition("=")
            values[key] = value
    return values


def test_dry_run_on_a_labeled_event_gives_the_stack_namespace_and_config(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "preview-stack", "--event", str(FIXTURES / "pull_request_labeled.json"), "--dry-run")
    assert code == 0, err
    outputs = github_outputs(out)
    assert outputs["stack"] == "pr-42"
    assert outputs["namespace"] == "pr-42"
    assert outputs["config-file"] == "stacks/Pulumi.pr-42.yaml"
    assert outputs["deploy"] == "true"
    assert outputs["expires-at"] == "2026-11-05T09:30:00Z"  # updated_at + the default 72h
    config = yaml.safe_load(outputs["config"])["config"]
    assert config["slm-deploy:kubernetes"]["namespace"] == "pr-42"
    assert config["slm-deploy:kubernetes"]["stackReference"] == {
        "stack": "acme/slm-deploy/staging",
        "output": "kubeconfig",
    }
    assert not (project / "stacks" / "Pulumi.pr-42.yaml").exists(), "a dry run writes nothing"


def test_without_dry_run_the_stack_file_is_written_and_is_a_valid_stack(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "preview-stack", "--pr", "42", "--ttl", "12h", "--now", "2026-11-02T00:00:00Z")
    assert code == 0
    assert github_outputs(out)["expires-at"] == "2026-11-02T12:00:00Z"
    stack = read_stack_file(project / "stacks", "pr-42")
    spec = parse_config(stack.config)
    assert spec.kubernetes is not None and spec.kubernetes.namespace == "pr-42"
    assert spec.environment.value == "preview"


def test_a_ttl_is_any_prometheus_duration(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "preview-stack", "--pr", "42", "--ttl", "1d12h", "--now", "2026-11-02T00:00:00Z", "--dry-run"
    )
    assert code == 0
    assert github_outputs(out)["expires-at"] == "2026-11-03T12:00:00Z"


@pytest.mark.parametrize(
    ("ttl", "error"), [("3 days", "is not a duration"), ("-1h", "is not a duration"), ("0h", "not longer than zero")]
)
def test_a_bad_ttl_is_one_line(project: Path, capsys: pytest.CaptureFixture[str], ttl: str, error: str) -> None:
    code, _, err = run(capsys, "preview-stack", "--pr", "42", f"--ttl={ttl}", "--dry-run")
    assert code == 2 and error in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("event", "args", "reason"),
    [
        ("pull_request_fork.json", [], "fork"),
        ("pull_request_labeled.json", ["--label", "deploy-preview"], "no 'deploy-preview' label"),
    ],
)
def test_events_that_do_not_deploy_say_why_and_write_nothing(
    project: Path, capsys: pytest.CaptureFixture[str], event: str, args: list[str], reason: str
) -> None:
    code, out, _ = run(capsys, "preview-stack", "--event", str(FIXTURES / event), *args)
    outputs = github_outputs(out)
    assert code == 0
    assert outputs["deploy"] == "false" and reason in outputs["reason"]
    assert not list((project / "stacks").glob("Pulumi.pr-*.yaml"))


def test_trigger_always_deploys_without_the_label(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    event = json.loads((FIXTURES / "pull_request_labeled.json").read_text())
    event["pull_request"]["labels"] = []
    (project / "event.json").write_text(json.dumps(event))
    _, out, _ = run(capsys, "preview-stack", "--event", "event.json", "--trigger", "always", "--dry-run")
    assert github_outputs(out)["deploy"] == "true"


def test_mismatched_pr_and_event_exit_2(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "preview-stack", "--pr", "5", "--event", str(FIXTURES / "pull_request_labeled.json"))
    assert code == 2 and "the event is for pull request 42" in err


def test_a_template_with_secure_values_is_refused(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = project / "stacks" / "Pulumi.preview.yaml"
    document = yaml.safe_load(template.read_text())
    document["config"]["slm-deploy:secrets"] = {"hfToken": {"secure": "v1:abc"}}
    template.write_text(yaml.safe_dump(document))
    code, _, err = run(capsys, "preview-stack", "--pr", "3", "--dry-run")
    assert code == 2 and "slm-deploy:secrets holds a secure value" in err


def test_per_stack_encryption_keys_are_not_copied() -> None:
    template = {"encryptionsalt": "v1:salt", "config": {"slm-deploy:target": "kubernetes"}}
    assert "encryptionsalt" not in preview_document(template, "pr-1")


def test_namespace_is_a_validated_dns_label() -> None:
    assert preview_names(7) == ("pr-7", "pr-7")
    with pytest.raises(PreviewError):
        preview_names(0)


@pytest.mark.parametrize(
    ("stack_ls", "prefix"),
    [("pulumi_stack_ls.json", "acme/slm-deploy/"), ("pulumi_stack_ls_short.json", "")],
    ids=["fully-qualified-names", "short-names"],
)
def test_expired_previews_print_name_tab_number(capsys: pytest.CaptureFixture[str], stack_ls: str, prefix: str) -> None:
    code, out, err = run(
        capsys,
        "expired-previews",
        "--stacks-json",
        str(FIXTURES / stack_ls),
        "--tags-dir",
        str(FIXTURES / "stack_tags"),
        "--default-ttl",
        "72h",
        "--now",
        "2026-11-02T12:00:00Z",
    )
    assert code == 0
    # pr-12: last update 3 days 4 hours ago > 72h; pr-40: its tag expired at midnight;
    # pr-41: updated 24h ago, still alive; staging is not a preview; pr-99 cannot be dated;
    # pr-0 is no pull request number.
    assert out.splitlines() == [f"{prefix}pr-12\t12", f"{prefix}pr-40\t40"]
    assert "pr-99" in err and "left alone" in err
    # The log says why each one goes.
    assert f"{prefix}pr-12: expired at 2026-11-02T08:00:00Z (last update + default ttl)" in err.splitlines()
    assert f"{prefix}pr-40: expired at 2026-11-02T00:00:00Z (tag slm-deploy:expires-at)" in err.splitlines()


def test_list_previews_prints_every_preview_stack_with_its_number(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "list-previews", "--stacks-json", str(FIXTURES / "pulumi_stack_ls_short.json"))
    assert code == 0
    assert out.splitlines() == ["pr-12\t12", "pr-40\t40", "pr-41\t41", "pr-99\t99"]


def test_a_stack_list_that_is_not_pulumis_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "stacks.json").write_text(json.dumps(["pr-1"]))
    code, _, err = run(capsys, "list-previews", "--stacks-json", str(tmp_path / "stacks.json"))
    assert code == 2 and "--stacks-json: expected the JSON list of objects" in err
    assert len(err.strip().splitlines()) == 1


KEY = "sk-SENTINEL-preview-3c9e"


def test_preview_comment_lists_endpoints_and_never_the_key(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # As `pulumi stack output --json --show-secrets` would give it: the key in the clear.
    outputs = {"endpoints": {"qwen3-small": "https://pr-42.preview.example/v1"}, "apiKeys": {"qwen3-small": KEY}}
    (tmp_path / "outputs.json").write_text(json.dumps(outputs))
    code, out, _ = run(
        capsys,
        "preview-comment",
        "--stack",
        "pr-42",
        "--namespace",
        "pr-42",
        "--outputs-json",
        str(tmp_path / "outputs.json"),
    )
    assert code == 0
    assert "| `qwen3-small` | https://pr-42.preview.example/v1 |" in out
    assert KEY not in out and "--show-secrets" in out
