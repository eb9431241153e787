"""The stack configuration as typed models: the contract of ``stacks/Pulumi.<stack>.yaml``.

Field names are snake_case in Python and camelCase in the stack file (``maxContextTokens``).
Each top-level field is one Pulumi config key in the ``slm-deploy`` namespace. Models reject
unknown keys so that a typo is an error, not a silently ignored setting. Cross-field rules live
in :mod:`components.spec.rules`; environment defaults in :mod:`components.spec.defaults`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
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
Quantity = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]+(\.[0-9]+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$"),
    Field(description="A Kubernetes quantity such as 500m, 8Gi."),
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
    vm_size: str | None = None
    """Azure VM size for the GPU pool; by default the smallest that fits (catalog sizing)."""


class Modelfile(Section):
    """Ollama Modelfile instructions; the model is created under the stack's model name."""

    system: str | None = None
    template: str | None = None
    """Go template for prompts; the base model's template when unset."""
    parameters: dict[
        Literal[
            "num_ctx",
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
    """PARAMETER lines; ``num_ctx`` defaults to ``maxContextTokens``."""
    stop: list[str] = Field(default_factory=list)
    """PARAMETER stop lines."""


class OllamaOptions(Section):
    """Server settings of Ollama (environment variables of ``ollama serve``)."""

    keep_alive: str = "-1"
    """OLLAMA_KEEP_ALIVE: how long the model stays loaded; -1 keeps it loaded."""
    num_parallel: int | None = Field(default=None, ge=1)
    """OLLAMA_NUM_PARALLEL; defaults to the model's ``concurrency``."""
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
    """Concurrent generations; defaults to the model's ``concurrency``."""
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
    memory_limit: Quantity | None = None
    """Override the sizing's container memory limit."""
    cache_size: Quantity | None = None
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

    bind_address: str = "127.0.0.1"
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
    quota_cpu: Quantity | None = None
    """ResourceQuota on CPU limits; by default what every model at its maximum replicas plus
    one rolling-update surge pod needs."""
    quota_memory: Quantity | None = None
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
    """An AKS node pool."""

    name: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9]{0,11}$")]
    """Lowercase letters and digits, starting with a letter, at most 12 characters."""
    vm_size: str | None = None
    min_count: int = Field(default=1, ge=0, le=1000)
    max_count: int = Field(default=3, ge=1, le=1000)
    spot: bool = False
    zones: list[Literal["1", "2", "3"]] = Field(default_factory=list)


class AksSettings(Section):
    """The AKS cluster the program provisions."""

    location: str = "westeurope"
    kubernetes_version: str | None = None
    system_pool: NodePool = Field(
        default_factory=lambda: NodePool(name="system", vm_size="Standard_D4s_v5", min_count=1, max_count=3)
    )
    gpu_pools: list[NodePool] = Field(default_factory=list)
    private_cluster: bool = False
    monitoring: Literal["in-cluster", "managed"] = "in-cluster"
    key_vault_name: Annotated[str, StringConstraints(pattern=r"^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$")] | None = None
    """3 to 24 characters: letters, digits and '-'; starts with a letter."""
    registry_name: Annotated[str, StringConstraints(pattern=r"^[a-zA-Z0-9]{5,50}$")] | None = None
    """5 to 50 letters and digits."""


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
