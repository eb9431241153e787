"""The ServingPlan: what an engine needs from any target, with no target and no Pulumi inside.

Engines (components/engines/) build plans from a model spec; targets (components/targets/)
turn plans into resources. A plan names the secrets a container reads (by the name they have
in the stack's secret store), never their values; the target resolves them. Every secret is
delivered as a read-only file, so no secret travels in an environment variable or an argument
that a process listing or a rendered manifest would show.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

#: Labels every resource of a model server carries (Kubernetes recommended labels).
LABEL_NAME = "app.kubernetes.io/name"
LABEL_INSTANCE = "app.kubernetes.io/instance"
LABEL_COMPONENT = "app.kubernetes.io/component"
LABEL_PART_OF = "app.kubernetes.io/part-of"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
LABEL_MODEL = "slm-deploy.dev/model"
LABEL_ENGINE = "slm-deploy.dev/engine"
LABEL_EXPOSE_PORTS = "slm-deploy.dev/expose-ports"
COMPONENT_MODEL_SERVER = "model-server"
COMPONENT_MODEL_FETCH = "model-fetch"
#: What every object slm-deploy creates is part of, and what manages it.
COMMON_LABELS = {LABEL_PART_OF: "slm-deploy", LABEL_MANAGED_BY: "pulumi"}

#: Where secret files are mounted in every container.
SECRETS_DIR = "/run/secrets"


@dataclass(frozen=True)
class Image:
    repository: str
    tag: str
    digest: str | None = None

    @property
    def ref(self) -> str:
        """``repo:tag`` or ``repo:tag@sha256:...``: always pinned, never ``latest``."""
        base = f"{self.repository}:{self.tag}"
        return f"{base}@{self.digest}" if self.digest else base


@dataclass(frozen=True)
class LocalBuild:
    """An image the program builds (pulumi-docker-build) from a folder of this repository."""

    context: str
    """Build context, relative to the repository root."""
    dockerfile: str = "Dockerfile"
    target: str | None = None
    """Multi-stage build target; the final stage when None."""
    build_args: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Port:
    name: str
    container_port: int


@dataclass(frozen=True)
class HttpGet:
    path: str
    port: int


@dataclass(frozen=True)
class Check:
    """A health check. ``command`` runs inside the container and needs no curl; ``http`` is the
    same check as an HTTP GET, used where the target can probe over the network (Kubernetes)."""

    command: tuple[str, ...]
    http: HttpGet | None = None


@dataclass(frozen=True)
class Probes:
    """Startup, readiness and liveness checks, and the budget a cold start may take."""

    startup: Check
    readiness: Check
    liveness: Check
    period_seconds: int = 10
    timeout_seconds: int = 5
    startup_budget_seconds: int = 600

    @property
    def startup_failure_threshold(self) -> int:
        return max(1, math.ceil(self.startup_budget_seconds / self.period_seconds))


@dataclass(frozen=True)
class WritablePath:
    """A path the engine writes to; everything else is read-only."""

    path: str
    purpose: str
    size_bytes: int = 1024**3
    memory: bool = False
    """Backed by RAM (shared memory, tmpfs); counts against the memory limit."""


@dataclass(frozen=True)
class CacheMount:
    """The model cache volume, shared by the fetch step (read-write) and the server."""

    path: str
    read_only: bool


@dataclass(frozen=True)
class SecretFile:
    """A secret from the stack's store, delivered as a read-only file."""

    secret: str
    """Name in the store, e.g. ``apiKey``, ``hfToken``."""
    path: str

    @classmethod
    def in_secrets_dir(cls, secret: str, filename: str) -> SecretFile:
        """``secret`` as ``filename`` in :data:`SECRETS_DIR`, where every container finds its secrets."""
        return cls(secret, f"{SECRETS_DIR}/{filename}")


@dataclass(frozen=True)
class ConfigFile:
    """A plain (non-secret) file the container reads, rendered by the engine."""

    path: str
    content: str


@dataclass(frozen=True)
class Resources:
    memory_request_bytes: int
    memory_limit_bytes: int
    cpu_request_millis: int
    cpu_limit_millis: int
    gpu_count: int = 0
    """GPUs of the container; -1 means every GPU of the host (a GPU metrics exporter)."""


@dataclass(frozen=True)
class Container:
    """One container: the model server, or a one-shot step."""

    name: str
    image: Image | LocalBuild
    image_tag: str
    """For a LocalBuild: the tag the built image gets (``slm-onnx-server:<version>``)."""
    command: tuple[str, ...] | None = None
    """Entrypoint override; the image's entrypoint when None."""
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    ports: tuple[Port, ...] = ()
    probes: Probes | None = None
    writable_paths: tuple[WritablePath, ...] = ()
    cache: CacheMount | None = None
    secret_files: tuple[SecretFile, ...] = ()
    config_files: tuple[ConfigFile, ...] = ()
    resources: Resources | None = None
    run_as_user: int = 10001
    run_as_group: int = 10001

    @property
    def image_ref(self) -> str:
        return self.image.ref if isinstance(self.image, Image) else self.image_tag


@dataclass(frozen=True)
class FetchStep:
    """A one-shot step that puts the model into the cache before the server starts.

    It runs to completion first (a Kubernetes init container, a Docker one-shot container);
    the server only mounts the cache. ``timeout_seconds`` bounds the download.
    """

    container: Container
    timeout_seconds: int
    egress_hosts: tuple[str, ...]
    """Hosts the step downloads from (for network policies and documentation)."""

    @property
    def command(self) -> tuple[str, ...]:
        """The container's command under coreutils ``timeout`` (every engine image has it), so a
        stuck download fails the step instead of holding the server back forever."""
        assert self.container.command is not None, "a fetch step has a command"
        return ("timeout", str(self.timeout_seconds), *self.container.command)


@dataclass(frozen=True)
class Metrics:
    """How Prometheus gets this server's metrics."""

    port: int | None
    path: str | None
    prefix: str | None
    """Metric name prefix (``vllm:``, ``ortgenai:``); None when the engine exports none."""
    health_path: str
    """What a blackbox probe checks when there is no /metrics (Ollama)."""

    @property
    def native(self) -> bool:
        return self.port is not None


@dataclass(frozen=True)
class ServingPlan:
    """Everything a target needs to run one model."""

    model: str
    """The model's name in the stack, also the served model name."""
    engine: str
    server: Container
    fetch: FetchStep
    cache_size_bytes: int
    replicas: int | None
    metrics: Metrics
    api_port: int
    api_key_secret: str | None
    """Secret the server checks clients against; None when the engine has no auth (Ollama)."""
    openai_base_path: str = "/v1"
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def uses_gpu(self) -> bool:
        """The server asks for GPUs (its resources, from the spec's ``gpu``)."""
        return self.server.resources is not None and self.server.resources.gpu_count > 0

    @property
    def fetch_labels(self) -> dict[str, str]:
        return {**self.labels, LABEL_COMPONENT: COMPONENT_MODEL_FETCH}

    @property
    def secrets(self) -> set[str]:
        """Every secret any container of the plan reads."""
        return {s.secret for c in (self.server, self.fetch.container) for s in c.secret_files}


def secrets_of(plans: Iterable[ServingPlan]) -> list[str]:
    """Every secret any container of ``plans`` reads, sorted."""
    return sorted(set().union(*(plan.secrets for plan in plans)))


def startup_budget_seconds(weight_bytes: int, warmup_seconds: int, read_bytes_per_second: float = 200e6) -> int:
    """Seconds a server may take from start to ready: loading the weights from the cache
    volume at a conservative ``read_bytes_per_second`` plus the engine's warm-up (CUDA graphs,
    compilation), doubled for slow disks and busy nodes, rounded up to 30 s, at least 2 minutes."""
    seconds = 2 * (weight_bytes / read_bytes_per_second + warmup_seconds)
    return max(120, int(math.ceil(seconds / 30) * 30))


def download_budget_seconds(weight_bytes: int, bytes_per_second: float = 20e6) -> int:
    """Seconds a fetch step may take: the weights at a conservative 20 MB/s, doubled, at least 10 minutes."""
    return max(600, int(math.ceil(2 * weight_bytes / bytes_per_second / 60) * 60))


def model_labels(model: str, engine: str, component: str) -> dict[str, str]:
    return {
        LABEL_NAME: engine,
        LABEL_INSTANCE: model,
        LABEL_COMPONENT: component,
        **COMMON_LABELS,
        LABEL_MODEL: model,
        LABEL_ENGINE: engine,
    }


@dataclass(frozen=True)
class DataVolume:
    """A named volume a service keeps its state in (Prometheus' TSDB, Alertmanager's silences)."""

    name: str
    path: str


@dataclass(frozen=True)
class ServicePlan:
    """A supporting service that is not a model server (Prometheus, Grafana, ...).

    Targets run it like a model server, with the same hardening; ``publish_port`` (a container
    port) is published on the host at ``host_port`` when both are set.
    """

    name: str
    """Short name, unique in the stack (``prometheus``); other containers reach it by it."""
    container: Container
    volumes: tuple[DataVolume, ...] = ()
    publish_port: int | None = None
    host_port: int | None = None
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def secrets(self) -> set[str]:
        """Every secret the service's container reads."""
        return {s.secret for s in self.container.secret_files}
