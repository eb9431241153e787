"""The ``observability/`` folder of a render: prometheus.yml, rule files, their promtool
tests, alertmanager.yml, Grafana dashboards and provisioning, runbooks.

Written only when the recording applies monitoring (the Docker target's monitoring
containers, or a KubernetesMonitoring component), so the folder never shows what the
program does not deploy. The files come from the pure core
(:mod:`components.observability.config_files`): the same function whose strings the Docker
target uploads and whose rule groups the PrometheusRules carry; the program tests check
that what the recording applies equals what is written here. Receivers' secrets never
appear: Alertmanager reads them from files.
"""

from __future__ import annotations

from components.engines import build_plans
from components.observability.config_files import observability_files
from components.observability.docker_services import COMPONENT_MONITORING
from components.plan import LABEL_COMPONENT
from components.render.harness import Recording
from components.spec import DeploymentSpec, Target

KUBERNETES_MONITORING = "slm-deploy:observability:KubernetesMonitoring"
CONTAINER = "docker:index/container:Container"


def _applied(recording: Recording) -> bool:
    for resource in recording.resources:
        if resource.type == KUBERNETES_MONITORING:
            return True
        if resource.type == CONTAINER:
            labels = resource.inputs.get("labels", [])
            if isinstance(labels, list) and {"label": LABEL_COMPONENT, "value": COMPONENT_MONITORING} in labels:
                return True
    return False


def observability_render(recording: Recording, spec: DeploymentSpec) -> dict[str, str]:
    if not spec.observability.enabled or not _applied(recording):
        return {}
    return observability_files(spec, build_plans(spec), recording.stack, docker=spec.target is Target.DOCKER)
