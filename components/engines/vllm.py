"""vLLM: the OpenAI-compatible server for GPUs (and its separate CPU build).

Facts (../shared/research/observability-security.md §1, seed-module03.md §8): port 8000,
``/health`` for probes, native ``/metrics`` with ``vllm:`` names; ``--api-key`` (here
``VLLM_API_KEY``, read from the secret file by a shell wrapper so the key is neither an
argument nor a plain environment variable) protects only the ``/v1`` routes; the CUDA image
needs a GPU; non-root with a read-only root filesystem needs writable HOME, compile caches,
``/tmp`` and a RAM-backed ``/dev/shm``; ``--enable-auto-tool-choice`` needs
``--tool-call-parser``; ``--quantization`` only for custom checkpoints: the catalog's AWQ and FP8
checkpoints carry ``quantization_config``, from which vLLM picks the method and its fastest
kernel (``--quantization awq`` would force the slow AWQ kernel over AWQ-Marlin).
"""

from __future__ import annotations

import math

from components.catalog import Sizing
from components.catalog.sizing import GIB, gpu_without_bf16
from components.engines.common import (
    HUGGING_FACE_HOSTS,
    TMP,
    cache_size_bytes,
    fetch_resources,
    hf_token_files,
    hugging_face_fetch_env,
    image_for,
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
    Metrics,
    Port,
    Probes,
    SecretFile,
    ServingPlan,
    WritablePath,
    download_budget_seconds,
    model_labels,
    startup_budget_seconds,
)
from components.spec import DeploymentSpec, ModelArtifact, ModelSpec, resolve_artifact, size_model
from components.spec.models import GpuRequest, VllmOptions

GPU_IMAGE = Image("vllm/vllm-openai", "v0.11.0")
CPU_IMAGE = Image("public.ecr.aws/q9t5s3a7/vllm-cpu-release-repo", "v0.10.2")
PORT = 8000
HOME = "/home/vllm"
HF_HOME = "/models/hf"
COMPILE_CACHE = "/cache"
API_KEY_FILE = SecretFile.in_secrets_dir("apiKey", "api-key")
GPU_WARMUP_SECONDS = 180
CPU_WARMUP_SECONDS = 120

#: Runs ``vllm serve`` with the API key read from its secret file, and refuses to start without
#: one: vLLM treats an empty key as no key and serves /v1 to anyone.
SERVE_WRAPPER = (
    f'key="$(cat {API_KEY_FILE.path})" && [ -n "$key" ] || '
    f'{{ echo "no API key in {API_KEY_FILE.path}" >&2; exit 1; }}\n'
    'VLLM_API_KEY="$key" exec vllm serve "$@"'
)


def serve_args(model: ModelSpec, artifact: ModelArtifact, options: VllmOptions, sizing: Sizing) -> list[str]:
    """``vllm serve`` arguments, from the spec and the catalog sizing."""
    args = [
        artifact.ref,
        "--served-model-name",
        model.name,
        "--host",
        "0.0.0.0",
        "--port",
        str(PORT),
        "--max-model-len",
        str(sizing.max_model_len),
        "--max-num-seqs",
        str(model.concurrency),
        "--dtype",
        _dtype(model, artifact, options, sizing),
    ]
    if not options.cpu_image:
        utilization = options.gpu_memory_utilization or sizing.gpu_memory_utilization or 0.9
        args += ["--gpu-memory-utilization", f"{utilization:.2f}"]
        if model.gpu_count > 1:
            args += ["--tensor-parallel-size", str(model.gpu_count)]
    if model.source is not None and artifact.quantization:
        args += ["--quantization", artifact.quantization]  # the user names vLLM's method
    if options.tool_calling:
        parser = options.tool_call_parser or artifact.tool_call_parser
        assert parser is not None, "spec rules guarantee a parser when tool calling is on"
        args += ["--enable-auto-tool-choice", "--tool-call-parser", parser]
    return args + list(options.extra_args)


def _dtype(model: ModelSpec, artifact: ModelArtifact, options: VllmOptions, sizing: Sizing) -> str:
    """bfloat16 checkpoints run as float16 on GPUs without bfloat16 (T4): the stack's ``gpu.vmSize``
    when it names one, else the sizing's class. Never for a model vLLM refuses float16 for: the
    spec rules keep those off such GPUs, and ``auto`` picks bfloat16 from the checkpoint."""
    if options.dtype != "auto" or options.cpu_image or artifact.requires_bf16:
        return options.dtype
    vm_size = model.gpu.vm_size if isinstance(model.gpu, GpuRequest) else None
    if vm_size is not None:
        has_bf16 = gpu_without_bf16(vm_size) is None
    else:
        has_bf16 = sizing.gpu_class is None or sizing.gpu_class.supports_bf16
    return "auto" if has_bf16 else "float16"


def _env(options: VllmOptions, sizing: Sizing) -> dict[str, str]:
    env = {
        "HOME": HOME,
        "HF_HOME": HF_HOME,
        "HF_HUB_OFFLINE": "1",  # the fetch step downloaded the weights; never fetch at start
        "VLLM_CACHE_ROOT": f"{COMPILE_CACHE}/vllm",
        "TRITON_CACHE_DIR": f"{COMPILE_CACHE}/triton",
        "TORCHINDUCTOR_CACHE_DIR": f"{COMPILE_CACHE}/inductor",
        "XDG_CACHE_HOME": f"{COMPILE_CACHE}/xdg",
        "XDG_CONFIG_HOME": f"{COMPILE_CACHE}/config",
        "VLLM_NO_USAGE_STATS": "1",
        "DO_NOT_TRACK": "1",
    }
    if options.cpu_image:
        env["VLLM_CPU_KVCACHE_SPACE"] = str(max(1, math.ceil(sizing.kv_cache_bytes / GIB)))
    return env


def fetch_script(artifact: ModelArtifact) -> str:
    """Download the checkpoint into the Hugging Face cache the server reads offline."""
    return snapshot_download_script(artifact.ref, ignore_patterns=["original/*", "*.pth"])


def build_plan(model: ModelSpec, spec: DeploymentSpec) -> ServingPlan:
    artifact = resolve_artifact(model)
    sizing = size_model(model, artifact)
    options = model.vllm or VllmOptions()
    image = image_for(model, CPU_IMAGE if options.cpu_image else GPU_IMAGE)
    health = python_http_check(PORT, "/health")
    warmup = CPU_WARMUP_SECONDS if options.cpu_image else GPU_WARMUP_SECONDS
    probes = Probes(
        startup=health,
        readiness=health,
        liveness=health,
        startup_budget_seconds=startup_budget_seconds(artifact.weight_bytes, warmup),
    )
    writable = (
        TMP,
        WritablePath(HOME, "HOME", size_bytes=256 * 1024**2),
        WritablePath(COMPILE_CACHE, "torch.compile, Triton and vLLM caches", size_bytes=4 * GIB),
        WritablePath("/dev/shm", "shared memory between vLLM processes", size_bytes=2 * GIB, memory=True),
    )
    server = Container(
        name="server",
        image=image,
        image_tag=image.ref,
        command=("/bin/sh", "-c", SERVE_WRAPPER, "vllm-serve"),
        args=tuple(serve_args(model, artifact, options, sizing)),
        env=_env(options, sizing),
        ports=(Port("http", PORT),),
        probes=probes,
        writable_paths=writable,
        cache=CacheMount("/models", read_only=True),
        secret_files=(API_KEY_FILE,),
        resources=resources_for(model, sizing, cpu_bound=options.cpu_image),
    )
    fetch = Container(
        name="fetch",
        image=image,
        image_tag=image.ref,
        command=("python3", "-c", fetch_script(artifact)),
        env=hugging_face_fetch_env(spec, home=HOME, hf_home=HF_HOME),
        writable_paths=(TMP, WritablePath(HOME, "HOME", size_bytes=64 * 1024**2)),
        cache=CacheMount("/models", read_only=False),
        secret_files=hf_token_files(spec),
        resources=fetch_resources(),
    )
    return ServingPlan(
        model=model.name,
        engine=model.engine.value,
        server=server,
        fetch=FetchStep(fetch, download_budget_seconds(artifact.weight_bytes), HUGGING_FACE_HOSTS),
        cache_size_bytes=cache_size_bytes(model, artifact),
        replicas=model.replicas,
        metrics=Metrics(port=PORT, path="/metrics", prefix="vllm:", health_path="/health"),
        api_port=PORT,
        api_key_secret=API_KEY_FILE.secret,
        labels=model_labels(model.name, model.engine.value, COMPONENT_MODEL_SERVER),
    )
