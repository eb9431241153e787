"""Grafana's admin login and the hardening every target gives it: login required (anonymous
access off, no sign-up) and nothing phoned home (no analytics, update checks, news feed,
gravatar, plugin preinstall, external snapshots).

:data:`GRAFANA_HARDENING` is written once, as ``grafana.ini`` sections; the Docker target sets
it as ``GF_<SECTION>_<KEY>`` environment variables (:func:`hardening_env`), the Kubernetes
chart as ``grafana.ini`` values (:func:`hardening_ini`).
"""

from __future__ import annotations

from collections.abc import Mapping

#: The stack secret holding Grafana's admin password, and the admin's login.
GRAFANA_ADMIN_SECRET = "grafanaAdminPassword"
GRAFANA_ADMIN_USER = "admin"

#: ``{section: {key: value}}`` of grafana.ini.
GRAFANA_HARDENING: Mapping[str, Mapping[str, bool]] = {
    "security": {"disable_gravatar": True},
    "auth.anonymous": {"enabled": False},
    "users": {"allow_sign_up": False},
    "analytics": {"reporting_enabled": False, "check_for_updates": False, "check_for_plugin_updates": False},
    "news": {"news_feed_enabled": False},
    "plugins": {"preinstall_disabled": True},
    "snapshots": {"external_enabled": False},
}


def env_name(section: str, key: str) -> str:
    """Grafana's environment variable for a grafana.ini setting: ``GF_<SECTION>_<KEY>`` in upper
    case, dots and dashes as underscores."""
    return "GF_" + f"{section}_{key}".upper().replace(".", "_").replace("-", "_")


def hardening_env() -> dict[str, str]:
    return {
        env_name(section, key): "true" if value else "false"
        for section, settings in GRAFANA_HARDENING.items()
        for key, value in settings.items()
    }


def hardening_ini() -> dict[str, dict[str, bool]]:
    """The sections as chart values (a copy: Helm merges them into the chart's own grafana.ini)."""
    return {section: dict(settings) for section, settings in GRAFANA_HARDENING.items()}
