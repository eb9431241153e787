"""The local Docker target, run through the real program under the recording mock."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.engines import build_plans
from components.render import Recording, render_files
from components.render.recorder import RecordedResource
from tests.conftest import RunStack, spec_for

DOCKER_STACKS = ["local", "local-onnx", "local-gpu"]
CONTAINER = "docker:index/container:Container"
SENTINELS = {"hfToken": "hf_SENTINEL_TOKEN_b7f1", "apiKey": "sk-SENTINEL-KEY-9c2e"}


def containers(recording: Recording, component: str | None = None) -> list[RecordedResource]:
    found = recording.of_type(CONTAINER)
    if component is None:
        return found
    return [c for c in found if labels(c).get("app.kubernetes.io/component") == component]


def labels(container: RecordedResource) -> dict[str, str]:
    return {item["label"]: item["value"] for item in container.inputs.get("labels", [])}


@pytest.mark.parametrize("stack", DOCKER_STACKS)
def test_containers_are_hardened(run_stack: RunStack, stack: str) -> None:
    recording = run_stack(stack)
    assert containers(recording), "no containers rendered"
    for container in containers(recording):
        inputs = container.inputs
        user, _, _group = inputs["user"].partition(":")
        assert int(user) >= 10000, container.name
        assert inputs["readOnly"] is True, container.name
        assert inputs["capabilities"] == {"drops": ["ALL"]}, container.name
        assert "no-new-privileges:true" in inputs["securityOpts"], container.name
        assert inputs["memory"] > 0 and inputs["memoryReservation"] <= inputs["memory"], container.name
        assert "privileged" not in inputs or inputs["privileged"] is False


@pytest.mark.parametrize("stack", DOCKER_STACKS)
def test_writable_paths_are_exactly_the_engines(run_stack: RunStack, stack: str) -> None:
    recording = run_stack(stack)
    plans = {p.model: p for p in build_plans(spec_for(stack))}
    for server in containers(recording, "model-server"):
        plan = plans[labels(server)["slm-deploy.dev/model"]]
        expected = {w.path for w in plan.server.writable_paths} - {"/dev/shm"}
        assert set(server.inputs["tmpfs"]) == expected
        assert ("shmSize" in server.inputs) == any(w.path == "/dev/shm" for w in plan.server.writable_paths)
        mounts = server.inputs["volumes"]
        assert [(m["containerPath"], m["readOnly"]) for m in mounts] == [(plan.server.cache.path, True)]  # type: ignore[union-attr]
        assert server.inputs["healthcheck"]["tests"][0] == "CMD"
        assert server.inputs["wait"] is True
        assert server.inputs["restart"] == "unless-stopped"


@pytest.mark.parametrize("stack", DOCKER_STACKS)
def test_ports_are_bound_to_loopback(run_stack: RunStack, stack: str) -> None:
    recording = run_stack(stack)
    ports = [p for c in containers(recording) for p in c.inputs.get("ports", [])]
    assert ports, "the model server publishes its API port"
    assert {p["ip"] for p in ports} == {"127.0.0.1"}
    assert not any("slm-deploy.dev/expose-ports" in labels(c) for c in containers(recording))


def test_the_stack_can_opt_in_to_all_interfaces(run_stack: RunStack) -> None:
    recording = run_stack("local", {"slm-deploy:docker": {"bindAddress": "0.0.0.0"}})
    server = containers(recording, "model-server")[0]
    assert [p["ip"] for p in server.inputs["ports"]] == ["0.0.0.0"]
    assert labels(server)["slm-deploy.dev/expose-ports"] == "true"


def test_gpu_models_request_the_gpu(run_stack: RunStack) -> None:
    recording = run_stack("local-gpu")
    server = containers(recording, "model-server")[0]
    assert server.inputs["deviceRequests"] == [{"capabilities": ["gpu"], "count": 1, "driver": "nvidia"}]
    fetch = containers(recording, "model-fetch")[0]
    assert "deviceRequests" not in fetch.inputs
    cpu = containers(run_stack("local"), "model-server")[0]
    assert "deviceRequests" not in cpu.inputs


def test_fetch_step_is_a_bounded_one_shot_container(run_stack: RunStack) -> None:
    recording = run_stack("local")
    fetch = containers(recording, "model-fetch")[0]
    assert fetch.inputs["mustRun"] is False and fetch.inputs["attach"] is True
    assert fetch.inputs["entrypoints"][0] == "timeout"
    assert [m["readOnly"] for m in fetch.inputs["volumes"]] == [False]
    assert any(u["file"] == "/config/Modelfile" for u in fetch.inputs["uploads"])


def test_cache_volume_is_named_so_it_survives_reruns(run_stack: RunStack) -> None:
    recording = run_stack("local")
    volumes = {v.inputs["name"] for v in recording.of_type("docker:index/volume:Volume")}
    assert "slm-local-qwen3-small-cache" in volumes


def test_onnx_image_is_built_by_the_program(run_stack: RunStack) -> None:
    recording = run_stack("local-onnx")
    builds = {b.inputs.get("target", "server"): b for b in recording.of_type("docker-build:index:Image")}
    assert set(builds) == {"server", "model-fetch"}
    for build in builds.values():
        assert build.inputs["context"] == {"location": "images/onnx-server"}
        assert build.inputs["push"] is False and build.inputs["load"] is True
    server = containers(recording, "model-server")[0]
    assert server.inputs["image"] == builds["server"].inputs["tags"][0]
    fetch = containers(recording, "model-fetch")[0]
    assert fetch.inputs["image"] == builds["model-fetch"].inputs["tags"][0]


def test_outputs_name_endpoints_models_and_secret_keys(run_stack: RunStack) -> None:
    recording = run_stack("local-gpu")
    assert recording.outputs["endpoints"] == {"phi4-mini": "http://127.0.0.1:18200/v1"}
    assert recording.outputs["servedModelNames"] == {"phi4-mini": "phi4-mini"}
    assert "apiKeys" in recording.secret_outputs
    assert recording.masked_outputs()["apiKeys"] == "[secret]"


@pytest.mark.parametrize("stack", DOCKER_STACKS)
def test_no_secret_value_reaches_plan_or_render(run_stack: RunStack, stack: str) -> None:
    secrets = {"slm-deploy:secrets": SENTINELS}
    recording = run_stack(stack, secrets=secrets)
    files = render_files(recording, spec_for(stack, secrets))
    assert "plan.json" in files and any(path.startswith("docker/") for path in files)
    for path, content in files.items():
        for value in SENTINELS.values():
            assert value not in content, f"{value} leaked into {path}"
    assert recording.outputs["apiKeys"] is not None
    servers = containers(recording, "model-server")
    if any(labels(s)["slm-deploy.dev/engine"] != "ollama" for s in servers):
        assert SENTINELS["apiKey"] in json.dumps(recording.outputs["apiKeys"]), "the config's key is the one used"


def test_generated_api_key_is_a_random_password(run_stack: RunStack) -> None:
    recording = run_stack("local-gpu")
    passwords = recording.of_type("random:index/randomPassword:RandomPassword")
    assert [p.inputs["length"] for p in passwords if p.name.endswith("-apiKey")] == [48]


@pytest.mark.parametrize("stack", DOCKER_STACKS)
def test_uploaded_files_land_in_volumes_owned_by_the_container_user(run_stack: RunStack, stack: str) -> None:
    """Docker copies nothing into a read-only root filesystem: every upload goes to a volume."""
    recording = run_stack(stack)
    uploading = [c for c in containers(recording) if c.inputs.get("uploads")]
    assert uploading, "the stack uploads files (secrets, Modelfiles, monitoring configs)"
    for container in uploading:
        mounts = container.inputs.get("mounts", [])
        folders = {m["target"] for m in mounts}
        assert all(m["type"] == "volume" and m["volumeOptions"] == {"noCopy": True} for m in mounts)
        uploads = container.inputs["uploads"]
        if uploads == "[secret]":
            continue  # holds a secret: masked as a whole; the folders are still checked above
        user, _, group = container.inputs["user"].partition(":")
        for upload in uploads:
            assert any(upload["file"].startswith(f"{folder}/") for folder in folders), upload["file"]
            assert (upload["owner"], upload["group"]) == (user, group)


def test_named_volumes_are_prepared_for_the_non_root_user(run_stack: RunStack) -> None:
    recording = run_stack("local")
    prepared = containers(recording, "volume-prepare")
    volumes = {v.inputs["name"] for v in recording.of_type("docker:index/volume:Volume")}
    assert {p.inputs["volumes"][0]["volumeName"] for p in prepared} == volumes
    for container in prepared:
        assert container.inputs["entrypoints"][0] == "touch"
        assert container.inputs["volumes"][0]["containerPath"] == "/tmp"
        assert int(container.inputs["user"].split(":")[0]) >= 10000 or container.inputs["user"].startswith("65534")


def test_open_webui_fronts_every_model_with_its_login_on(run_stack: RunStack) -> None:
    recording = run_stack("local")
    [ui] = containers(recording, "frontend")
    env = dict(item.split("=", 1) for item in ui.inputs["envs"])
    assert env["WEBUI_AUTH"] == "True"
    assert env["OPENAI_API_BASE_URLS"] == "http://qwen3-small:11434/v1"
    assert not any(key in env for key in ("WEBUI_SECRET_KEY", "OPENAI_API_KEYS")), "secrets come from files"
    assert ui.inputs["ports"] == [{"external": 18080, "internal": 8080, "ip": "127.0.0.1"}]
    assert recording.outputs["openWebUiUrl"] == "http://127.0.0.1:18080"
    assert not containers(run_stack("local-gpu"), "frontend"), "only when the stack asks for it"


def test_open_webui_reads_the_api_key_of_authenticated_engines(run_stack: RunStack) -> None:
    recording = run_stack("local-gpu", {"slm-deploy:docker": {"basePort": 18200, "openWebUi": True}})
    [ui] = containers(recording, "frontend")
    script = ui.inputs["entrypoints"][2]
    assert 'api_key="$(cat /run/secrets/api-key)"' in script
    assert 'OPENAI_API_KEYS="$api_key"' in script


def test_the_server_starts_only_after_a_successful_fetch(run_stack: RunStack) -> None:
    """The fetch container runs once (``mustRun`` off, attached): Docker records how it ended.
    Its exit code reaches the server's inputs, so the server waits for it and 0 is the only
    value that lets it start."""
    recording = run_stack("local")
    (fetch,) = containers(recording, "model-fetch")
    assert (fetch.inputs["mustRun"], fetch.inputs["attach"]) == (False, True)
    (server,) = containers(recording, "model-server")
    assert labels(server)["slm-deploy.dev/fetch-exit-code"] == "0"


def test_a_failed_fetch_fails_the_deployment_naming_the_model(
    run_stack: RunStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from components.render.placeholders import computed_outputs
    from components.targets.docker import FetchFailedError

    def failed_fetch(type_token: str, name: str, inputs: dict[str, Any] | None = None) -> dict[str, Any]:
        outputs = computed_outputs(type_token, name, inputs)
        if type_token == CONTAINER and name.endswith("-fetch"):
            outputs["exitCode"] = 1  # e.g. the download failed or timed out
        return outputs

    monkeypatch.setattr("components.render.recorder.computed_outputs", failed_fetch)
    with pytest.raises(FetchFailedError) as failed:
        run_stack("local")
    assert str(failed.value) == (
        "model qwen3-small: the fetch step exited with 1; see `docker logs slm-local-qwen3-small-fetch`"
    )
