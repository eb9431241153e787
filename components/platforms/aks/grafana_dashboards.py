"""Our Grafana dashboards, imported into Azure Managed Grafana.

Managed Grafana's dashboards live behind Grafana's own HTTP API, which takes Entra ID tokens,
not ARM requests, so no azure-native resource can create them. The program runs the Azure
CLI's ``az grafana dashboard import`` on the deploying machine (pulumi-command), signed in as
the deploying identity, which the program made Grafana Admin of this instance. The JSON goes
in on standard input; a change to a dashboard re-imports it (``overwrite``), deleting the stack
deletes it. Needs ``az`` with the ``amg`` extension where ``pulumi up`` runs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence

import pulumi
import pulumi_command as command

IMPORT = (
    'f="$(mktemp)"; cat > "$f"; '
    'az grafana dashboard import --name "$GRAFANA" --resource-group "$RESOURCE_GROUP" '
    '--overwrite true --definition "$f"; rc=$?; rm -f "$f"; exit $rc'
)
DELETE = 'az grafana dashboard delete --name "$GRAFANA" --resource-group "$RESOURCE_GROUP" --dashboard "$UID"'


def dashboard_uid(model: str) -> str:
    """The ``uid`` of a dashboard model (import and delete address it by this)."""
    uid = json.loads(model).get("uid")
    if not isinstance(uid, str) or not uid:
        raise ValueError("a dashboard needs a uid to be imported and deleted again")
    return uid


def import_dashboards(
    stack: str,
    dashboards: Mapping[str, str],
    *,
    grafana_name: pulumi.Input[str],
    resource_group_name: pulumi.Input[str],
    depends_on: Sequence[pulumi.Resource],
    opts: pulumi.ResourceOptions,
) -> list[command.local.Command]:
    """One import per dashboard (file name -> Grafana dashboard JSON)."""
    imports = []
    for file_name, model in sorted(dashboards.items()):
        uid = dashboard_uid(model)
        imports.append(
            command.local.Command(
                f"{stack}-dashboard-{uid}",
                create=IMPORT,
                update=IMPORT,
                delete=DELETE,
                stdin=model,
                environment={"GRAFANA": grafana_name, "RESOURCE_GROUP": resource_group_name, "UID": uid},
                triggers=[hashlib.sha256(model.encode()).hexdigest(), file_name],
                opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=list(depends_on))),
            )
        )
    return imports
