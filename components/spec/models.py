"""The stack configuration as typed models: the contract of ``stacks/Pulumi.<stack>.yaml``.

Field names are snake_case in Python and camelCase in the stack file (``maxContextTokens``), which
accepts no other spelling (:func:`components.spec.parse_config` validates by alias only).
Each top-level field is one Pulumi config key in the ``slm-deploy`` namespace. Models reject
unknown keys so that a typo is an error, not a silently ignored setting. Cross-field rules live
in :mod:`components.spec.rules`; environment defaults in :mod:`components.spec.defaults`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Network, ip_address
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)
from pydantic.alias_generators import to_camel

from components.catalog.models import Engine

#: Names become Kubernetes objects, Docker containers and Azure resources with suffixes such
#: as ``-fetch``; 40 characters leaves room for them under the 63-character label limit.
Dns1123Label = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=40),
    Field(description="A DNS-1123 label: lowercase letters, digits and '-', at most 40 characters."),
]
Duration = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]+(ms|s|m|h|d|w|y)$"),
    Field(description="A Prometheus duration such as 30s, 10m, 7d."),
]
#: A secret value. In the stack file it is ``{secure: ...}`` (set it with
#: ``pulumi config set --secret --path``); the program sees the decrypted text.
Secret = Annotated[
    SecretStr,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string"},
                {
                    "type": "object",
                    "properties": {"secure": {"type": "string"}},
                    "required": ["secure"],
                    "additionalProperties": False,
                },
            ],
            "description": "A secret: set it with `pulumi config set --secret --path`.",
        }
    ),
]


def _drop_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def environment_default() -> Any:
    """A field whose default depends on ``environment``.

    :func:`components.spec.defaults.apply_environment_defaults` fills it before validation, so
    a parsed spec never holds ``None`` here; the JSON Schema shows the field as optional.
    """
    return Field(default=None, json_schema_extra=_drop_default)


SeverityLevel = Literal["critical", "warning", "info"]


class Target(StrEnum):
    DOCKER = "docker"
    KUBERNETES = "kubernetes"
    AKS = "aks"


class Environment(StrEnum):
    DEV = "dev"
    STAGING = "staging"
    PROD = "prod"
    PREVIEW = "preview"


class Section(BaseModel):
    """Base of every config section: camelCase keys, unknown keys refused, immutable."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        use_attribute_docstrings=True,
    )


# --- Azure names ------------------------------------------------------------------------

#: Azure GPU VM sizes are the N series (NC, ND, NG, NV); everything else has no GPU.
GPU_VM_SIZE_PREFIX = "Standard_N"
AzureVmSize = Annotated[
    str,
    StringConstraints(pattern=r"^Standard_[A-Za-z0-9_]+$"),
    Field(description="An Azure VM size such as Standard_D4s_v5 or Standard_NC4as_T4_v3."),
]


def _checked(check: Callable[[str], str | None]) -> AfterValidator:
    """Validate a name Azure restricts with a message that states the rule, not a regex."""

    def validate(value: str) -> str:
        problem = check(value)
        if problem is not None:
            raise ValueError(f"{value!r} {problem}")
        return value

    return AfterValidator(validate)


def _described(pattern: str, description: str) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "pattern": pattern, "description": description})


#: The suffixes a memory quantity may carry, with their factors: binary, then decimal.
MEMORY_SUFFIXES = {
    "Ki": 1024,
    "Mi": 1024**2,
    "Gi": 1024**3,
    "Ti": 1024**4,
    "k": 1000,
    "M": 1000**2,
    "G": 1000**3,
    "T": 1000**4,
}
_MEMORY_PATTERN = r"^[0-9]+(\.[0-9]+)?(" + "|".join(MEMORY_SUFFIXES) + ")?$"
_CPU_PATTERN = r"^[0-9]+(\.[0-9]+)?m?$"


def _memory_problem(value: str) -> str | None:
    if re.fullmatch(_MEMORY_PATTERN, value):
        return None
    if re.fullmatch(_CPU_PATTERN, value):
        return "is not a memory size: 'm' means thousandths of a byte; write Mi (mebibytes) or M (megabytes)"
    return "is not a memory size: a number with an optional suffix Ki, Mi, Gi, Ti (binary) or k, M, G, T (decimal)"


def memory_bytes(quantity: str) -> int:
    """A :data:`MemoryQuantity` (``8Gi``, ``500M``) in bytes."""
    for suffix, factor in sorted(MEMORY_SUFFIXES.items(), key=lambda item: -len(item[0])):
        if quantity.endswith(suffix):
            return int(float(quantity[: -len(suffix)]) * factor)
    return int(float(quantity))


def _cpu_problem(value: str) -> str | None:
    if re.fullmatch(_CPU_PATTERN, value):
        return None
    return "is not a CPU quantity: cores (4, 0.5) or millicores (500m)"


#: Memory and storage in bytes: binary (Ki, Mi, Gi, Ti) or decimal (k, M, G, T) suffixes. No
#: ``m``: Kubernetes reads ``500m`` as half a byte, never as 500 MiB.
MemoryQuantity = Annotated[
    str,
    _checked(_memory_problem),
    _described(_MEMORY_PATTERN, "A memory or storage size in bytes, with an optional suffix: 8Gi, 512Mi, 500M."),
]
#: CPU: cores, or thousandths of a core with ``m``.
CpuQuantity = Annotated[
    str,
    _checked(_cpu_problem),
    _described(_CPU_PATTERN, "CPU cores such as 4 or 0.5, or millicores such as 500m."),
]


def _key_vault_name_problem(value: str) -> str | None:
    # https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules#microsoftkeyvault
    if not 3 <= len(value) <= 24:
        return "is not 3 to 24 characters long (Key Vault names)"
    if not re.fullmatch(r"[a-zA-Z][a-zA-Z0-9-]*[a-zA-Z0-9]", value) or "--" in value:
        return "is not a Key Vault name: letters, digits and single '-', starting with a letter, ending alphanumeric"
    return None


def _registry_name_problem(value: str) -> str | None:
    # https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules#microsoftcontainerregistry
    if not re.fullmatch(r"[a-zA-Z0-9]{5,50}", value):
        return "is not a registry name: 5 to 50 letters and digits, nothing else"
    return None


def _pool_name_problem(value: str) -> str | None:
    # https://learn.microsoft.com/azure/aks/create-node-pools#limitations (Linux pools: 1 to 12 characters)
    if not re.fullmatch(r"[a-z][a-z0-9]{0,11}", value):
        return "is not a node pool name: 1 to 12 lowercase letters and digits, starting with a letter"
    return None


def _resource_group_problem(value: str) -> str | None:
    # https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules#microsoftresources
    if not re.fullmatch(r"[-\w.()]{1,90}", value, flags=re.ASCII) or value.endswith("."):
        return "is not a resource group name: 1 to 90 letters, digits, '-', '_', '.', '(', ')', not ending in '.'"
    return None


KeyVaultName = Annotated[
    str,
    _checked(_key_vault_name_problem),
    _described(
        r"^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$",
        "3 to 24 characters: letters, digits and single '-'; starts with a letter, ends alphanumeric.",
    ),
]
RegistryName = Annotated[
    str, _checked(_registry_name_problem), _described(r"^[a-zA-Z0-9]{5,50}$", "5 to 50 letters and digits.")
]
PoolName = Annotated[
    str,
    _checked(_pool_name_problem),
    _described(r"^[a-z][a-z0-9]{0,11}$", "1 to 12 lowercase letters and digits, starting with a letter."),
]
ResourceGroupName = Annotated[
    str,
    _checked(_resource_group_problem),
    _described(r"^[-\w.()]{0,89}[-\w()]$", "1 to 90 letters, digits, '-', '_', '.', '(', ')'."),
]


def _ip_address_problem(value: str) -> str | None:
    try:
        ip_address(value)
    except ValueError:
        return "is not an IP address (127.0.0.1 keeps ports on this machine, 0.0.0.0 publishes them)"
    return None


#: An IPv4 or IPv6 address kept as text (it goes into Docker's port bindings as written).
IpAddressText = Annotated[
    str,
    _checked(_ip_address_problem),
    WithJsonSchema(
        {
            "type": "string",
            "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}],
            "description": "An IPv4 or IPv6 address such as 127.0.0.1.",
        }
    ),
]
AzureRegion = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9]{2,30}$"),
    Field(description="An Azure region name as the CLI spells it: westeurope, eastus2, swedencentral."),
]


# --- models ----------------------------------------------------------------------------


class CustomSource(Section):
    """A model that is not in the catalog: name its artifacts and its size yourself."""

    huggingface: str | None = None
    """Hugging Face repository for vLLM, or to convert for ONNX (``org/name``)."""
    ollama: str | None = None
    """Ollama tag (``name:tag``)."""
    onnx: str | None = None
    """Hugging Face repository holding an ONNX Runtime GenAI build."""
    onnx_subfolder: str | None = None
    """Folder of that repository with genai_config.json."""
    parameters: int = Field(gt=0)
    """Parameter count."""
    context_length: int = Field(gt=0)
    """Longest context the model supports, in tokens."""
    weight_bytes: int = Field(gt=0)
    """Bytes of the weights that will be loaded."""
    gated: bool = False
    """The Hugging Face repository needs an access token."""


class ImageOverride(Section):
    """Replace the engine's pinned image."""

    repository: str | None = None
    tag: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")] | None = None
    digest: Annotated[str, StringConstraints(pattern=r"^sha256:[0-9a-f]{64}$")] | None = None


class Autoscaling(Section):
    """Scale replicas with load (Kubernetes targets)."""

    min_replicas: int = Field(default=1, ge=0)
    max_replicas: int = Field(default=3, ge=1)
    target_queue_depth: int = Field(default=5, ge=1)
    """Waiting requests per replica that trigger a scale-up (engines with a queue metric)."""
    target_cpu_utilization: int = Field(default=80, ge=10, le=100)
    """CPU percentage per replica for engines scaled on CPU."""
    scale_to_zero: bool = False
    """Allow zero replicas when idle; required for ``minReplicas: 0``."""
    scale_up_stabilization: Duration = "60s"
    scale_down_stabilization: Duration = "300s"
    wake_query: str | None = None
    """PromQL whose value above 0 wakes a model scaled to zero (Kubernetes targets), e.g. the
    ingress controller's request rate for the model's host. Required with ``scaleToZero``: at
    zero replicas no pod exports the queue metric, so it cannot wake the model. Above zero it
    also counts as load, per replica against ``targetQueueDepth``."""


class GpuRequest(Section):
    """GPUs for one replica."""

    count: int = Field(default=1, ge=1, le=8)
    vm_size: AzureVmSize | None = None
    """Azure VM size for the GPU pool; by default the smallest that fits (catalog sizing)."""


class Modelfile(Section):
    """Ollama Modelfile instructions; the model is created under the stack's model name."""

    system: str | None = None
    template: str | None = None
    """Go template for prompts; the base model's template when unset."""
    parameters: dict[
        Literal[
            "temperature",
            "top_p",
            "top_k",
            "min_p",
            "repeat_penalty",
            "repeat_last_n",
            "seed",
            "num_predict",
        ],
        float | int,
    ] = Field(default_factory=dict)
    """PARAMETER lines. No ``num_ctx``: it is always ``maxContextTokens``, which sizing and the context
    rule check."""
    stop: list[str] = Field(default_factory=list)
    """PARAMETER stop lines, written raw between double quotes: no '"' and no line breaks."""


class OllamaOptions(Section):
    """Server settings of Ollama (environment variables of ``ollama serve``)."""

    keep_alive: str = "-1"
    """OLLAMA_KEEP_ALIVE: how long the model stays loaded; -1 keeps it loaded."""
    num_parallel: int | None = Field(default=None, ge=1)
    """OLLAMA_NUM_PARALLEL; the model's ``concurrency`` (what memory is sized for) by default and at most."""
    max_loaded_models: int = Field(default=1, ge=1)
    """OLLAMA_MAX_LOADED_MODELS."""
    flash_attention: bool = False


class VllmOptions(Section):
    """vLLM engine options."""

    cpu_image: bool = False
    """Run the CPU build of vLLM (required for ``gpu: false``)."""
    dtype: Literal["auto", "bfloat16", "float16", "float32"] = "auto"
    tool_calling: bool = False
    """Enable OpenAI tool calling (``--enable-auto-tool-choice``)."""
    tool_call_parser: str | None = None
    """``--tool-call-parser``; the preset's parser when unset."""
    gpu_memory_utilization: float | None = Field(default=None, gt=0.1, le=0.98)
    """Override the catalog sizing's recommendation."""
    extra_args: list[str] = Field(default_factory=list)
    """Further ``vllm serve`` flags, appended verbatim."""


class OnnxOptions(Section):
    """ONNX Runtime GenAI server options."""

    max_running_requests: int | None = Field(default=None, ge=1)
    """Concurrent generations; the model's ``concurrency`` (what memory is sized for) by default and at most."""
    max_queued_requests: int = Field(default=32, ge=0)
    """Requests waiting beyond the running ones before 429."""


class ModelSpec(Section):
    """One model served by one engine."""

    name: Dns1123Label
    """Unique in the stack; also the served model name clients send."""
    engine: Engine
    preset: str | None = None
    """A catalog entry (``slm-deploy catalog`` lists them)."""
    source: CustomSource | None = None
    """A model outside the catalog."""
    quantization: str | None = None
    """One of the preset's quantizations for this engine (its default when unset). For ONNX
    without a published build: int4, fp16 or fp32, the model builder's precision."""
    max_context_tokens: Annotated[int, Field(gt=0)] = environment_default()
    """Context window served; defaults per environment, never above the model's."""
    concurrency: int = Field(default=4, ge=1, le=256)
    """Concurrent sequences per replica that memory is sized for."""
    replicas: int | None = Field(default=None, ge=0)
    """Fixed replica count; defaults per environment. Exclusive with ``autoscaling``."""
    autoscaling: Autoscaling | None = None
    gpu: bool | GpuRequest = False
    """``true`` or ``{count, vmSize}`` for a GPU; ``false`` runs on CPU."""
    image: ImageOverride | None = None
    memory_limit: MemoryQuantity | None = None
    """Override the sizing's container memory limit."""
    cache_size: MemoryQuantity | None = None
    """Override the model cache volume size."""
    modelfile: Modelfile | None = None
    """Ollama only."""
    ollama: OllamaOptions | None = None
    """Ollama only."""
    vllm: VllmOptions | None = None
    """vLLM only."""
    onnx: OnnxOptions | None = None
    """ONNX only."""

    @property
    def gpu_count(self) -> int:
        if isinstance(self.gpu, GpuRequest):
            return self.gpu.count
        return 1 if self.gpu else 0


# --- cross-cutting sections ------------------------------------------------------------


class Observability(Section):
    """Prometheus, Alertmanager and Grafana for the stack."""

    enabled: bool = True
    grafana: bool = True
    retention: Duration = environment_default()
    """Prometheus retention; defaults per environment."""
    scrape_interval: Duration = "15s"
    storage_class: str | None = None
    """Storage class of the volumes of Prometheus (sized from ``retention``) and Alertmanager on
    Kubernetes targets; the cluster's default class when unset. Choose block storage: Prometheus
    does not support NFS or SMB file shares."""


class Threshold(Section):
    """An alert threshold and how long it must hold before the alert fires."""

    value: float
    for_: Duration = Field(alias="for")


class Thresholds(Section):
    """Alert thresholds. Each key may set ``value``, ``for`` or both; the rest comes from the
    environment's defaults (:mod:`components.spec.defaults`)."""

    time_to_first_token_p95_seconds: Threshold
    inter_token_latency_p95_seconds: Threshold
    error_ratio: Threshold
    """Share of requests answered with a 5xx status."""
    queue_depth: Threshold
    """Requests waiting per replica."""
    kv_cache_usage: Threshold
    """KV cache used, 0 to 1 (vLLM)."""
    gpu_temperature_celsius: Threshold
    gpu_memory_usage: Threshold
    """GPU framebuffer used, 0 to 1."""
    target_down_for: Duration
    """How long a model server may be unreachable."""
    engine_stalled_for: Duration
    """How long requests may run without a generated token."""


class Severities(Section):
    """Severity labels by alert class: ``page`` alerts mean users are affected now,
    ``ticket`` alerts mean a trend to look at."""

    page: Literal["critical", "warning", "info"]
    ticket: Literal["critical", "warning", "info"]


class Receiver(Section):
    """Where alerts go. URLs and keys are names of entries in ``slm-deploy:secrets``."""

    name: Dns1123Label
    type: Literal["webhook", "email", "slack", "teams"]
    url_secret: str | None = None
    """Secret holding the webhook / Slack / Teams URL."""
    to: str | None = None
    """Email address (email receivers)."""
    smarthost: str | None = None
    """SMTP host:port (email receivers)."""
    password_secret: str | None = None
    """Secret holding the SMTP password (email receivers)."""
    sender: str | None = None
    """From address (email receivers); defaults to ``to``."""
    username: str | None = None
    """SMTP user name (email receivers with passwordSecret); defaults to ``to``."""
    severities: list[SeverityLevel] = Field(default_factory=lambda: list[SeverityLevel](["critical", "warning"]))


class Alerting(Section):
    """Alert rules and where they are sent."""

    receivers: list[Receiver] = Field(default_factory=list)
    thresholds: Thresholds = environment_default()
    severities: Severities = environment_default()
    runbook_base_url: str | None = None
    """Where the rendered runbooks are published (``<url>/<Alert>.md`` becomes each alert's
    runbook_url); relative ``runbooks/<Alert>.md`` when unset."""


class DockerSettings(Section):
    """Local Docker target settings."""

    bind_address: IpAddressText = "127.0.0.1"
    """Host address ports are published on; 0.0.0.0 exposes them to the network."""
    host: str | None = None
    """Docker host (``unix:///var/run/docker.sock`` by default)."""
    open_web_ui: bool = False
    """Run Open WebUI in front of the model servers, on ``basePort + 80`` (its login stays on)."""
    base_port: int = Field(default=18000, ge=1024, le=64000)
    """First host port for model servers; each further model takes the next one."""


class StackReferenceSource(Section):
    """Read the kubeconfig from another stack's output."""

    stack: str
    """``org/project/stack``."""
    output: str = "kubeconfig"


class ExposureSettings(Section):
    """Publish the OpenAI routes (/v1/...) outside the cluster; never /metrics or admin routes."""

    kind: Literal["ingress", "gateway"] = "ingress"
    host: str
    """Base domain: each model is served at ``https://<model>.<host>/v1``."""
    tls_secret: str | None = None
    """TLS Secret for ``*.<host>`` in the stack's namespace (kind ingress; cert-manager fills
    it when ``clusterIssuer`` is set). Required for kind ingress."""
    ingress_class: str | None = None
    cluster_issuer: str | None = None
    """cert-manager ClusterIssuer that issues the Ingress certificate."""
    gateway: str | None = None
    """``namespace/name`` of the Gateway (kind gateway); it terminates TLS."""
    listener: str | None = None
    """The Gateway's HTTPS listener (``sectionName``); all listeners when unset."""
    controller_namespace: Dns1123Label | None = None
    """Namespace of the pods that forward traffic (ingress controller or gateway proxies),
    allowed through the network policy; ``ingress-nginx`` or the Gateway's namespace when unset."""


class ImageRegistry(Section):
    """A registry the program pushes the images it builds to, and the cluster pulls them from."""

    server: Annotated[str, StringConstraints(pattern=r"^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._/-]+)?$")]
    """``host[:port][/path]``, e.g. ``registry.example.com/slm``."""
    username: str | None = None
    password_secret: str | None = None
    """Key of ``slm-deploy:secrets`` holding the registry password or token; without
    credentials the build machine's docker login and the nodes' pull access are used."""


class KubernetesSettings(Section):
    """An existing cluster (target kubernetes), or options for the AKS one."""

    kubeconfig: Secret | None = None
    """Kubeconfig contents; the ambient one (KUBECONFIG) when unset."""
    context: str | None = None
    stack_reference: StackReferenceSource | None = None
    namespace: Dns1123Label | None = None
    """Defaults to ``slm-<stack>``."""
    storage_class: str | None = None
    cluster_identifier: str | None = None
    """Stable cluster name so that credential rotation does not replace resources."""
    install_monitoring: bool = True
    """Install kube-prometheus-stack; false when a Prometheus operator already runs."""
    monitoring_release: str = "kube-prometheus-stack"
    """Helm release name the Prometheus operator selects rules and monitors by."""
    quota_cpu: CpuQuantity | None = None
    """ResourceQuota on CPU limits; by default what every model at its maximum replicas plus
    one rolling-update surge pod needs."""
    quota_memory: MemoryQuantity | None = None
    """ResourceQuota on memory limits; derived like ``quotaCpu`` when unset."""
    quota_gpu: int | None = Field(default=None, ge=0)
    """ResourceQuota on GPUs; derived like ``quotaCpu`` when unset."""
    exposure: ExposureSettings | None = None
    model_cache: Literal["shared", "per-replica"] = "shared"
    """``shared``: one ReadWriteMany volume per model and a Deployment (the storage class must
    offer ReadWriteMany, e.g. azurefile-csi or NFS); ``per-replica``: a StatefulSet with a
    ReadWriteOnce volume per replica (any storage class; each replica downloads once)."""
    monitoring_namespace: Dns1123Label = "monitoring"
    """Namespace of Prometheus, allowed to scrape the model servers' metrics ports."""
    prometheus_url: str | None = None
    """Prometheus KEDA queries; ``http://prometheus-operated.<monitoringNamespace>.svc:9090`` when unset."""
    install_keda: bool = False
    """Install KEDA (Helm) for queue-depth autoscaling; false when the cluster already runs it."""
    keda_chart_version: str = "2.21.1"
    """Pinned kedacore/keda chart version."""
    client_namespaces: list[Dns1123Label] = Field(default_factory=list)
    """Namespaces whose pods may call the model servers; pods of the stack's namespace may when
    labelled ``slm-deploy.dev/client: "true"``."""
    image_registry: ImageRegistry | None = None
    """Where the program pushes the images it builds (the ONNX server); required for ONNX
    models on target kubernetes unless they name their own image."""


class NodePool(Section):
    """An AKS node pool, autoscaled between ``minCount`` and ``maxCount``."""

    name: PoolName
    """Lowercase letters and digits, starting with a letter, at most 12 characters."""
    vm_size: AzureVmSize | None = None
    """For GPU pools: by default the smallest GPU VM that fits every GPU model (catalog sizing)."""
    min_count: int = Field(default=1, ge=0, le=1000)
    max_count: int = Field(default=3, ge=1, le=1000)
    spot: bool = False
    """Spot VMs: much cheaper, evicted when Azure needs the capacity (user pools only)."""
    spot_max_price: float | None = Field(default=None, ge=-1)
    """US dollars per hour; -1 (the default) pays up to the on-demand price and is never evicted for price."""
    eviction_policy: Literal["Delete", "Deallocate"] = "Delete"
    """What happens to evicted spot nodes."""
    zones: list[Literal["1", "2", "3"]] = Field(default_factory=list)
    """Availability zones the pool spreads over (the region must have them)."""
    os_disk_size_gb: int | None = Field(default=None, ge=30, le=2048)
    """OS disk per node; the model cache lives there on GPU nodes, so size it for the weights."""


class AksNetwork(Section):
    """Azure CNI overlay: pods get addresses from ``podCidr``, not from a VNet."""

    policy: Literal["cilium", "calico"] = "cilium"
    """Network policy engine that enforces the NetworkPolicies (cilium uses the Cilium dataplane)."""
    pod_cidr: IPv4Network = IPv4Network("10.244.0.0/16")
    service_cidr: IPv4Network = IPv4Network("10.0.0.0/16")
    dns_service_ip: IPv4Address = IPv4Address("10.0.0.10")
    """Inside ``serviceCidr``, not its first address."""
    outbound_type: Literal["loadBalancer", "managedNATGateway"] = "loadBalancer"
    authorized_ip_ranges: list[IPv4Network] = Field(default_factory=list)
    """Who may reach the API server of a public cluster; everyone when empty."""


class AksSettings(Section):
    """The AKS cluster the program provisions, and the Azure resources around it."""

    location: AzureRegion = "westeurope"
    resource_group: ResourceGroupName | None = None
    """Defaults to ``slm-<stack>``."""
    kubernetes_version: Annotated[str, StringConstraints(pattern=r"^1\.[0-9]{2}(\.[0-9]+)?$")] | None = None
    """``1.33`` or ``1.33.2``; AKS's default version when unset."""
    sku_tier: Literal["Free", "Standard", "Premium"] = environment_default()
    """Control plane tier; Standard has the uptime SLA (default in prod)."""
    upgrade_channel: Literal["none", "patch", "stable", "rapid", "node-image"] = environment_default()
    """Automatic Kubernetes upgrades (patch outside prod, stable in prod)."""
    node_os_upgrade_channel: Literal["None", "Unmanaged", "NodeImage", "SecurityPatch"] = "NodeImage"
    """Automatic node image updates."""
    system_pool: NodePool = Field(
        default_factory=lambda: NodePool(name="system", vm_size="Standard_D4s_v5", min_count=1, max_count=3)
    )
    """Reserved for critical add-ons (tainted CriticalAddonsOnly); model servers never run here."""
    user_pool: NodePool = Field(
        default_factory=lambda: NodePool(name="apps", vm_size="Standard_D4s_v5", min_count=1, max_count=3)
    )
    """Untainted pool for CPU model servers, monitoring and everything that is neither system nor GPU."""
    gpu_pools: list[NodePool] = Field(default_factory=list)
    gpu_driver: Literal["aks", "operator"] = "aks"
    """``aks``: AKS installs the NVIDIA driver and the program the device plugin; ``operator``: the NVIDIA
    GPU Operator installs both."""
    network: AksNetwork = Field(default_factory=AksNetwork)
    private_cluster: bool = False
    """API server reachable only from the cluster's VNet (run ``pulumi up`` from inside it, or via a
    jump host / self-hosted runner)."""
    local_accounts: bool = environment_default()
    """Static cluster-admin credentials; off in prod, where sign-in goes through Entra ID."""
    azure_rbac: bool = environment_default()
    """Entra ID sign-in with Azure RBAC for Kubernetes authorization (on in prod)."""
    admin_group_object_ids: list[UUID] = Field(default_factory=list)
    """Entra ID groups that get cluster-admin."""
    deployer_principal_type: Literal["User", "ServicePrincipal"] = "User"
    """Who runs ``pulumi up``: a person (``az login``) or a CI service principal / managed identity. The
    program grants it registry push, Grafana admin and, with Azure RBAC, cluster admin on its own resources."""
    monitoring: Literal["in-cluster", "managed"] = "in-cluster"
    """``in-cluster``: kube-prometheus-stack; ``managed``: Azure Monitor managed Prometheus and Managed
    Grafana."""
    log_retention_days: int = Field(default=30, ge=30, le=730)
    """Log Analytics retention for control plane and container logs."""
    key_vault_name: KeyVaultName | None = None
    """Globally unique; derived from the stack when unset."""
    key_vault_purge_protection: bool = environment_default()
    """A deleted vault cannot be purged before its retention ends (on in prod; cannot be turned off)."""
    key_vault_retention_days: int = Field(default=90, ge=7, le=90)
    """Soft-delete retention of the vault and its secrets."""
    registry_name: RegistryName | None = None
    """Globally unique; derived from the stack when unset."""
    registry_sku: Literal["Basic", "Standard", "Premium"] = "Standard"
    tags: dict[str, str] = Field(default_factory=dict)
    """Azure tags on every resource that takes them."""


# --- the whole stack ---------------------------------------------------------------------


class DeploymentSpec(Section):
    """Everything one stack asks for. Built by :func:`components.spec.parse_config`."""

    target: Target
    environment: Environment
    models: list[ModelSpec] = Field(min_length=1)
    observability: Observability = Field(default_factory=Observability)
    alerting: Alerting = environment_default()
    secrets: dict[Annotated[str, StringConstraints(pattern=r"^[a-zA-Z][a-zA-Z0-9]*$")], Secret] = Field(
        default_factory=dict
    )
    """Named secret values, e.g. hfToken, apiKey, slackWebhook."""
    docker: DockerSettings | None = None
    kubernetes: KubernetesSettings | None = None
    aks: AksSettings | None = None

    @model_validator(mode="before")
    @classmethod
    def _environment_defaults(cls, data: Any) -> Any:
        from components.spec.defaults import apply_environment_defaults

        return apply_environment_defaults(data)

    @model_validator(mode="after")
    def _rules(self) -> DeploymentSpec:
        from components.spec.rules import check_rules

        check_rules(self)
        return self

    def model(self, name: str) -> ModelSpec:
        return next(m for m in self.models if m.name == name)

    @property
    def managed_monitoring(self) -> bool:
        """Azure Monitor and Managed Grafana monitor the stack (AKS with ``monitoring: managed``
        and observability on): nothing runs in the cluster for it. Decided here only, so the
        platform, the target, monitoring and the cost estimate agree."""
        return self.aks is not None and self.aks.monitoring == "managed" and self.observability.enabled
