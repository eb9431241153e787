"""The CrossGuard policy functions on hand-built arguments (never a PolicyPack: its
constructor starts a server and sleeps forever). Each policy has a violating and a passing
case; props use Pulumi's wire format (camelCase, numbers as floats)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import pytest
from pulumi_policy import PolicyCustomTimeouts, PolicyResourceOptions, ResourceValidationArgs, ResourceValidationPolicy
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from policies import rules
from policies.rules import Validate

CONTAINER = "docker:index/container:Container"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
AGENT_POOL = "azure-native:containerservice:AgentPool"
CLUSTER = "azure-native:containerservice:ManagedCluster"


def violations(validate: Validate, resource_type: str, props: Mapping[str, Any], name: str = "r") -> list[str]:
    opts = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])
    args = ResourceValidationArgs(
        resource_type, props, f"urn:pulumi:test::p::{resource_type}::{name}", name, opts, None
    )
    found: list[str] = []

    def report(message: str, urn: str | None = None) -> None:
        found.append(message)

    validate(args, report)
    return found


def docker_container(**changes: Any) -> dict[str, Any]:
    """A hardened local model-server container, as the Docker target registers it."""
    props: dict[str, Any] = {
        "image": "ollama/ollama:0.12.6",
        "user": "10001:10001",
        "capabilities": {"drops": ["ALL"]},
        "securityOpts": ["no-new-privileges:true"],
        "readOnly": True,
        "ports": [{"internal": 11434.0, "external": 11434.0, "ip": "127.0.0.1"}],
        "healthcheck": {"tests": ["CMD", "ollama", "list"]},
        "memory": 2048.0,
        "envs": ["HOME=/home/ollama"],
        "labels": [{"label": "app.kubernetes.io/component", "value": "model-server"}],
    }
    props.update(changes)
    return props


def deployment(**container_changes: Any) -> dict[str, Any]:
    """A Deployment meeting PSS restricted, with one model-server container."""
    container: dict[str, Any] = {
        "name": "vllm",
        "image": "vllm/vllm-openai:v0.11.0",
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "readOnlyRootFilesystem": True,
        },
        "readinessProbe": {"httpGet": {"path": "/health", "port": 8000.0}},
        "livenessProbe": {"httpGet": {"path": "/health", "port": 8000.0}},
        "resources": {"limits": {"memory": "16Gi"}},
        "env": [{"name": "HF_HOME", "value": "/models"}],
    }
    container.update(container_changes)
    return {
        "metadata": {"name": "qwen", "labels": {"app.kubernetes.io/component": "model-server"}},
        "spec": {
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/component": "model-server"}},
                "spec": {
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 10001.0,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [container],
                    "volumes": [{"name": "cache", "persistentVolumeClaim": {"claimName": "qwen-models"}}],
                },
            }
        },
    }


def gpu_pool(**changes: Any) -> dict[str, Any]:
    pool: dict[str, Any] = {
        "vmSize": "Standard_NC4as_T4_v3",
        "enableAutoScaling": True,
        "minCount": 0.0,
        "maxCount": 2.0,
    }
    pool.update(changes)
    return pool


# --- images-pinned ---------------------------------------------------------------------------


@pytest.mark.parametrize("image", ["ollama/ollama", "ollama/ollama:latest", "localhost:5000/onnx-server"])
def test_unpinned_images_are_violations(image: str) -> None:
    assert violations(rules.images_pinned, CONTAINER, docker_container(image=image))
    assert violations(rules.images_pinned, DEPLOYMENT, deployment(image=image))


@pytest.mark.parametrize(
    "image", ["ollama/ollama:0.12.6", "localhost:5000/onnx-server:1.0", "vllm/vllm-openai@sha256:" + "a" * 64]
)
def test_tagged_or_digest_images_pass(image: str) -> None:
    assert violations(rules.images_pinned, CONTAINER, docker_container(image=image)) == []
    assert violations(rules.images_pinned, DEPLOYMENT, deployment(image=image)) == []


def test_remote_image_and_build_tags_are_checked() -> None:
    assert violations(rules.images_pinned, "docker:index/remoteImage:RemoteImage", {"name": "grafana/grafana"})
    assert violations(rules.images_pinned, "docker-build:index:Image", {"tags": ["onnx-server:latest"]})
    assert violations(rules.images_pinned, "docker-build:index:Image", {"tags": ["onnx-server:0.1.0"]}) == []


def test_render_placeholders_are_not_judged() -> None:
    assert violations(rules.images_pinned, CONTAINER, docker_container(image="<onnx-image.ref>")) == []


# --- containers-non-root -----------------------------------------------------------------------


@pytest.mark.parametrize("user", [None, "", "0", "root", "0:0", "root:root"])
def test_docker_root_user_is_a_violation(user: str | None) -> None:
    props = docker_container(user=user)
    assert violations(rules.containers_non_root, CONTAINER, props) == [
        "container: set `user` to a non-root UID (it runs as root otherwise)"
    ]


def test_kubernetes_root_is_a_violation() -> None:
    props = deployment()
    props["spec"]["template"]["spec"]["securityContext"] = {"runAsUser": 0.0}
    found = violations(rules.containers_non_root, DEPLOYMENT, props)
    assert "container vllm: securityContext.runAsNonRoot must be true" in found
    assert "container vllm: securityContext.runAsUser must not be 0" in found


def test_non_root_containers_pass() -> None:
    assert violations(rules.containers_non_root, CONTAINER, docker_container()) == []
    assert violations(rules.containers_non_root, DEPLOYMENT, deployment()) == []


def test_container_level_security_context_wins_over_the_pods() -> None:
    props = deployment(securityContext={"runAsNonRoot": False, "allowPrivilegeEscalation": False})
    assert violations(rules.containers_non_root, DEPLOYMENT, props) == [
        "container vllm: securityContext.runAsNonRoot must be true"
    ]


# --- no-privilege-escalation -------------------------------------------------------------------


def test_privilege_escalation_is_a_violation() -> None:
    found = violations(rules.no_privilege_escalation, CONTAINER, docker_container(securityOpts=[], privileged=True))
    assert found == [
        "container: privileged must not be true",
        'container: securityOpts must include "no-new-privileges:true"',
    ]
    k8s = deployment(securityContext={"capabilities": {"drop": ["ALL"]}})
    assert violations(rules.no_privilege_escalation, DEPLOYMENT, k8s) == [
        "container vllm: securityContext.allowPrivilegeEscalation must be false"
    ]


def test_init_containers_are_checked_too() -> None:
    props = deployment()
    props["spec"]["template"]["spec"]["initContainers"] = [{"name": "pull", "image": "ollama/ollama:0.12.6"}]
    found = violations(rules.no_privilege_escalation, DEPLOYMENT, props)
    assert found == ["container pull: securityContext.allowPrivilegeEscalation must be false"]


def test_no_privilege_escalation_passes() -> None:
    assert violations(rules.no_privilege_escalation, CONTAINER, docker_container()) == []
    assert violations(rules.no_privilege_escalation, DEPLOYMENT, deployment()) == []


# --- capabilities-dropped ----------------------------------------------------------------------


def test_capabilities_not_dropped_are_violations() -> None:
    assert violations(rules.capabilities_dropped, CONTAINER, docker_container(capabilities=None)) == [
        "container: capabilities must drop ALL capabilities"
    ]
    k8s = deployment(
        securityContext={"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"], "add": ["SYS_ADMIN"]}}
    )
    assert violations(rules.capabilities_dropped, DEPLOYMENT, k8s) == [
        "container vllm: securityContext.capabilities adds capabilities SYS_ADMIN (only NET_BIND_SERVICE is allowed)"
    ]


def test_dropping_all_passes_and_net_bind_service_may_come_back() -> None:
    assert violations(rules.capabilities_dropped, CONTAINER, docker_container()) == []
    caps = {"drops": ["ALL"], "adds": ["NET_BIND_SERVICE"]}
    assert violations(rules.capabilities_dropped, CONTAINER, docker_container(capabilities=caps)) == []
    assert violations(rules.capabilities_dropped, DEPLOYMENT, deployment()) == []


# --- read-only-root-filesystem -----------------------------------------------------------------


def test_writable_root_filesystems_are_violations() -> None:
    assert violations(rules.read_only_root_filesystem, CONTAINER, docker_container(readOnly=False)) == [
        "container: readOnly must be true (a read-only root filesystem)"
    ]
    props = deployment(securityContext={"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}})
    props["spec"]["template"]["spec"]["initContainers"] = [
        {"name": "pull", "securityContext": {"readOnlyRootFilesystem": False}}
    ]
    assert violations(rules.read_only_root_filesystem, DEPLOYMENT, props) == [
        "container pull: securityContext.readOnlyRootFilesystem must be true",
        "container vllm: securityContext.readOnlyRootFilesystem must be true",
    ]


def test_read_only_root_filesystems_pass() -> None:
    assert violations(rules.read_only_root_filesystem, CONTAINER, docker_container()) == []
    assert violations(rules.read_only_root_filesystem, DEPLOYMENT, deployment()) == []


# --- seccomp-runtime-default -------------------------------------------------------------------


@pytest.mark.parametrize("option", ["seccomp=unconfined", "seccomp:unconfined", "SECCOMP=Unconfined"])
def test_docker_seccomp_unconfined_is_a_violation(option: str) -> None:
    props = docker_container(securityOpts=["no-new-privileges:true", option])
    assert violations(rules.seccomp_runtime_default, CONTAINER, props) == [
        'container: securityOpts must not include "seccomp=unconfined"'
    ]


def test_kubernetes_pods_without_runtime_default_are_violations() -> None:
    unset = deployment()
    del unset["spec"]["template"]["spec"]["securityContext"]["seccompProfile"]
    assert violations(rules.seccomp_runtime_default, DEPLOYMENT, unset) == [
        "container vllm: seccompProfile.type is unset; set RuntimeDefault on the pod (securityContext.seccompProfile)"
    ]
    # the container's own profile wins over the pod's
    unconfined = deployment(securityContext={"seccompProfile": {"type": "Unconfined"}})
    assert violations(rules.seccomp_runtime_default, DEPLOYMENT, unconfined) == [
        "container vllm: seccompProfile.type is 'Unconfined'; set RuntimeDefault on the pod "
        "(securityContext.seccompProfile)"
    ]


def test_runtime_default_and_docker_defaults_pass() -> None:
    assert violations(rules.seccomp_runtime_default, DEPLOYMENT, deployment()) == []
    localhost = deployment(securityContext={"seccompProfile": {"type": "Localhost", "localhostProfile": "p.json"}})
    assert violations(rules.seccomp_runtime_default, DEPLOYMENT, localhost) == []
    assert violations(rules.seccomp_runtime_default, CONTAINER, docker_container()) == []  # Docker's default


# --- no-host-namespaces ------------------------------------------------------------------------


def test_host_namespaces_are_violations() -> None:
    props = deployment()
    props["spec"]["template"]["spec"].update(hostNetwork=True, hostPID=True, hostIPC=True)
    assert violations(rules.no_host_namespaces, DEPLOYMENT, props) == [
        "pod spec: hostNetwork must not be true",
        "pod spec: hostPID must not be true",
        "pod spec: hostIPC must not be true",
    ]
    assert violations(rules.no_host_namespaces, CONTAINER, docker_container(networkMode="host")) == [
        "container: networkMode must not be host (the host's network namespace)"
    ]
    assert violations(rules.no_host_namespaces, CONTAINER, docker_container(pidMode="host")) == [
        "container: pidMode must not be host (the host's pid namespace)"
    ]


def test_own_namespaces_pass() -> None:
    assert violations(rules.no_host_namespaces, DEPLOYMENT, deployment()) == []
    assert violations(rules.no_host_namespaces, CONTAINER, docker_container(networkMode="slm-local")) == []


# --- no-host-mounts ----------------------------------------------------------------------------


def test_host_path_volumes_and_engine_sockets_are_violations() -> None:
    props = deployment()
    props["spec"]["template"]["spec"]["volumes"].append({"name": "node", "hostPath": {"path": "/var/lib"}})
    assert violations(rules.no_host_mounts, DEPLOYMENT, props) == ["pod spec: volume node is a hostPath (/var/lib)"]
    socket = docker_container(volumes=[{"hostPath": "/var/run/docker.sock", "containerPath": "/var/run/docker.sock"}])
    assert violations(rules.no_host_mounts, CONTAINER, socket) == [
        "container: volumes bind-mounts /var/run/docker.sock"
    ]
    mount = docker_container(mounts=[{"type": "bind", "source": "/run/docker.sock", "target": "/d.sock"}])
    assert violations(rules.no_host_mounts, CONTAINER, mount) == ["container: mounts bind-mounts /run/docker.sock"]


def test_claims_named_volumes_and_other_binds_pass() -> None:
    assert violations(rules.no_host_mounts, DEPLOYMENT, deployment()) == []
    volumes = [
        {"volumeName": "slm-models", "containerPath": "/models"},
        {"hostPath": "/srv/cfg", "containerPath": "/c"},
    ]
    assert violations(rules.no_host_mounts, CONTAINER, docker_container(volumes=volumes)) == []


# --- docker-ports-loopback ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "port", [{"internal": 11434.0, "external": 11434.0}, {"internal": 3000.0, "external": 3000.0, "ip": "0.0.0.0"}]
)
def test_ports_on_all_interfaces_are_violations(port: dict[str, Any]) -> None:
    found = violations(rules.docker_ports_loopback, CONTAINER, docker_container(ports=[port]))
    assert len(found) == 1
    assert "bind it to 127.0.0.1" in found[0]


def test_loopback_ports_pass() -> None:
    ports = [{"internal": 1.0, "external": 1.0, "ip": "127.0.0.1"}, {"internal": 2.0, "external": 2.0, "ip": "::1"}]
    assert violations(rules.docker_ports_loopback, CONTAINER, docker_container(ports=ports)) == []


def test_a_stack_that_opts_out_may_expose_ports() -> None:
    labels = [{"label": "slm-deploy.dev/expose-ports", "value": "true"}]
    props = docker_container(ports=[{"internal": 3000.0, "external": 3000.0, "ip": "0.0.0.0"}], labels=labels)
    assert violations(rules.docker_ports_loopback, CONTAINER, props) == []


# --- no-plain-secrets --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "HF_TOKEN=hf_abcdefghijklmnopqrstuvwxyz0123456789",
        "OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwxyz012345",
        "KEY=-----BEGIN RSA PRIVATE KEY-----",
        "GITHUB=ghp_" + "a" * 36,
    ],
)
def test_token_shapes_in_plain_inputs_are_violations(value: str) -> None:
    found = violations(rules.no_plain_secrets, CONTAINER, docker_container(envs=[value]))
    assert len(found) == 1
    assert found[0].startswith("envs[0]: looks like a")


def test_secret_named_kubernetes_env_with_a_literal_is_a_violation() -> None:
    props = deployment(env=[{"name": "VLLM_API_KEY", "value": "not-a-known-shape"}])
    assert violations(rules.no_plain_secrets, DEPLOYMENT, props) == [
        "container vllm: env VLLM_API_KEY has a literal value; use valueFrom.secretKeyRef"
    ]


def test_secret_named_docker_env_with_a_literal_is_a_violation() -> None:
    props = docker_container(envs=["HOME=/home/ollama", "OLLAMA_API_KEY=not-a-known-shape", "dbPassword=x1"])
    assert violations(rules.no_plain_secrets, CONTAINER, props) == [
        "envs[1]: OLLAMA_API_KEY has a literal value; mount it as a secret file instead",
        "envs[2]: dbPassword has a literal value; mount it as a secret file instead",
    ]


@pytest.mark.parametrize(
    "env",
    ["MAX_TOKENS=4096", "MAX_NUM_BATCHED_TOKENS=8192", "TOKENIZER=qwen", "OLLAMA_KEEP_ALIVE=5m", "BYPASS_PROXY=1"],
)
def test_names_that_merely_contain_a_secret_word_pass(env: str) -> None:
    assert violations(rules.no_plain_secrets, CONTAINER, docker_container(envs=[env])) == []
    name, value = env.split("=")
    assert violations(rules.no_plain_secrets, DEPLOYMENT, deployment(env=[{"name": name, "value": value}])) == []


def test_secret_named_configmap_key_is_a_violation() -> None:
    found = violations(rules.no_plain_secrets, "kubernetes:core/v1:ConfigMap", {"data": {"grafana_password": "x1"}})
    assert found == ["data.grafana_password looks like a secret in a ConfigMap; use a Secret"]


def test_masked_referenced_and_path_values_pass() -> None:
    assert violations(rules.no_plain_secrets, CONTAINER, docker_container(envs="[secret]")) == []
    env = [
        {"name": "VLLM_API_KEY", "valueFrom": {"secretKeyRef": {"name": "api", "key": "key"}}},
        {"name": "HF_TOKEN_PATH", "value": "/var/run/secrets/hf/token"},
        {"name": "API_KEY", "value": "[secret]"},
    ]
    assert violations(rules.no_plain_secrets, DEPLOYMENT, deployment(env=env)) == []


def test_unknown_values_are_skipped_not_fatal() -> None:
    """In a real preview, computed inputs are unknown; the scan skips them and goes on."""
    props = unknown_checking_proxy(
        {
            "envs": [UNKNOWN_STRING_VALUE, "HF_TOKEN=hf_abcdefghijklmnopqrstuvwxyz0123456789"],
            "user": UNKNOWN_STRING_VALUE,
        }
    )
    found = violations(rules.no_plain_secrets, CONTAINER, props)
    assert found == ["envs[1]: looks like a Hugging Face token in a plain input; pass it as a Pulumi secret"]


# --- model-server-health-and-memory ------------------------------------------------------------


def test_model_server_without_health_or_memory_is_a_violation() -> None:
    found = violations(rules.model_server_health_and_memory, CONTAINER, docker_container(healthcheck=None, memory=None))
    assert found == [
        "model server container: add a healthcheck (healthcheck.tests)",
        "model server container: set a memory limit (memory, in MB)",
    ]
    k8s = deployment(livenessProbe=None, resources={"requests": {"memory": "8Gi"}})
    assert violations(rules.model_server_health_and_memory, DEPLOYMENT, k8s) == [
        "model server container vllm: add a livenessProbe",
        "model server container vllm: set resources.limits.memory",
    ]


def test_healthcheck_none_counts_as_missing() -> None:
    props = docker_container(healthcheck={"tests": ["NONE"]})
    assert violations(rules.model_server_health_and_memory, CONTAINER, props) == [
        "model server container: add a healthcheck (healthcheck.tests)"
    ]


def test_model_servers_with_probes_and_limits_pass_and_others_are_not_judged() -> None:
    assert violations(rules.model_server_health_and_memory, CONTAINER, docker_container()) == []
    assert violations(rules.model_server_health_and_memory, DEPLOYMENT, deployment()) == []
    grafana = docker_container(labels=[], healthcheck=None, memory=None)
    assert violations(rules.model_server_health_and_memory, CONTAINER, grafana) == []


# --- aks-gpu-pools-autoscale -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"enableAutoScaling": False}, "enableAutoScaling must be true"),
        ({"maxCount": None}, "minCount and maxCount must both be set"),
        ({"minCount": 3.0, "maxCount": 2.0}, "bounds must satisfy 0 <= minCount <= maxCount"),
    ],
)
def test_gpu_pool_without_bounds_is_a_violation(changes: dict[str, Any], problem: str) -> None:
    found = violations(rules.aks_gpu_pools_autoscale, AGENT_POOL, gpu_pool(**changes), name="gpu")
    assert len(found) == 1
    assert found[0].startswith(f"GPU agent pool gpu: {problem}")


def test_gpu_pool_in_the_cluster_profiles_is_checked() -> None:
    profiles = [
        {"name": "system", "vmSize": "Standard_D4s_v5", "count": 2.0},
        {"name": "gpu", **gpu_pool(maxCount=None)},
    ]
    found = violations(rules.aks_gpu_pools_autoscale, CLUSTER, {"agentPoolProfiles": profiles})
    assert found == ["GPU agentPoolProfiles gpu: minCount and maxCount must both be set"]


def test_bounded_gpu_pools_and_cpu_pools_pass() -> None:
    assert violations(rules.aks_gpu_pools_autoscale, AGENT_POOL, gpu_pool()) == []
    tainted = {"vmSize": "Standard_D4s_v5", "nodeTaints": ["nvidia.com/gpu=present:NoSchedule"]}
    assert (
        violations(rules.aks_gpu_pools_autoscale, AGENT_POOL, {**tainted, **gpu_pool(vmSize="Standard_D4s_v5")}) == []
    )
    assert violations(rules.aks_gpu_pools_autoscale, AGENT_POOL, {"vmSize": "Standard_D4s_v5", "count": 3.0}) == []


def test_gpu_detected_by_taint() -> None:
    props = {"vmSize": "Standard_D4s_v5", "nodeTaints": ["nvidia.com/gpu=present:NoSchedule"]}
    assert violations(rules.aks_gpu_pools_autoscale, AGENT_POOL, props) == [
        "GPU agent pool r: enableAutoScaling must be true"
    ]


# --- the pack ----------------------------------------------------------------------------------


def test_every_rule_becomes_a_uniquely_named_mandatory_policy() -> None:
    policies = rules.policies()
    assert [p.name for p in policies] == [r.name for r in rules.RULES]
    assert len({p.name for p in policies}) == len(policies) == 16
    assert all(isinstance(p, ResourceValidationPolicy) for p in policies)


def test_policies_do_not_mutate_their_inputs() -> None:
    props = docker_container(image="ollama/ollama:latest", user="root", ports=[{"internal": 1.0}])
    before = copy.deepcopy(props)
    for rule in rules.RULES:
        violations(rule.validate, CONTAINER, props)
    assert props == before
