"""The ``observability/`` folder of a render: prometheus.yml, rule files, their promtool
tests, alertmanager.yml, Grafana dashboards and provisioning, runbooks.

The files come from the pure core (:mod:`components.observability.config_files`), the same
function whose strings the Docker target uploads and the Kubernetes objects carry; the
program tests check that what the recording applies equals what is written here. Receivers'
secrets never appear: Alertmanager reads them from files.
"""

from __future__ import annotations

from components.engines import build_plans
from components.observability.config_files import observability_files
from components.render.harness import Recording
from components.spec import DeploymentSpec, Target


def observability_render(recording: Recording, spec: DeploymentSpec) -> dict[str, str]:
    if not spec.observability.enabled:
        return {}
    return observability_files(spec, build_plans(spec), recording.stack, docker=spec.target is Target.DOCKER)
