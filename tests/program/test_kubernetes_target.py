"""The Kubernetes target, run through the real program under the recording mock.

The `cluster` and `preview` stacks are rendered once per module; variants (other settings,
secrets, stack names) run the program again with overrides. Objects are read back as the
manifests the render writes, so the assertions are about what a cluster would receive.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest

from components.engines import build_plans
from components.gpu_nodes import GPU_NODE_SELECTOR, GPU_TAINT_KEY
from components.plan import ServingPlan
from components.render import Recording, render_files, run_program
from components.render.kubernetes_files import kubernetes_object
from components.secrets import StackSecrets
from components.targets.kube.scaling import behavior as scaling_behavior
from components.targets.kubernetes import KubernetesTarget
from tests.conftest import PROGRAM, RunStack, spec_for, stack_file

K8S_STACKS = ["cluster", "preview"]
SENTINELS = {
    "apiKey": "sk-SENTINEL-KEY-4d1a",
    "hfToken": "hf_SENTINEL_TOKEN_77c3",
    "registryPassword": "SENTINEL-REGISTRY-PASSWORD-e5",
}
KUBECONFIG_SENTINEL = "apiVersion: v1\nkind: Config\n# SENTINEL-KUBECONFIG-0b9f\n"
Manifest = dict[str, Any]


def plans_for(name: str, overrides: dict[str, Any] | None = None) -> dict[str, ServingPlan]:
    return {plan.model: plan for plan in build_plans(spec_for(name, overrides))}


def manifests(recording: Recording) -> dict[tuple[str, str], Manifest]:
    """Every Kubernetes object the program registered, by (kind, name)."""
    found: dict[tuple[str, str], Manifest] = {}
    for resource in recording.resources:
        if resource.type.startswith("kubernetes:") and resource.type != "kubernetes:helm.sh/v3:Release":
            document = kubernetes_object(resource)
            key = (document["kind"], document["metadata"]["name"])
            assert key not in found, f"two objects {key}"
            found[key] = document
    return found


def of_kind(objects: dict[tuple[str, str], Manifest], kind: str) -> dict[str, Manifest]:
    return {name: doc for (k, name), doc in objects.items() if k == kind}


def workloads(objects: dict[tuple[str, str], Manifest]) -> dict[str, Manifest]:
    return of_kind(objects, "Deployment") | of_kind(objects, "StatefulSet")


def pod_spec(workload: Manifest) -> Manifest:
    spec: Manifest = workload["spec"]["template"]["spec"]
    return spec


def containers(workload: Manifest) -> Iterator[Manifest]:
    spec = pod_spec(workload)
    yield from spec.get("initContainers", [])
    yield from spec["containers"]


def volume(workload: Manifest, name: str) -> Manifest:
    matches: list[Manifest] = [v for v in pod_spec(workload)["volumes"] if v["name"] == name]
    assert len(matches) == 1, f"volume {name}: {len(matches)} found"
    return matches[0]


def mount(container: Manifest, path: str) -> Manifest:
    matches: list[Manifest] = [m for m in container.get("volumeMounts", []) if m["mountPath"] == path]
    assert len(matches) == 1, f"{container['name']}: {len(matches)} mounts at {path}"
    return matches[0]


@pytest.fixture(scope="module")
def rendered() -> dict[str, Recording]:
    """The shipped Kubernetes stacks, run once for the module."""
    runs = {}
    for name in K8S_STACKS:
        stack = stack_file(name)
        runs[name] = run_program(PROGRAM, stack.config, stack.secret_keys, stack=name)
    return runs


# --- provider -------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", K8S_STACKS)
def test_every_child_uses_the_one_explicit_provider(rendered: dict[str, Recording], stack: str) -> None:
    recording = rendered[stack]
    providers = recording.of_type("pulumi:providers:kubernetes")
    assert len(providers) == 1
    provider = providers[0]
    assert provider.inputs["deleteUnreachable"] == "true"
    assert provider.inputs["clusterIdentifier"]
    kubernetes_children = [r for r in recording.resources if r.type.startswith("kubernetes:")]
    assert len(kubernetes_children) > 10
    for child in kubernetes_children:
        assert child.provider == provider.urn, f"{child.type} {child.name} uses {child.provider}"
    # Every custom resource below the target, at any depth (image builds, monitoring too);
    # providers and stack references are built into the engine and take none.
    builtins = ("pulumi:providers:", "pulumi:pulumi:StackReference")
    [target] = recording.of_type("slm-deploy:targets:Kubernetes")
    below = {target.urn}
    for resource in recording.resources:  # registration order: parents come first
        if resource.parent in below:
            below.add(resource.urn)
    children = [r for r in recording.resources if r.urn in below and r.custom]
    assert {r.urn for r in kubernetes_children} <= {r.urn for r in children}
    for resource in children:
        if not resource.type.startswith(builtins):
            assert resource.provider is not None, f"{resource.type} {resource.name} uses a default provider"


def test_preview_reads_the_cluster_from_a_stack_reference(rendered: dict[str, Recording]) -> None:
    recording = rendered["preview"]
    [reference] = recording.of_type("pulumi:pulumi:StackReference")
    assert reference.inputs["name"] == "organization/slm-deploy/staging"
    [provider] = recording.of_type("pulumi:providers:kubernetes")
    assert provider.inputs["kubeconfig"] == "[secret]"
    assert provider.inputs["clusterIdentifier"] == "organization/slm-deploy/staging#kubeconfig"


def test_cluster_uses_its_context_and_identifier(rendered: dict[str, Recording]) -> None:
    [provider] = rendered["cluster"].of_type("pulumi:providers:kubernetes")
    assert provider.inputs["context"] == "staging"
    assert provider.inputs["clusterIdentifier"] == "staging-cluster"
    assert "kubeconfig" not in provider.inputs, "the ambient kubeconfig is used"


def test_kubeconfig_from_config_is_a_secret(run_stack: RunStack) -> None:
    kubernetes = {"kubeconfig": KUBECONFIG_SENTINEL, "context": "ci", "modelCache": "per-replica"}
    recording = run_stack("preview", {"slm-deploy:kubernetes": kubernetes})
    [provider] = recording.of_type("pulumi:providers:kubernetes")
    assert provider.inputs["kubeconfig"] == "[secret]"
    assert provider.inputs["clusterIdentifier"] == "ci"
    files = render_files(recording, spec_for("preview", {"slm-deploy:kubernetes": kubernetes}))
    assert not any("SENTINEL-KUBECONFIG" in content for content in files.values())


def test_a_given_provider_is_used_and_none_is_created() -> None:
    """How AKS reuses the target: its own provider, no other, and the hooks observability reads."""
    spec = spec_for("cluster")
    seen: dict[str, Any] = {}

    def program() -> None:
        plans = build_plans(spec)
        secrets = StackSecrets("aks", spec, set().union(*(p.secrets for p in plans)))
        provider = k8s.Provider("aks-cluster", kubeconfig=pulumi.Output.secret("<aks.kubeconfig>"))
        target = KubernetesTarget("aks", spec, plans, secrets, provider=provider)
        seen.update(provider=provider, target=target)

    recording = run_program(program, {})
    providers = recording.of_type("pulumi:providers:kubernetes")
    assert [p.name for p in providers] == ["aks-cluster"]
    children = [r for r in recording.resources if r.type.startswith("kubernetes:")]
    assert len(children) > 10 and all(r.provider == providers[0].urn for r in children)
    target: KubernetesTarget = seen["target"]
    # What in-cluster monitoring reads from the target (components/observability/attach.py).
    assert target.cluster is target
    assert target.provider is seen["provider"]
    assert target.namespace_name == "slm-models"
    assert isinstance(target.namespace, k8s.core.v1.Namespace), "monitoring waits for it"
    assert (target.managed_control_plane, target.kube_proxy) == (False, True), "any cluster: all scraped"


# --- namespace ------------------------------------------------------------------------------


@pytest.mark.parametrize(("stack", "namespace"), [("cluster", "slm-models"), ("preview", "slm-preview")])
def test_namespace_enforces_restricted_pod_security(rendered: dict[str, Recording], stack: str, namespace: str) -> None:
    objects = manifests(rendered[stack])
    labels = objects[("Namespace", namespace)]["metadata"]["labels"]
    for mode in ("enforce", "warn", "audit"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
    # Everything of the models lives in their namespace; monitoring objects in the monitoring one.
    namespaced = [doc for (kind, _), doc in objects.items() if kind != "Namespace"]
    assert {doc["metadata"]["namespace"] for doc in namespaced} <= {namespace, "monitoring"}
    models = [doc for doc in namespaced if doc["metadata"].get("labels", {}).get("slm-deploy.dev/model")]
    assert models and {doc["metadata"]["namespace"] for doc in models} == {namespace}


def test_preview_namespace_is_derived_from_the_stack_name() -> None:
    stack = stack_file("preview")
    recording = run_program(PROGRAM, stack.config, stack.secret_keys, stack="pr-42")
    assert ("Namespace", "slm-pr-42") in manifests(recording)


def test_quota_covers_max_replicas_and_a_surge_pod(rendered: dict[str, Recording]) -> None:
    hard = manifests(rendered["cluster"])[("ResourceQuota", "slm-quota")]["spec"]["hard"]
    # phi4-mini: 1 GPU per pod, up to 3 replicas, plus one surge pod during a rollout.
    assert hard["requests.nvidia.com/gpu"] == "4"
    # Deployments: 3 + 1 and 6 + 1 pods; one shared cache claim per model.
    assert hard["pods"] == "11"
    assert hard["persistentvolumeclaims"] == "2"
    assert hard["services.loadbalancers"] == "0" and hard["services.nodeports"] == "0"


def test_quota_settings_override_the_derived_quota(rendered: dict[str, Recording]) -> None:
    objects = manifests(rendered["preview"])
    hard = objects[("ResourceQuota", "slm-quota")]["spec"]["hard"]
    assert (hard["limits.cpu"], hard["requests.cpu"]) == ("4", "4")
    assert (hard["limits.memory"], hard["requests.memory"]) == ("8Gi", "8Gi")
    assert hard["requests.nvidia.com/gpu"] == "0"
    assert hard["pods"] == "1", "a StatefulSet replaces pods in place: no surge pod"


@pytest.mark.parametrize("stack", K8S_STACKS)
def test_limit_range_admits_every_container(rendered: dict[str, Recording], stack: str) -> None:
    objects = manifests(rendered[stack])
    limits = {item["type"]: item for item in objects[("LimitRange", "slm-limits")]["spec"]["limits"]}
    assert limits["Container"]["default"] and limits["Container"]["defaultRequest"]
    maximum = limits["Container"]["max"]
    for workload in workloads(objects).values():
        for container in containers(workload):
            assert _bytes(container["resources"]["limits"]["memory"]) <= _bytes(maximum["memory"])
            assert _millis(container["resources"]["limits"]["cpu"]) <= _millis(maximum["cpu"])


def _bytes(quantity: str) -> int:
    for suffix, factor in (("Gi", 1024**3), ("Mi", 1024**2)):
        if quantity.endswith(suffix):
            return int(quantity[: -len(suffix)]) * factor
    return int(quantity)


def _millis(quantity: str) -> int:
    return int(quantity[:-1]) if quantity.endswith("m") else int(quantity) * 1000


# --- network --------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", K8S_STACKS)
def test_default_deny_and_dns_for_the_whole_namespace(rendered: dict[str, Recording], stack: str) -> None:
    policies = of_kind(manifests(rendered[stack]), "NetworkPolicy")
    deny = policies["default-deny"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    dns = policies["allow-dns"]["spec"]
    assert dns["podSelector"] == {} and dns["policyTypes"] == ["Egress"]
    [rule] = dns["egress"]
    assert {(p["protocol"], p["port"]) for p in rule["ports"]} == {("UDP", 53), ("TCP", 53)}
    assert rule["to"][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "kube-system"}
    assert rule["to"][0]["podSelector"]["matchLabels"] == {"k8s-app": "kube-dns"}
    assert rule["to"][1] == {"ipBlock": {"cidr": "169.254.20.10/32"}}, "NodeLocal DNSCache"


def test_clients_and_prometheus_reach_only_their_ports(rendered: dict[str, Recording]) -> None:
    policies = of_kind(manifests(rendered["cluster"]), "NetworkPolicy")
    plans = plans_for("cluster")
    for model, plan in plans.items():
        clients = policies[f"{model}-clients"]["spec"]
        assert clients["podSelector"]["matchLabels"]["app.kubernetes.io/instance"] == model
        [rule] = clients["ingress"]
        assert rule["ports"] == [{"port": plan.api_port, "protocol": "TCP"}]
        peers = rule["from"]
        assert {"podSelector": {"matchLabels": {"slm-deploy.dev/client": "true"}}} in peers
        namespaces = next(p for p in peers if "namespaceSelector" in p)["namespaceSelector"]["matchExpressions"][0]
        assert namespaces["values"] == ["apps", "ingress-nginx"]
        monitoring = policies[f"{model}-monitoring"]["spec"]["ingress"][0]
        assert monitoring["ports"] == [{"port": plan.metrics.port, "protocol": "TCP"}]
        selector = monitoring["from"][0]["namespaceSelector"]["matchExpressions"][0]
        assert selector["values"] == ["monitoring"]


def _selects(selector: Manifest, labels: dict[str, str]) -> bool:
    """A pod selector (the target writes matchLabels only) against a pod's labels."""
    assert set(selector) <= {"matchLabels"}, selector
    return bool(selector.get("matchLabels", {}).items() <= labels.items())


def _allowed(
    policies: dict[str, Manifest], direction: str, pod: dict[str, str], peer: dict[str, str], port: int
) -> bool:
    """Does a policy selecting ``pod`` allow traffic to or from ``peer`` (a pod of the same
    namespace) on ``port`` in ``direction``?"""
    rules_key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    for policy in policies.values():
        spec = policy["spec"]
        if direction not in spec["policyTypes"] or not _selects(spec["podSelector"], pod):
            continue
        for rule in spec.get(rules_key, []):
            if rule.get("ports") and port not in {p["port"] for p in rule["ports"]}:
                continue
            for candidate in rule.get(peers_key, []):
                if set(candidate) == {"podSelector"} and _selects(candidate["podSelector"], peer):
                    return True
    return False


@pytest.mark.parametrize("stack", K8S_STACKS)
def test_every_allow_between_pods_of_the_namespace_is_open_at_both_ends(
    rendered: dict[str, Recording], stack: str
) -> None:
    """Default deny covers ingress and egress, so traffic between two pods of the namespace
    flows only when the receiver's ingress and the sender's egress both allow it: every such
    allow (a peer by pod selector alone) must have its counterpart."""
    policies = of_kind(manifests(rendered[stack]), "NetworkPolicy")
    checked = set()
    for name, policy in policies.items():
        spec = policy["spec"]
        here = spec["podSelector"].get("matchLabels", {})
        for direction, rules_key, peers_key, other in (
            ("Ingress", "ingress", "from", "Egress"),
            ("Egress", "egress", "to", "Ingress"),
        ):
            for rule in spec.get(rules_key, []):
                for peer in rule.get(peers_key, []):
                    if set(peer) != {"podSelector"}:
                        continue  # another namespace or an address block: not both ends here
                    there = peer["podSelector"]["matchLabels"]
                    for port in [p["port"] for p in rule["ports"]]:
                        assert _allowed(policies, other, there, here, port), f"{name}: {direction} {there} :{port}"
                        checked.add((name, direction))
    # Each model's clients, both ways: client pods reach the API port and nothing else of it.
    assert {(f"{m}-clients", "Ingress") for m in plans_for(stack)} <= checked
    assert {(f"{m}-client-egress", "Egress") for m in plans_for(stack)} <= checked
    client = {"slm-deploy.dev/client": "true"}
    for plan in plans_for(stack).values():
        server = dict(plan.labels)
        assert _allowed(policies, "Egress", client, server, plan.api_port)
        other_ports = {p.container_port for c in (plan.server, plan.fetch.container) for p in c.ports}
        for port in (other_ports | {9, 9090}) - {plan.api_port}:
            assert not _allowed(policies, "Egress", client, server, port), f"{plan.model}: client egress to :{port}"


def test_engine_without_metrics_is_probed_on_its_api_port(rendered: dict[str, Recording]) -> None:
    policies = of_kind(manifests(rendered["preview"]), "NetworkPolicy")
    monitoring = policies["qwen3-small-monitoring"]["spec"]["ingress"][0]
    assert monitoring["ports"] == [{"port": 11434, "protocol": "TCP"}]
    clients = policies["qwen3-small-clients"]["spec"]["ingress"][0]
    assert len(clients["from"]) == 1, "no other namespace may call the preview's model"


@pytest.mark.parametrize("stack", K8S_STACKS)
def test_only_fetching_pods_get_egress_and_never_to_private_ranges(rendered: dict[str, Recording], stack: str) -> None:
    policies = of_kind(manifests(rendered[stack]), "NetworkPolicy")
    plans = plans_for(stack)
    egress_policies = {name: p for name, p in policies.items() if "Egress" in p["spec"]["policyTypes"]}
    expected = {"default-deny", "allow-dns"} | {f"{m}-fetch-egress" for m, p in plans.items() if p.fetch.egress_hosts}
    expected |= {f"{m}-client-egress" for m in plans}
    assert set(egress_policies) == expected
    for model, plan in plans.items():
        policy = policies[f"{model}-fetch-egress"]
        [rule] = policy["spec"]["egress"]
        assert rule["ports"] == [{"port": 443, "protocol": "TCP"}]
        blocks = {peer["ipBlock"]["cidr"]: peer["ipBlock"]["except"] for peer in rule["to"]}
        assert {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"} <= set(blocks["0.0.0.0/0"])
        assert policy["metadata"]["annotations"]["slm-deploy.dev/egress-hosts"] == ",".join(plan.fetch.egress_hosts)


# --- workloads ------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", K8S_STACKS)
def test_pods_meet_the_restricted_standard_with_a_read_only_root(rendered: dict[str, Recording], stack: str) -> None:
    found = workloads(manifests(rendered[stack]))
    assert set(found) == set(plans_for(stack))
    for name, workload in found.items():
        assert workload["metadata"]["labels"]["app.kubernetes.io/component"] == "model-server"
        assert workload["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"] == "model-server"
        spec = pod_spec(workload)
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert spec["automountServiceAccountToken"] is False
        assert spec["serviceAccountName"] == name
        for key in ("hostNetwork", "hostPID", "hostIPC"):
            assert not spec.get(key)
        for container in containers(workload):
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, container["name"]
            assert context["capabilities"] == {"drop": ["ALL"]}
            assert context["readOnlyRootFilesystem"] is True
            assert context["runAsNonRoot"] is True and context["runAsUser"] >= 10000
            assert context["seccompProfile"] == {"type": "RuntimeDefault"}
            assert "privileged" not in context or context["privileged"] is False
            assert ":latest" not in container["image"] and ":" in container["image"]


def test_service_accounts_mount_no_token(rendered: dict[str, Recording]) -> None:
    accounts = of_kind(manifests(rendered["cluster"]), "ServiceAccount")
    assert set(accounts) == set(plans_for("cluster"))
    for account in accounts.values():
        assert account["automountServiceAccountToken"] is False


@pytest.mark.parametrize("stack", K8S_STACKS)
def test_writable_paths_are_emptydirs_and_the_cache_is_read_only_for_the_server(
    rendered: dict[str, Recording], stack: str
) -> None:
    plans = plans_for(stack)
    for name, workload in workloads(manifests(rendered[stack])).items():
        plan = plans[name]
        init, server = pod_spec(workload)["initContainers"][0], pod_spec(workload)["containers"][0]
        for container, step in ((init, plan.fetch.container), (server, plan.server)):
            for writable in step.writable_paths:
                source = volume(workload, mount(container, writable.path)["name"])["emptyDir"]
                assert ("medium" in source) == writable.memory, writable.path
                assert source["sizeLimit"]
        assert plan.server.cache is not None and plan.fetch.container.cache is not None
        assert mount(server, plan.server.cache.path)["readOnly"] is True
        assert mount(init, plan.fetch.container.cache.path)["readOnly"] is False


def test_vllm_gets_a_memory_backed_dev_shm(rendered: dict[str, Recording]) -> None:
    workload = workloads(manifests(rendered["cluster"]))["phi4-mini"]
    server = pod_spec(workload)["containers"][0]
    assert volume(workload, mount(server, "/dev/shm")["name"])["emptyDir"]["medium"] == "Memory"


@pytest.mark.parametrize("stack", K8S_STACKS)
def test_fetch_step_is_a_bounded_init_container(rendered: dict[str, Recording], stack: str) -> None:
    plans = plans_for(stack)
    for name, workload in workloads(manifests(rendered[stack])).items():
        fetch = plans[name].fetch
        [init] = pod_spec(workload)["initContainers"]
        assert init["name"] == "fetch"
        assert init["command"] == ["timeout", str(fetch.timeout_seconds), *fetch.container.command]  # type: ignore[misc]
        assert "startupProbe" not in init and "readinessProbe" not in init


def test_ollama_fetch_reads_its_modelfile_from_a_config_map(rendered: dict[str, Recording]) -> None:
    objects = manifests(rendered["preview"])
    workload = workloads(objects)["qwen3-small"]
    init = pod_spec(workload)["initContainers"][0]
    source = volume(workload, mount(init, "/config")["name"])["configMap"]
    assert source["items"] == [{"key": "fetch-Modelfile", "path": "Modelfile"}]
    data = objects[("ConfigMap", source["name"])]["data"]
    modelfile = plans_for("preview")["qwen3-small"].fetch.container.config_files[0].content
    assert data["fetch-Modelfile"] == modelfile


@pytest.mark.parametrize("stack", K8S_STACKS)
def test_probes_give_the_server_its_startup_budget(rendered: dict[str, Recording], stack: str) -> None:
    plans = plans_for(stack)
    for name, workload in workloads(manifests(rendered[stack])).items():
        probes = plans[name].server.probes
        assert probes is not None
        server = pod_spec(workload)["containers"][0]
        startup = server["startupProbe"]
        assert startup["periodSeconds"] * startup["failureThreshold"] >= probes.startup_budget_seconds
        for kind in ("readinessProbe", "livenessProbe"):
            assert server[kind]["failureThreshold"] == 3
            assert "httpGet" in server[kind] or "exec" in server[kind]
        if probes.readiness.http is not None:
            assert server["readinessProbe"]["httpGet"] == {
                "path": probes.readiness.http.path,
                "port": probes.readiness.http.port,
            }


def test_resources_come_from_sizing_and_gpus_are_scheduled_on_gpu_nodes(rendered: dict[str, Recording]) -> None:
    plans = plans_for("cluster")
    found = workloads(manifests(rendered["cluster"]))
    gpu, cpu = found["phi4-mini"], found["qwen3-onnx"]
    server = pod_spec(gpu)["containers"][0]
    resources = plans["phi4-mini"].server.resources
    assert resources is not None
    assert server["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert server["resources"]["requests"]["nvidia.com/gpu"] == "1"
    limit = math.ceil(resources.memory_limit_bytes / 1024**2) * 1024**2
    assert _bytes(server["resources"]["limits"]["memory"]) == limit
    assert pod_spec(gpu)["nodeSelector"] == GPU_NODE_SELECTOR
    assert pod_spec(gpu)["tolerations"] == [{"effect": "NoSchedule", "key": GPU_TAINT_KEY, "operator": "Exists"}]
    assert "nvidia.com/gpu" not in pod_spec(gpu)["initContainers"][0]["resources"]["limits"]
    assert "nodeSelector" not in pod_spec(cpu) and "tolerations" not in pod_spec(cpu)
    assert "nvidia.com/gpu" not in pod_spec(cpu)["containers"][0]["resources"]["limits"]


def test_replicas_spread_over_nodes_and_zones_only_when_there_can_be_several(
    rendered: dict[str, Recording],
) -> None:
    for workload in workloads(manifests(rendered["cluster"])).values():
        constraints = pod_spec(workload)["topologySpreadConstraints"]
        assert {(c["topologyKey"], c["whenUnsatisfiable"]) for c in constraints} == {
            ("kubernetes.io/hostname", "DoNotSchedule"),
            ("topology.kubernetes.io/zone", "ScheduleAnyway"),
        }
        selector = workload["spec"]["selector"]["matchLabels"]
        assert all(c["labelSelector"]["matchLabels"] == selector for c in constraints)
        # Tainted nodes the pod cannot use (GPU, system) are no domains: else a CPU model's
        # skew counts them at zero pods and allows one pod per untainted node.
        assert all(c["nodeTaintsPolicy"] == "Honor" for c in constraints)
    preview = workloads(manifests(rendered["preview"]))["qwen3-small"]
    assert "topologySpreadConstraints" not in pod_spec(preview)


def test_deployments_roll_without_losing_capacity(rendered: dict[str, Recording]) -> None:
    plans = plans_for("cluster")
    for name, deployment in of_kind(manifests(rendered["cluster"]), "Deployment").items():
        spec = deployment["spec"]
        assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
        assert "replicas" not in spec, "the autoscaler owns the replica count"
        probes = plans[name].server.probes
        assert probes is not None
        assert spec["progressDeadlineSeconds"] >= plans[name].fetch.timeout_seconds + probes.startup_budget_seconds


@pytest.mark.parametrize("stack", K8S_STACKS)
def test_every_model_has_a_disruption_budget_and_a_cluster_ip_service(
    rendered: dict[str, Recording], stack: str
) -> None:
    objects = manifests(rendered[stack])
    plans = plans_for(stack)
    for name, workload in workloads(objects).items():
        selector = workload["spec"]["selector"]["matchLabels"]
        budget = objects[("PodDisruptionBudget", name)]["spec"]
        assert budget["maxUnavailable"] == 1 and budget["selector"]["matchLabels"] == selector
        assert budget["unhealthyPodEvictionPolicy"] == "AlwaysAllow"
        service = objects[("Service", name)]["spec"]
        assert service["type"] == "ClusterIP" and service["selector"] == selector
        # Endpoints appear only after the model loads (or never at zero replicas): no await.
        assert objects[("Service", name)]["metadata"]["annotations"]["pulumi.com/skipAwait"] == "true"
        assert [p["port"] for p in service["ports"]] == [plans[name].api_port]


def test_shared_cache_is_a_read_write_many_claim_sized_from_the_catalog(rendered: dict[str, Recording]) -> None:
    objects = manifests(rendered["cluster"])
    for name, plan in plans_for("cluster").items():
        claim = objects[("PersistentVolumeClaim", f"{name}-cache")]
        assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
        assert claim["spec"]["storageClassName"] == "nfs-rwx"
        size = claim["spec"]["resources"]["requests"]["storage"]
        assert size == f"{math.ceil(plan.cache_size_bytes / 1024**3)}Gi"
        assert claim["metadata"]["annotations"]["pulumi.com/skipAwait"] == "true"
        workload = objects[("Deployment", name)]
        assert volume(workload, "cache")["persistentVolumeClaim"] == {"claimName": f"{name}-cache"}


def test_per_replica_cache_is_a_stateful_set_claim_template(rendered: dict[str, Recording]) -> None:
    objects = manifests(rendered["preview"])
    plan = plans_for("preview")["qwen3-small"]
    assert not of_kind(objects, "PersistentVolumeClaim") and not of_kind(objects, "Deployment")
    spec = objects[("StatefulSet", "qwen3-small")]["spec"]
    [template] = spec["volumeClaimTemplates"]
    assert template["metadata"]["name"] == "cache"
    assert template["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert template["spec"]["resources"]["requests"]["storage"] == f"{math.ceil(plan.cache_size_bytes / 1024**3)}Gi"
    assert spec["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Delete", "whenScaled": "Retain"}
    assert spec["replicas"] == 1
    # Its governing Service is headless (per-pod DNS); clients use the ClusterIP Service.
    governing = objects[("Service", spec["serviceName"])]["spec"]
    assert governing["clusterIP"] == "None" and governing["selector"] == spec["selector"]["matchLabels"]
    assert objects[("Service", "qwen3-small")]["spec"]["type"] == "ClusterIP"
    assert not [v for v in pod_spec(objects[("StatefulSet", "qwen3-small")])["volumes"] if v["name"] == "cache"]


# --- autoscaling ----------------------------------------------------------------------------


def test_queue_metric_engines_scale_on_queue_depth_with_keda(rendered: dict[str, Recording]) -> None:
    objects = manifests(rendered["cluster"])
    assert not of_kind(objects, "HorizontalPodAutoscaler")
    scaled = of_kind(objects, "ScaledObject")
    spec = spec_for("cluster")
    expected_metric = {"phi4-mini": "vllm:num_requests_waiting", "qwen3-onnx": "ortgenai:num_requests_waiting"}
    for name, metric in expected_metric.items():
        scaling = spec.model(name).autoscaling
        assert scaling is not None
        body = scaled[name]["spec"]
        assert body["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        assert (body["minReplicaCount"], body["maxReplicaCount"]) == (scaling.min_replicas, scaling.max_replicas)
        [trigger] = body["triggers"]
        assert trigger["type"] == "prometheus" and trigger["metricType"] == "AverageValue"
        assert trigger["metadata"]["query"] == f'sum({metric}{{namespace="slm-models",model_name="{name}"}})'
        assert trigger["metadata"]["threshold"] == str(scaling.target_queue_depth)
        assert trigger["metadata"]["serverAddress"] == "http://prometheus-operated.monitoring.svc:9090"
        behavior = body["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
        assert behavior == scaling_behavior(scaling), "one definition for KEDA's HPA and ours"
        assert behavior["scaleUp"]["stabilizationWindowSeconds"] == 60
    phi = scaled["phi4-mini"]["spec"]["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
    assert phi["scaleDown"]["stabilizationWindowSeconds"] == 600


def test_any_cluster_keeps_scraping_its_control_plane(rendered: dict[str, Recording]) -> None:
    """On a cluster the stack does not know to be managed, the chart's defaults stay: every
    control plane component is scraped (AKS turns them off: test_aks_platform)."""
    releases = {r.inputs["chart"]: r for r in rendered["cluster"].of_type("kubernetes:helm.sh/v3:Release")}
    values = releases["kube-prometheus-stack"].inputs["values"]
    assert not {"kubeControllerManager", "kubeScheduler", "kubeEtcd", "kubeProxy"} & set(values)


def test_keda_is_installed_from_a_pinned_chart(rendered: dict[str, Recording]) -> None:
    releases = {r.inputs["chart"]: r for r in rendered["cluster"].of_type("kubernetes:helm.sh/v3:Release")}
    release = releases["keda"]
    assert release.inputs["version"] == "2.21.1"
    assert release.inputs["repositoryOpts"] == {"repo": "https://kedacore.github.io/charts"}
    assert "keda" not in {r.inputs["chart"] for r in rendered["preview"].of_type("kubernetes:helm.sh/v3:Release")}


def test_engine_without_queue_metric_scales_on_cpu(run_stack: RunStack) -> None:
    models = json.loads(stack_file("preview").config["slm-deploy:models"])
    models[0]["autoscaling"] = {"minReplicas": 1, "maxReplicas": 3, "targetCpuUtilization": 70}
    recording = run_stack("preview", {"slm-deploy:models": models})
    objects = manifests(recording)
    assert not of_kind(objects, "ScaledObject")
    hpa = objects[("HorizontalPodAutoscaler", "qwen3-small")]["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "qwen3-small"}
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (1, 3)
    [metric] = hpa["metrics"]
    assert metric["resource"] == {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}
    assert hpa["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300
    scaling = spec_for("preview", {"slm-deploy:models": models}).model("qwen3-small").autoscaling
    assert scaling is not None and hpa["behavior"] == scaling_behavior(scaling)
    assert "replicas" not in objects[("StatefulSet", "qwen3-small")]["spec"]


def test_scale_to_zero_only_when_asked_and_then_with_a_wake_trigger(run_stack: RunStack) -> None:
    models = json.loads(stack_file("cluster").config["slm-deploy:models"])
    wake = 'sum(rate(nginx_ingress_controller_requests{host="phi4-mini.models.example.com"}[2m]))'
    models[0]["autoscaling"] |= {"minReplicas": 0, "scaleToZero": True, "wakeQuery": wake}
    objects = manifests(run_stack("cluster", {"slm-deploy:models": models}))
    scaled = of_kind(objects, "ScaledObject")
    assert scaled["phi4-mini"]["spec"]["minReplicaCount"] == 0
    triggers = {t["name"]: t for t in scaled["phi4-mini"]["spec"]["triggers"]}
    assert triggers["wake"]["metadata"]["query"] == wake
    assert triggers["wake"]["metadata"]["activationThreshold"] == "0"
    assert scaled["qwen3-onnx"]["spec"]["minReplicaCount"] == 2, "the other model was not asked to"


# --- exposure -------------------------------------------------------------------------------


def test_ingress_exposes_only_the_openai_routes_with_tls(rendered: dict[str, Recording]) -> None:
    ingresses = of_kind(manifests(rendered["cluster"]), "Ingress")
    assert set(ingresses) == {"phi4-mini", "qwen3-onnx"}
    for name, ingress in ingresses.items():
        spec = ingress["spec"]
        host = f"{name}.models.example.com"
        assert spec["tls"] == [{"hosts": [host], "secretName": "models-example-com-tls"}]
        [rule] = spec["rules"]
        assert rule["host"] == host
        paths = rule["http"]["paths"]
        assert [(p["path"], p["pathType"]) for p in paths] == [("/v1", "Prefix")]
        assert paths[0]["backend"]["service"]["name"] == name
        assert ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt"
        assert ingress["metadata"]["annotations"]["pulumi.com/skipAwait"] == "true"
    assert rendered["cluster"].outputs["endpoints"] == {
        "phi4-mini": "https://phi4-mini.models.example.com/v1",
        "qwen3-onnx": "https://qwen3-onnx.models.example.com/v1",
    }


def test_gateway_exposure_is_an_http_route_for_v1_only(run_stack: RunStack) -> None:
    exposure = {"kind": "gateway", "host": "models.example.com", "gateway": "gateways/public", "listener": "https"}
    kubernetes = json.loads(stack_file("cluster").config["slm-deploy:kubernetes"]) | {"exposure": exposure}
    objects = manifests(run_stack("cluster", {"slm-deploy:kubernetes": kubernetes}))
    assert not of_kind(objects, "Ingress")
    routes = of_kind(objects, "HTTPRoute")
    assert set(routes) == {"phi4-mini", "qwen3-onnx"}
    route = routes["phi4-mini"]
    assert route["apiVersion"] == "gateway.networking.k8s.io/v1"
    spec = route["spec"]
    assert spec["parentRefs"][0] | {} == {
        "group": "gateway.networking.k8s.io",
        "kind": "Gateway",
        "namespace": "gateways",
        "name": "public",
        "sectionName": "https",
    }
    assert spec["hostnames"] == ["phi4-mini.models.example.com"]
    [rule] = spec["rules"]
    assert rule["matches"] == [{"path": {"type": "PathPrefix", "value": "/v1"}}]
    assert rule["backendRefs"] == [{"group": "", "kind": "Service", "name": "phi4-mini", "port": 8000}]
    clients = objects[("NetworkPolicy", "phi4-mini-clients")]["spec"]["ingress"][0]["from"]
    namespaces = next(p for p in clients if "namespaceSelector" in p)["namespaceSelector"]["matchExpressions"][0]
    assert "gateways" in namespaces["values"]


def test_an_engine_without_authentication_is_never_exposed(run_stack: RunStack) -> None:
    kubernetes = json.loads(stack_file("preview").config["slm-deploy:kubernetes"])
    kubernetes["exposure"] = {"host": "preview.example.com", "tlsSecret": "preview-tls"}
    recording = run_stack("preview", {"slm-deploy:kubernetes": kubernetes})
    assert not of_kind(manifests(recording), "Ingress")
    assert recording.outputs["endpoints"] == {
        "qwen3-small": "http://qwen3-small.slm-preview.svc.cluster.local:11434/v1"
    }


# --- secrets and images ---------------------------------------------------------------------


def test_secrets_are_files_from_one_secret(rendered: dict[str, Recording]) -> None:
    objects = manifests(rendered["cluster"])
    secret = objects[("Secret", "slm-secrets")]
    assert secret["stringData"] == {"apiKey": "[secret]"}
    plans = plans_for("cluster")
    for name, workload in workloads(objects).items():
        server = pod_spec(workload)["containers"][0]
        [secret_file] = plans[name].server.secret_files
        source = volume(workload, mount(server, "/run/secrets")["name"])["secret"]
        assert source["secretName"] == "slm-secrets"
        assert source["items"] == [{"key": "apiKey", "path": secret_file.path.rsplit("/", 1)[1]}]
        assert source["defaultMode"] == 0o440
        for container in containers(workload):
            assert all("valueFrom" not in env for env in container.get("env", []))


def test_hugging_face_token_reaches_only_the_fetch_step(run_stack: RunStack) -> None:
    recording = run_stack("cluster", secrets={"slm-deploy:secrets": {"hfToken": SENTINELS["hfToken"]}})
    workload = workloads(manifests(recording))["phi4-mini"]
    init, server = pod_spec(workload)["initContainers"][0], pod_spec(workload)["containers"][0]
    source = volume(workload, mount(init, "/run/secrets")["name"])["secret"]
    assert source["items"] == [{"key": "hfToken", "path": "hf-token"}]
    assert {"name": "HF_TOKEN_PATH", "value": "/run/secrets/hf-token"} in init["env"]
    server_secrets = volume(workload, mount(server, "/run/secrets")["name"])["secret"]
    assert [item["key"] for item in server_secrets["items"]] == ["apiKey"]


def test_onnx_server_image_is_built_pushed_and_pinned_by_digest(rendered: dict[str, Recording]) -> None:
    recording = rendered["cluster"]
    builds = {b.inputs.get("target", "server"): b for b in recording.of_type("docker-build:index:Image")}
    assert set(builds) == {"server", "model-fetch"}
    build = builds["server"]
    assert build.inputs["push"] is True
    assert build.inputs["tags"] == ["registry.example.com/slm/slm-onnx-server:0.1.0-cpu"]
    assert build.inputs["platforms"] == ["linux/amd64"]
    assert build.provider is not None
    assert builds["model-fetch"].inputs["tags"] == ["registry.example.com/slm/slm-onnx-server:0.1.0-model-fetch"]
    workload = workloads(manifests(recording))["qwen3-onnx"]
    images = {container["name"]: container["image"] for container in containers(workload)}
    assert images["server"].startswith("registry.example.com/slm/slm-onnx-server:0.1.0-cpu@sha256:")
    assert images["fetch"].startswith("registry.example.com/slm/slm-onnx-server:0.1.0-model-fetch@sha256:")
    assert "checkov.io/skip1" not in workload["metadata"].get("annotations", {}), "built images carry a digest"


def test_registry_credentials_push_and_pull(run_stack: RunStack) -> None:
    kubernetes = json.loads(stack_file("cluster").config["slm-deploy:kubernetes"])
    kubernetes["imageRegistry"] |= {"username": "ci", "passwordSecret": "registryPassword"}
    secrets = {"registryPassword": SENTINELS["registryPassword"]}
    recording = run_stack("cluster", {"slm-deploy:kubernetes": kubernetes}, {"slm-deploy:secrets": secrets})
    builds = recording.of_type("docker-build:index:Image")
    assert builds, "the ONNX server image is built and pushed"
    for build in builds:
        assert build.inputs["registries"] == "[secret]", "the credentials hold the password: all masked"
    objects = manifests(recording)
    pull = objects[("Secret", "slm-registry")]
    assert pull["type"] == "kubernetes.io/dockerconfigjson"
    assert pull["stringData"] == {".dockerconfigjson": "[secret]"}
    assert pod_spec(workloads(objects)["qwen3-onnx"])["imagePullSecrets"] == [{"name": "slm-registry"}]
    assert "imagePullSecrets" not in pod_spec(workloads(objects)["phi4-mini"]), "upstream images need no credentials"


@pytest.mark.parametrize("stack", K8S_STACKS)
def test_no_secret_value_reaches_plan_or_render(run_stack: RunStack, stack: str) -> None:
    overrides: dict[str, Any] = {}
    if stack == "cluster":
        kubernetes = json.loads(stack_file("cluster").config["slm-deploy:kubernetes"])
        kubernetes["imageRegistry"] |= {"username": "ci", "passwordSecret": "registryPassword"}
        overrides["slm-deploy:kubernetes"] = kubernetes
    secrets = {"slm-deploy:secrets": SENTINELS}
    recording = run_stack(stack, overrides, secrets)
    files = render_files(recording, spec_for(stack, overrides | secrets))
    assert "plan.json" in files and sum(path.startswith("kubernetes/") for path in files) > 10
    for path, content in files.items():
        for value in SENTINELS.values():
            assert value not in content, f"a secret value leaked into {path}"
    if stack == "cluster":
        assert SENTINELS["apiKey"] in json.dumps(recording.outputs["apiKeys"]), "the config's key is the one used"


# --- render ---------------------------------------------------------------------------------


def test_render_writes_one_file_per_object_with_stable_names(rendered: dict[str, Recording]) -> None:
    recording = rendered["cluster"]
    files = render_files(recording, spec_for("cluster"))
    kube = sorted(path for path in files if path.startswith("kubernetes/"))
    objects = manifests(recording)
    assert len([p for p in kube if "/_helm/" not in p]) == len(objects)
    assert "kubernetes/_cluster/namespace-slm-models.yaml" in kube
    assert "kubernetes/slm-models/deployment-phi4-mini.yaml" in kube
    assert "kubernetes/slm-models/scaledobject-qwen3-onnx.yaml" in kube
    assert kube.count("kubernetes/_helm/release-keda.yaml") == 1
    assert render_files(recording, spec_for("cluster")) == files
