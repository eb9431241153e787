"""Ollama: a model pulled from the Ollama registry and created under the stack's model name.

Facts (../shared/research/observability-security.md §2, seed-module03.md §8): port 11434, no
authentication and no /metrics, no curl in the image (checks use the ``ollama`` binary), HOME
must be writable (the server writes its key there), ``ollama pull`` / ``create`` talk to a
running server. The fetch step therefore starts its own server on loopback, pulls, creates the
model from the rendered Modelfile, and stops; the model server then only reads the cache.
"""

from __future__ import annotations

from components.catalog.sizing import GIB
from components.engines.common import TMP, cache_size_bytes, fetch_resources, image_for, resources_for
from components.plan import (
    COMPONENT_MODEL_SERVER,
    CacheMount,
    Check,
    ConfigFile,
    Container,
    FetchStep,
    HttpGet,
    Image,
    Metrics,
    Port,
    Probes,
    ServingPlan,
    WritablePath,
    download_budget_seconds,
    model_labels,
    startup_budget_seconds,
)
from components.spec import DeploymentSpec, ModelArtifact, ModelSpec, resolve_artifact, size_model
from components.spec.models import OllamaOptions
from components.templating import render_template

IMAGE = Image("ollama/ollama", "0.12.3")
PORT = 11434
HOME = "/home/ollama"
MODELS = "/models"
MODELFILE = "/config/Modelfile"
WARMUP_SECONDS = 20
REGISTRY_HOSTS = ("registry.ollama.ai", "*.r2.cloudflarestorage.com")


def modelfile(model: ModelSpec, artifact: ModelArtifact) -> str:
    """The Modelfile that creates ``model.name`` from the pulled tag (valid instructions only)."""
    settings = model.modelfile
    parameters = settings.parameters if settings else {}
    return render_template(
        "ollama/Modelfile.j2",
        name=model.name,
        base=artifact.ref,
        num_ctx=model.max_context_tokens,
        parameters=sorted(parameters.items()),
        stops=settings.stop if settings else [],
        system=settings.system if settings else None,
        template=settings.template if settings else None,
    )


def _env(model: ModelSpec, options: OllamaOptions, host: str) -> dict[str, str]:
    env = {
        "HOME": HOME,
        "OLLAMA_HOST": host,
        "OLLAMA_MODELS": MODELS,
        "OLLAMA_KEEP_ALIVE": options.keep_alive,
        "OLLAMA_NUM_PARALLEL": str(options.num_parallel or model.concurrency),
        "OLLAMA_MAX_LOADED_MODELS": str(options.max_loaded_models),
        "OLLAMA_CONTEXT_LENGTH": str(model.max_context_tokens),
        "OLLAMA_NOPRUNE": "1",  # the server's cache is read-only: never try to prune blobs
    }
    if options.flash_attention:
        env["OLLAMA_FLASH_ATTENTION"] = "1"
    return env


def fetch_script(model: ModelSpec, artifact: ModelArtifact) -> str:
    """Start a loopback server, pull the tag, create the model, stop (bounded waits)."""
    return "\n".join(
        [
            "set -eu",
            "ollama serve >/tmp/ollama-serve.log 2>&1 &",
            "server=$!",
            "ready=0",
            "for attempt in $(seq 1 60); do",
            "  if ollama list >/dev/null 2>&1; then ready=1; break; fi",
            "  sleep 1",
            "done",
            'if [ "$ready" != 1 ]; then cat /tmp/ollama-serve.log; exit 1; fi',
            f"ollama pull {artifact.ref}",
            f"ollama create {model.name} -f {MODELFILE}",
            'kill "$server"',
            'wait "$server" || true',
        ]
    )


def build_plan(model: ModelSpec, spec: DeploymentSpec) -> ServingPlan:
    artifact = resolve_artifact(model)
    sizing = size_model(model, artifact)
    options = model.ollama or OllamaOptions()
    image = image_for(model, IMAGE)
    model_check = Check(command=("ollama", "show", model.name))
    probes = Probes(
        startup=model_check,
        readiness=model_check,
        liveness=Check(command=("ollama", "list"), http=HttpGet("/", PORT)),
        startup_budget_seconds=startup_budget_seconds(artifact.weight_bytes, WARMUP_SECONDS),
    )
    home = WritablePath(HOME, "HOME: the server's identity key", size_bytes=64 * 1024**2)
    server = Container(
        name="server",
        image=image,
        image_tag=image.ref,
        args=("serve",),
        env=_env(model, options, f"0.0.0.0:{PORT}"),
        ports=(Port("http", PORT),),
        probes=probes,
        writable_paths=(TMP, home),
        cache=CacheMount(MODELS, read_only=True),
        resources=resources_for(model, sizing, cpu_bound=not sizing.use_gpu),
    )
    rendered = modelfile(model, artifact)
    fetch = Container(
        name="fetch",
        image=image,
        image_tag=image.ref,
        command=("/bin/sh", "-c", fetch_script(model, artifact)),
        env=_env(model, options, f"127.0.0.1:{PORT}"),
        writable_paths=(TMP, home),
        cache=CacheMount(MODELS, read_only=False),
        config_files=(ConfigFile(MODELFILE, rendered),),
        resources=fetch_resources(),
    )
    return ServingPlan(
        model=model.name,
        engine=model.engine.value,
        server=server,
        fetch=FetchStep(fetch, download_budget_seconds(artifact.weight_bytes), REGISTRY_HOSTS),
        cache_size_bytes=cache_size_bytes(model, artifact, extra_bytes=GIB // 2),
        replicas=model.replicas,
        metrics=Metrics(port=None, path=None, prefix=None, health_path="/"),
        api_port=PORT,
        api_key_secret=None,
        labels=model_labels(model.name, model.engine.value, COMPONENT_MODEL_SERVER),
    )
