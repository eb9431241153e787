"""alertmanager.yml from the stack's receivers: grouped by model, warnings inhibited while a
model's server is down, one route per receiver for the severities it asks for.

Receiver URLs and SMTP passwords stay in the secret store: the file names them through
Alertmanager's ``*_file`` fields (``url_file``, ``api_url_file``, ``webhook_url_file``,
``auth_password_file``) and the target mounts each secret at ``secret_path(name)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from components.observability.images import ALERTMANAGER
from components.spec import DeploymentSpec
from components.spec.models import Receiver
from components.templating import render_template

DEFAULT_RECEIVER = "null"
GROUP_WAIT = "30s"


@dataclass(frozen=True)
class ReceiverView:
    name: str
    type: str
    url_file: str | None
    to: str | None
    sender: str | None
    smarthost: str | None
    username: str | None
    password_file: str | None


def receiver_secrets(spec: DeploymentSpec) -> list[str]:
    """Names of the secrets Alertmanager reads, in order."""
    names = {r.url_secret for r in spec.alerting.receivers} | {r.password_secret for r in spec.alerting.receivers}
    return sorted(n for n in names if n is not None)


def _view(receiver: Receiver, secrets_dir: str) -> ReceiverView:
    def secret_path(secret: str) -> str:
        return f"{secrets_dir}/{secret}"

    return ReceiverView(
        name=receiver.name,
        type=receiver.type,
        url_file=secret_path(receiver.url_secret) if receiver.url_secret else None,
        to=receiver.to,
        sender=receiver.sender or receiver.to,
        smarthost=receiver.smarthost,
        username=receiver.username or receiver.to,
        password_file=secret_path(receiver.password_secret) if receiver.password_secret else None,
    )


def alertmanager_yml(spec: DeploymentSpec, stack: str, secrets_dir: str) -> str:
    """The Alertmanager configuration; receivers read their secrets as files in ``secrets_dir``."""
    receivers = [_view(r, secrets_dir) for r in spec.alerting.receivers]
    routes = [
        {"receiver": r.name, "matcher": f'severity=~"{"|".join(sorted(set(r.severities)))}"'}
        for r in spec.alerting.receivers
        if r.severities
    ]
    return render_template(
        "observability/alertmanager.yml.j2",
        stack=stack,
        version=ALERTMANAGER.tag,
        secrets_dir=secrets_dir,
        default_receiver=DEFAULT_RECEIVER,
        group_wait=GROUP_WAIT,
        routes=routes,
        receivers=receivers,
    )


#: Fields Debian 12's Alertmanager 0.25 (and its amtool) does not know; upstream has them in
#: the pinned v0.28.1 (config/notifiers.go: WebhookConfig.URLFile, MSTeamsV2Config).
LEGACY_PLACEHOLDER = "https://secret-from-file.invalid/"


def legacy_check_view(config_text: str) -> str:
    """The configuration as Alertmanager 0.25's ``amtool check-config`` can read it.

    Webhook ``url_file`` becomes a placeholder ``url`` and Teams (``msteamsv2_configs``)
    receivers become webhooks to the placeholder; routes, matchers, inhibition and every
    other receiver stay as they are, so the old amtool still checks all of those. For
    validation only: run the real file on the pinned image.
    """
    config = yaml.safe_load(config_text)
    for receiver in config.get("receivers", []):
        for webhook in receiver.get("webhook_configs", []):
            if "url_file" in webhook:
                webhook["url"] = LEGACY_PLACEHOLDER + webhook.pop("url_file").lstrip("/")
        teams = receiver.pop("msteamsv2_configs", None)
        if teams:
            receiver.setdefault("webhook_configs", []).extend(
                {"url": LEGACY_PLACEHOLDER + t["webhook_url_file"].lstrip("/"), "send_resolved": True} for t in teams
            )
    return yaml.safe_dump(config, sort_keys=False)
