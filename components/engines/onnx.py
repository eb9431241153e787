"""ONNX Runtime GenAI: our own OpenAI-compatible server (images/onnx-server).

No official OpenAI-compatible server exists for onnxruntime-genai, so the project ships one
(``slm-onnx-server``) and the program builds its image. It reads the model read-only from the
cache and exports vLLM-style metrics under ``ortgenai:``, so dashboards and alerts are shared.
The fetch step downloads a published ONNX GenAI build, or converts the Hugging Face checkpoint
with onnxruntime-genai's model builder when the model has none.
"""

from __future__ import annotations

from components.catalog.sizing import GIB
from components.engines.common import (
    HUGGING_FACE_HOSTS,
    TMP,
    cache_size_bytes,
    fetch_resources,
    hf_token_files,
    hugging_face_fetch_env,
    python_http_check,
    resources_for,
    snapshot_download_script,
)
from components.plan import (
    COMPONENT_MODEL_SERVER,
    CacheMount,
    Container,
    FetchStep,
    Image,
    LocalBuild,
    Metrics,
    Port,
    Probes,
    Resources,
    SecretFile,
    ServingPlan,
    WritablePath,
    download_budget_seconds,
    model_labels,
    startup_budget_seconds,
)
from components.spec import DeploymentSpec, ModelArtifact, ModelSpec, resolve_artifact, size_model
from components.spec.models import OnnxOptions

SERVER_VERSION = "0.1.0"
IMAGE_NAME = "slm-onnx-server"
BUILD_CONTEXT = "images/onnx-server"
PORT = 8080
MODELS = "/models"
API_KEYS_FILE = SecretFile.in_secrets_dir("apiKey", "api-keys")
WARMUP_SECONDS = 30
#: Bytes per parameter the builder needs in memory while converting (fp32 weights + output).
CONVERSION_BYTES_PER_PARAMETER = 6


def server_image(model: ModelSpec) -> tuple[Image | LocalBuild, str]:
    """The image to run: the stack's override, else a local build (CUDA variant for GPUs). Both
    are tagged ``<version>-<variant>``, so a mirrored image for a GPU model defaults to CUDA."""
    variant = "cuda" if model.gpu_count else "cpu"
    tag = f"{SERVER_VERSION}-{variant}"
    if model.image is not None and model.image.repository is not None:
        image = Image(model.image.repository, model.image.tag or tag, model.image.digest)
        return image, image.ref
    return LocalBuild(BUILD_CONTEXT, build_args={"VARIANT": variant}), f"{IMAGE_NAME}:{tag}"


def intra_op_threads(resources: Resources) -> int:
    """ONNX Runtime sizes its thread pool to the host's cores, not the container's CPU limit:
    more threads than the limit allows only queue for the cgroup's quota. Whole cores, at least 1."""
    return max(1, resources.cpu_limit_millis // 1000)


def model_dir(artifact: ModelArtifact) -> str:
    """Where genai_config.json lies inside the cache."""
    if artifact.convert:
        return f"{MODELS}/onnx/converted"
    return f"{MODELS}/onnx/{artifact.subfolder}" if artifact.subfolder else f"{MODELS}/onnx"


def download_script(artifact: ModelArtifact) -> str:
    patterns = [f"{artifact.subfolder}/*"] if artifact.subfolder else None
    return snapshot_download_script(artifact.ref, local_dir=f"{MODELS}/onnx", allow_patterns=patterns)


def convert_args(model: ModelSpec, artifact: ModelArtifact) -> tuple[str, ...]:
    """onnxruntime-genai's model builder, from the Hugging Face checkpoint to an ONNX GenAI folder."""
    return (
        "python3",
        "-m",
        "onnxruntime_genai.models.builder",
        "-m",
        artifact.ref,
        "-o",
        model_dir(artifact),
        "-p",
        artifact.quantization or "int4",
        "-e",
        "cuda" if model.gpu_count else "cpu",
        "-c",
        f"{MODELS}/hf",
    )


def build_plan(model: ModelSpec, spec: DeploymentSpec) -> ServingPlan:
    artifact = resolve_artifact(model)
    sizing = size_model(model, artifact)
    options = model.onnx or OnnxOptions()
    image, image_tag = server_image(model)
    health = python_http_check(PORT, "/health")
    probes = Probes(
        startup=health,
        readiness=health,
        liveness=health,
        startup_budget_seconds=startup_budget_seconds(artifact.weight_bytes, WARMUP_SECONDS),
    )
    resources = resources_for(model, sizing, cpu_bound=not sizing.use_gpu)
    # CPU models compute on the container's cores; GPU models keep ONNX Runtime's default.
    threads = ("--intra-op-threads", str(intra_op_threads(resources))) if model.gpu_count == 0 else ()
    server = Container(
        name="server",
        image=image,
        image_tag=image_tag,
        args=(
            "--model-dir",
            model_dir(artifact),
            "--served-model-name",
            model.name,
            "--host",
            "0.0.0.0",
            "--port",
            str(PORT),
            "--api-keys-file",
            API_KEYS_FILE.path,
            "--max-running",
            str(options.max_running_requests or model.concurrency),
            "--max-queued",
            str(options.max_queued_requests),
            "--max-context-tokens",
            str(model.max_context_tokens),
            *threads,
        ),
        env={"HOME": "/tmp", "HF_HUB_OFFLINE": "1"},
        ports=(Port("http", PORT),),
        probes=probes,
        writable_paths=(TMP,),
        cache=CacheMount(MODELS, read_only=True),
        secret_files=(API_KEYS_FILE,),
        resources=resources,
    )
    # The steps run the Dockerfile's model-fetch / model-builder targets (huggingface_hub,
    # and for conversions torch + transformers), so the server image carries neither.
    if artifact.convert:
        step = "model-builder"
        command = convert_args(model, artifact)
        memory = artifact.parameters * CONVERSION_BYTES_PER_PARAMETER + 2 * GIB
        source_bytes = artifact.parameters * 2
    else:
        step = "model-fetch"
        command = ("python3", "-c", download_script(artifact))
        memory = 2 * GIB
        source_bytes = 0
    fetch_image = LocalBuild(BUILD_CONTEXT, target=step)
    fetch_tag = f"{IMAGE_NAME}:{SERVER_VERSION}-{step}"
    fetch = Container(
        name="fetch",
        image=fetch_image,
        image_tag=fetch_tag,
        command=command,
        env=hugging_face_fetch_env(spec, home="/tmp", hf_home=f"{MODELS}/hf"),
        writable_paths=(WritablePath("/tmp", "temporary files, model builder scratch", size_bytes=4 * GIB),),
        cache=CacheMount(MODELS, read_only=False),
        secret_files=hf_token_files(spec),
        resources=fetch_resources(memory),
    )
    return ServingPlan(
        model=model.name,
        engine=model.engine.value,
        server=server,
        fetch=FetchStep(fetch, download_budget_seconds(artifact.weight_bytes + source_bytes), HUGGING_FACE_HOSTS),
        cache_size_bytes=cache_size_bytes(model, artifact, extra_bytes=source_bytes),
        replicas=model.replicas,
        metrics=Metrics(port=PORT, path="/metrics", prefix="ortgenai:", health_path="/health"),
        api_port=PORT,
        api_key_secret=API_KEYS_FILE.secret,
        labels=model_labels(model.name, model.engine.value, COMPONENT_MODEL_SERVER),
    )
