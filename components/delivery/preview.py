"""PR preview stacks: the ``pr-<n>`` stack file from the preview template, the decision to
deploy, and which preview stacks have outlived their time-to-live.

The workflows call these through ``slm-deploy preview-stack`` and ``slm-deploy
expired-previews`` so that the YAML stays a thin sequence of steps.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from components.spec.durations import DurationError, duration_seconds

TEMPLATE_STACK = "preview"
STACK_PREFIX = "pr-"
PREVIEW_STACK = re.compile(r"^pr-[1-9][0-9]*$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$")  # the spec's 40-character label
DEFAULT_TTL = "72h"
DEFAULT_LABEL = "preview"
TAG_EXPIRES = "slm-deploy:expires-at"
#: Stack-file keys bound to one stack's secrets provider; a copy must not carry them.
PER_STACK_KEYS = ("encryptionsalt", "encryptedkey")


class PreviewError(Exception):
    """Bad input for a preview helper; the message is one line."""


def parse_ttl(text: str) -> timedelta:
    """A time to live: a Prometheus duration such as ``90m``, ``72h``, ``3d`` or ``1d12h``, above zero."""
    try:
        seconds = duration_seconds(text.strip())
    except DurationError:
        raise PreviewError(f"ttl: {text!r} is not a duration such as 90m, 72h or 3d") from None
    if seconds <= 0:
        raise PreviewError(f"ttl: {text!r} is not longer than zero")
    return timedelta(seconds=seconds)


def parse_time(text: str) -> datetime:
    """An ISO 8601 timestamp (``Z`` allowed), in UTC."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise PreviewError(f"{text!r} is not an ISO 8601 timestamp") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def format_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class PullRequest:
    """What the helpers need from a ``pull_request`` event payload."""

    number: int
    action: str | None
    labels: tuple[str, ...]
    fork: bool
    updated_at: datetime | None


def pull_request_from_event(event: Mapping[str, Any]) -> PullRequest:
    pr = event.get("pull_request")
    if not isinstance(pr, Mapping):
        raise PreviewError("event: no 'pull_request' object (is this a pull_request event payload?)")
    number = pr.get("number", event.get("number"))
    if not isinstance(number, int) or number < 1:
        raise PreviewError(f"event: pull_request.number {number!r} is not a positive integer")
    labels = tuple(sorted(str(label.get("name")) for label in pr.get("labels", []) if isinstance(label, Mapping)))
    head_repo = (pr.get("head") or {}).get("repo") or {}
    base_repo = (pr.get("base") or {}).get("repo") or {}
    fork = bool(head_repo.get("full_name")) and head_repo.get("full_name") != base_repo.get("full_name")
    updated = pr.get("updated_at")
    action = event.get("action")
    return PullRequest(
        number=number,
        action=str(action) if action is not None else None,
        labels=labels,
        fork=fork,
        updated_at=parse_time(updated) if isinstance(updated, str) else None,
    )


def preview_names(number: int) -> tuple[str, str]:
    """``(stack, namespace)`` of PR ``number``: both ``pr-<n>``, a DNS label."""
    if number < 1:
        raise PreviewError(f"pr: {number} is not a positive pull request number")
    name = f"{STACK_PREFIX}{number}"
    if not DNS_LABEL.match(name):
        raise PreviewError(f"pr: {name!r} is not a valid namespace (a DNS label of at most 40 characters)")
    return name, name


def should_deploy(pr: PullRequest, trigger: str, label: str) -> tuple[bool, str]:
    """Whether this event deploys the preview, and why (one line for the log)."""
    if pr.fork:
        return False, "pull request from a fork: previews never get the repository's credentials"
    if pr.action == "closed":
        return False, "pull request closed: the preview is destroyed instead"
    if trigger == "always":
        return True, "previews deploy on every opened or updated pull request"
    if label in pr.labels:
        return True, f"the pull request has the {label!r} label"
    return False, f"no {label!r} label (add it to deploy a preview)"


def _has_secure(value: Any) -> bool:
    if isinstance(value, dict):
        return set(value) == {"secure"} or any(_has_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_secure(v) for v in value)
    return False


def preview_document(template: Mapping[str, Any], namespace: str) -> dict[str, Any]:
    """The ``pr-<n>`` stack file: the template with the namespace set, per-stack keys dropped."""
    config = template.get("config")
    if not isinstance(config, Mapping):
        raise PreviewError("preview template: expected a 'config:' mapping")
    for key, value in config.items():
        if _has_secure(value):
            raise PreviewError(
                f"preview template: {key} holds a secure value, which only the template stack can decrypt; "
                "take secrets from a stack reference or an ESC environment instead"
            )
    document = {k: v for k, v in template.items() if k not in PER_STACK_KEYS}
    new_config = dict(config)
    kubernetes = new_config.get("slm-deploy:kubernetes") or {}
    if not isinstance(kubernetes, Mapping):
        raise PreviewError("preview template: slm-deploy:kubernetes must be a mapping")
    new_config["slm-deploy:kubernetes"] = {**kubernetes, "namespace": namespace}
    document["config"] = new_config
    return document


@dataclass(frozen=True)
class PreviewStack:
    stack: str
    namespace: str
    path: Path
    text: str
    ttl: str
    expires_at: datetime


def build_preview_stack(stacks_dir: Path, number: int, ttl: str, now: datetime) -> PreviewStack:
    """Read ``Pulumi.preview.yaml`` and produce ``Pulumi.pr-<n>.yaml`` (not written here)."""
    duration = parse_ttl(ttl)
    template_path = stacks_dir / f"Pulumi.{TEMPLATE_STACK}.yaml"
    try:
        template = yaml.safe_load(template_path.read_text(encoding="utf-8"))
    except OSError:
        raise PreviewError(f"{template_path}: no preview template stack file") from None
    except yaml.YAMLError as exc:
        raise PreviewError(f"{template_path}: not valid YAML: {exc}") from None
    if not isinstance(template, Mapping):
        raise PreviewError(f"{template_path}: expected a mapping")
    stack, namespace = preview_names(number)
    document = preview_document(template, namespace)
    header = (
        f"# Generated by `slm-deploy preview-stack --pr {number}` from Pulumi.{TEMPLATE_STACK}.yaml.\n"
        "# Do not edit or commit: CI writes it for every run.\n"
    )
    text = header + yaml.safe_dump(document, sort_keys=False, default_flow_style=False)
    return PreviewStack(stack, namespace, stacks_dir / f"Pulumi.{stack}.yaml", text, ttl, now + duration)


@dataclass(frozen=True)
class ListedPreview:
    """A preview stack of ``pulumi stack ls --json``: its name as listed (``pr-12`` or
    ``org/project/pr-12``) and its pull request number."""

    name: str
    number: int

    @property
    def short(self) -> str:
        return self.name.rsplit("/", 1)[-1]

    def line(self) -> str:
        """``name<TAB>number``: what the sweep reads, so the workflow never parses names."""
        return f"{self.name}\t{self.number}"


def listed_previews(stacks: Iterable[Mapping[str, Any]]) -> list[tuple[ListedPreview, Mapping[str, Any]]]:
    """The ``pr-<n>`` stacks of ``pulumi stack ls --json``, short or fully qualified names alike."""
    found = []
    for entry in stacks:
        name = str(entry.get("name", ""))
        short = name.rsplit("/", 1)[-1]
        if PREVIEW_STACK.match(short):
            found.append((ListedPreview(name, int(short.removeprefix(STACK_PREFIX))), entry))
    return sorted(found, key=lambda item: item[0].name)


@dataclass(frozen=True)
class ExpiredStack:
    stack: ListedPreview
    expires_at: datetime
    why: str

    @property
    def name(self) -> str:
        return self.stack.name


def expired_previews(
    stacks: Iterable[Mapping[str, Any]],
    now: datetime,
    default_ttl: timedelta,
    tags_by_stack: Mapping[str, Mapping[str, str]] | None = None,
) -> tuple[list[ExpiredStack], list[str]]:
    """Preview stacks past their expiry, and warnings for stacks whose age cannot be told.

    ``stacks`` is ``pulumi stack ls --json`` output (names may be ``org/project/pr-12``); tags
    come inline (``tags``) or from ``tags_by_stack`` keyed by the short name. The expiry is
    the ``slm-deploy:expires-at`` tag, else the last update plus ``default_ttl``.
    """
    expired: list[ExpiredStack] = []
    warnings: list[str] = []
    for stack, entry in listed_previews(stacks):
        name = stack.name
        tags = dict(entry.get("tags") or {})
        tags.update((tags_by_stack or {}).get(stack.short, {}))
        try:
            if TAG_EXPIRES in tags:
                expires, why = parse_time(tags[TAG_EXPIRES]), f"tag {TAG_EXPIRES}"
            elif entry.get("lastUpdate"):
                expires = parse_time(str(entry["lastUpdate"])) + default_ttl
                why = "last update + default ttl"
            else:
                warnings.append(f"{name}: no {TAG_EXPIRES} tag and no lastUpdate; left alone")
                continue
        except PreviewError as exc:
            warnings.append(f"{name}: {exc}; left alone")
            continue
        if expires <= now:
            expired.append(ExpiredStack(stack, expires, why))
    return sorted(expired, key=lambda e: e.name), warnings


PREVIEW_MARKER = "<!-- slm-deploy-preview -->"


def preview_comment(stack: str, namespace: str, outputs: Mapping[str, Any]) -> str:
    """The PR comment after a preview deploy: endpoints and how to get the key (never the key)."""
    lines = [
        PREVIEW_MARKER,
        f"## Preview stack `{stack}`",
        "",
        f"Deployed into namespace `{namespace}` on the staging cluster. It is destroyed when the pull request "
        "closes, or by the scheduled sweep when its time-to-live runs out.",
        "",
    ]
    endpoints = outputs.get("endpoints")
    if isinstance(endpoints, Mapping) and endpoints:
        lines += ["| Model | OpenAI base URL |", "|---|---|"]
        lines += [f"| `{model}` | {url} |" for model, url in sorted(endpoints.items())]
    else:
        lines.append("The stack exported no endpoints.")
    lines += [
        "",
        f"API keys are secrets: `pulumi stack output apiKeys --show-secrets --stack {stack}` (with access to the "
        "state backend).",
    ]
    return "\n".join(lines) + "\n"
