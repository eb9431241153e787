"""What every engine's plan shares: images with overrides, resources from sizing, caches."""

from __future__ import annotations

import math

from components.catalog import Sizing
from components.catalog.sizing import GIB
from components.plan import Check, HttpGet, Image, Resources, SecretFile, WritablePath
from components.spec import DeploymentSpec, ModelArtifact, ModelSpec
from components.spec.models import memory_bytes

#: /tmp is writable in every container; the root filesystem is read-only.
TMP = WritablePath("/tmp", "temporary files", size_bytes=1 * GIB)
HF_TOKEN_FILE = SecretFile.in_secrets_dir("hfToken", "hf-token")
HUGGING_FACE_HOSTS = ("huggingface.co", "cdn-lfs.huggingface.co", "cas-bridge.xethub.hf.co")


def image_for(model: ModelSpec, default: Image) -> Image:
    """The pinned default image, with the stack's override applied field by field."""
    override = model.image
    if override is None:
        return default
    return Image(
        repository=override.repository or default.repository,
        tag=override.tag or default.tag,
        digest=override.digest,
    )


def resources_for(model: ModelSpec, sizing: Sizing, *, cpu_bound: bool) -> Resources:
    """Memory from the catalog sizing (or the stack's override); CPU by where the work runs."""
    limit = sizing.memory_limit_bytes
    if model.memory_limit is not None:
        limit = max(memory_bytes(model.memory_limit), sizing.memory_request_bytes)
    cpu_request = min(4000, 1000 * max(2, model.concurrency // 2)) if cpu_bound else 1000
    return Resources(
        memory_request_bytes=sizing.memory_request_bytes,
        memory_limit_bytes=limit,
        cpu_request_millis=cpu_request,
        cpu_limit_millis=2 * cpu_request,
        gpu_count=model.gpu_count,
    )


def fetch_resources(memory_bytes: int = 2 * GIB) -> Resources:
    """A download step: little CPU, no GPU, memory for buffers (or a conversion's weights)."""
    request = int(math.ceil(memory_bytes / (256 * 1024**2)) * 256 * 1024**2)
    return Resources(
        memory_request_bytes=request,
        memory_limit_bytes=request + request // 4,
        cpu_request_millis=500,
        cpu_limit_millis=2000,
    )


def cache_size_bytes(model: ModelSpec, artifact: ModelArtifact, extra_bytes: int = 0) -> int:
    """Weights plus 20 % and 1 GiB of slack, in whole GiB, unless the stack sets ``cacheSize``."""
    if model.cache_size is not None:
        return memory_bytes(model.cache_size)
    return int(math.ceil(((artifact.weight_bytes + extra_bytes) * 1.2 + GIB) / GIB) * GIB)


def hf_token_files(spec: DeploymentSpec) -> tuple[SecretFile, ...]:
    """Use the stack's Hugging Face token when it has one (gated repos, rate limits)."""
    return (HF_TOKEN_FILE,) if "hfToken" in spec.secrets else ()


def hugging_face_fetch_env(spec: DeploymentSpec, *, home: str, hf_home: str) -> dict[str, str]:
    """A Hugging Face download's environment: its cache, no telemetry, and the token file (never
    the token) when the stack has one, mounted by :func:`hf_token_files`."""
    env = {"HOME": home, "HF_HOME": hf_home, "HF_HUB_DISABLE_TELEMETRY": "1"}
    if hf_token_files(spec):
        env["HF_TOKEN_PATH"] = HF_TOKEN_FILE.path
    return env


def snapshot_download_script(ref: str, **options: object) -> str:
    """Python that downloads a Hugging Face repository with ``huggingface_hub.snapshot_download``."""
    arguments = "".join(f", {name}={value!r}" for name, value in options.items())
    return f"from huggingface_hub import snapshot_download; snapshot_download({ref!r}{arguments})"


def python_http_check(port: int, path: str) -> Check:
    """An HTTP health check that needs only the image's Python, not curl."""
    script = f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{port}{path}', timeout=4)"
    return Check(command=("python3", "-c", script), http=HttpGet(path, port))
