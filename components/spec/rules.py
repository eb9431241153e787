"""Cross-field rules of a stack configuration.

Shape and types are checked by the pydantic models; what needs two fields or the catalog to
decide lives here. Every rule adds a :class:`Problem` at the exact key path it is about, and
all problems are reported together.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from components.catalog import Engine
from components.catalog.sizing import GIB, gpu_without_bf16
from components.spec.aks_rules import aks_problems
from components.spec.errors import Problem, RuleViolationError
from components.spec.models import GpuRequest, Target
from components.spec.resolve import ArtifactError, resolve_artifact, size_model
from components.spec.scaling import QUEUE_METRIC_ENGINES
from components.spec.stackfile import SECRET_PLACEHOLDER

if TYPE_CHECKING:
    from components.spec.models import DeploymentSpec, ModelSpec
    from components.spec.resolve import ModelArtifact

#: Engine-specific sections of a model and the engine each belongs to.
ENGINE_SECTIONS: dict[str, Engine] = {
    "modelfile": Engine.OLLAMA,
    "ollama": Engine.OLLAMA,
    "vllm": Engine.VLLM,
    "onnx": Engine.ONNX,
}


def check_rules(spec: DeploymentSpec) -> None:
    """Raise :class:`RuleViolationError` listing every broken rule; return quietly otherwise."""
    problems: list[Problem] = []
    problems += _unique_names(spec)
    for index, model in enumerate(spec.models):
        problems += [Problem(("models", index, *p.path), p.message) for p in _model_rules(model, spec)]
    problems += _target_sections(spec)
    problems += _docker_scale(spec)
    problems += _kubernetes_rules(spec)
    problems += _secret_references(spec)
    problems += _api_key(spec)
    problems += aks_problems(spec)
    problems += _bf16_pools(spec)
    if problems:
        raise RuleViolationError(problems)


def _unique_names(spec: DeploymentSpec) -> list[Problem]:
    seen: dict[str, int] = {}
    problems = []
    for index, model in enumerate(spec.models):
        if model.name in seen:
            problems.append(
                Problem(("models", index, "name"), f"{model.name!r} is already used by models[{seen[model.name]}]")
            )
        seen.setdefault(model.name, index)
    return problems


def _model_rules(model: ModelSpec, spec: DeploymentSpec) -> list[Problem]:
    problems: list[Problem] = []
    for section, engine in ENGINE_SECTIONS.items():
        if getattr(model, section) is not None and model.engine is not engine:
            problems.append(Problem((section,), f"only applies to engine {engine.value}, not {model.engine.value}"))

    if (model.preset is None) == (model.source is None):
        problems.append(Problem(("preset",), "set exactly one of preset and source"))
        return problems
    try:
        artifact = resolve_artifact(model)
    except ArtifactError as exc:
        problems.append(exc.problem)
        return problems

    if model.max_context_tokens > artifact.context_length:
        problems.append(
            Problem(
                ("maxContextTokens",),
                f"{model.max_context_tokens} is above the model's context length of {artifact.context_length}",
            )
        )
    problems += _gpu_rules(model)
    problems += _bf16_rules(model, artifact)
    problems += _modelfile_rules(model)
    problems += _parallelism_rules(model)
    sizing = size_model(model, artifact) if model.gpu_count > 0 else None
    if sizing is not None and not sizing.fits:
        needed = sizing.total_bytes / GIB
        problems.append(
            Problem(
                ("gpu",),
                f"needs {needed:.1f} GiB, more than one GPU of the sizing table holds; lower "
                "maxContextTokens or concurrency, or choose a smaller quantization",
            )
        )
    problems += _scaling_rules(model)
    wants_tools = model.engine is Engine.VLLM and model.vllm is not None and model.vllm.tool_calling
    if wants_tools and model.vllm is not None and (model.vllm.tool_call_parser or artifact.tool_call_parser) is None:
        problems.append(
            Problem(
                ("vllm", "toolCallParser"),
                "tool calling needs a parser and the model has none in the catalog; set toolCallParser",
            )
        )
    if artifact.gated and artifact.downloads_from_huggingface and "hfToken" not in spec.secrets:
        problems.append(
            Problem(
                ("preset" if model.preset else "source",),
                "the Hugging Face repository is gated: add secrets.hfToken (pulumi config set --secret --path "
                "'secrets.hfToken' <token>)",
            )
        )
    return problems


def _modelfile_rules(model: ModelSpec) -> list[Problem]:
    """SYSTEM and TEMPLATE are written between triple quotes, which they must not contain. Stop
    strings are written raw between double quotes on one line: Ollama's parser interprets no
    escapes and drops characters that are not printable."""
    if model.modelfile is None:
        return []
    fields = {"system": model.modelfile.system, "template": model.modelfile.template}
    problems = [
        Problem(("modelfile", key), 'must not contain """ (it ends the Modelfile block)')
        for key, text in fields.items()
        if text is not None and '"""' in text
    ]
    problems += [
        Problem(
            ("modelfile", "stop", index),
            "must not contain a double quote, a line break or another control character (Ollama reads the "
            "stop string raw between double quotes)",
        )
        for index, stop in enumerate(model.modelfile.stop)
        if '"' in stop or not stop.isprintable()
    ]
    return problems


def _parallelism_rules(model: ModelSpec) -> list[Problem]:
    """Memory is sized for ``concurrency`` sequences; an engine setting must not run more."""
    settings = {
        ("ollama", "numParallel"): model.ollama.num_parallel if model.ollama else None,
        ("onnx", "maxRunningRequests"): model.onnx.max_running_requests if model.onnx else None,
    }
    return [
        Problem(
            path,
            f"{value} is above concurrency {model.concurrency}, the sequences memory is sized for; raise "
            "concurrency instead",
        )
        for path, value in settings.items()
        if value is not None and value > model.concurrency
    ]


def _gpu_rules(model: ModelSpec) -> list[Problem]:
    if model.engine is Engine.ONNX and model.gpu_count > 1:
        return [Problem(("gpu", "count"), f"{model.gpu_count}: the ONNX server runs a model on one GPU; set count: 1")]
    if model.engine is not Engine.VLLM:
        return []
    cpu_image = model.vllm is not None and model.vllm.cpu_image
    if model.gpu_count == 0 and not cpu_image:
        return [
            Problem(
                ("gpu",),
                "vLLM's default image needs a GPU; set gpu: true, or vllm.cpuImage: true for the CPU build",
            )
        ]
    if model.gpu_count > 0 and cpu_image:
        return [Problem(("vllm", "cpuImage"), "the CPU image cannot use the GPU the model asks for")]
    return []


#: Said wherever a model cannot run as float16 (vLLM's _FLOAT16_NOT_SUPPORTED_MODELS).
NO_FLOAT16 = "vLLM refuses float16 for this model (numerical instability)"
BF16_GPU_HINT = "choose an Ampere or newer GPU (A10: Standard_NV36ads_A10_v5, A100, H100)"


def _bf16_rules(model: ModelSpec, artifact: ModelArtifact) -> list[Problem]:
    """A model that needs bfloat16 never gets float16: not as dtype, not on a GPU without bf16."""
    if not artifact.requires_bf16:
        return []
    problems = []
    if model.vllm is not None and model.vllm.dtype == "float16":
        problems.append(Problem(("vllm", "dtype"), f"float16: {NO_FLOAT16}; use auto, bfloat16 or float32"))
    vm_size = model.gpu.vm_size if isinstance(model.gpu, GpuRequest) else None
    gpu = gpu_without_bf16(vm_size) if vm_size is not None else None
    if gpu is not None:
        problems.append(
            Problem(("gpu", "vmSize"), f"{vm_size} has a {gpu} GPU without bfloat16 and {NO_FLOAT16}; {BF16_GPU_HINT}")
        )
    return problems


def _bf16_pools(spec: DeploymentSpec) -> list[Problem]:
    """GPU models go to any GPU pool, so a pool without bfloat16 cannot host a model that needs it."""
    if spec.aks is None:
        return []
    needs_bf16 = [
        f"models[{index}] ({model.name})"
        for index, model in enumerate(spec.models)
        if model.gpu_count > 0 and _requires_bf16(model)
    ]
    problems = []
    for index, pool in enumerate(spec.aks.gpu_pools):
        gpu = gpu_without_bf16(pool.vm_size) if pool.vm_size is not None else None
        if gpu is not None and needs_bf16:
            problems.append(
                Problem(
                    ("aks", "gpuPools", index, "vmSize"),
                    f"{pool.vm_size} has a {gpu} GPU without bfloat16, and {', '.join(needs_bf16)} may be scheduled "
                    f"on it: {NO_FLOAT16}; {BF16_GPU_HINT}",
                )
            )
    return problems


def _requires_bf16(model: ModelSpec) -> bool:
    try:
        return resolve_artifact(model).requires_bf16
    except ArtifactError:
        return False  # reported by the model rules


def _scaling_rules(model: ModelSpec) -> list[Problem]:
    scaling = model.autoscaling
    if scaling is None:
        return []
    problems = []
    if model.replicas is not None:
        problems.append(Problem(("replicas",), "set either replicas or autoscaling, not both"))
    if scaling.min_replicas > scaling.max_replicas:
        problems.append(
            Problem(
                ("autoscaling", "minReplicas"),
                f"{scaling.min_replicas} is above maxReplicas {scaling.max_replicas}",
            )
        )
    if scaling.min_replicas == 0 and not scaling.scale_to_zero:
        problems.append(Problem(("autoscaling", "minReplicas"), "0 needs scaleToZero: true"))
    return problems


def _target_sections(spec: DeploymentSpec) -> list[Problem]:
    allowed = {
        "docker": {"docker"},
        "kubernetes": {"kubernetes", "aks"},
        "aks": {"aks"},
    }
    problems = []
    for section, targets in allowed.items():
        if getattr(spec, section) is not None and spec.target.value not in targets:
            problems.append(
                Problem(
                    (section,),
                    f"only applies to target {' or '.join(sorted(targets))}, not {spec.target.value}",
                )
            )
    k8s = spec.kubernetes
    if k8s is not None and k8s.kubeconfig is not None and k8s.stack_reference is not None:
        problems.append(Problem(("kubernetes", "stackReference"), "set either kubeconfig or stackReference"))
    return problems


def _kubernetes_rules(spec: DeploymentSpec) -> list[Problem]:
    """What a cluster target needs that the Docker target does not."""
    if spec.target is Target.DOCKER:
        return []
    settings = spec.kubernetes
    problems = []
    for index, model in enumerate(spec.models):
        builds_image = model.engine is Engine.ONNX and (model.image is None or model.image.repository is None)
        registry = settings.image_registry if settings else None
        if spec.target is Target.KUBERNETES and builds_image and registry is None:
            problems.append(
                Problem(
                    ("kubernetes", "imageRegistry"),
                    f"models[{index}] ({model.name}) runs the ONNX server image the program builds: name a "
                    f"registry to push it to, or set models[{index}].image.repository",
                )
            )
        scaling = model.autoscaling
        if scaling is not None and scaling.scale_to_zero:
            path: tuple[str | int, ...] = ("models", index, "autoscaling")
            if model.engine not in QUEUE_METRIC_ENGINES:
                problems.append(
                    Problem(
                        (*path, "scaleToZero"),
                        f"{model.engine.value} exports no queue metric to scale on; use vllm or onnx",
                    )
                )
            elif scaling.wake_query is None:
                problems.append(
                    Problem(
                        (*path, "wakeQuery"),
                        "scaleToZero needs a wake signal: at zero replicas no pod exports the queue metric; set "
                        "a PromQL query that is above 0 when requests arrive (e.g. the ingress request rate)",
                    )
                )
    if settings is None:
        return problems
    exposure = settings.exposure
    if exposure is not None and exposure.kind == "ingress" and exposure.tls_secret is None:
        problems.append(Problem(("kubernetes", "exposure", "tlsSecret"), "an Ingress is exposed only with TLS"))
    gateway = exposure.gateway if exposure is not None else None
    if exposure is not None and exposure.kind == "gateway" and (gateway is None or gateway.count("/") != 1):
        problems.append(
            Problem(("kubernetes", "exposure", "gateway"), "kind gateway needs the Gateway as namespace/name")
        )
    registry = settings.image_registry
    if registry is not None and registry.password_secret is not None:
        if registry.password_secret not in spec.secrets:
            problems.append(
                Problem(
                    ("kubernetes", "imageRegistry", "passwordSecret"),
                    f"{registry.password_secret!r} is not a key of slm-deploy:secrets",
                )
            )
        if registry.username is None:
            problems.append(Problem(("kubernetes", "imageRegistry", "username"), "is required with passwordSecret"))
    return problems


def _docker_scale(spec: DeploymentSpec) -> list[Problem]:
    """The local Docker target runs one container per model; scaling needs a cluster."""
    if spec.target.value != "docker":
        return []
    problems = []
    for index, model in enumerate(spec.models):
        if model.autoscaling is not None:
            problems.append(Problem(("models", index, "autoscaling"), "needs target kubernetes or aks"))
        elif model.replicas is not None and model.replicas > 1:
            problems.append(
                Problem(("models", index, "replicas"), f"{model.replicas}: the docker target runs one container")
            )
    return problems


#: Shortest API key accepted; generated keys have 48 characters.
MIN_API_KEY_LENGTH = 16


def _api_key(spec: DeploymentSpec) -> list[Problem]:
    """A given API key must be worth having: an empty one leaves vLLM open, a short one is guessable,
    whitespace breaks the bearer header and the ONNX server's one-key-per-line file. Never echoed."""
    secret = spec.secrets.get("apiKey")
    if secret is None:
        return []
    value = secret.get_secret_value()
    if value == SECRET_PLACEHOLDER:
        return []  # an offline render does not decrypt; the real value is checked at `pulumi up`
    if len(value) < MIN_API_KEY_LENGTH or any(character.isspace() for character in value):
        return [
            Problem(
                ("secrets", "apiKey"),
                f"must be at least {MIN_API_KEY_LENGTH} characters without whitespace (leave it unset and "
                "the program generates one)",
            )
        ]
    return []


def _secret_references(spec: DeploymentSpec) -> list[Problem]:
    problems = []
    for index, receiver in enumerate(spec.alerting.receivers):
        refs = {"urlSecret": receiver.url_secret, "passwordSecret": receiver.password_secret}
        for key, ref in refs.items():
            if ref is not None and ref not in spec.secrets:
                problems.append(
                    Problem(("alerting", "receivers", index, key), f"{ref!r} is not a key of slm-deploy:secrets")
                )
        if receiver.type in ("webhook", "slack", "teams") and receiver.url_secret is None:
            problems.append(
                Problem(
                    ("alerting", "receivers", index, "urlSecret"),
                    f"a {receiver.type} receiver needs urlSecret",
                )
            )
        if receiver.type == "email" and (receiver.to is None or receiver.smarthost is None):
            problems.append(Problem(("alerting", "receivers", index), "an email receiver needs to and smarthost"))
    return problems
