"""The monitoring stack of a Docker target as service plans: Prometheus, Alertmanager,
Grafana, the blackbox exporter (when an engine has no /metrics) and the DCGM exporter (when
a model uses a GPU). The Docker target runs them like model servers, with the same hardening.

Configuration arrives as uploaded files (the strings of :mod:`config_files`), secrets as
secret files (Grafana's admin password, the receivers' URLs and passwords).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath

from components.catalog.sizing import MIB
from components.observability import images, layout
from components.observability.alertmanager import receiver_secrets
from components.observability.grafana_settings import GRAFANA_ADMIN_SECRET, GRAFANA_ADMIN_USER, hardening_env
from components.plan import (
    COMMON_LABELS,
    LABEL_COMPONENT,
    LABEL_NAME,
    Check,
    ConfigFile,
    Container,
    DataVolume,
    HttpGet,
    Port,
    Probes,
    Resources,
    SecretFile,
    ServicePlan,
    ServingPlan,
    WritablePath,
)
from components.spec import DeploymentSpec
from components.spec.models import DockerSettings

COMPONENT_MONITORING = "monitoring"
GRAFANA_PASSWORD_FILE = SecretFile(GRAFANA_ADMIN_SECRET, layout.docker_secret_path("grafana-admin-password"))
#: prom/* images run as ``nobody``; the Docker target prepares every data volume so that a
#: non-root user can write to it.
NOBODY = 65534
SMALL_TMP = WritablePath("/tmp", "temporary files", size_bytes=64 * MIB)
#: DCGM fields the dashboards and rules read; device fields only, which need no SYS_ADMIN
#: (profiling fields, DCGM_FI_PROF_*, do).
DCGM_COUNTERS = (
    ("DCGM_FI_DEV_SM_CLOCK", "gauge", "SM clock frequency (in MHz)."),
    ("DCGM_FI_DEV_GPU_TEMP", "gauge", "GPU temperature (in C)."),
    ("DCGM_FI_DEV_POWER_USAGE", "gauge", "Power draw (in W)."),
    ("DCGM_FI_DEV_GPU_UTIL", "gauge", "GPU utilization (in %)."),
    ("DCGM_FI_DEV_XID_ERRORS", "gauge", "Value of the last XID error encountered."),
    ("DCGM_FI_DEV_FB_FREE", "gauge", "Framebuffer memory free (in MiB)."),
    ("DCGM_FI_DEV_FB_USED", "gauge", "Framebuffer memory used (in MiB)."),
)
DCGM_COUNTERS_PATH = "/etc/dcgm-exporter/counters.csv"


def _http_check(port: int, path: str) -> Probes:
    """busybox wget is in every prom/* and the grafana image (no curl needed)."""
    check = Check(command=("wget", "-q", "-O", "/dev/null", f"http://127.0.0.1:{port}{path}"), http=HttpGet(path, port))
    return Probes(startup=check, readiness=check, liveness=check, startup_budget_seconds=120)


def _resources(memory_mib: int, cpu_millis: int, gpus: int = 0) -> Resources:
    return Resources(
        memory_request_bytes=memory_mib * MIB // 2,
        memory_limit_bytes=memory_mib * MIB,
        cpu_request_millis=cpu_millis // 2,
        cpu_limit_millis=cpu_millis,
        gpu_count=gpus,
    )


def _configs(files: Mapping[str, str], *render_paths: PurePosixPath) -> tuple[ConfigFile, ...]:
    """The rendered files at (or under) ``render_paths``, at their container paths."""
    chosen = []
    for path, content in sorted(files.items()):
        pure = PurePosixPath(path)
        if any(p in (pure, pure.parent) for p in render_paths):
            chosen.append(ConfigFile(str(layout.container_path(pure)), content))
    return tuple(chosen)


def _service_plan(
    service: layout.Service, container: Container, settings: DockerSettings, *volumes: DataVolume
) -> ServicePlan:
    """The service under its alias, labelled as monitoring; its port published on the host
    (``docker.basePort`` plus its offset) when :data:`layout.HOST_PORT_OFFSETS` gives it one."""
    offset = layout.HOST_PORT_OFFSETS.get(service.name)
    return ServicePlan(
        service.alias,
        container,
        volumes=volumes,
        publish_port=None if offset is None else service.port,
        host_port=None if offset is None else settings.base_port + offset,
        labels={LABEL_NAME: service.name, LABEL_COMPONENT: COMPONENT_MONITORING, **COMMON_LABELS},
    )


def _prometheus(spec: DeploymentSpec, files: Mapping[str, str], settings: DockerSettings) -> ServicePlan:
    service = layout.PROMETHEUS
    container = Container(
        name=service.name,
        image=images.PROMETHEUS,
        image_tag=images.PROMETHEUS.ref,
        args=(
            f"--config.file={layout.container_path(layout.PROMETHEUS_YML)}",
            "--storage.tsdb.path=/prometheus",
            f"--storage.tsdb.retention.time={spec.observability.retention}",
            f"--web.listen-address=:{service.port}",
        ),
        ports=(Port("http", service.port),),
        probes=_http_check(service.port, "/-/ready"),
        writable_paths=(SMALL_TMP,),
        config_files=_configs(files, layout.PROMETHEUS_YML, layout.RULES_DIR),
        resources=_resources(1024, 1000),
        run_as_user=NOBODY,
        run_as_group=NOBODY,
    )
    return _service_plan(service, container, settings, DataVolume("data", "/prometheus"))


def _alertmanager(spec: DeploymentSpec, files: Mapping[str, str], settings: DockerSettings) -> ServicePlan:
    service = layout.ALERTMANAGER
    container = Container(
        name=service.name,
        image=images.ALERTMANAGER,
        image_tag=images.ALERTMANAGER.ref,
        args=(
            f"--config.file={layout.container_path(layout.ALERTMANAGER_YML)}",
            "--storage.path=/alertmanager",
            f"--web.listen-address=:{service.port}",
            "--cluster.listen-address=",  # one instance: no gossip port
        ),
        ports=(Port("http", service.port),),
        probes=_http_check(service.port, "/-/ready"),
        writable_paths=(SMALL_TMP,),
        config_files=_configs(files, layout.ALERTMANAGER_YML),
        secret_files=tuple(SecretFile(name, layout.docker_secret_path(name)) for name in receiver_secrets(spec)),
        resources=_resources(256, 500),
        run_as_user=NOBODY,
        run_as_group=NOBODY,
    )
    return _service_plan(service, container, settings, DataVolume("data", "/alertmanager"))


def grafana_env() -> dict[str, str]:
    """The admin login from the secret file, the hardening of every target, logs on stdout."""
    return {
        "GF_SECURITY_ADMIN_USER": GRAFANA_ADMIN_USER,
        "GF_SECURITY_ADMIN_PASSWORD__FILE": GRAFANA_PASSWORD_FILE.path,
        **hardening_env(),
        "GF_LOG_MODE": "console",
        "GF_PATHS_DATA": "/var/lib/grafana",
        "GF_PATHS_LOGS": "/var/lib/grafana/logs",
        "GF_PATHS_PLUGINS": "/var/lib/grafana/plugins",
        "GF_PATHS_PROVISIONING": "/etc/grafana/provisioning",
    }


def _grafana(files: Mapping[str, str], settings: DockerSettings) -> ServicePlan:
    service = layout.GRAFANA
    container = Container(
        name=service.name,
        image=images.GRAFANA,
        image_tag=images.GRAFANA.ref,
        env=grafana_env(),
        ports=(Port("http", service.port),),
        probes=_http_check(service.port, "/api/health"),
        # Everything Grafana keeps is provisioned from files, so its database lives in RAM and
        # is rebuilt (with the admin password from the secret store) on every start.
        writable_paths=(
            SMALL_TMP,
            WritablePath("/var/lib/grafana", "Grafana's database, plugins and logs", size_bytes=256 * MIB),
        ),
        config_files=_configs(files, layout.GRAFANA_DATASOURCE, layout.GRAFANA_PROVIDER, layout.DASHBOARDS_DIR),
        secret_files=(GRAFANA_PASSWORD_FILE,),
        resources=_resources(512, 1000),
    )
    return _service_plan(service, container, settings)


def _blackbox(files: Mapping[str, str], settings: DockerSettings) -> ServicePlan:
    service = layout.BLACKBOX
    container = Container(
        name=service.name,
        image=images.BLACKBOX_EXPORTER,
        image_tag=images.BLACKBOX_EXPORTER.ref,
        args=(
            f"--config.file={layout.container_path(layout.BLACKBOX_YML)}",
            f"--web.listen-address=:{service.port}",
        ),
        ports=(Port("http", service.port),),
        probes=_http_check(service.port, "/-/healthy"),
        config_files=_configs(files, layout.BLACKBOX_YML),
        resources=_resources(64, 250),
        run_as_user=NOBODY,
        run_as_group=NOBODY,
    )
    return _service_plan(service, container, settings)


def dcgm_counters_csv() -> str:
    lines = ["# DCGM FIELD, Prometheus metric type, help message (device fields only)"]
    lines += [f"{field}, {kind}, {help_text}" for field, kind, help_text in DCGM_COUNTERS]
    return "\n".join(lines) + "\n"


def _dcgm(settings: DockerSettings) -> ServicePlan:
    service = layout.DCGM
    container = Container(
        name=service.name,
        image=images.DCGM_EXPORTER,
        image_tag=images.DCGM_EXPORTER.ref,
        args=("-f", DCGM_COUNTERS_PATH, "-a", f":{service.port}"),
        ports=(Port("metrics", service.port),),
        writable_paths=(SMALL_TMP,),
        config_files=(ConfigFile(DCGM_COUNTERS_PATH, dcgm_counters_csv()),),
        # -1: every GPU of the host, not only the first n.
        resources=_resources(512, 500, gpus=-1),
    )
    return _service_plan(service, container, settings)


class ServiceNameError(ValueError):
    pass


def docker_services(spec: DeploymentSpec, plans: Sequence[ServingPlan], files: Mapping[str, str]) -> list[ServicePlan]:
    """The monitoring services of a Docker stack, given its rendered observability files."""
    settings = spec.docker or DockerSettings()
    if len(plans) > layout.MAX_MODELS:
        raise ServiceNameError(f"at most {layout.MAX_MODELS} models fit before the monitoring ports")
    aliases = {s.alias for s in layout.SERVICES}
    clash = sorted(aliases & {p.model for p in plans})
    if clash:
        raise ServiceNameError(f"model names {clash} are taken by the monitoring services")
    services = [_prometheus(spec, files, settings), _alertmanager(spec, files, settings)]
    if spec.observability.grafana:
        services.append(_grafana(files, settings))
    if str(layout.BLACKBOX_YML) in files:
        services.append(_blackbox(files, settings))
    if any(p.uses_gpu for p in plans):
        services.append(_dcgm(settings))
    return services
