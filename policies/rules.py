"""The CrossGuard policies of slm-deploy, as plain validate functions.

Each function takes ``(ResourceValidationArgs, report_violation)`` and is unit-tested on
hand-built arguments. ``POLICIES`` wraps them as ``ResourceValidationPolicy`` objects for the
pack (``policies/__main__.py``, the only place a ``PolicyPack`` is built: its constructor
starts a server and never returns), and ``slm-deploy check`` runs ``RULES`` over plan.json.
"""

from __future__ import annotations

import ipaddress
import itertools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy import EnforcementLevel, Policy, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy
from pulumi_policy.proxy import UnknownValueError

from policies import props as p

Validate = Callable[[ResourceValidationArgs, ReportViolation], None]

# --- images ---------------------------------------------------------------------------------


def image_problem(image: str) -> str | None:
    """Why an image reference is not pinned, or None when it has a tag or digest."""
    if "@sha256:" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return f"image {image!r} has no tag (it means :latest)"
    if last.rsplit(":", 1)[1] == "latest":
        return f"image {image!r} uses the :latest tag"
    return None


def _images(args: ResourceValidationArgs) -> Iterator[tuple[str, Any]]:
    props = args.props
    if args.resource_type == p.DOCKER_CONTAINER:
        yield "container", props.get("image")
    elif args.resource_type == p.DOCKER_REMOTE_IMAGE:
        yield "remote image", props.get("name")
    elif args.resource_type == p.DOCKER_BUILD_IMAGE:
        for tag in p.items(props.get("tags")):
            yield "image tag", tag
    for container in p.kube_containers(args.resource_type, props):
        yield f"container {container.name}", container.spec.get("image")


def images_pinned(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """No ``:latest`` or untagged image: a tag or digest makes a deployment reproducible."""
    for where, image in _images(args):
        if image is None or p.is_unknown(image):
            continue
        problem = image_problem(str(image))
        if problem:
            report_violation(f"{where}: {problem}; pin a version tag or a digest", None)


# --- container hardening ---------------------------------------------------------------------

NON_ROOT_USERS_DENIED = {"", "0", "root"}
ALLOWED_ADDED_CAPABILITIES = {"NET_BIND_SERVICE"}


def _docker_user_is_root(user: Any) -> bool:
    name = str(user or "").split(":", 1)[0].strip()
    return name in NON_ROOT_USERS_DENIED


def containers_non_root(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Containers run as a non-root user (PSS restricted: runAsNonRoot, runAsUser != 0)."""
    if args.resource_type == p.DOCKER_CONTAINER:
        user = args.props.get("user")
        if not p.is_unknown(user) and _docker_user_is_root(user):
            report_violation("container: set `user` to a non-root UID (it runs as root otherwise)", None)
        return
    for c in p.kube_containers(args.resource_type, args.props):
        if c.security("runAsNonRoot") is not True:
            report_violation(f"container {c.name}: securityContext.runAsNonRoot must be true", None)
        run_as = c.security("runAsUser")
        if run_as is not None and not p.is_unknown(run_as) and int(run_as) == 0:
            report_violation(f"container {c.name}: securityContext.runAsUser must not be 0", None)


def _no_new_privileges(security_opts: Any) -> bool:
    options = {str(o).replace("=", ":").lower() for o in p.items(security_opts)}
    return bool(options & {"no-new-privileges", "no-new-privileges:true"})


def no_privilege_escalation(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """No privileged containers and no privilege escalation (setuid binaries gain nothing)."""
    if args.resource_type == p.DOCKER_CONTAINER:
        if args.props.get("privileged") is True:
            report_violation("container: privileged must not be true", None)
        if not _no_new_privileges(args.props.get("securityOpts")):
            report_violation('container: securityOpts must include "no-new-privileges:true"', None)
        return
    for c in p.kube_containers(args.resource_type, args.props):
        if p.get(c.spec, "securityContext", "privileged") is True:
            report_violation(f"container {c.name}: securityContext.privileged must not be true", None)
        if p.get(c.spec, "securityContext", "allowPrivilegeEscalation") is not False:
            report_violation(f"container {c.name}: securityContext.allowPrivilegeEscalation must be false", None)


def _capability_problems(drops: Any, adds: Any) -> list[str]:
    problems = []
    if "ALL" not in {str(d).upper() for d in p.items(drops)}:
        problems.append("must drop ALL capabilities")
    extra = sorted({str(a).upper() for a in p.items(adds)} - ALLOWED_ADDED_CAPABILITIES)
    if extra:
        problems.append(f"adds capabilities {', '.join(extra)} (only NET_BIND_SERVICE is allowed)")
    return problems


def capabilities_dropped(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Every container drops ALL Linux capabilities and adds back at most NET_BIND_SERVICE."""
    if args.resource_type == p.DOCKER_CONTAINER:
        caps = args.props.get("capabilities")
        for problem in _capability_problems(p.get(caps, "drops"), p.get(caps, "adds")):
            report_violation(f"container: capabilities {problem}", None)
        return
    for c in p.kube_containers(args.resource_type, args.props):
        caps = p.get(c.spec, "securityContext", "capabilities")
        for problem in _capability_problems(p.get(caps, "drop"), p.get(caps, "add")):
            report_violation(f"container {c.name}: securityContext.capabilities {problem}", None)


def read_only_root_filesystem(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Containers run on a read-only root filesystem: what they write goes to the volumes the
    plan declares (emptyDirs, the model cache), never into the image."""
    if args.resource_type == p.DOCKER_CONTAINER:
        if args.props.get("readOnly") is not True and not p.is_unknown(args.props.get("readOnly")):
            report_violation("container: readOnly must be true (a read-only root filesystem)", None)
        return
    for c in p.kube_containers(args.resource_type, args.props):
        if p.get(c.spec, "securityContext", "readOnlyRootFilesystem") is not True:
            report_violation(f"container {c.name}: securityContext.readOnlyRootFilesystem must be true", None)


#: seccomp profiles that filter system calls (PSS restricted allows these two).
SECCOMP_FILTERING = {"RuntimeDefault", "Localhost"}


def _docker_seccomp_unconfined(security_opts: Any) -> bool:
    for option in p.items(security_opts):
        key, _, value = str(option).replace(":", "=", 1).partition("=")
        if key.strip().lower() == "seccomp" and value.strip().lower() == "unconfined":
            return True
    return False


def seccomp_runtime_default(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """System calls are filtered by the container runtime's default seccomp profile (PSS
    restricted): Kubernetes pods ask for RuntimeDefault, Docker containers never turn it off."""
    if args.resource_type == p.DOCKER_CONTAINER:
        if _docker_seccomp_unconfined(args.props.get("securityOpts")):
            report_violation('container: securityOpts must not include "seccomp=unconfined"', None)
        return
    for c in p.kube_containers(args.resource_type, args.props):
        own = p.get(c.spec, "securityContext", "seccompProfile", "type")
        profile = own if own is not None else p.get(c.pod_spec, "securityContext", "seccompProfile", "type")
        if p.is_unknown(profile):
            continue
        if profile not in SECCOMP_FILTERING:
            shown = "unset" if profile is None else repr(profile)
            report_violation(
                f"container {c.name}: seccompProfile.type is {shown}; set RuntimeDefault on the pod "
                "(securityContext.seccompProfile)",
                None,
            )


#: Linux namespaces a pod or container must not share with its node.
HOST_NAMESPACES = ("hostNetwork", "hostPID", "hostIPC")
DOCKER_NAMESPACE_MODES = {"networkMode": "network", "pidMode": "pid", "ipcMode": "ipc"}


def no_host_namespaces(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Workloads keep their own network, process and IPC namespaces: sharing the host's lets a
    container see and reach everything on the node."""
    if args.resource_type == p.DOCKER_CONTAINER:
        for key, what in DOCKER_NAMESPACE_MODES.items():
            if str(args.props.get(key) or "").lower() == "host":
                report_violation(f"container: {key} must not be host (the host's {what} namespace)", None)
        return
    template = p.pod_template(args.resource_type, args.props)
    if template is None:
        return
    _, pod_spec = template
    for key in HOST_NAMESPACES:
        if pod_spec.get(key) is True:
            report_violation(f"pod spec: {key} must not be true", None)


#: Sockets that hand out control of the container engine (root on the host).
ENGINE_SOCKETS = ("docker.sock", "containerd.sock", "podman.sock")


def _is_engine_socket(path: Any) -> bool:
    return isinstance(path, str) and path.rstrip("/").endswith(ENGINE_SOCKETS)


def no_host_mounts(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """No hostPath volumes on Kubernetes, and no container-engine socket bind-mounted into a
    local Docker container: either hands the container the node."""
    if args.resource_type == p.DOCKER_CONTAINER:
        for volume in p.items(args.props.get("volumes")):
            if _is_engine_socket(p.get(volume, "hostPath")):
                report_violation(f"container: volumes bind-mounts {p.get(volume, 'hostPath')}", None)
        for mount in p.items(args.props.get("mounts")):
            if _is_engine_socket(p.get(mount, "source")):
                report_violation(f"container: mounts bind-mounts {p.get(mount, 'source')}", None)
        return
    template = p.pod_template(args.resource_type, args.props)
    if template is None:
        return
    _, pod_spec = template
    for volume in p.items(pod_spec.get("volumes")):
        if isinstance(volume, Mapping) and volume.get("hostPath") is not None:
            path = p.get(volume, "hostPath", "path")
            report_violation(f"pod spec: volume {volume.get('name', '?')} is a hostPath ({path})", None)


# --- local Docker ports ----------------------------------------------------------------------


def _is_loopback(ip: Any) -> bool:
    if str(ip) == "localhost":
        return True
    try:
        return ipaddress.ip_address(str(ip)).is_loopback
    except ValueError:
        return False


def docker_ports_loopback(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Published ports of local Docker containers listen on 127.0.0.1 only, unless the stack
    opts out (the target then labels the container ``slm-deploy.dev/expose-ports: "true"``)."""
    if args.resource_type != p.DOCKER_CONTAINER:
        return
    if p.docker_labels(args.props).get(p.EXPOSE_PORTS_LABEL) == "true":
        return
    for port in p.items(args.props.get("ports")):
        ip = p.get(port, "ip")
        if p.is_unknown(ip) or _is_loopback(ip):
            continue
        internal, external = p.get(port, "internal"), p.get(port, "external")
        shown = f"{_port(external) if external is not None else '(random)'}->{_port(internal)}"
        report_violation(
            f"port {shown} is published on {ip or '0.0.0.0'}; bind it to 127.0.0.1 "
            f"(or opt out in the stack, which labels the container {p.EXPOSE_PORTS_LABEL}=true)",
            None,
        )


def _port(value: Any) -> str:
    return str(int(value)) if isinstance(value, int | float) else str(value)


# --- secrets ---------------------------------------------------------------------------------

#: Shapes of well-known credentials, wherever they appear in an input.
SECRET_SHAPES: dict[str, re.Pattern[str]] = {
    "Hugging Face token": re.compile(r"\bhf_[A-Za-z0-9]{30,}"),
    "OpenAI-style API key": re.compile(r"\bsk-(?:proj-)?[A-Za-z0-9_-]{20,}"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}"),
    "AWS access key id": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "private key": re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "JSON Web Token": re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    "Azure storage account key": re.compile(r"AccountKey=[A-Za-z0-9+/=]{40,}"),
}
#: Words that make an environment variable or ConfigMap key secret-named (whole words of the
#: name: HF_TOKEN and grafanaPassword are, MAX_TOKENS and TOKENIZER_PATH are not).
SECRET_WORDS = {"password", "passwd", "pass", "pwd", "secret", "token", "credential", "credentials", "apikey"}
SECRET_WORD_PAIRS = {("api", "key"), ("access", "key"), ("private", "key"), ("account", "key")}
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_WORD_SPLIT = re.compile(r"[^a-z0-9]+")


def is_secret_name(name: str) -> bool:
    """Whether a name says its value is a secret, judged by whole words (snake, kebab, camel)."""
    words = [w for w in _WORD_SPLIT.split(_CAMEL.sub("_", name).lower()) if w]
    return bool(SECRET_WORDS.intersection(words)) or any(
        pair in SECRET_WORD_PAIRS for pair in itertools.pairwise(words)
    )


def _walk(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every string in an input tree with its path; unknown (computed) values are skipped."""
    if isinstance(value, str):
        yield path, value
        return
    if isinstance(value, Mapping):
        keys = list(value.keys())
        for key in keys:
            try:
                child = value[key]
            except UnknownValueError:
                continue
            yield from _walk(child, f"{path}.{key}" if path else str(key))
    elif isinstance(value, Sequence):
        for index in range(len(value)):
            try:
                child = value[index]
            except UnknownValueError:
                continue
            yield from _walk(child, f"{path}[{index}]")


def _literal_secret(value: Any) -> bool:
    """A non-empty literal that is not a reference: not masked, a placeholder, a path or $(VAR)."""
    if not isinstance(value, str) or not value.strip() or p.is_unknown(value):
        return False
    return not (value.startswith(("/", "$(", "${")) or value.lower() in {"true", "false"})


def _known_items(value: Any) -> Iterator[Any]:
    """The elements of a list input, skipping those a preview does not know yet."""
    if not isinstance(value, Sequence) or isinstance(value, str):
        return
    for index in range(len(value)):
        try:
            yield value[index]
        except UnknownValueError:
            continue


def _named_secrets(args: ResourceValidationArgs) -> Iterator[tuple[str, str]]:
    """Secret-named env vars (Kubernetes ``env``, Docker ``envs``) and ConfigMap keys holding
    literal values, as (the text judged, the message)."""
    if args.resource_type == p.DOCKER_CONTAINER:
        for index, entry in enumerate(_known_items(args.props.get("envs"))):
            if not isinstance(entry, str) or "=" not in entry:
                continue  # a masked secret
            name, value = entry.split("=", 1)
            if is_secret_name(name) and _literal_secret(value):
                yield entry, f"envs[{index}]: {name} has a literal value; mount it as a secret file instead"
    for c in p.kube_containers(args.resource_type, args.props):
        for env in p.items(c.spec.get("env")):
            name, value = p.get(env, "name"), p.get(env, "value")
            if isinstance(name, str) and is_secret_name(name) and _literal_secret(value):
                yield value, f"container {c.name}: env {name} has a literal value; use valueFrom.secretKeyRef"
    if args.resource_type == p.CONFIG_MAP:
        data = args.props.get("data")
        if not isinstance(data, Mapping):
            return
        for key in data:
            if is_secret_name(str(key)) and _literal_secret(data[key]):
                yield data[key], f"data.{key} looks like a secret in a ConfigMap; use a Secret"


def no_plain_secrets(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """No credential in a plain input: well-known token shapes anywhere, and literal values of
    secret-named env vars (Kubernetes and Docker) or ConfigMap keys.

    CrossGuard's Python SDK hands validate functions secret inputs already unwrapped, so this
    judges values by shape and place, not by Pulumi's secret flag; the offline render masks
    Pulumi secrets as ``[secret]``, so there every remaining match is a plain value. A value
    is reported once, by shape when it has one.
    """
    shaped: set[str] = set()
    for path, text in _walk(args.props, ""):
        for what, shape in SECRET_SHAPES.items():
            if shape.search(text):
                report_violation(f"{path}: looks like a {what} in a plain input; pass it as a Pulumi secret", None)
                shaped.add(text)
                break
    for text, message in _named_secrets(args):
        if text not in shaped:
            report_violation(message, None)


# --- model servers ---------------------------------------------------------------------------


def _memory_limit(value: Any) -> bool:
    return value is not None and (p.is_unknown(value) or (isinstance(value, int | float) and value > 0))


def model_server_health_and_memory(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Every model server has health checks and a memory limit: a wedged or leaking server is
    restarted instead of taking the host (or node) down with it."""
    if not p.is_model_server(args.resource_type, args.props):
        return
    if args.resource_type == p.DOCKER_CONTAINER:
        tests = [str(t) for t in p.items(p.get(args.props, "healthcheck", "tests"))]
        if not tests or tests[0].upper() == "NONE":
            report_violation("model server container: add a healthcheck (healthcheck.tests)", None)
        if not _memory_limit(args.props.get("memory")):
            report_violation("model server container: set a memory limit (memory, in MB)", None)
        return
    for c in p.kube_containers(args.resource_type, args.props):
        if c.init:
            continue
        for probe in ("readinessProbe", "livenessProbe"):
            if not c.spec.get(probe):
                report_violation(f"model server container {c.name}: add a {probe}", None)
        if not p.get(c.spec, "resources", "limits", "memory"):
            report_violation(f"model server container {c.name}: set resources.limits.memory", None)


# --- AKS -------------------------------------------------------------------------------------

GPU_VM = re.compile(r"(?i)^standard_n[a-z]*\d")


def _is_gpu_pool(pool: Mapping[str, Any]) -> bool:
    vm_size = str(pool.get("vmSize") or "")
    taints = [str(t) for t in p.items(pool.get("nodeTaints"))]
    return bool(GPU_VM.match(vm_size)) or any(t.startswith("nvidia.com/gpu") for t in taints)


def _autoscaling_problem(pool: Mapping[str, Any]) -> str | None:
    if pool.get("enableAutoScaling") is not True:
        return "enableAutoScaling must be true"
    low, high = pool.get("minCount"), pool.get("maxCount")
    if low is None or high is None:
        return "minCount and maxCount must both be set"
    if p.is_unknown(low) or p.is_unknown(high):
        return None
    if not 0 <= float(low) <= float(high) or float(high) < 1:
        return f"bounds must satisfy 0 <= minCount <= maxCount and maxCount >= 1 (got {low}..{high})"
    return None


def aks_gpu_pools_autoscale(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """AKS GPU node pools autoscale between explicit bounds: GPU VMs are the bill."""
    pools: list[tuple[str, Mapping[str, Any]]] = []
    if args.resource_type == p.AKS_AGENT_POOL:
        pools.append((f"agent pool {args.props.get('agentPoolName') or args.name}", args.props))
    elif args.resource_type == p.AKS_CLUSTER:
        for profile in p.items(args.props.get("agentPoolProfiles")):
            if isinstance(profile, Mapping):
                pools.append((f"agentPoolProfiles {profile.get('name', '?')}", profile))
    for where, pool in pools:
        if _is_gpu_pool(pool):
            problem = _autoscaling_problem(pool)
            if problem:
                report_violation(f"GPU {where}: {problem}", None)


#: The tag every Azure resource of the program carries with the stack's environment.
ENVIRONMENT_TAG = "environment"
#: Scopes that reach beyond one resource group: the tenant root, management groups, subscriptions.
BROAD_SCOPE = re.compile(
    r"(?i)^/$|^/providers/microsoft\.management/managementgroups/[^/]+/?$|^/subscriptions/[^/]+/?$"
)


def _in_prod(props: Mapping[str, Any]) -> bool:
    """Prod resources are those the program tagged ``environment: prod``."""
    return bool(p.get(props, "tags", ENVIRONMENT_TAG) == "prod")


def key_vault_purge_protection(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Key Vaults of prod have purge protection: a deleted vault (and its secrets) can be
    recovered for the retention period and cannot be purged by mistake or malice."""
    if args.resource_type != p.KEY_VAULT or not _in_prod(args.props):
        return
    if p.get(args.props, "properties", "enablePurgeProtection") is not True:
        report_violation("prod Key Vault: properties.enablePurgeProtection must be true", None)


def registry_admin_user_off(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Container registries have no admin user: pulls and pushes go through Entra ID roles
    (AcrPull, AcrPush), never a shared password."""
    if args.resource_type == p.CONTAINER_REGISTRY and args.props.get("adminUserEnabled") is not False:
        report_violation("container registry: adminUserEnabled must be false", None)


def aks_local_accounts_off_in_prod(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Prod AKS clusters have no local accounts: every sign-in goes through Entra ID and is
    authorized and audited per identity."""
    if args.resource_type != p.AKS_CLUSTER or not _in_prod(args.props):
        return
    if args.props.get("disableLocalAccounts") is not True:
        report_violation("prod AKS cluster: disableLocalAccounts must be true", None)


def role_assignments_scoped(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Role assignments are scoped to resources (or at most a resource group), never to a
    subscription, management group or the tenant root."""
    if args.resource_type != p.ROLE_ASSIGNMENT:
        return
    scope = args.props.get("scope")
    if scope is None:
        report_violation("role assignment: scope is missing", None)
    elif not p.is_unknown(scope) and BROAD_SCOPE.match(str(scope)):
        report_violation(f"role assignment: scope {scope} is a subscription or wider; scope it to the resource", None)


# --- the pack --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One policy: its name in reports, what it asks for, and its validate function."""

    name: str
    description: str
    validate: Validate


RULES: list[Rule] = [
    Rule("images-pinned", "No :latest or untagged container image.", images_pinned),
    Rule("containers-non-root", "Containers run as a non-root user.", containers_non_root),
    Rule("no-privilege-escalation", "No privileged containers, no privilege escalation.", no_privilege_escalation),
    Rule("capabilities-dropped", "Containers drop ALL capabilities.", capabilities_dropped),
    Rule("read-only-root-filesystem", "Containers run on a read-only root filesystem.", read_only_root_filesystem),
    Rule("seccomp-runtime-default", "System calls filtered by the RuntimeDefault profile.", seccomp_runtime_default),
    Rule("no-host-namespaces", "No host network, PID or IPC namespace.", no_host_namespaces),
    Rule("no-host-mounts", "No hostPath volumes, no container-engine socket mounts.", no_host_mounts),
    Rule(
        "docker-ports-loopback", "Local Docker ports bind 127.0.0.1 unless the stack opts out.", docker_ports_loopback
    ),
    Rule("no-plain-secrets", "No secret-looking value in a plain input.", no_plain_secrets),
    Rule(
        "model-server-health-and-memory",
        "Model servers have health checks and a memory limit.",
        model_server_health_and_memory,
    ),
    Rule("aks-gpu-pools-autoscale", "AKS GPU node pools autoscale within bounds.", aks_gpu_pools_autoscale),
    Rule("key-vault-purge-protection", "Prod Key Vaults have purge protection.", key_vault_purge_protection),
    Rule("registry-admin-user-off", "Container registries have no admin user.", registry_admin_user_off),
    Rule(
        "aks-local-accounts-off-in-prod",
        "Prod AKS clusters have local accounts disabled.",
        aks_local_accounts_off_in_prod,
    ),
    Rule(
        "role-assignments-scoped",
        "Role assignments are never at subscription scope or wider.",
        role_assignments_scoped,
    ),
]


def policies() -> list[Policy]:
    """The rules as CrossGuard policies, all mandatory."""
    return [
        ResourceValidationPolicy(rule.name, rule.description, rule.validate, EnforcementLevel.MANDATORY)
        for rule in RULES
    ]
