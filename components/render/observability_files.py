"""The ``observability/`` folder of a render: prometheus.yml, rule files, their promtool
tests, alertmanager.yml, Grafana dashboards and provisioning, runbooks.

Written only when the recording applies monitoring (the Docker target's monitoring
containers, a KubernetesMonitoring component, or AKS's Azure Monitor rule groups, which are
converted from these very rule files), so the folder never shows what the
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
#: AKS with managed monitoring: the rules run in Azure Monitor, alerts go to an action group.
AZURE_RULE_GROUP = "azure-native:alertsmanagement:PrometheusRuleGroup"


def _managed_by_azure(recording: Recording) -> bool:
    return any(resource.type == AZURE_RULE_GROUP for resource in recording.resources)


def _applied(recording: Recording) -> bool:
    for resource in recording.resources:
        if resource.type in (KUBERNETES_MONITORING, AZURE_RULE_GROUP):
            return True
        if resource.type == CONTAINER:
            labels = resource.inputs.get("labels", [])
            if isinstance(labels, list) and {"label": LABEL_COMPONENT, "value": COMPONENT_MONITORING} in labels:
                return True
    return False


def observability_render(recording: Recording, spec: DeploymentSpec) -> dict[str, str]:
    if not spec.observability.enabled or not _applied(recording):
        return {}
    files = observability_files(spec, build_plans(spec), recording.stack, docker=spec.target is Target.DOCKER)
    if _managed_by_azure(recording):
        # The rules, their tests, dashboards and runbooks are what Azure gets; no Alertmanager runs.
        files = {path: text for path, text in files.items() if not path.startswith("observability/alertmanager/")}
    return files
