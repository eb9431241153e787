"""Names, ports and paths of the monitoring services, and where each file goes.

On Docker every service is a container on the stack's network, reached by its alias
``obs-<service>``; files are uploaded to the container paths below. The render writes the
same files under ``observability/`` (``RENDER`` paths).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from components.plan import SECRETS_DIR


@dataclass(frozen=True)
class Service:
    name: str
    port: int

    @property
    def alias(self) -> str:
        return f"obs-{self.name}"

    @property
    def address(self) -> str:
        return f"{self.alias}:{self.port}"


PROMETHEUS = Service("prometheus", 9090)
ALERTMANAGER = Service("alertmanager", 9093)
GRAFANA = Service("grafana", 3000)
BLACKBOX = Service("blackbox", 9115)
DCGM = Service("dcgm-exporter", 9400)
SERVICES = (PROMETHEUS, ALERTMANAGER, GRAFANA, BLACKBOX, DCGM)

#: Host ports of the UIs on Docker: ``docker.basePort`` plus these offsets, after the model
#: servers' ports (basePort + 0, 1, ...). At most this many models fit before them.
HOST_PORT_OFFSETS = {GRAFANA.name: 90, PROMETHEUS.name: 91, ALERTMANAGER.name: 92}
MAX_MODELS = 90

# Render paths, relative to the render folder.
OBS = PurePosixPath("observability")
PROMETHEUS_YML = OBS / "prometheus" / "prometheus.yml"
RULES_DIR = OBS / "prometheus" / "rules"
TESTS_DIR = OBS / "prometheus" / "tests"
ALERTMANAGER_YML = OBS / "alertmanager" / "alertmanager.yml"
BLACKBOX_YML = OBS / "blackbox" / "blackbox.yml"
GRAFANA_DATASOURCE = OBS / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
GRAFANA_PROVIDER = OBS / "grafana" / "provisioning" / "dashboards" / "slm-deploy.yml"
DASHBOARDS_DIR = OBS / "grafana" / "dashboards"
RUNBOOKS_DIR = OBS / "runbooks"

# Container paths on Docker.
CONTAINER_PATHS: dict[PurePosixPath, PurePosixPath] = {
    PROMETHEUS_YML: PurePosixPath("/etc/prometheus/prometheus.yml"),
    RULES_DIR: PurePosixPath("/etc/prometheus/rules"),
    ALERTMANAGER_YML: PurePosixPath("/etc/alertmanager/alertmanager.yml"),
    BLACKBOX_YML: PurePosixPath("/etc/blackbox_exporter/config.yml"),
    GRAFANA_DATASOURCE: PurePosixPath("/etc/grafana/provisioning/datasources/prometheus.yml"),
    GRAFANA_PROVIDER: PurePosixPath("/etc/grafana/provisioning/dashboards/slm-deploy.yml"),
    # Not under /var/lib/grafana: that is a tmpfs, mounted over anything uploaded there.
    DASHBOARDS_DIR: PurePosixPath("/etc/grafana/dashboards"),
}


def container_path(render_path: PurePosixPath) -> PurePosixPath:
    """Where a rendered file lives inside its container (a file, or a file in a mapped folder)."""
    if render_path in CONTAINER_PATHS:
        return CONTAINER_PATHS[render_path]
    return CONTAINER_PATHS[render_path.parent] / render_path.name


def docker_secret_path(secret: str) -> str:
    return f"{SECRETS_DIR}/{secret}"


def rule_file(group: str) -> PurePosixPath:
    return RULES_DIR / f"{group}.yml"


def rule_test_file(group: str) -> PurePosixPath:
    return TESTS_DIR / f"{group}.test.yml"
