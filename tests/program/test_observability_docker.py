"""Monitoring on the Docker target: the services run hardened like model servers, get the
rendered files as uploads, publish their UIs on the bind address, and export Grafana's URL
and (secret) admin password."""

from __future__ import annotations

import re
from typing import Any

import pytest

from components.observability import images
from components.observability.grafana_settings import GRAFANA_HARDENING
from components.render import Recording, render_files
from components.render.recorder import MASK, RecordedResource
from tests.conftest import RunStack, spec_for

CONTAINER = "docker:index/container:Container"


def monitoring(recording: Recording) -> dict[str, RecordedResource]:
    found = {}
    for container in recording.of_type(CONTAINER):
        labels = {item["label"]: item["value"] for item in container.inputs.get("labels", [])}
        if labels.get("app.kubernetes.io/component") == "monitoring":
            found[labels["app.kubernetes.io/name"]] = container
    return found


def uploads(container: RecordedResource) -> dict[str, Any]:
    value = container.inputs.get("uploads", [])
    return {"*": MASK} if value == MASK else {u["file"]: u.get("content") for u in value}


@pytest.mark.parametrize(
    ("stack", "services"),
    [
        ("local", {"prometheus", "alertmanager", "grafana", "blackbox"}),
        ("local-onnx", {"prometheus", "alertmanager", "grafana"}),
        ("local-gpu", {"prometheus", "alertmanager", "grafana", "dcgm-exporter"}),
    ],
)
def test_services_follow_the_stack(run_stack: RunStack, stack: str, services: set[str]) -> None:
    recording = run_stack(stack)
    found = monitoring(recording)
    assert set(found) == services
    assert found["prometheus"].inputs["image"] == images.PROMETHEUS.ref
    assert found["grafana"].inputs["image"] == images.GRAFANA.ref
    for container in found.values():
        assert container.inputs["readOnly"] is True
        assert container.inputs["capabilities"] == {"drops": ["ALL"]}
        assert container.inputs["networksAdvanced"][0]["name"] == f"slm-{stack}"


def test_uis_are_published_after_the_model_ports_on_loopback(run_stack: RunStack) -> None:
    recording = run_stack("local-onnx")  # basePort 18100
    published = {name: c.inputs.get("ports") for name, c in monitoring(recording).items()}
    assert published["grafana"] == [{"external": 18190, "internal": 3000, "ip": "127.0.0.1"}]
    assert published["prometheus"] == [{"external": 18191, "internal": 9090, "ip": "127.0.0.1"}]
    assert published["alertmanager"] == [{"external": 18192, "internal": 9093, "ip": "127.0.0.1"}]
    assert recording.outputs["grafanaUrl"] == "http://127.0.0.1:18190"
    assert recording.masked_outputs()["grafanaAdminPassword"] == MASK


def test_grafana_requires_login_with_a_generated_password(run_stack: RunStack) -> None:
    recording = run_stack("local")
    grafana = monitoring(recording)["grafana"]
    env = dict(e.split("=", 1) for e in grafana.inputs["envs"])
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert env["GF_USERS_ALLOW_SIGN_UP"] == "false"
    assert env["GF_SECURITY_ADMIN_PASSWORD__FILE"] == "/run/secrets/grafana-admin-password"
    assert env["GF_PLUGINS_PREINSTALL_DISABLED"] == "true"
    settings = [(s, k, v) for s, keys in GRAFANA_HARDENING.items() for k, v in keys.items()]
    assert len(settings) >= 9
    for section, key, value in settings:
        name = "GF_" + re.sub(r"[.-]", "_", f"{section}_{key}").upper()
        assert env[name] == str(value).lower(), name
    assert not any("PASSWORD=" in e for e in grafana.inputs["envs"])
    passwords = {p.name: p.inputs for p in recording.of_type("random:index/randomPassword:RandomPassword")}
    assert passwords["local-grafanaAdminPassword"]["length"] == 32
    assert uploads(grafana) == {"*": MASK}, "the password file makes the upload list secret"


def test_uploaded_files_are_the_rendered_ones(run_stack: RunStack) -> None:
    recording = run_stack("local")
    files = render_files(recording, spec_for("local"))
    found = monitoring(recording)
    prometheus = uploads(found["prometheus"])
    assert prometheus["/etc/prometheus/prometheus.yml"] == files["observability/prometheus/prometheus.yml"]
    rules = {k: v for k, v in files.items() if k.startswith("observability/prometheus/rules/")}
    assert rules
    for path, content in rules.items():
        assert prometheus["/etc/prometheus/rules/" + path.rsplit("/", 1)[1]] == content
    assert uploads(found["blackbox"]) == {
        "/etc/blackbox_exporter/config.yml": files["observability/blackbox/blackbox.yml"]
    }
    assert uploads(found["alertmanager"]) == {
        "/etc/alertmanager/alertmanager.yml": files["observability/alertmanager/alertmanager.yml"]
    }


def test_retention_and_scrape_interval_come_from_the_spec(run_stack: RunStack) -> None:
    recording = run_stack("local", {"slm-deploy:observability": {"retention": "3d", "scrapeInterval": "30s"}})
    prometheus = monitoring(recording)["prometheus"]
    assert "--storage.tsdb.retention.time=3d" in prometheus.inputs["command"]
    assert "scrape_interval: 30s" in uploads(prometheus)["/etc/prometheus/prometheus.yml"]
    volumes = prometheus.inputs["volumes"]
    assert [(v["volumeName"], v["containerPath"]) for v in volumes] == [
        ("slm-local-obs-prometheus-data", "/prometheus")
    ]


def test_receivers_secrets_reach_alertmanager_as_files_only(run_stack: RunStack) -> None:
    secrets = {"slm-deploy:secrets": {"hook": "https://hooks.example/SENTINEL-9d1e"}}
    alerting = {"slm-deploy:alerting": {"receivers": [{"name": "oncall", "type": "webhook", "urlSecret": "hook"}]}}
    recording = run_stack("local", alerting, secrets=secrets)
    alertmanager = monitoring(recording)["alertmanager"]
    assert uploads(alertmanager) == {"*": MASK}
    files = render_files(recording, spec_for("local", {**alerting, **secrets}))
    assert 'url_file: "/run/secrets/hook"' in files["observability/alertmanager/alertmanager.yml"]
    for path, content in files.items():
        assert "SENTINEL-9d1e" not in content, path


def test_disabled_observability_runs_no_services(run_stack: RunStack) -> None:
    recording = run_stack("local", {"slm-deploy:observability": {"enabled": False}})
    assert monitoring(recording) == {}
    assert recording.outputs["grafanaUrl"] is None
    files = render_files(recording, spec_for("local", {"slm-deploy:observability": {"enabled": False}}))
    assert not any(path.startswith("observability/") for path in files)


def test_without_grafana_no_grafana_and_no_password(run_stack: RunStack) -> None:
    recording = run_stack("local", {"slm-deploy:observability": {"grafana": False}})
    assert "grafana" not in monitoring(recording)
    names = [p.name for p in recording.of_type("random:index/randomPassword:RandomPassword")]
    assert "local-grafanaAdminPassword" not in names
