"""The rendered monitoring, live: the ONNX server on the test fixture, Debian's Prometheus
with the rendered scrape configuration (targets rewritten to loopback) and rule files,
Debian's Alertmanager with the rendered configuration whose webhook receiver is a small
HTTP server here. Requests are served; Prometheus must hold the server's metrics, every
dashboard query and alert expression must evaluate; then the server stops and the
target-down alert must reach the webhook.

Everything binds 127.0.0.1 on free ports, every wait is bounded, every process is killed at
teardown. Scrape and evaluation run every second and the target-down alert waits 5 s (the
rendered rule waits the server's startup budget, minutes: the test shortens it, as it points
the other files at loopback), so the test takes well under a minute.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from components.engines import build_plans
from components.observability import metrics
from components.observability.config_files import observability_files
from components.observability.dashboards import dashboard_specs
from components.observability.rules import alert_rules, rule_groups
from components.plan import ServingPlan
from components.spec import DeploymentSpec
from components.spec.durations import format_duration
from tests.conftest import TINY_GENAI, free_port
from tests.observability_support import make_spec, tool, write_files

pytestmark = pytest.mark.integration

MODEL = "qwen3-onnx"
API_KEY = "sk-observability-live-test"
#: Grafana's variables, as a dashboard sends them with "All" selected.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "${model:regex}": ".*", "$model": ".*"}


def wait_for(
    what: str, check: Callable[[], Any], timeout: float, process: subprocess.Popen[bytes] | None = None
) -> Any:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"{what}: process exited with {process.returncode}")
        try:
            last = check()
        except (httpx.TransportError, KeyError, IndexError) as error:
            last = error
        if last and not isinstance(last, Exception):
            return last
        time.sleep(0.2)
    raise AssertionError(f"{what}: not after {timeout}s (last: {last!r})")


# --- the webhook receiver ------------------------------------------------------------------


@dataclass
class Webhook:
    port: int
    received: list[dict[str, Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/alerts"


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook(0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            hook.received.append(json.loads(body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hook.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield hook
    server.shutdown()
    server.server_close()


# --- processes -----------------------------------------------------------------------------


@dataclass
class Processes:
    folder: Path
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        log = (self.folder / f"{name}.log").open("wb")
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ})
        self.started.append(process)
        return process

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    running = Processes(tmp_path)
    yield running
    for process in running.started:
        if process.poll() is None:
            process.kill()
            process.wait(10)


# --- rewriting the rendered files for loopback ---------------------------------------------


def loopback_prometheus(text: str, rules_dir: Path, ports: dict[str, int]) -> str:
    """The rendered prometheus.yml with every target on 127.0.0.1 and the rules on disk."""
    config = yaml.safe_load(text)
    config["rule_files"] = [str(rules_dir / "*.yml")]
    alertmanager = f"127.0.0.1:{ports['alertmanager']}"
    config["alerting"]["alertmanagers"] = [{"static_configs": [{"targets": [alertmanager]}]}]
    addresses = {"prometheus": f"127.0.0.1:{ports['prometheus']}", "alertmanager": alertmanager}
    addresses["onnx"] = f"127.0.0.1:{ports['onnx']}"
    for job in config["scrape_configs"]:
        for static in job["static_configs"]:
            static["targets"] = [addresses[job["job_name"]]]
    return yaml.safe_dump(config)


def short_target_down(rules_dir: Path, alert: str, budget: str, wait: str) -> None:
    """Let ``alert`` fire after ``wait`` instead of the startup budget it renders with."""
    for path in rules_dir.glob("*.yml"):
        document = yaml.safe_load(path.read_text())
        for group in document["groups"]:
            for rule in group["rules"]:
                if rule.get("alert") == alert:
                    assert rule["for"] == budget, "the rendered rule waits out a cold start"
                    rule["for"] = wait
                    path.write_text(yaml.safe_dump(document))
                    return
    raise AssertionError(f"no rule {alert}")


def loopback_alertmanager(text: str) -> str:
    """Debian's Alertmanager is 0.25, older than webhook ``url_file`` (0.26+, the pinned image
    is v0.28.1): read each file into ``url`` as the newer Alertmanager does, and wait one
    second instead of 30 before the first notification."""
    config = yaml.safe_load(text)
    for receiver in config["receivers"]:
        for webhook in receiver.get("webhook_configs", []):
            webhook["url"] = Path(webhook.pop("url_file")).read_text().strip()
    config["route"]["group_wait"] = "1s"
    return yaml.safe_dump(config)


# --- Prometheus queries --------------------------------------------------------------------


def query(prometheus: str, expr: str) -> dict[str, Any]:
    response = httpx.get(f"{prometheus}/api/v1/query", params={"query": expr}, timeout=10)
    body: dict[str, Any] = response.json()
    assert response.status_code == 200 and body["status"] == "success", f"{expr}: {body}"
    return body


def samples(prometheus: str, expr: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = query(prometheus, expr)["data"]["result"]
    return result


def grafana_to_promql(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    if expr.startswith("label_values("):
        expr = expr.removeprefix("label_values(").rsplit(",", 1)[0]
    return expr


def live_metric_names(base_url: str) -> set[str]:
    text = httpx.get(f"{base_url}/metrics", timeout=10).text
    return {sample.name for family in text_string_to_metric_families(text) for sample in family.samples}


# --- the stack ---------------------------------------------------------------------------


@dataclass
class Live:
    spec: DeploymentSpec
    plans: list[ServingPlan]
    server: subprocess.Popen[bytes]
    server_url: str
    prometheus_url: str


def live_config(tmp_path: Path, webhook: Webhook, ports: dict[str, int]) -> tuple[DeploymentSpec, Path, Path]:
    """Render the stack's files and rewrite them for loopback; returns the two configs."""
    spec = make_spec(
        models=[{"name": MODEL, "engine": "onnx", "preset": "qwen3-0.6b", "quantization": "int4-cpu"}],
        observability={"scrapeInterval": "1s"},
        secrets={"hookUrl": webhook.url},
        alerting={
            "thresholds": {"targetDownFor": "5s"},
            "receivers": [{"name": "oncall", "type": "webhook", "urlSecret": "hookUrl"}],
        },
    )
    files = observability_files(spec, build_plans(spec), "live", docker=True)
    render = tmp_path / "render"
    write_files(render, files)
    # The secret store's file, where the rendered url_file points (its folder moved here).
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir()
    (secrets_dir / "hookUrl").write_text(webhook.url + "\n")
    alertmanager = files["observability/alertmanager/alertmanager.yml"].replace("/run/secrets/", f"{secrets_dir}/")
    prometheus_yml, alertmanager_yml = tmp_path / "prometheus.yml", tmp_path / "alertmanager.yml"
    rules = render / "observability" / "prometheus" / "rules"
    (plan,) = build_plans(spec)
    assert plan.server.probes is not None
    budget = format_duration(plan.server.probes.startup_budget_seconds)
    short_target_down(rules, "OnnxTargetDown", budget, spec.alerting.thresholds.target_down_for)
    prometheus_yml.write_text(loopback_prometheus(files["observability/prometheus/prometheus.yml"], rules, ports))
    alertmanager_yml.write_text(loopback_alertmanager(alertmanager))
    return spec, prometheus_yml, alertmanager_yml


def start_live(tmp_path: Path, webhook: Webhook, processes: Processes) -> Live:
    ports = {name: free_port() for name in ("onnx", "prometheus", "alertmanager")}
    spec, prometheus_yml, alertmanager_yml = live_config(tmp_path, webhook, ports)
    keys = tmp_path / "api-keys"
    keys.write_text(API_KEY + "\n")
    server = processes.start(
        "onnx",
        [
            *(sys.executable, "-m", "slm_onnx_server", "--model-dir", str(TINY_GENAI), "--served-model-name", MODEL),
            *("--host", "127.0.0.1", "--port", str(ports["onnx"]), "--api-keys-file", str(keys)),
        ],
    )
    alertmanager = processes.start(
        "alertmanager",
        [
            tool("prometheus-alertmanager"),
            f"--config.file={alertmanager_yml}",
            f"--storage.path={tmp_path / 'alertmanager-data'}",
            f"--web.listen-address=127.0.0.1:{ports['alertmanager']}",
            "--cluster.listen-address=",
        ],
    )
    prometheus = processes.start(
        "prometheus",
        [
            tool("prometheus"),
            f"--config.file={prometheus_yml}",
            f"--storage.tsdb.path={tmp_path / 'prometheus-data'}",
            f"--web.listen-address=127.0.0.1:{ports['prometheus']}",
        ],
    )
    live = Live(
        spec,
        build_plans(spec),
        server,
        f"http://127.0.0.1:{ports['onnx']}",
        f"http://127.0.0.1:{ports['prometheus']}",
    )
    am_url = f"http://127.0.0.1:{ports['alertmanager']}"
    ok = 200
    wait_for("server healthy", lambda: httpx.get(f"{live.server_url}/health", timeout=1).status_code == ok, 60, server)
    wait_for(
        "Alertmanager ready", lambda: httpx.get(f"{am_url}/-/ready", timeout=1).status_code == ok, 30, alertmanager
    )
    prom_ready = f"{live.prometheus_url}/-/ready"
    wait_for("Prometheus ready", lambda: httpx.get(prom_ready, timeout=1).status_code == ok, 30, prometheus)
    return live


def serve_requests(live: Live, count: int = 4) -> None:
    for index in range(count):
        response = httpx.post(
            f"{live.server_url}/v1/chat/completions",
            headers={"Authorization": f"Bearer {API_KEY}"},
            json={"model": MODEL, "messages": [{"role": "user", "content": f"count to {index}"}], "max_tokens": 8},
            timeout=60,
        )
        assert response.status_code == 200, response.text


# --- the test ------------------------------------------------------------------------------


def test_metrics_reach_prometheus_and_target_down_reaches_the_webhook(
    tmp_path: Path, webhook: Webhook, processes: Processes
) -> None:
    live = start_live(tmp_path, webhook, processes)
    prom = live.prometheus_url
    serve_requests(live)

    # The server exports exactly the names the ONNX list holds (read from its live /metrics).
    assert live_metric_names(live.server_url) == metrics.ONNX.names

    # Prometheus holds them, labelled with the model and the engine's job; the rules loaded.
    tokens = f'ortgenai:generation_tokens_total{{job="onnx", model="{MODEL}"}} > 0'
    wait_for("tokens in Prometheus", lambda: samples(prom, tokens), 30)
    [up] = samples(prom, 'up{job="onnx"}')
    assert up["metric"]["model"] == MODEL and up["value"][1] == "1"
    loaded = httpx.get(f"{prom}/api/v1/rules", timeout=10).json()["data"]["groups"]
    assert {g["name"] for g in loaded} == {g.name for g in rule_groups(live.spec, live.plans)}
    assert all(r["health"] == "ok" for g in loaded for r in g["rules"]), loaded

    # Every alert expression and every dashboard query evaluates without error, and the
    # overview's core panels have data for the model.
    for rule in alert_rules(rule_groups(live.spec, live.plans)):
        query(prom, rule.expr)
    dashboards = dashboard_specs(live.plans)
    for expr in [q for d in dashboards for q in d.queries()]:
        query(prom, grafana_to_promql(expr))
    for title in ("Requests finished per second", "Tokens per second", "Time to first token"):
        [panel] = [p for _, panels in dashboards[0].rows for p in panels if p.title == title]
        found = samples(prom, grafana_to_promql(panel.queries[0].expr))
        assert [s["metric"].get("model") for s in found] == [MODEL], title

    # Stop the server: the target-down alert reaches the webhook through Alertmanager.
    live.server.send_signal(signal.SIGTERM)
    live.server.wait(30)

    def target_down() -> list[dict[str, Any]]:
        return [
            alert
            for message in webhook.received
            for alert in message["alerts"]
            if alert["labels"]["alertname"] == "OnnxTargetDown" and alert["status"] == "firing"
        ]

    try:
        [alert] = wait_for("OnnxTargetDown at the webhook", target_down, 60)
    except AssertionError:
        print(processes.log("prometheus")[-3000:], processes.log("alertmanager")[-3000:])
        raise
    assert alert["labels"]["model"] == MODEL
    assert alert["labels"]["severity"] == "warning"  # dev: page alerts are warnings
    assert alert["annotations"]["runbook_url"] == "runbooks/OnnxTargetDown.md"
    assert f"{MODEL} is down" in alert["annotations"]["summary"]
