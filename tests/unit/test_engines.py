"""Engine plans as plain Python: the flags, files and checks each engine gets, and the
chapter's errors (../shared/research/seed-module03.md §8) never reproduced."""

from __future__ import annotations

import json
from itertools import pairwise, product
from typing import Any

import pytest

from components.catalog import Engine, load_catalog
from components.engines import build_plan, build_plans
from components.plan import Container, LocalBuild, ServingPlan
from components.spec import DeploymentSpec, parse_config, size_model


def spec_of(*models: dict[str, Any], secrets: dict[str, str] | None = None) -> DeploymentSpec:
    config = {
        "slm-deploy:target": "docker",
        "slm-deploy:environment": "dev",
        "slm-deploy:models": json.dumps(list(models)),
    }
    if secrets:
        config["slm-deploy:secrets"] = json.dumps(secrets)
    return parse_config(config)


def plan_of(model: dict[str, Any], secrets: dict[str, str] | None = None) -> ServingPlan:
    spec = spec_of(model, secrets=secrets)
    return build_plan(spec.models[0], spec)


def flag(args: tuple[str, ...], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args else None


def all_commands(plan: ServingPlan) -> list[str]:
    texts = []
    for container in (plan.server, plan.fetch.container):
        texts += [" ".join(container.command or ()), " ".join(container.args)]
        if container.probes:
            for check in (container.probes.startup, container.probes.readiness, container.probes.liveness):
                texts.append(" ".join(check.command))
    return texts


VLLM_PHI = {"name": "phi", "engine": "vllm", "preset": "phi-4-mini-instruct", "gpu": True}


# --- vLLM ----------------------------------------------------------------------------------


def test_vllm_serves_under_the_model_name_with_sizing_flags() -> None:
    plan = plan_of({**VLLM_PHI, "maxContextTokens": 8192, "concurrency": 8})
    spec = spec_of({**VLLM_PHI, "maxContextTokens": 8192, "concurrency": 8})
    sizing = size_model(spec.models[0])
    args = plan.server.args
    assert args[0] == "microsoft/Phi-4-mini-instruct"
    assert flag(args, "--served-model-name") == "phi"
    assert flag(args, "--max-model-len") == "8192" == str(sizing.max_model_len)
    assert flag(args, "--gpu-memory-utilization") == f"{sizing.gpu_memory_utilization:.2f}"
    assert flag(args, "--max-num-seqs") == "8"
    assert flag(args, "--dtype") == "auto"


def test_vllm_uses_float16_on_a_gpu_without_bfloat16() -> None:
    plan = plan_of({**VLLM_PHI, "maxContextTokens": 2048, "concurrency": 1})  # fits a T4
    assert flag(plan.server.args, "--dtype") == "float16"


def test_vllm_quantization_flag_only_for_quantized_checkpoints() -> None:
    plain = plan_of({"name": "q", "engine": "vllm", "preset": "qwen3-4b", "gpu": True})
    awq = plan_of({"name": "q", "engine": "vllm", "preset": "qwen3-4b", "gpu": True, "quantization": "awq"})
    assert "--quantization" not in plain.server.args
    assert flag(awq.server.args, "--quantization") == "awq"
    assert awq.server.args[0] != plain.server.args[0], "AWQ needs the AWQ checkpoint, not the bf16 one"


def test_every_catalog_checkpoint_gets_a_quantization_flag_only_if_it_is_one() -> None:
    catalog = load_catalog()
    for name, preset in catalog.presets.items():
        support = preset.engines.get(Engine.VLLM)
        for quantization in support.variants if support else []:
            model = {"name": "m", "engine": "vllm", "preset": name, "gpu": True, "quantization": quantization}
            plan = plan_of(model, secrets={"hfToken": "hf_x"})
            expected = quantization if quantization in ("awq", "gptq", "fp8") else None
            assert flag(plan.server.args, "--quantization") == expected, (name, quantization)


@pytest.mark.parametrize(("preset", "tools"), list(product(["phi-4-mini-instruct", "qwen3-1.7b"], [True, False])))
def test_auto_tool_choice_never_without_its_parser(preset: str, tools: bool) -> None:
    plan = plan_of({"name": "t", "engine": "vllm", "preset": preset, "gpu": True, "vllm": {"toolCalling": tools}})
    args = plan.server.args
    assert ("--enable-auto-tool-choice" in args) == tools
    assert ("--tool-call-parser" in args) == tools
    if tools:
        expected = {"phi-4-mini-instruct": "phi4_mini_json", "qwen3-1.7b": "hermes"}[preset]
        assert flag(args, "--tool-call-parser") == expected


def test_vllm_api_key_is_a_secret_file_never_an_argument_or_variable() -> None:
    plan = plan_of(VLLM_PHI)
    assert plan.api_key_secret == "apiKey"
    assert [(s.secret, s.path) for s in plan.server.secret_files] == [("apiKey", "/run/secrets/api-key")]
    assert "--api-key" not in plan.server.args
    assert "VLLM_API_KEY" not in plan.server.env
    assert plan.server.command is not None and "/run/secrets/api-key" in plan.server.command[2]


def test_vllm_writable_paths_cache_and_shared_memory() -> None:
    plan = plan_of(VLLM_PHI)
    paths = {w.path: w for w in plan.server.writable_paths}
    assert set(paths) == {"/tmp", "/home/vllm", "/cache", "/dev/shm"}
    assert paths["/dev/shm"].memory
    env = plan.server.env
    assert env["HOME"] == "/home/vllm"
    for variable in ("VLLM_CACHE_ROOT", "TRITON_CACHE_DIR", "XDG_CACHE_HOME"):
        assert env[variable].startswith("/cache/")
    assert env["HF_HOME"] == "/models/hf" and env["HF_HUB_OFFLINE"] == "1"
    assert plan.server.cache is not None and plan.server.cache.read_only
    fetch = plan.fetch.container
    assert fetch.cache is not None and not fetch.cache.read_only
    assert fetch.env["HF_HOME"] == "/models/hf"


def test_hugging_face_token_is_a_secret_file_for_the_download_only() -> None:
    plan = plan_of(VLLM_PHI, secrets={"hfToken": "hf_x"})
    fetch = plan.fetch.container
    assert [(s.secret, s.path) for s in fetch.secret_files] == [("hfToken", "/run/secrets/hf-token")]
    assert fetch.env["HF_TOKEN_PATH"] == "/run/secrets/hf-token"
    assert "hfToken" not in {s.secret for s in plan.server.secret_files}
    assert "HF_TOKEN" not in fetch.env
    no_token = plan_of(VLLM_PHI)
    assert no_token.fetch.container.secret_files == ()


def test_vllm_cpu_image_is_the_cpu_build() -> None:
    plan = plan_of({**VLLM_PHI, "gpu": False, "vllm": {"cpuImage": True}})
    assert plan.server.image_ref.startswith("public.ecr.aws/q9t5s3a7/vllm-cpu-release-repo:")
    assert "--gpu-memory-utilization" not in plan.server.args
    assert int(plan.server.env["VLLM_CPU_KVCACHE_SPACE"]) >= 1
    assert not plan.uses_gpu and plan.server.resources is not None and plan.server.resources.gpu_count == 0


def test_gpu_count_is_requested() -> None:
    plan = plan_of({**VLLM_PHI, "gpu": {"count": 2}})
    assert plan.server.resources is not None and plan.server.resources.gpu_count == 2
    assert flag(plan.server.args, "--tensor-parallel-size") == "2"
    assert plan.fetch.container.resources is not None and plan.fetch.container.resources.gpu_count == 0


def test_images_are_pinned_and_overridable() -> None:
    default = plan_of(VLLM_PHI)
    assert default.server.image_ref == "vllm/vllm-openai:v0.11.0"
    pinned = plan_of({**VLLM_PHI, "image": {"tag": "v0.11.1", "digest": "sha256:" + "a" * 64}})
    assert pinned.server.image_ref == "vllm/vllm-openai:v0.11.1@sha256:" + "a" * 64


# --- Ollama --------------------------------------------------------------------------------

OLLAMA = {
    "name": "chat",
    "engine": "ollama",
    "preset": "qwen3-0.6b",
    "maxContextTokens": 2048,
    "modelfile": {
        "system": "Be brief.",
        "template": "{{ .Prompt }}",
        "parameters": {"temperature": 0.3, "top_p": 0.8},
        "stop": ["<|im_end|>"],
    },
    "ollama": {"keepAlive": "10m", "numParallel": 3, "maxLoadedModels": 2},
}


def test_modelfile_has_valid_instructions_only() -> None:
    modelfile = plan_of(OLLAMA).config_files_for_review["chat.Modelfile"]
    lines = [line for line in modelfile.splitlines() if line and not line.startswith("#")]
    assert lines == [
        "FROM qwen3:0.6b-q4_K_M",
        "PARAMETER num_ctx 2048",
        "PARAMETER temperature 0.3",
        "PARAMETER top_p 0.8",
        'PARAMETER stop "<|im_end|>"',
        'SYSTEM """Be brief."""',
        'TEMPLATE """{{ .Prompt }}"""',
    ]
    instructions = {"FROM", "PARAMETER", "SYSTEM", "TEMPLATE", "ADAPTER", "LICENSE", "MESSAGE", "REQUIRES"}
    assert {line.split()[0] for line in lines} <= instructions
    assert "context_length" not in modelfile


def test_ollama_model_is_pulled_and_created_by_a_step_against_a_running_server() -> None:
    plan = plan_of(OLLAMA)
    fetch = plan.fetch.container
    assert fetch.command is not None
    script = fetch.command[-1]
    assert script.index("ollama serve") < script.index("ollama pull qwen3:0.6b-q4_K_M")
    assert script.index("ollama pull") < script.index("ollama create chat -f /config/Modelfile")
    assert [f.path for f in fetch.config_files] == ["/config/Modelfile"]
    assert fetch.env["OLLAMA_HOST"] == "127.0.0.1:11434"


def test_ollama_server_settings() -> None:
    plan = plan_of(OLLAMA)
    env = plan.server.env
    assert env["OLLAMA_KEEP_ALIVE"] == "10m"
    assert env["OLLAMA_NUM_PARALLEL"] == "3"
    assert env["OLLAMA_MAX_LOADED_MODELS"] == "2"
    assert env["OLLAMA_CONTEXT_LENGTH"] == "2048"
    assert env["OLLAMA_HOST"] == "0.0.0.0:11434"
    assert env["HOME"] in {w.path for w in plan.server.writable_paths}
    assert plan.server.cache is not None and plan.server.cache.path == env["OLLAMA_MODELS"]
    assert plan.fetch.container.cache is not None and not plan.fetch.container.cache.read_only
    assert plan.metrics.port is None and plan.api_key_secret is None


def test_ollama_checks_need_the_model_and_no_curl() -> None:
    plan = plan_of(OLLAMA)
    assert plan.server.probes is not None
    assert plan.server.probes.readiness.command == ("ollama", "show", "chat")


# --- ONNX ----------------------------------------------------------------------------------


def test_onnx_server_runs_the_project_image_on_a_read_only_model() -> None:
    plan = plan_of({"name": "o", "engine": "onnx", "preset": "phi-4-mini-instruct"})
    assert isinstance(plan.server.image, LocalBuild) and plan.server.image.context == "images/onnx-server"
    args = plan.server.args
    assert flag(args, "--model-dir") == "/models/onnx/cpu_and_mobile/cpu-int4-rtn-block-32-acc-level-4"
    assert flag(args, "--api-keys-file") == "/run/secrets/api-keys"
    assert flag(args, "--served-model-name") == "o"
    assert plan.server.cache is not None and plan.server.cache.read_only
    assert {w.path for w in plan.server.writable_paths} == {"/tmp"}
    assert plan.metrics.prefix == "ortgenai:"


def test_onnx_downloads_a_published_build_or_converts() -> None:
    published = plan_of({"name": "o", "engine": "onnx", "preset": "qwen3-0.6b"})
    assert published.fetch.container.command is not None
    assert "snapshot_download" in published.fetch.container.command[-1]
    converted = plan_of({"name": "o", "engine": "onnx", "preset": "gemma-3-1b-it"}, secrets={"hfToken": "hf_x"})
    command = converted.fetch.container.command
    assert command is not None and "onnxruntime_genai.models.builder" in command
    pairs = set(pairwise(command))
    assert ("-m", "google/gemma-3-1b-it") in pairs
    assert ("-p", "int4") in pairs
    image = converted.fetch.container.image
    assert isinstance(image, LocalBuild) and image.target == "model-builder"


def test_onnx_gpu_builds_the_cuda_variant() -> None:
    plan = plan_of(
        {"name": "o", "engine": "onnx", "preset": "phi-4-mini-instruct", "gpu": True, "quantization": "int4-gpu"}
    )
    assert isinstance(plan.server.image, LocalBuild) and plan.server.image.build_args == {"VARIANT": "cuda"}


# --- every engine --------------------------------------------------------------------------

EVERY_ENGINE: list[dict[str, Any]] = [
    {"name": "a", "engine": "ollama", "preset": "phi-4-mini-instruct"},
    {"name": "b", "engine": "onnx", "preset": "qwen3-0.6b"},
    {**VLLM_PHI, "name": "c"},
]


def test_no_health_check_or_step_uses_curl() -> None:
    for plan in build_plans(spec_of(*EVERY_ENGINE)):
        assert not any("curl" in text for text in all_commands(plan)), plan.engine


def test_every_plan_has_checks_budget_resources_and_labels() -> None:
    for plan in build_plans(spec_of(*EVERY_ENGINE)):
        server: Container = plan.server
        assert server.probes is not None and server.resources is not None
        assert server.resources.memory_limit_bytes >= server.resources.memory_request_bytes > 0
        assert server.probes.startup_failure_threshold * server.probes.period_seconds >= 120
        assert plan.labels["app.kubernetes.io/component"] == "model-server"
        assert plan.labels["slm-deploy.dev/model"] == plan.model
        assert server.run_as_user >= 10000
        assert plan.fetch.timeout_seconds >= 600


def test_startup_budget_grows_with_model_size() -> None:
    small = plan_of({"name": "s", "engine": "vllm", "preset": "qwen3-0.6b", "gpu": True})
    large = plan_of(
        {"name": "l", "engine": "vllm", "preset": "gemma-3-12b-it", "gpu": True}, secrets={"hfToken": "hf_x"}
    )
    assert small.server.probes is not None and large.server.probes is not None
    assert large.server.probes.startup_budget_seconds > small.server.probes.startup_budget_seconds


def test_the_spec_knows_which_engines_scale_on_queue_depth() -> None:
    """The spec rules refuse queue-depth autoscaling where no Prometheus runs; they decide by
    engine, the Kubernetes target by the plan's queue gauge: both must agree."""
    from components.spec.scaling import QUEUE_METRIC_ENGINES
    from components.targets.kube.scaling import queue_metric

    models: dict[Engine, dict[str, Any]] = {
        Engine.VLLM: {"name": "v", "engine": "vllm", "preset": "qwen3-0.6b", "gpu": True},
        Engine.ONNX: {"name": "o", "engine": "onnx", "preset": "qwen3-0.6b", "quantization": "int4-cpu"},
        Engine.OLLAMA: {"name": "l", "engine": "ollama", "preset": "qwen3-0.6b"},
    }
    assert set(models) == set(Engine)
    for engine, model in models.items():
        assert (queue_metric(plan_of(model)) is not None) == (engine in QUEUE_METRIC_ENGINES), engine
