"""alertmanager.yml: receivers from the spec with secrets referenced as files, routes per
severity, grouping by model, warnings inhibited while the target is down; checked with amtool."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from components.check.inputs import Inputs
from components.check.prometheus import amtool_is_current, check_alertmanager
from components.observability.alertmanager import alertmanager_yml, legacy_check_view
from components.plan import SECRETS_DIR
from tests.observability_support import make_spec, run, tool

SECRETS = {
    "hookUrl": "https://hooks.example/SENTINEL-hook-3f1a",
    "slackUrl": "https://hooks.slack.example/SENTINEL-slack-77d2",
    "teamsUrl": "https://teams.example/SENTINEL-teams-aa90",
    "smtpPassword": "SENTINEL-smtp-5be1",
}
RECEIVERS: list[dict[str, Any]] = [
    {"name": "oncall", "type": "webhook", "urlSecret": "hookUrl", "severities": ["critical"]},
    {"name": "chat", "type": "slack", "urlSecret": "slackUrl", "severities": ["critical", "warning"]},
    {"name": "teams", "type": "teams", "urlSecret": "teamsUrl"},
    {
        "name": "mail",
        "type": "email",
        "to": "ops@example.com",
        "smarthost": "smtp.example.com:587",
        "passwordSecret": "smtpPassword",
        "severities": ["warning", "info"],
    },
]


def config(receivers: list[dict[str, Any]] = RECEIVERS) -> str:
    spec = make_spec(secrets=SECRETS, alerting={"receivers": receivers})
    return alertmanager_yml(spec, "test", SECRETS_DIR)


def check(tmp_path: Path, text: str) -> tuple[int, str]:
    path = tmp_path / "alertmanager.yml"
    path.write_text(text)
    result = run([tool("amtool"), "check-config", path])
    return result.returncode, result.stdout + result.stderr


def test_no_secret_value_only_files() -> None:
    text = config()
    for value in SECRETS.values():
        assert value not in text
    document = yaml.safe_load(text)
    receivers = {r["name"]: r for r in document["receivers"]}
    assert receivers["oncall"]["webhook_configs"][0]["url_file"] == "/run/secrets/hookUrl"
    assert receivers["chat"]["slack_configs"][0]["api_url_file"] == "/run/secrets/slackUrl"
    assert receivers["teams"]["msteamsv2_configs"][0]["webhook_url_file"] == "/run/secrets/teamsUrl"
    mail = receivers["mail"]["email_configs"][0]
    assert mail["auth_password_file"] == "/run/secrets/smtpPassword"
    assert mail["from"] == mail["auth_username"] == "ops@example.com"
    assert "auth_password" not in mail


def test_grouped_by_model_and_warnings_inhibited_while_down() -> None:
    document = yaml.safe_load(config())
    assert document["route"]["group_by"] == ["model"]
    assert document["route"]["receiver"] == "null"
    [inhibit] = document["inhibit_rules"]
    assert inhibit["equal"] == ["model"]
    assert inhibit["source_matchers"] == ['alertname=~".+TargetDown"']
    assert 'severity=~"warning|info"' in inhibit["target_matchers"]


def test_routes_follow_each_receivers_severities(tmp_path: Path) -> None:
    """amtool walks the routing tree as Alertmanager does (legacy view: see below)."""
    path = tmp_path / "alertmanager.yml"
    path.write_text(legacy_check_view(config()))
    amtool = tool("amtool")

    def receivers(severity: str) -> str:
        result = run([amtool, "config", "routes", "test", f"--config.file={path}", f"severity={severity}", "model=m"])
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    assert receivers("critical") == "oncall,chat,teams"
    assert receivers("warning") == "chat,teams,mail"
    assert receivers("info") == "mail"


def test_debian_amtool_accepts_what_it_knows(tmp_path: Path) -> None:
    """Debian 12's amtool is 0.25: slack api_url_file and email auth_password_file are fine."""
    code, output = check(tmp_path, config([RECEIVERS[1], RECEIVERS[3]]))
    assert code == 0, output
    code, output = check(tmp_path, config([]))
    assert code == 0, output


def test_the_gap_to_debian_amtool_is_exactly_webhook_url_file_and_teams(tmp_path: Path) -> None:
    """0.25 predates webhook url_file and msteamsv2_configs (the pinned v0.28.1 has both); the
    legacy view replaces just those, and everything else still passes the old amtool."""
    code, output = check(tmp_path, config())
    assert code != 0
    assert "field url_file not found" in output and "field msteamsv2_configs not found" in output
    legacy = legacy_check_view(config())
    code, output = check(tmp_path, legacy)
    assert code == 0, output
    for value in SECRETS.values():
        assert value not in legacy


def test_slm_deploy_check_reads_every_receiver_with_the_installed_amtool(tmp_path: Path) -> None:
    """The check passes a configuration with webhook and Teams receivers on Debian's amtool 0.25
    (through the legacy view) as on a current one, and still names a real mistake in it."""
    folder = tmp_path / "observability" / "alertmanager"
    folder.mkdir(parents=True)
    (folder / "alertmanager.yml").write_text(config())
    result = check_alertmanager(Inputs.gather(tmp_path, None))
    assert (result.count, result.error, result.findings) == (1, None, [])
    assert ("amtool < 0.28" in result.checked) == (not amtool_is_current(Path(tool("amtool"))))

    (folder / "alertmanager.yml").write_text(config().replace('receiver: "oncall"', 'receiver: "pager"', 1))
    [finding] = check_alertmanager(Inputs.gather(tmp_path, None)).findings
    assert finding.file == "observability/alertmanager/alertmanager.yml"
    assert 'undefined receiver "pager"' in finding.message


def test_the_amtool_version_decides_whether_the_legacy_view_is_needed(tmp_path: Path) -> None:
    def fake(version: str) -> Path:
        path = tmp_path / f"amtool-{version}"
        path.write_text(f"#!/bin/sh\necho 'amtool, version {version} (branch: x)'\n")
        path.chmod(0o755)
        return path

    assert not amtool_is_current(fake("0.25.0"))
    assert not amtool_is_current(fake("0.27.9"))
    assert amtool_is_current(fake("0.28.1"))
    assert amtool_is_current(fake("1.0.0"))
