"""Engine plans as plain Python: the flags, files and checks each engine gets, and the
chapter's errors (../shared/research/seed-module03.md §8) never reproduced."""

from __future__ import annotations

import json
import subprocess
from itertools import pairwise, product
from pathlib import Path
from typing import Any

import pytest

from components.catalog import Engine, load_catalog
from components.engines import build_plan, build_plans
from components.plan import Container, LocalBuild, ServingPlan
from components.spec import DeploymentSpec, parse_config, size_model
from tests.conftest import TINY_GENAI


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


def test_vllm_follows_an_explicit_gpu_vm_size_for_the_dtype() -> None:
    on_t4 = plan_of({**VLLM_PHI, "gpu": {"vmSize": "Standard_NC4as_T4_v3"}})
    on_a100 = plan_of({**VLLM_PHI, "maxContextTokens": 2048, "gpu": {"vmSize": "Standard_NC24ads_A100_v4"}})
    assert flag(on_t4.server.args, "--dtype") == "float16"
    assert flag(on_a100.server.args, "--dtype") == "auto"


BF16_PRESETS = [name for name, preset in load_catalog().presets.items() if preset.requires_bf16]


def test_gemma_3_presets_need_bfloat16() -> None:
    assert set(BF16_PRESETS) == {"gemma-3-1b-it", "gemma-3-4b-it", "gemma-3-12b-it"}


@pytest.mark.parametrize(("preset", "context"), list(product(BF16_PRESETS, [1024, 8192])))
def test_vllm_never_runs_a_model_that_needs_bfloat16_as_float16(preset: str, context: int) -> None:
    model = {"name": "g", "engine": "vllm", "preset": preset, "gpu": True, "maxContextTokens": context}
    spec = spec_of(model, secrets={"hfToken": "hf_x"})
    plan = build_plan(spec.models[0], spec)
    sizing = size_model(spec.models[0])
    assert sizing.gpu_class is not None and sizing.gpu_class.supports_bf16, sizing.gpu_class
    assert flag(plan.server.args, "--dtype") == "auto"


def test_vllm_serves_the_quantized_checkpoint_without_a_quantization_flag() -> None:
    plain = plan_of({"name": "q", "engine": "vllm", "preset": "qwen3-4b", "gpu": True})
    awq = plan_of({"name": "q", "engine": "vllm", "preset": "qwen3-4b", "gpu": True, "quantization": "awq"})
    assert plain.server.args[0] == "Qwen/Qwen3-4B"
    assert awq.server.args[0] == "Qwen/Qwen3-4B-AWQ", "AWQ needs the AWQ checkpoint, not the bf16 one"
    # vLLM reads the method from the checkpoint's quantization_config and picks AWQ-Marlin;
    # --quantization awq would force the slow AWQ kernel.
    assert "--quantization" not in awq.server.args
    assert "--quantization" not in plain.server.args


def test_no_catalog_checkpoint_gets_a_quantization_flag() -> None:
    catalog = load_catalog()
    for name, preset in catalog.presets.items():
        support = preset.engines.get(Engine.VLLM)
        for quantization, variant in (support.variants if support else {}).items():
            model = {"name": "m", "engine": "vllm", "preset": name, "gpu": True, "quantization": quantization}
            plan = plan_of(model, secrets={"hfToken": "hf_x"})
            assert plan.server.args[0] == variant.ref, (name, quantization)
            assert "--quantization" not in plan.server.args, (name, quantization)


def test_a_custom_checkpoint_gets_the_quantization_method_it_names() -> None:
    source = {"huggingface": "org/model-gptq", "parameters": 10**9, "contextLength": 8192, "weightBytes": 10**9}
    named = plan_of({"name": "c", "engine": "vllm", "source": source, "gpu": True, "quantization": "gptq_marlin"})
    unnamed = plan_of({"name": "c", "engine": "vllm", "source": source, "gpu": True})
    assert named.server.args[0] == "org/model-gptq"
    assert flag(named.server.args, "--quantization") == "gptq_marlin"
    assert "--quantization" not in unnamed.server.args


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


def run_serve_wrapper(tmp_path: Path, key: str | None) -> subprocess.CompletedProcess[str]:
    """The server's real command under /bin/sh, with the key file moved into tmp_path and a fake
    ``vllm`` on PATH that prints what it was started with."""
    key_file = tmp_path / "api-key"
    if key is not None:
        key_file.write_text(key)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "vllm"
    fake.write_text('#!/bin/sh\necho "key=$VLLM_API_KEY args=$*"\n')
    fake.chmod(0o755)
    command = plan_of(VLLM_PHI).server.command
    assert command is not None and command[:2] == ("/bin/sh", "-c")
    script = command[2].replace("/run/secrets/api-key", str(key_file))
    return subprocess.run(
        ["/bin/sh", "-c", script, *command[3:], "microsoft/Phi-4-mini-instruct", "--port", "8000"],
        env={"PATH": f"{bin_dir}:/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )


@pytest.mark.parametrize("key", [None, "", "\n"])
def test_vllm_refuses_to_start_without_an_api_key(tmp_path: Path, key: str | None) -> None:
    result = run_serve_wrapper(tmp_path, key)
    assert result.returncode == 1
    assert "no API key" in result.stderr
    assert "key=" not in result.stdout, "vllm must not start"


def test_vllm_starts_with_the_key_from_its_file(tmp_path: Path) -> None:
    result = run_serve_wrapper(tmp_path, "sk-local-test-key-0123456789\n")
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.strip() == "key=sk-local-test-key-0123456789 args=serve microsoft/Phi-4-mini-instruct --port 8000"
    )


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


@pytest.mark.parametrize(
    "model", [VLLM_PHI, {"name": "o", "engine": "onnx", "preset": "qwen3-0.6b"}], ids=["vllm", "onnx"]
)
def test_hugging_face_token_is_a_secret_file_for_the_download_only(model: dict[str, Any]) -> None:
    plan = plan_of(model, secrets={"hfToken": "hf_x"})
    fetch = plan.fetch.container
    assert [(s.secret, s.path) for s in fetch.secret_files] == [("hfToken", "/run/secrets/hf-token")]
    assert fetch.env["HF_TOKEN_PATH"] == "/run/secrets/hf-token"
    assert fetch.env["HF_HUB_DISABLE_TELEMETRY"] == "1"
    assert fetch.cache is not None and fetch.env["HF_HOME"].startswith(fetch.cache.path)
    assert "hfToken" not in {s.secret for s in plan.server.secret_files}
    assert "HF_TOKEN" not in fetch.env
    no_token = plan_of(model)
    assert no_token.fetch.container.secret_files == ()
    assert "HF_TOKEN_PATH" not in no_token.fetch.container.env


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
    modelfile = plan_of(OLLAMA).fetch.container.config_files[0].content
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


def test_modelfile_stop_strings_are_written_raw() -> None:
    # Ollama's parser only strips the double quotes: a JSON escape would be part of the stop string.
    stops = ["<|im_end|>", "Usuário:", "\\end", "it's"]
    modelfile = plan_of({**OLLAMA, "modelfile": {"stop": stops}}).fetch.container.config_files[0].content
    assert [line for line in modelfile.splitlines() if line.startswith("PARAMETER stop")] == [
        'PARAMETER stop "<|im_end|>"',
        'PARAMETER stop "Usuário:"',
        'PARAMETER stop "\\end"',
        'PARAMETER stop "it\'s"',
    ]


def test_modelfile_num_ctx_is_always_the_context_window() -> None:
    modelfile = plan_of({**OLLAMA, "maxContextTokens": 3072}).fetch.container.config_files[0].content
    assert [line for line in modelfile.splitlines() if "num_ctx" in line] == ["PARAMETER num_ctx 3072"]
    assert plan_of({**OLLAMA, "maxContextTokens": 3072}).server.env["OLLAMA_CONTEXT_LENGTH"] == "3072"


def test_ollama_runs_concurrency_sequences_in_parallel_by_default() -> None:
    plan = plan_of({**OLLAMA, "concurrency": 6, "ollama": {}})
    assert plan.server.env["OLLAMA_NUM_PARALLEL"] == "6"


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


def test_onnx_server_serves_the_context_window_of_the_spec() -> None:
    plan = plan_of({"name": "o", "engine": "onnx", "preset": "qwen3-0.6b", "maxContextTokens": 3072})
    assert flag(plan.server.args, "--max-context-tokens") == "3072"


@pytest.mark.parametrize("concurrency", [1, 4, 8, 16])
def test_onnx_cpu_threads_follow_the_cpu_limit_in_whole_cores(concurrency: int) -> None:
    plan = plan_of({"name": "o", "engine": "onnx", "preset": "qwen3-0.6b", "concurrency": concurrency})
    resources = plan.server.resources
    assert resources is not None
    threads = flag(plan.server.args, "--intra-op-threads")
    assert threads is not None and int(threads) == max(1, resources.cpu_limit_millis // 1000)
    assert 1 <= int(threads) * 1000 <= resources.cpu_limit_millis


def test_onnx_plan_arguments_are_what_the_server_parses() -> None:
    from slm_onnx_server.config import settings_from_args

    plan = plan_of({"name": "o", "engine": "onnx", "preset": "qwen3-0.6b", "maxContextTokens": 2048})
    args = list(plan.server.args)
    args[args.index("--model-dir") + 1] = str(TINY_GENAI)  # the real path exists only in the container
    settings = settings_from_args(args)
    assert settings.max_context_tokens == 2048
    assert settings.intra_op_threads == int(flag(plan.server.args, "--intra-op-threads") or 0) >= 1
    assert settings.served_model_name == "o" and settings.port == 8080


def test_onnx_thread_count_is_at_least_one_core() -> None:
    from components.engines.onnx import intra_op_threads
    from components.plan import Resources

    assert intra_op_threads(Resources(1, 1, cpu_request_millis=250, cpu_limit_millis=500)) == 1
    assert intra_op_threads(Resources(1, 1, cpu_request_millis=1000, cpu_limit_millis=2500)) == 2


def test_onnx_gpu_models_keep_onnx_runtimes_threads() -> None:
    plan = plan_of(
        {"name": "o", "engine": "onnx", "preset": "phi-4-mini-instruct", "gpu": True, "quantization": "int4-gpu"}
    )
    assert "--intra-op-threads" not in plan.server.args


@pytest.mark.parametrize(("gpu", "quantization", "variant"), [(False, "int4-cpu", "cpu"), (True, "int4-gpu", "cuda")])
def test_onnx_image_override_defaults_to_the_variant_tag(gpu: bool, quantization: str, variant: str) -> None:
    model = {"name": "o", "engine": "onnx", "preset": "phi-4-mini-instruct", "gpu": gpu, "quantization": quantization}
    built = plan_of(model)
    mirrored = plan_of({**model, "image": {"repository": "registry.example.com/slm-onnx-server"}})
    pinned = plan_of({**model, "image": {"repository": "registry.example.com/slm-onnx-server", "tag": "custom"}})
    assert built.server.image_tag == f"slm-onnx-server:0.1.0-{variant}"
    assert mirrored.server.image_ref == f"registry.example.com/slm-onnx-server:0.1.0-{variant}"
    assert pinned.server.image_ref == "registry.example.com/slm-onnx-server:custom"


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


def test_onnx_converts_a_custom_source_at_the_precision_it_names() -> None:
    source = {"huggingface": "org/model", "parameters": 10**9, "contextLength": 8192, "weightBytes": 10**9}
    command = plan_of({"name": "c", "engine": "onnx", "source": source, "quantization": "fp16"}).fetch.container.command
    assert command is not None and ("-p", "fp16") in set(pairwise(command))
    default = plan_of({"name": "c", "engine": "onnx", "source": source}).fetch.container.command
    assert default is not None and ("-p", "int4") in set(pairwise(default))


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
        # Every writable path is a tmpfs/emptyDir of the pod: no engine needs root's group.
        for container in (server, plan.fetch.container):
            assert (container.run_as_user, container.run_as_group) == (10001, 10001), plan.engine
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
