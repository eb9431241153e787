"""Every validation rule of the stack configuration: one refused and one accepted case."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.spec import DeploymentSpec, SpecError, parse_config

BASE_MODEL: dict[str, Any] = {"name": "chat", "engine": "ollama", "preset": "qwen3-0.6b"}


def config(models: list[dict[str, Any]] | None = None, /, **keys: Any) -> dict[str, str]:
    values: dict[str, Any] = {
        "target": "docker",
        "environment": "dev",
        "models": models or [BASE_MODEL],
        **keys,
    }
    return {f"slm-deploy:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}


def problems(cfg: dict[str, str]) -> list[str]:
    with pytest.raises(SpecError) as caught:
        parse_config(cfg)
    return [str(p) for p in caught.value.problems]


def accepted(cfg: dict[str, str]) -> DeploymentSpec:
    return parse_config(cfg)


def model(**fields: Any) -> dict[str, Any]:
    return {**BASE_MODEL, **fields}


# --- names ---------------------------------------------------------------------------------


def test_duplicate_model_names_are_refused() -> None:
    found = problems(config([model(), model()]))
    assert found == ["slm-deploy:models[1].name: 'chat' is already used by models[0]"]


def test_distinct_model_names_are_accepted() -> None:
    assert [m.name for m in accepted(config([model(), model(name="chat-2")])).models] == ["chat", "chat-2"]


@pytest.mark.parametrize("name", ["Chat", "chat_1", "-chat", "chat-", "a" * 41])
def test_names_that_are_not_dns_labels_are_refused(name: str) -> None:
    found = problems(config([model(name=name)]))
    assert len(found) == 1
    assert found[0].startswith("slm-deploy:models[0].name: ")


def test_a_dns_label_name_is_accepted() -> None:
    assert accepted(config([model(name="qwen3-0-6b")])).models[0].name == "qwen3-0-6b"


# --- engines -------------------------------------------------------------------------------


def test_unknown_engine_names_key_and_choices() -> None:
    assert problems(config([model(), model(name="b", engine="vlm")])) == [
        "slm-deploy:models[1].engine: 'vlm' is not one of vllm, ollama, onnx"
    ]


@pytest.mark.parametrize(
    ("engine", "section", "owner"),
    [
        ("vllm", {"modelfile": {"system": "hi"}}, "ollama"),
        ("onnx", {"ollama": {"keepAlive": "5m"}}, "ollama"),
        ("ollama", {"vllm": {"dtype": "auto"}}, "vllm"),
        ("ollama", {"onnx": {"maxQueuedRequests": 4}}, "onnx"),
    ],
)
def test_engine_sections_only_on_their_engine(engine: str, section: dict[str, Any], owner: str) -> None:
    extra = {"gpu": True} if engine == "vllm" else {}
    found = problems(config([model(engine=engine, **extra, **section)]))
    key = next(iter(section))
    assert f"slm-deploy:models[0].{key}: only applies to engine {owner}, not {engine}" in found


def test_engine_sections_on_their_engine_are_accepted() -> None:
    spec = accepted(config([model(modelfile={"system": "hi"}, ollama={"keepAlive": "5m"})]))
    assert spec.models[0].modelfile is not None


# --- quantization --------------------------------------------------------------------------


def test_quantization_not_offered_for_engine_and_preset_is_refused() -> None:
    found = problems(config([model(quantization="awq")]))
    assert found == [
        "slm-deploy:models[0].quantization: 'awq' is not available for qwen3-0.6b on ollama; choose one of "
        + ", ".join(_ollama_quantizations("qwen3-0.6b"))
    ]


def _ollama_quantizations(preset: str) -> list[str]:
    from components.catalog import Engine, load_catalog

    found = load_catalog().get(preset)
    assert found is not None
    return list(found.engines[Engine.OLLAMA].variants)


def test_offered_quantization_is_accepted() -> None:
    assert accepted(config([model(quantization="q4_k_m")])).models[0].quantization == "q4_k_m"


def test_onnx_build_for_the_wrong_device_is_refused() -> None:
    found = problems(config([model(engine="onnx", preset="phi-4-mini-instruct", quantization="int4-cpu", gpu=True)]))
    assert found == ["slm-deploy:models[0].quantization: 'int4-cpu' is a build for a CPU (gpu: false)"]


ONNX_SOURCE = {"huggingface": "org/model", "parameters": 10**9, "contextLength": 8192, "weightBytes": 10**9}
CONVERTED = {"name": "conv", "engine": "onnx", "source": ONNX_SOURCE}


@pytest.mark.parametrize("quantization", ["awq", "q4_k_m", "int8"])
def test_converting_a_custom_source_takes_only_model_builder_precisions(quantization: str) -> None:
    assert problems(config([{**CONVERTED, "quantization": quantization}])) == [
        f"slm-deploy:models[0].quantization: {quantization!r} is not a model builder precision for converting "
        "org/model; choose one of int4, fp16, fp32"
    ]


@pytest.mark.parametrize(("quantization", "expected"), [(None, "int4"), ("int4", "int4"), ("fp16", "fp16")])
def test_converting_a_custom_source_with_a_builder_precision_is_accepted(
    quantization: str | None, expected: str
) -> None:
    from components.spec import resolve_artifact

    fields = {} if quantization is None else {"quantization": quantization}
    spec = accepted(config([{**CONVERTED, **fields}]))
    artifact = resolve_artifact(spec.models[0])
    assert artifact.convert and artifact.quantization == expected


def test_a_published_custom_onnx_build_takes_no_quantization() -> None:
    published = {"name": "pub", "engine": "onnx", "source": {**ONNX_SOURCE, "onnx": "org/model-onnx"}}
    assert problems(config([{**published, "quantization": "int4"}])) == [
        "slm-deploy:models[0].quantization: for a published ONNX build the build decides the quantization"
    ]
    accepted(config([published]))


def test_onnx_serves_a_model_on_one_gpu() -> None:
    assert problems(config([{**CONVERTED, "gpu": {"count": 2}}])) == [
        "slm-deploy:models[0].gpu.count: 2: the ONNX server runs a model on one GPU; set count: 1"
    ]
    assert accepted(config([{**CONVERTED, "gpu": {"count": 1}}])).models[0].gpu_count == 1


def test_unknown_preset_is_refused_with_the_known_ones() -> None:
    found = problems(config([model(preset="phi-5")]))
    assert len(found) == 1
    assert found[0].startswith("slm-deploy:models[0].preset: 'phi-5' is not a preset; known: ")


def test_preset_and_source_are_exclusive() -> None:
    source = {"ollama": "x:1b", "parameters": 1, "contextLength": 2048, "weightBytes": 10}
    assert problems(config([model(source=source)])) == [
        "slm-deploy:models[0].preset: set exactly one of preset and source"
    ]
    spec = accepted(config([{"name": "custom", "engine": "ollama", "source": source}]))
    assert spec.models[0].source is not None


# --- vLLM and GPUs -------------------------------------------------------------------------


def test_vllm_without_gpu_is_refused_unless_cpu_image() -> None:
    found = problems(config([model(engine="vllm")]))
    assert found == [
        "slm-deploy:models[0].gpu: vLLM's default image needs a GPU; set gpu: true, or vllm.cpuImage: true "
        "for the CPU build"
    ]


@pytest.mark.parametrize("fields", [{"gpu": True}, {"vllm": {"cpuImage": True}}])
def test_vllm_with_gpu_or_cpu_image_is_accepted(fields: dict[str, Any]) -> None:
    assert accepted(config([model(engine="vllm", **fields)])).models[0].engine.value == "vllm"


def test_vllm_cpu_image_with_gpu_is_refused() -> None:
    found = problems(config([model(engine="vllm", gpu=True, vllm={"cpuImage": True})]))
    assert found == ["slm-deploy:models[0].vllm.cpuImage: the CPU image cannot use the GPU the model asks for"]


GEMMA = {"name": "gemma", "engine": "vllm", "preset": "gemma-3-1b-it"}
HF = {"hfToken": "hf_x"}


def test_a_gpu_without_bfloat16_is_refused_for_gemma_3_on_vllm() -> None:
    t4 = {**GEMMA, "gpu": {"vmSize": "Standard_NC4as_T4_v3"}}
    assert problems(config([t4], secrets=HF)) == [
        "slm-deploy:models[0].gpu.vmSize: Standard_NC4as_T4_v3 has a T4 GPU without bfloat16 and vLLM refuses "
        "float16 for this model (numerical instability); choose an Ampere or newer GPU (A10: "
        "Standard_NV36ads_A10_v5, A100, H100)"
    ]
    accepted(config([{**GEMMA, "gpu": {"vmSize": "Standard_NV36ads_A10_v5"}}], secrets=HF))
    # The fact is vLLM's: Ollama serves Gemma 3 on a T4.
    accepted(config([{**t4, "engine": "ollama"}]))
    # Other models may use a T4 (as float16).
    accepted(config([{**t4, "preset": "qwen3-0.6b"}]))


def test_float16_is_refused_for_gemma_3_on_vllm() -> None:
    assert problems(config([{**GEMMA, "gpu": True, "vllm": {"dtype": "float16"}}], secrets=HF)) == [
        "slm-deploy:models[0].vllm.dtype: float16: vLLM refuses float16 for this model (numerical instability); "
        "use auto, bfloat16 or float32"
    ]
    accepted(config([{**GEMMA, "gpu": True, "vllm": {"dtype": "float32"}}], secrets=HF))
    accepted(config([{**GEMMA, "preset": "qwen3-0.6b", "gpu": True, "vllm": {"dtype": "float16"}}]))


def test_an_aks_gpu_pool_without_bfloat16_is_refused_when_gemma_3_may_run_there() -> None:
    aks = {"gpuPools": [{"name": "gpua10"}, {"name": "gput4", "vmSize": "Standard_NC4as_T4_v3"}]}
    assert problems(config([{**GEMMA, "gpu": True}], target="aks", aks=aks, secrets=HF)) == [
        "slm-deploy:aks.gpuPools[1].vmSize: Standard_NC4as_T4_v3 has a T4 GPU without bfloat16, and models[0] "
        "(gemma) may be scheduled on it: vLLM refuses float16 for this model (numerical instability); choose an "
        "Ampere or newer GPU (A10: Standard_NV36ads_A10_v5, A100, H100)"
    ]
    accepted(config([{**GEMMA, "gpu": True}], target="aks", aks={"gpuPools": [{"name": "gpua10"}]}, secrets=HF))


def test_tool_calling_needs_a_parser() -> None:
    source = {"huggingface": "org/m", "parameters": 1, "contextLength": 2048, "weightBytes": 10}
    custom = {"name": "custom", "engine": "vllm", "source": source, "gpu": True}
    found = problems(config([{**custom, "vllm": {"toolCalling": True}}]))
    assert found == [
        "slm-deploy:models[0].vllm.toolCallParser: tool calling needs a parser and the model has none in the "
        "catalog; set toolCallParser"
    ]
    accepted(config([{**custom, "vllm": {"toolCalling": True, "toolCallParser": "hermes"}}]))


# --- context -------------------------------------------------------------------------------


def test_context_above_the_preset_is_refused() -> None:
    found = problems(config([model(maxContextTokens=40000)]))
    assert found == ["slm-deploy:models[0].maxContextTokens: 40000 is above the model's context length of 32768"]


def test_context_within_the_preset_is_accepted() -> None:
    assert accepted(config([model(maxContextTokens=32768)])).models[0].max_context_tokens == 32768


# --- targets -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "section", "allowed"),
    [
        ("docker", "kubernetes", "aks or kubernetes"),
        ("docker", "aks", "aks"),
        ("kubernetes", "aks", "aks"),
        ("kubernetes", "docker", "docker"),
    ],
)
def test_target_sections_only_with_their_target(target: str, section: str, allowed: str) -> None:
    found = problems(config(target=target, **{section: {}}))
    assert found == [f"slm-deploy:{section}: only applies to target {allowed}, not {target}"]


@pytest.mark.parametrize(("target", "section"), [("kubernetes", "kubernetes"), ("aks", "aks"), ("aks", "kubernetes")])
def test_target_sections_with_their_target_are_accepted(target: str, section: str) -> None:
    spec = accepted(config(target=target, **{section: {}}))
    assert getattr(spec, section) is not None


# --- scaling -------------------------------------------------------------------------------


def test_replicas_and_autoscaling_are_exclusive() -> None:
    found = problems(config([model(replicas=2, autoscaling={"maxReplicas": 3})], target="kubernetes"))
    assert found == ["slm-deploy:models[0].replicas: set either replicas or autoscaling, not both"]


def test_docker_runs_one_container_per_model() -> None:
    assert problems(config([model(replicas=2)])) == [
        "slm-deploy:models[0].replicas: 2: the docker target runs one container"
    ]
    assert problems(config([model(autoscaling={"maxReplicas": 3})])) == [
        "slm-deploy:models[0].autoscaling: needs target kubernetes or aks"
    ]
    assert accepted(config([model(replicas=1)])).models[0].replicas == 1
    assert accepted(config([model(replicas=2)], target="kubernetes")).models[0].replicas == 2


def test_autoscaling_bounds_and_scale_to_zero() -> None:
    assert problems(config([model(autoscaling={"minReplicas": 4, "maxReplicas": 2})], target="kubernetes")) == [
        "slm-deploy:models[0].autoscaling.minReplicas: 4 is above maxReplicas 2"
    ]
    assert problems(config([model(autoscaling={"minReplicas": 0})], target="kubernetes")) == [
        "slm-deploy:models[0].autoscaling.minReplicas: 0 needs scaleToZero: true"
    ]
    scale_to_zero = {"minReplicas": 0, "scaleToZero": True, "wakeQuery": "sum(rate(requests_total[1m]))"}
    spec = accepted(config([model(engine="vllm", gpu=True, autoscaling=scale_to_zero)], target="kubernetes"))
    assert spec.models[0].replicas is None


# --- secrets and receivers -----------------------------------------------------------------


def test_receiver_secret_must_exist() -> None:
    receiver = {"name": "ops", "type": "slack", "urlSecret": "slackUrl"}
    assert problems(config(alerting={"receivers": [receiver]})) == [
        "slm-deploy:alerting.receivers[0].urlSecret: 'slackUrl' is not a key of slm-deploy:secrets"
    ]
    spec = accepted(config(alerting={"receivers": [receiver]}, secrets={"slackUrl": "https://hooks.example"}))
    assert spec.alerting.receivers[0].url_secret == "slackUrl"


@pytest.mark.parametrize("key", ["", "short-key", "sk-with a space-inside-it", "sk-0123456789abcdef\n"])
def test_a_weak_api_key_is_refused_without_echoing_it(key: str) -> None:
    found = problems(config(secrets={"apiKey": key}))
    assert found == [
        "slm-deploy:secrets.apiKey: must be at least 16 characters without whitespace (leave it unset and the "
        "program generates one)"
    ]
    assert key.strip() == "" or key.strip() not in found[0]


def test_a_strong_api_key_and_an_offline_placeholder_are_accepted() -> None:
    from components.spec.stackfile import SECRET_PLACEHOLDER

    assert accepted(config(secrets={"apiKey": "sk-0123456789abcdef"})).secrets["apiKey"].get_secret_value()
    accepted(config(secrets={"apiKey": SECRET_PLACEHOLDER}))  # `slm-deploy render` never decrypts
    accepted(config())  # generated when unset


def test_gated_model_on_huggingface_needs_a_token() -> None:
    gated = {
        "name": "g",
        "engine": "onnx",
        "source": {
            "huggingface": "google/x",
            "parameters": 1,
            "contextLength": 2048,
            "weightBytes": 10,
            "gated": True,
        },
    }
    assert problems(config([gated])) == [
        "slm-deploy:models[0].source: the Hugging Face repository is gated: add secrets.hfToken (pulumi config "
        "set --secret --path 'secrets.hfToken' <token>)"
    ]
    accepted(config([gated], secrets={"hfToken": "hf_x"}))


# --- shapes --------------------------------------------------------------------------------


def test_unknown_keys_get_a_hint() -> None:
    assert problems(config([model(replicsa=2)])) == [
        "slm-deploy:models[0].replicsa: is not a known key (did you mean 'replicas'?)"
    ]


def test_invalid_json_names_the_key() -> None:
    cfg = config()
    cfg["slm-deploy:models"] = "[{"
    found = problems(cfg)
    assert len(found) == 1
    assert found[0].startswith("slm-deploy:models: is not valid JSON")


def test_missing_target_is_reported() -> None:
    cfg = config()
    del cfg["slm-deploy:target"]
    assert problems(cfg) == ["slm-deploy:target: is required"]


def test_all_problems_are_reported_together() -> None:
    found = problems(config([model(quantization="awq"), model(name="b", engine="vllm")]))
    assert len(found) == 2


def test_modelfile_text_cannot_close_its_triple_quotes() -> None:
    assert problems(config([model(modelfile={"system": 'say """ hi'})])) == [
        'slm-deploy:models[0].modelfile.system: must not contain """ (it ends the Modelfile block)'
    ]
    accepted(config([model(modelfile={"system": 'say "hi"'})]))


@pytest.mark.parametrize("stop", ['say "stop"', "line\nbreak", "tab\there", "\r"])
def test_stop_strings_that_ollama_cannot_read_raw_are_refused(stop: str) -> None:
    assert problems(config([model(modelfile={"stop": ["<|im_end|>", stop]})])) == [
        "slm-deploy:models[0].modelfile.stop[1]: must not contain a double quote, a line break or another "
        "control character (Ollama reads the stop string raw between double quotes)"
    ]


def test_stop_strings_with_quotes_of_other_kinds_and_unicode_are_accepted() -> None:
    stops = ["<|im_end|>", "it's", "Usuário:", "\\end", "</s> "]
    spec = accepted(config([model(modelfile={"stop": stops})]))
    assert spec.models[0].modelfile is not None and spec.models[0].modelfile.stop == stops


def test_num_ctx_is_not_a_modelfile_parameter() -> None:
    found = problems(config([model(maxContextTokens=2048, modelfile={"parameters": {"num_ctx": 40000}})]))
    assert len(found) == 1
    assert found[0].startswith("slm-deploy:models[0].modelfile.parameters.num_ctx: 'num_ctx' is not one of ")
    accepted(config([model(modelfile={"parameters": {"temperature": 0.2, "num_predict": 256}})]))


@pytest.mark.parametrize(
    ("engine", "section"),
    [("ollama", {"ollama": {"numParallel": 5}}), ("onnx", {"onnx": {"maxRunningRequests": 5}})],
)
def test_engine_parallelism_above_concurrency_is_refused(engine: str, section: dict[str, Any]) -> None:
    key = {"ollama": "ollama.numParallel", "onnx": "onnx.maxRunningRequests"}[engine]
    assert problems(config([model(engine=engine, concurrency=4, **section)])) == [
        f"slm-deploy:models[0].{key}: 5 is above concurrency 4, the sequences memory is sized for; raise "
        "concurrency instead"
    ]
    accepted(config([model(engine=engine, concurrency=5, **section)]))


# --- Kubernetes targets --------------------------------------------------------------------

ONNX_MODEL = model(engine="onnx", quantization="int4-cpu")
REGISTRY = {"imageRegistry": {"server": "registry.example.com/slm"}}


def test_onnx_on_kubernetes_needs_a_registry_for_the_built_image() -> None:
    assert problems(config([ONNX_MODEL], target="kubernetes")) == [
        "slm-deploy:kubernetes.imageRegistry: models[0] (chat) runs the ONNX server image the program builds: "
        "name a registry to push it to, or set models[0].image.repository"
    ]
    accepted(config([ONNX_MODEL], target="kubernetes", kubernetes=REGISTRY))
    own_image = {**ONNX_MODEL, "image": {"repository": "registry.example.com/onnx-server", "tag": "1.0"}}
    accepted(config([own_image], target="kubernetes"))
    accepted(config([ONNX_MODEL]))  # Docker builds and loads the image locally


def test_scale_to_zero_on_a_cluster_needs_a_wake_query() -> None:
    to_zero = {"minReplicas": 0, "scaleToZero": True}
    vllm = model(engine="vllm", gpu=True, autoscaling=to_zero)
    assert problems(config([vllm], target="kubernetes")) == [
        "slm-deploy:models[0].autoscaling.wakeQuery: scaleToZero needs a wake signal: at zero replicas no pod "
        "exports the queue metric; set a PromQL query that is above 0 when requests arrive (e.g. the ingress "
        "request rate)"
    ]
    wake = {**to_zero, "wakeQuery": "sum(rate(nginx_ingress_controller_requests[2m]))"}
    accepted(config([model(engine="vllm", gpu=True, autoscaling=wake)], target="kubernetes"))


def test_ollama_cannot_scale_to_zero_on_a_cluster() -> None:
    to_zero = {"minReplicas": 0, "scaleToZero": True, "wakeQuery": "vector(1)"}
    assert problems(config([model(autoscaling=to_zero)], target="kubernetes")) == [
        "slm-deploy:models[0].autoscaling.scaleToZero: ollama exports no queue metric to scale on; use vllm or onnx"
    ]
    accepted(config([model(autoscaling={"minReplicas": 1, "maxReplicas": 2})], target="kubernetes"))


def test_ingress_exposure_needs_tls() -> None:
    exposure = {"host": "models.example.com"}
    assert problems(config(target="kubernetes", kubernetes={"exposure": exposure})) == [
        "slm-deploy:kubernetes.exposure.tlsSecret: an Ingress is exposed only with TLS"
    ]
    accepted(config(target="kubernetes", kubernetes={"exposure": {**exposure, "tlsSecret": "models-tls"}}))


def test_gateway_exposure_names_the_gateway_with_its_namespace() -> None:
    exposure = {"kind": "gateway", "host": "models.example.com", "gateway": "public"}
    assert problems(config(target="kubernetes", kubernetes={"exposure": exposure})) == [
        "slm-deploy:kubernetes.exposure.gateway: kind gateway needs the Gateway as namespace/name"
    ]
    accepted(config(target="kubernetes", kubernetes={"exposure": {**exposure, "gateway": "gateways/public"}}))


def test_registry_password_is_a_named_secret_with_a_username() -> None:
    registry = {"server": "registry.example.com", "passwordSecret": "registryToken"}
    assert problems(config(target="kubernetes", kubernetes={"imageRegistry": registry})) == [
        "slm-deploy:kubernetes.imageRegistry.passwordSecret: 'registryToken' is not a key of slm-deploy:secrets",
        "slm-deploy:kubernetes.imageRegistry.username: is required with passwordSecret",
    ]
    accepted(
        config(
            target="kubernetes",
            kubernetes={"imageRegistry": {**registry, "username": "ci"}},
            secrets={"registryToken": "token"},
        )
    )


def test_registry_server_must_be_a_host_and_path() -> None:
    found = problems(config(target="kubernetes", kubernetes={"imageRegistry": {"server": "https://registry"}}))
    assert len(found) == 1 and found[0].startswith("slm-deploy:kubernetes.imageRegistry.server: ")


# --- quantities, addresses, key spelling ----------------------------------------------------


@pytest.mark.parametrize("key", ["memoryLimit", "cacheSize"])
def test_memory_in_thousandths_is_refused(key: str) -> None:
    assert problems(config([model(**{key: "500m"})])) == [
        f"slm-deploy:models[0].{key}: '500m' is not a memory size: 'm' means thousandths of a byte; write Mi "
        "(mebibytes) or M (megabytes)"
    ]


@pytest.mark.parametrize("value", ["8K", "1G1", "Gi", "-1Gi"])
def test_memory_without_a_known_suffix_is_refused(value: str) -> None:
    found = problems(config([model(memoryLimit=value)]))
    assert found == [
        f"slm-deploy:models[0].memoryLimit: {value!r} is not a memory size: a number with an optional suffix Ki, "
        "Mi, Gi, Ti (binary) or k, M, G, T (decimal)"
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("3Gi", 3 * 1024**3), ("1.5Gi", int(1.5 * 1024**3)), ("500M", 500 * 1000**2), ("750k", 750_000)],
)
def test_binary_and_decimal_memory_sizes_are_accepted(value: str, expected: int) -> None:
    from components.engines.common import cache_size_bytes
    from components.spec import resolve_artifact

    spec = accepted(config([model(cacheSize=value, memoryLimit=value)]))
    assert spec.models[0].cache_size == value
    assert cache_size_bytes(spec.models[0], resolve_artifact(spec.models[0])) == expected


def test_cpu_quota_takes_cores_and_memory_quota_takes_bytes() -> None:
    assert problems(config(target="kubernetes", kubernetes={"quotaCpu": "4Gi", "quotaMemory": "8000m"})) == [
        "slm-deploy:kubernetes.quotaCpu: '4Gi' is not a CPU quantity: cores (4, 0.5) or millicores (500m)",
        "slm-deploy:kubernetes.quotaMemory: '8000m' is not a memory size: 'm' means thousandths of a byte; write "
        "Mi (mebibytes) or M (megabytes)",
    ]
    spec = accepted(config(target="kubernetes", kubernetes={"quotaCpu": "500m", "quotaMemory": "8Gi"}))
    assert spec.kubernetes is not None and spec.kubernetes.quota_cpu == "500m"


@pytest.mark.parametrize("address", ["localhost", "127.0.0.256", "0.0.0.0:80", ""])
def test_bind_address_must_be_an_ip_address(address: str) -> None:
    assert problems(config(docker={"bindAddress": address})) == [
        f"slm-deploy:docker.bindAddress: {address!r} is not an IP address (127.0.0.1 keeps ports on this machine, "
        "0.0.0.0 publishes them)"
    ]


@pytest.mark.parametrize("address", ["127.0.0.1", "0.0.0.0", "192.168.1.20", "::1"])
def test_ip_bind_addresses_are_accepted_as_text(address: str) -> None:
    spec = accepted(config(docker={"bindAddress": address}))
    assert spec.docker is not None and spec.docker.bind_address == address


@pytest.mark.parametrize(("snake", "camel"), [("max_context_tokens", "maxContextTokens"), ("cache_size", "cacheSize")])
def test_snake_case_keys_are_refused_with_their_camel_case_spelling(snake: str, camel: str) -> None:
    # Before, max_context_tokens was accepted while defaults injected maxContextTokens beside it.
    found = problems(config([model(**{snake: 2048 if "context" in snake else "3Gi"})]))
    assert found == [
        f"slm-deploy:models[0].{snake}: is not a known key (stack files spell keys in camelCase: did you mean "
        f"{camel!r}?)"
    ]


def test_snake_case_keys_are_refused_in_every_section() -> None:
    found = problems(
        config(
            observability={"scrape_interval": "30s"},
            docker={"base_port": 19000},
            alerting={"thresholds": {"error_ratio": {"value": 0.2}}},
        )
    )
    assert sorted(found) == [
        "slm-deploy:alerting.thresholds.error_ratio: is not a known key (stack files spell keys in camelCase: did "
        "you mean 'errorRatio'?)",
        "slm-deploy:docker.base_port: is not a known key (stack files spell keys in camelCase: did you mean "
        "'basePort'?)",
        "slm-deploy:observability.scrape_interval: is not a known key (stack files spell keys in camelCase: did "
        "you mean 'scrapeInterval'?)",
    ]


def test_python_code_still_builds_models_by_field_name() -> None:
    from components.catalog import Engine
    from components.spec.models import ModelSpec

    built = ModelSpec(
        name="chat", engine=Engine.OLLAMA, preset="qwen3-0.6b", max_context_tokens=2048, memory_limit="3Gi"
    )
    assert built.max_context_tokens == 2048 and built.memory_limit == "3Gi"
