"""Open WebUI in front of a local stack's model servers, as a service plan.

Every model is an OpenAI-compatible connection (Ollama included, through its ``/v1``), so the
UI needs no engine-specific wiring. Its own login stays on (``WEBUI_AUTH``): the first account
created becomes the administrator, later ones wait for approval. The API key and the session
secret are read from secret files by a shell wrapper, because Open WebUI reads them only from
environment variables; they never appear in the container's configuration.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from components.engines.common import python_http_check
from components.plan import (
    COMMON_LABELS,
    LABEL_COMPONENT,
    LABEL_NAME,
    Container,
    DataVolume,
    Image,
    Port,
    Probes,
    Resources,
    SecretFile,
    ServicePlan,
    ServingPlan,
    WritablePath,
)
from components.spec.models import DockerSettings

IMAGE = Image("ghcr.io/open-webui/open-webui", "v0.6.5")
PORT = 8080
DATA_DIR = "/app/backend/data"
HOST_PORT_OFFSET = 80
SECRET_KEY = SecretFile.in_secrets_dir("openWebUiSecretKey", "webui-secret-key")
NAME = "open-webui"


def _api_key_file(plans: Sequence[ServingPlan]) -> SecretFile | None:
    secrets = sorted({plan.api_key_secret for plan in plans if plan.api_key_secret})
    return SecretFile.in_secrets_dir(secrets[0], "api-key") if secrets else None


def start_script(plans: Sequence[ServingPlan], api_key: SecretFile | None) -> str:
    """Export the secrets Open WebUI reads from its environment, then start it."""
    keys = ";".join('"$api_key"' if plan.api_key_secret else "none" for plan in plans)
    lines = [f'WEBUI_SECRET_KEY="$(cat {shlex.quote(SECRET_KEY.path)})"']
    if api_key is not None:
        lines.append(f'api_key="$(cat {shlex.quote(api_key.path)})"')
    lines += [f"OPENAI_API_KEYS={keys}", "export WEBUI_SECRET_KEY OPENAI_API_KEYS", "exec bash start.sh"]
    return "\n".join(lines)


def open_webui_service(plans: Sequence[ServingPlan], settings: DockerSettings) -> ServicePlan:
    api_key = _api_key_file(plans)
    urls = ";".join(f"http://{plan.model}:{plan.api_port}{plan.openai_base_path}" for plan in plans)
    check = python_http_check(PORT, "/health")
    container = Container(
        name=NAME,
        image=IMAGE,
        image_tag=IMAGE.ref,
        command=("/bin/sh", "-c", start_script(plans, api_key), NAME),
        env={
            "WEBUI_AUTH": "True",
            "ENABLE_OLLAMA_API": "False",
            "OPENAI_API_BASE_URLS": urls,
            "DATA_DIR": DATA_DIR,
            "HOME": "/tmp",
            "HF_HOME": f"{DATA_DIR}/cache/huggingface",
            "ANONYMIZED_TELEMETRY": "False",
            "DO_NOT_TRACK": "True",
            "SCARF_NO_ANALYTICS": "True",
        },
        ports=(Port("http", PORT),),
        probes=Probes(startup=check, readiness=check, liveness=check, startup_budget_seconds=300),
        writable_paths=(WritablePath("/tmp", "temporary files", size_bytes=512 * 1024**2),),
        secret_files=(SECRET_KEY, *((api_key,) if api_key else ())),
        resources=Resources(
            memory_request_bytes=1024**3,
            memory_limit_bytes=2 * 1024**3,
            cpu_request_millis=500,
            cpu_limit_millis=2000,
        ),
    )
    return ServicePlan(
        name=NAME,
        container=container,
        volumes=(DataVolume("data", DATA_DIR),),
        publish_port=PORT,
        host_port=settings.base_port + HOST_PORT_OFFSET,
        labels={
            LABEL_NAME: NAME,
            LABEL_COMPONENT: "frontend",
            **COMMON_LABELS,
        },
    )
