"""KubernetesMonitoring under the mock: kube-prometheus-stack at its pinned chart, monitors
and rules labelled for the chart's selectors, dashboards for the Grafana sidecar, the DCGM
exporter with GPUs, and nothing installed when the cluster has its own operator."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components.engines import build_plans
from components.gpu_nodes import GPU_DAEMON_TOLERATIONS, GPU_NODE_SELECTOR
from components.observability import images
from components.observability.attach import monitoring_secrets
from components.observability.config_files import observability_files
from components.observability.grafana_settings import GRAFANA_HARDENING
from components.observability.kubernetes import KubernetesMonitoring
from components.render import Recording, run_program
from components.render.observability_files import observability_render
from components.render.recorder import MASK, RecordedResource
from components.secrets import StackSecrets
from components.spec import DeploymentSpec
from components.targets.kubernetes import KubernetesTarget
from tests.observability_support import ALL_ENGINES, make_spec

RELEASE = "helm.sh/v3"
CR_TYPES = {"PodMonitor", "Probe", "PrometheusRule"}


def k8s_spec(**kubernetes: Any) -> DeploymentSpec:
    return make_spec(
        target="kubernetes",
        kubernetes={"namespace": "slm-test", "imageRegistry": {"server": "registry.example.com/slm"}, **kubernetes},
        secrets={"hook": "https://hooks.example/SENTINEL-k8s-41c0"},
        alerting={"receivers": [{"name": "oncall", "type": "webhook", "urlSecret": "hook"}]},
    )


def run(spec: DeploymentSpec) -> Recording:
    def program() -> None:
        plans = build_plans(spec)
        provider = k8s.Provider("cluster", kubeconfig="<kubeconfig>")
        secrets = StackSecrets("test", spec, monitoring_secrets(spec))
        KubernetesMonitoring("test", spec, plans, provider, "slm-test", secrets=secrets)

    return run_program(program, {}, stack="test")


def releases(recording: Recording) -> dict[str, RecordedResource]:
    return {r.inputs["name"]: r for r in recording.resources if r.type == "kubernetes:helm.sh/v3:Release"}


def custom(recording: Recording, kind: str) -> list[RecordedResource]:
    return [r for r in recording.resources if r.type.endswith(f":{kind}")]


def test_kube_prometheus_stack_is_pinned_and_configured() -> None:
    recording = run(k8s_spec())
    stack = releases(recording)["kube-prometheus-stack"]
    assert stack.inputs["chart"] == "kube-prometheus-stack"
    assert stack.inputs["version"] == images.KUBE_PROMETHEUS_STACK.version
    assert stack.inputs["repositoryOpts"] == {"repo": images.KUBE_PROMETHEUS_STACK.repository}
    assert stack.inputs["namespace"] == "monitoring"
    values = stack.inputs["values"]
    assert values["grafana"]["image"]["tag"] == images.GRAFANA.tag
    ini = values["grafana"]["grafana.ini"]
    assert ini["auth.anonymous"]["enabled"] is False
    assert ini["snapshots"]["external_enabled"] is False
    assert GRAFANA_HARDENING, "the loop below checks something"
    for section, keys in GRAFANA_HARDENING.items():
        for key, value in keys.items():
            assert ini[section][key] is value, f"{section}.{key}"
    assert values["grafana"]["admin"]["existingSecret"] == "slm-grafana-admin"
    assert values["alertmanager"]["alertmanagerSpec"] == {
        "image": {"tag": images.ALERTMANAGER.tag},
        "secrets": ["slm-alertmanager-receivers"],
        "storage": {
            "volumeClaimTemplate": {
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
            }
        },
    }
    receivers = {r["name"]: r for r in values["alertmanager"]["config"]["receivers"]}
    assert receivers["oncall"]["webhook_configs"][0]["url_file"] == (
        "/etc/alertmanager/secrets/slm-alertmanager-receivers/hook"
    )
    assert values["prometheus"]["prometheusSpec"]["retention"] == "2d"  # dev default


def test_prometheus_and_alertmanager_keep_their_data_on_volumes() -> None:
    """The TSDB survives a restart: a claim sized from the retention (dev 2d at 15s: the 10 GiB
    minimum; 15d: 15 x 86400 / 15 x 100k series x 2 B x 1.5 = 24.1 GiB, so 25 GiB), Prometheus
    deleting old blocks at 80 % of it; the stack's storage class when it names one."""
    values = releases(run(k8s_spec()))["kube-prometheus-stack"].inputs["values"]
    prometheus = values["prometheus"]["prometheusSpec"]
    claim = prometheus["storageSpec"]["volumeClaimTemplate"]["spec"]
    assert claim == {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}}
    assert prometheus["retentionSize"] == "8GB"
    spec = k8s_spec()
    longer = spec.model_copy(
        update={"observability": spec.observability.model_copy(update={"retention": "15d", "storage_class": "premium"})}
    )
    values = releases(run(longer))["kube-prometheus-stack"].inputs["values"]
    prometheus = values["prometheus"]["prometheusSpec"]
    claim = prometheus["storageSpec"]["volumeClaimTemplate"]["spec"]
    assert (claim["resources"]["requests"]["storage"], claim["storageClassName"]) == ("25Gi", "premium")
    assert prometheus["retentionSize"] == "20GB"
    alertmanager = values["alertmanager"]["alertmanagerSpec"]["storage"]["volumeClaimTemplate"]["spec"]
    assert alertmanager["storageClassName"] == "premium"


def test_secrets_are_kubernetes_secrets_never_plain() -> None:
    recording = run(k8s_spec())
    secrets = {r.inputs["metadata"]["name"]: r for r in recording.resources if r.type == "kubernetes:core/v1:Secret"}
    assert set(secrets) == {"slm-grafana-admin", "slm-alertmanager-receivers"}
    assert secrets["slm-alertmanager-receivers"].inputs["stringData"] in (MASK, {"hook": MASK})
    assert "SENTINEL-k8s-41c0" not in json.dumps([r.inputs for r in recording.resources])


def test_the_render_shows_what_the_component_applies() -> None:
    spec = k8s_spec()
    files = observability_render(run(spec), spec)
    assert "observability/prometheus/prometheus.yml" not in files  # the operator writes it
    assert {p.split("/")[2] for p in files if p.startswith("observability/prometheus/")} == {"rules", "tests"}
    assert (
        "/etc/alertmanager/secrets/slm-alertmanager-receivers/hook"
        in files["observability/alertmanager/alertmanager.yml"]
    )
    assert "observability/grafana/dashboards/slm-overview.json" in files
    assert not any("provisioning" in p for p in files)
    assert observability_render(run_program(lambda: None, {}, stack="test"), spec) == {}


def test_monitors_and_rules_are_selected_by_the_chart() -> None:
    spec = k8s_spec()
    recording = run(spec)
    objects = [r for r in recording.resources if r.type.startswith("kubernetes:monitoring.coreos.com/v1:")]
    kinds = sorted(r.inputs["kind"] for r in objects)
    assert kinds == ["PodMonitor", "PodMonitor", "Probe", *["PrometheusRule"] * 4]
    for obj in objects:
        assert obj.inputs["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        assert obj.inputs["metadata"]["namespace"] == "slm-test"
    monitors = {o.inputs["metadata"]["name"]: o.inputs["spec"] for o in objects if o.inputs["kind"] == "PodMonitor"}
    vllm = monitors["slm-vllm"]
    assert vllm["jobLabel"] == "slm-deploy.dev/engine"
    assert vllm["selector"]["matchLabels"]["slm-deploy.dev/engine"] == "vllm"
    assert vllm["podMetricsEndpoints"][0]["relabelings"] == [
        # A pod whose fetch step still runs (phase Pending) is not scraped, so not "down".
        {"sourceLabels": ["__meta_kubernetes_pod_phase"], "regex": "Running", "action": "keep"},
        {"sourceLabels": ["__meta_kubernetes_pod_label_slm_deploy_dev_model"], "targetLabel": "model"},
    ]
    [probe] = [o.inputs["spec"] for o in objects if o.inputs["kind"] == "Probe"]
    assert probe["jobName"] == "ollama"
    assert probe["targets"]["staticConfig"] == {
        "static": ["http://qwen3-small.slm-test.svc:11434/"],
        "labels": {"model": "qwen3-small"},
    }
    # The PrometheusRules carry exactly the rendered rule files' groups.
    files = observability_files(spec, build_plans(spec), "test", docker=False)
    rendered = {
        path.rsplit("/", 1)[1].removesuffix(".yml"): yaml.safe_load(text)["groups"]
        for path, text in files.items()
        if path.startswith("observability/prometheus/rules/")
    }
    applied = {
        o.inputs["metadata"]["name"]: o.inputs["spec"]["groups"]
        for o in objects
        if o.inputs["kind"] == "PrometheusRule"
    }
    assert applied == rendered


def test_dashboards_are_configmaps_for_the_sidecar() -> None:
    recording = run(k8s_spec())
    maps = [r for r in recording.resources if r.type == "kubernetes:core/v1:ConfigMap"]
    assert sorted(m.inputs["metadata"]["name"] for m in maps) == [
        "dashboard-slm-gpu",
        "dashboard-slm-ollama",
        "dashboard-slm-onnx",
        "dashboard-slm-overview",
        "dashboard-slm-vllm",
    ]
    for config_map in maps:
        assert config_map.inputs["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert config_map.inputs["metadata"]["annotations"] == {"grafana_folder": "slm-deploy"}
        [(key, text)] = config_map.inputs["data"].items()
        assert json.loads(text)["uid"] == key.removesuffix(".json")


def test_gpus_bring_the_dcgm_exporter_and_probes_the_blackbox_exporter() -> None:
    found = releases(run(k8s_spec()))
    assert found["slm-dcgm-exporter"].inputs["version"] == images.DCGM_EXPORTER_CHART.version
    dcgm = found["slm-dcgm-exporter"].inputs["values"]
    assert dcgm["serviceMonitor"]["additionalLabels"] == {"release": "kube-prometheus-stack"}
    # GPU nodes only (the exporter crash-loops without a GPU), whatever their taints.
    assert dcgm["nodeSelector"] == GPU_NODE_SELECTOR
    assert dcgm["tolerations"] == [dict(t) for t in GPU_DAEMON_TOLERATIONS]
    assert found["slm-blackbox"].inputs["version"] == images.BLACKBOX_EXPORTER_CHART.version
    cpu_only = make_spec(
        target="kubernetes", models=[ALL_ENGINES[1]], kubernetes={"imageRegistry": {"server": "registry.example.com"}}
    )
    assert set(releases(run(cpu_only))) == {"kube-prometheus-stack"}


def test_an_existing_operator_gets_objects_but_no_charts() -> None:
    recording = run(k8s_spec(installMonitoring=False, monitoringRelease="platform-prometheus"))
    assert releases(recording) == {}
    assert not [
        r for r in recording.resources if r.type in ("kubernetes:core/v1:Namespace", "kubernetes:core/v1:Secret")
    ]
    objects = [r for r in recording.resources if r.type.startswith("kubernetes:monitoring.coreos.com/v1:")]
    assert objects
    assert {o.inputs["metadata"]["labels"]["release"] for o in objects} == {"platform-prometheus"}


def test_it_composes_with_the_kubernetes_target() -> None:
    """With the target's provider and namespace, the monitors select the target's pods on their
    named ports, the Probes reach its Services, and Prometheus runs where its NetworkPolicies
    let scrapes in."""
    spec = k8s_spec(monitoringNamespace="observability")  # every engine, and not the default namespace

    def program() -> None:
        plans = build_plans(spec)
        secrets = StackSecrets("compose", spec, set().union(*(p.secrets for p in plans)) | monitoring_secrets(spec))
        target = KubernetesTarget("compose", spec, plans, secrets)
        KubernetesMonitoring(
            "compose",
            spec,
            plans,
            target.provider,
            target.namespace_name,
            pulumi.ResourceOptions(depends_on=[target.namespace]),
            secrets=secrets,
        )

    recording = run_program(program, {}, stack="compose")
    workloads = [
        r for r in recording.resources if r.type in ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet")
    ]
    services = {r.inputs["metadata"]["name"]: r for r in recording.resources if r.type == "kubernetes:core/v1:Service"}
    monitors = [r.inputs for r in recording.resources if r.type == "kubernetes:monitoring.coreos.com/v1:PodMonitor"]
    probes = [r.inputs for r in recording.resources if r.type == "kubernetes:monitoring.coreos.com/v1:Probe"]
    assert monitors and workloads
    for monitor in monitors:
        wanted = monitor["spec"]["selector"]["matchLabels"]
        selected = [
            w for w in workloads if wanted.items() <= w.inputs["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert selected, f"{monitor['metadata']['name']} selects no pods"
        port = monitor["spec"]["podMetricsEndpoints"][0]["port"]
        for workload in selected:
            containers = workload.inputs["spec"]["template"]["spec"]["containers"]
            assert port in {p.get("name") for c in containers for p in c.get("ports", [])}
    for probe in probes:
        [url] = probe["spec"]["targets"]["staticConfig"]["static"]
        host, port = url.removeprefix("http://").split("/", 1)[0].split(":")
        service = services[host.split(".")[0]]
        assert host.split(".")[1] == service.inputs["metadata"]["namespace"]
        assert int(port) in {p["port"] for p in service.inputs["spec"]["ports"]}
    namespaces = {
        r.name: r.inputs["metadata"]["name"] for r in recording.resources if r.type == "kubernetes:core/v1:Namespace"
    }
    assert namespaces["compose-monitoring"] == "observability"
    policies = json.dumps(
        [r.inputs for r in recording.resources if r.type == "kubernetes:networking.k8s.io/v1:NetworkPolicy"]
    )
    assert '"observability"' in policies, "the target lets the same namespace scrape"
    for probe in probes:
        assert ".observability.svc:" in probe["spec"]["prober"]["url"]
