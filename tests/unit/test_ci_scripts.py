"""The shell scripts the workflows and the Makefile call, run for real against stand-ins for
the programs they drive (pulumi, gh, apt-get): each stand-in records what it was asked to do."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import REPO

SCRIPTS = REPO / ".github" / "scripts"
FIXTURES = REPO / "tests" / "fixtures" / "delivery"
BASH = shutil.which("bash") or "/bin/bash"


def stub(folder: Path, name: str, body: str) -> None:
    """An executable stand-in ``folder/name`` (a POSIX shell script)."""
    path = folder / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


def run(script: Path, *args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BASH, str(script), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False
    )


# --- sweep-previews.sh ---------------------------------------------------------------------


def iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")


@pytest.fixture
def sweep(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    """A project with the preview template, a fake `pulumi` that lists short stack names and
    logs what it is asked, and slm-deploy from this checkout."""
    project, bin_dir, state = tmp_path / "project", tmp_path / "bin", tmp_path / "state"
    for folder in (project, bin_dir, state):
        folder.mkdir()
    shutil.copy(REPO / "Pulumi.yaml", project / "Pulumi.yaml")
    shutil.copy(REPO / "__main__.py", project / "__main__.py")
    shutil.copytree(FIXTURES / "stacks", project / "stacks")
    now = datetime.now(UTC)
    stacks = [
        {"name": "staging", "lastUpdate": iso(now - timedelta(days=30))},
        {"name": "pr-12", "lastUpdate": iso(now - timedelta(days=4))},  # past the 72h default
        {"name": "pr-40", "lastUpdate": iso(now - timedelta(hours=1))},  # its tag says expired
        {"name": "pr-41", "lastUpdate": iso(now - timedelta(hours=1))},  # alive
        {"name": "pr-77", "lastUpdate": iso(now - timedelta(days=5))},  # tags unreadable; old
    ]
    (state / "stacks.json").write_text(json.dumps(stacks))
    (state / "pr-40.tags.json").write_text(json.dumps({"slm-deploy:expires-at": iso(now - timedelta(minutes=5))}))
    (state / "pr-41.tags.json").write_text(json.dumps({"slm-deploy:expires-at": iso(now + timedelta(days=1))}))
    (state / "pr-12.tags.json").write_text("{}")
    stub(
        bin_dir,
        "pulumi",
        f"""state={state}
echo "$*" >> "$state/calls.log"
case "$1 $2" in
  "stack ls") cat "$state/stacks.json" ;;
  "stack tag")
    [ -f "$state/$6.tags.json" ] || {{ echo "error: no tags for $6" >&2; exit 1; }}
    cat "$state/$6.tags.json" ;;
  "destroy --yes")
    cat > /dev/null  # a program that reads stdin must not eat the list of stacks
    [ "$6" != "${{FAIL_DESTROY:-}}" ] || {{ echo "error: destroy of $6 failed" >&2; exit 1; }} ;;
  *) echo "unexpected: $*" >&2; exit 3 ;;
esac
""",
    )
    cli = f'cd "{project}" && PYTHONPATH="{REPO}" exec "{sys.executable}" -m components.cli "$@"\n'
    stub(bin_dir, "slm-deploy", cli)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    env["SLM_DEPLOY"] = str(bin_dir / "slm-deploy")
    return project, state, env


def test_sweep_destroys_each_expired_preview_on_its_own_and_fails_at_the_end(
    sweep: tuple[Path, Path, dict[str, str]],
) -> None:
    """Pulumi lists short names (pr-12); the first destroy fails, the others still run."""
    project, state, env = sweep
    result = run(SCRIPTS / "sweep-previews.sh", "72h", cwd=project, env={**env, "FAIL_DESTROY": "pr-12"})
    assert result.returncode == 1, result.stdout + result.stderr
    destroys = [c for c in (state / "calls.log").read_text().splitlines() if c.startswith("destroy")]
    assert destroys == [f"destroy --yes --remove --skip-preview --stack {s}" for s in ("pr-12", "pr-40", "pr-77")]
    assert "could not destroy pr-12" in result.stdout
    assert "destroyed and removed pr-40" in result.stdout and "destroyed and removed pr-77" in result.stdout
    assert "cannot read the tags of pr-77" in result.stdout  # judged by its last update instead
    assert result.stdout.strip().endswith("Failed: pr-12")
    # destroy reads the stack file: the sweep regenerated it from the template for each
    assert sorted(p.name for p in (project / "stacks").glob("Pulumi.pr-*.yaml")) == [
        "Pulumi.pr-12.yaml",
        "Pulumi.pr-40.yaml",
        "Pulumi.pr-77.yaml",
    ]


# --- upsert-comment.sh ---------------------------------------------------------------------


@pytest.fixture
def gh(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A fake `gh` serving two pages of comments and logging every write."""
    if shutil.which("jq") is None:
        pytest.skip("jq is not installed (GitHub's runners have it; apt-get install jq)")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    page1 = [
        {"id": 1, "user": {"login": "octocat"}, "body": "<!-- slm-deploy-diff -->\nquoting the bot"},
        {"id": 2, "user": {"login": "github-actions[bot]"}, "body": "<!-- slm-deploy-preview -->\npreview"},
        {"id": 3, "user": {"login": "github-actions[bot]"}, "body": None},
    ]
    page2 = [{"id": 4, "user": {"login": "github-actions[bot]"}, "body": "<!-- slm-deploy-diff -->\nold diff"}]
    (tmp_path / "pages.json").write_text(json.dumps(page1) + json.dumps(page2))
    stub(
        bin_dir,
        "gh",
        f"""case "$*" in
  "api --paginate "*) cat "{tmp_path}/pages.json" ;;
  *) echo "$*" >> "{tmp_path}/writes.log" ;;
esac
""",
    )
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "REPO": "acme/slm", "PR": "7"}
    return tmp_path, env


def test_upsert_updates_the_bots_comment_with_the_marker_of_the_body(gh: tuple[Path, dict[str, str]]) -> None:
    folder, env = gh
    (folder / "comment.md").write_text("<!-- slm-deploy-diff -->\n## new diff\n")
    result = run(SCRIPTS / "upsert-comment.sh", "comment.md", cwd=folder, env=env)
    assert result.returncode == 0, result.stderr
    # comment 1 starts with the marker but is a person's; the bot's is on the second page
    assert (folder / "writes.log").read_text().splitlines() == [
        "api --method PATCH repos/acme/slm/issues/comments/4 -F body=@comment.md --silent"
    ]


def test_upsert_posts_a_new_comment_when_the_bot_has_none_with_that_marker(gh: tuple[Path, dict[str, str]]) -> None:
    folder, env = gh
    (folder / "comment.md").write_text("<!-- slm-deploy-cost -->\nnew\n")
    result = run(SCRIPTS / "upsert-comment.sh", "comment.md", cwd=folder, env=env)
    assert result.returncode == 0, result.stderr
    assert (folder / "writes.log").read_text().splitlines() == [
        "api --method POST repos/acme/slm/issues/7/comments -F body=@comment.md --silent"
    ]


def test_upsert_refuses_a_body_without_a_marker_line(gh: tuple[Path, dict[str, str]]) -> None:
    folder, env = gh
    (folder / "comment.md").write_text("## no marker\n")
    result = run(SCRIPTS / "upsert-comment.sh", "comment.md", cwd=folder, env=env)
    assert result.returncode == 2 and "must be a marker" in result.stderr
    assert not (folder / "writes.log").exists()


# --- check-credentials.sh ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("azure", "state", "ready", "reason"),
    [
        ("true", "true", "true", None),
        ("false", "true", "false", "the Azure credentials"),
        ("true", "false", "false", "no Pulumi state backend"),
        (None, None, "false", "the Azure credentials"),
    ],
)
def test_credentials_gate_reads_flags_not_secret_values(
    tmp_path: Path, azure: str | None, state: str | None, ready: str, reason: str | None
) -> None:
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.staging.yaml").write_text("config: {}\n")
    env = {k: v for k, v in os.environ.items() if k not in ("AZURE_READY", "STATE_READY")}
    env["GITHUB_OUTPUT"] = str(tmp_path / "out")
    env.update({k: v for k, v in (("AZURE_READY", azure), ("STATE_READY", state)) if v is not None})
    result = run(SCRIPTS / "check-credentials.sh", "staging", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out").read_text() == f"ready={ready}\n"
    if reason:
        assert reason in result.stdout


# --- tools/ensure-python-venv.sh -----------------------------------------------------------


@pytest.fixture
def debian(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A fake python whose ensurepip appears once apt-get installed a venv package; apt-get and
    sudo log what they were asked (sudo runs the command without privileges)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, version in (("python3", "3.11"), ("python3.12", "3.12")):
        stub(
            bin_dir,
            name,
            f"""case "$2" in
  "import ensurepip") [ -f "{tmp_path}/installed" ] ;;
  *) echo {version} ;;
esac
""",
        )
    stub(
        bin_dir,
        "apt-get",
        f'echo "apt-get $*" >> "{tmp_path}/apt.log"\ncase "$1" in install) touch "{tmp_path}/installed" ;; esac\n',
    )
    stub(bin_dir, "sudo", 'exec "$@"\n')
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin"}
    return tmp_path, env


def apt_calls(folder: Path) -> list[str]:
    log = folder / "apt.log"
    return log.read_text().splitlines() if log.exists() else []


def test_a_python_with_ensurepip_installs_nothing(debian: tuple[Path, dict[str, str]]) -> None:
    folder, env = debian
    (folder / "installed").touch()
    result = run(REPO / "tools" / "ensure-python-venv.sh", str(folder / "bin" / "python3"), cwd=folder, env=env)
    assert result.returncode == 0, result.stderr
    assert apt_calls(folder) == []


@pytest.mark.parametrize(("python", "package"), [("python3", "python3-venv"), ("python3.12", "python3.12-venv")])
def test_a_debian_python_without_ensurepip_gets_its_venv_package(
    debian: tuple[Path, dict[str, str]], python: str, package: str
) -> None:
    folder, env = debian
    result = run(REPO / "tools" / "ensure-python-venv.sh", str(folder / "bin" / python), cwd=folder, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert apt_calls(folder) == [
        "apt-get update -qq",
        f"apt-get install -y -qq --no-install-recommends {package}",
    ]


def test_without_apt_get_the_missing_ensurepip_is_one_clear_line(debian: tuple[Path, dict[str, str]]) -> None:
    folder, env = debian
    (folder / "bin" / "apt-get").unlink()
    env = {**env, "PATH": str(folder / "bin")}
    result = run(REPO / "tools" / "ensure-python-venv.sh", str(folder / "bin" / "python3"), cwd=folder, env=env)
    assert result.returncode == 1
    assert "has no ensurepip" in result.stderr and len(result.stderr.strip().splitlines()) == 1
