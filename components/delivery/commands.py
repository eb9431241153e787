"""The delivery subcommands of ``slm-deploy``: cost, diff and the PR preview helpers.

Registered by :func:`components.cli.build_parser`; each command stays a few lines over the
pure modules (components.cost, components.delivery.*).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from components.delivery.preview import DEFAULT_LABEL, DEFAULT_TTL


def _read_json_arg(value: str, what: str) -> Any:
    """JSON from a file, or from stdin for ``-``; one-line errors."""
    from components.cli import UsageError

    try:
        text = sys.stdin.read() if value == "-" else Path(value).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{what}: cannot read {value}: {exc.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{what}: {value} is not valid JSON ({exc.msg} at line {exc.lineno})") from None


# --- cost --------------------------------------------------------------------------------


def cmd_cost(args: argparse.Namespace) -> int:
    from components.cli import EXIT_OK, Project, UsageError, load_stack
    from components.cost import PriceTableError, cost_json, cost_markdown, cost_text, estimate_cost
    from components.engines import build_plans

    project = Project.find(Path.cwd())
    _, spec = load_stack(project, args.stack)
    try:
        estimate = estimate_cost(args.stack, spec, build_plans(spec))
    except PriceTableError as exc:
        raise UsageError(str(exc)) from None
    render = {"text": cost_text, "markdown": cost_markdown, "json": cost_json}[args.format]
    sys.stdout.write(render(estimate))
    return EXIT_OK


# --- diff --------------------------------------------------------------------------------


def cmd_diff(args: argparse.Namespace) -> int:
    from components.cli import EXIT_OK, UsageError
    from components.delivery.diff import diff_render_sets, diff_renders
    from components.delivery.diff_report import diff_markdown, diff_text
    from components.delivery.renders import RenderInputError, load_renders

    try:
        base_is_set, base = load_renders(Path(args.base))
        head_is_set, head = load_renders(Path(args.head))
    except RenderInputError as exc:
        raise UsageError(str(exc)) from None
    if base_is_set or head_is_set:
        diffs = diff_render_sets(base, head)
    else:  # two single renders: compare them whatever their stack names
        (base_render,), (head_render,) = base.values(), head.values()
        diffs = [diff_renders(base_render, head_render)]
    text = diff_markdown(diffs, args.max_chars) if args.format == "markdown" else diff_text(diffs)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return EXIT_OK


# --- preview helpers ---------------------------------------------------------------------


def _outputs(values: dict[str, str], multiline: dict[str, str]) -> str:
    """``key=value`` lines in the format of ``$GITHUB_OUTPUT`` (heredoc for multi-line values)."""
    lines = [f"{key}={value}" for key, value in values.items()]
    for key, value in multiline.items():
        delimiter = "SLM_DEPLOY_EOF"
        lines += [f"{key}<<{delimiter}", value.rstrip("\n"), delimiter]
    return "\n".join(lines) + "\n"


def cmd_preview_stack(args: argparse.Namespace) -> int:
    from components.cli import EXIT_OK, Project, UsageError, load_stack
    from components.delivery.preview import (
        PreviewError,
        build_preview_stack,
        format_time,
        parse_time,
        pull_request_from_event,
        should_deploy,
    )

    try:
        pr = pull_request_from_event(_read_json_arg(args.event, "--event")) if args.event else None
        number = args.pr if args.pr is not None else (pr.number if pr else None)
        if number is None:
            raise UsageError("preview-stack: give --pr or --event")
        if pr is not None and args.pr is not None and pr.number != args.pr:
            raise UsageError(f"preview-stack: --pr {args.pr} but the event is for pull request {pr.number}")
        if args.now:
            now = parse_time(args.now)
        elif pr is not None and pr.updated_at is not None:
            now = pr.updated_at
        else:
            now = datetime.now(UTC)
        deploy, reason = should_deploy(pr, args.trigger, args.label) if pr else (True, "no event: --pr given")
        project = Project.find(Path.cwd())
        preview = build_preview_stack(project.stacks_dir, number, args.ttl, now)
    except PreviewError as exc:
        raise UsageError(str(exc)) from None

    # The generated stack must be a valid stack before anything deploys it.
    with tempfile.TemporaryDirectory() as scratch:
        check = Project(Path(scratch))
        (check.root / "stacks").mkdir()
        (check.root / "Pulumi.yaml").write_text("name: slm-deploy\nstackConfigDir: stacks\n", encoding="utf-8")
        (check.root / "stacks" / preview.path.name).write_text(preview.text, encoding="utf-8")
        load_stack(check, preview.stack)
    if deploy and not args.dry_run:
        preview.path.write_text(preview.text, encoding="utf-8")
    values = {
        "pr": str(number),
        "stack": preview.stack,
        "namespace": preview.namespace,
        "config-file": str(preview.path.relative_to(project.root)),
        "ttl": preview.ttl,
        "expires-at": format_time(preview.expires_at),
        "deploy": "true" if deploy else "false",
        "reason": reason,
    }
    sys.stdout.write(_outputs(values, {"config": preview.text} if args.dry_run else {}))
    return EXIT_OK


def _stack_list(value: str) -> list[Any]:
    from components.cli import UsageError

    stacks = _read_json_arg(value, "--stacks-json")
    if not isinstance(stacks, list) or not all(isinstance(entry, dict) for entry in stacks):
        raise UsageError("--stacks-json: expected the JSON list of objects `pulumi stack ls --json` prints")
    return stacks


def cmd_list_previews(args: argparse.Namespace) -> int:
    from components.cli import EXIT_OK
    from components.delivery.preview import listed_previews

    for stack, _ in listed_previews(_stack_list(args.stacks_json)):
        print(stack.line())
    return EXIT_OK


def cmd_expired_previews(args: argparse.Namespace) -> int:
    from components.cli import EXIT_OK, UsageError
    from components.delivery.preview import PreviewError, expired_previews, format_time, parse_time, parse_ttl

    stacks = _stack_list(args.stacks_json)
    tags: dict[str, dict[str, str]] = {}
    if args.tags_dir:
        for path in sorted(Path(args.tags_dir).glob("*.json")):
            value = _read_json_arg(str(path), "--tags-dir")
            if isinstance(value, dict):
                tags[path.stem] = {str(k): str(v) for k, v in value.items()}
    try:
        now = parse_time(args.now) if args.now else datetime.now(UTC)
        expired, warnings = expired_previews(stacks, now, parse_ttl(args.default_ttl), tags)
    except PreviewError as exc:
        raise UsageError(str(exc)) from None
    for warning in warnings:
        print(warning, file=sys.stderr)
    for stack in expired:
        # The log says why each stack goes; stdout stays the name<TAB>number lines the sweep reads.
        print(f"{stack.name}: expired at {format_time(stack.expires_at)} ({stack.why})", file=sys.stderr)
        print(stack.stack.line())
    return EXIT_OK


def cmd_preview_comment(args: argparse.Namespace) -> int:
    from components.cli import EXIT_OK, UsageError
    from components.delivery.preview import preview_comment

    outputs = _read_json_arg(args.outputs_json, "--outputs-json")
    if not isinstance(outputs, dict):
        raise UsageError("--outputs-json: expected the JSON object `pulumi stack output --json` prints")
    sys.stdout.write(preview_comment(args.stack, args.namespace, outputs))
    return EXIT_OK


def register(sub: Any) -> None:
    """Add the delivery subcommands to the ``slm-deploy`` parser."""
    from components.delivery.diff_report import DEFAULT_MAX_CHARS

    cost = sub.add_parser("cost", help="estimate a stack's cost per hour and per month, at min and max scale")
    cost.add_argument("stack", help="stack name (stacks/Pulumi.<stack>.yaml)")
    cost.add_argument("--format", choices=["text", "markdown", "json"], default="text")
    cost.set_defaults(func=cmd_cost)

    diff = sub.add_parser("diff", help="compare two renders (or two folders of renders)")
    diff.add_argument("base", help="render folder (or folder of renders) before the change")
    diff.add_argument("head", help="render folder (or folder of renders) after the change")
    diff.add_argument("--format", choices=["text", "markdown"], default="text")
    diff.add_argument("--max-chars", type=int, default=DEFAULT_MAX_CHARS, help="markdown size bound")
    diff.add_argument("--output", help="write to this file instead of stdout")
    diff.set_defaults(func=cmd_diff)

    preview = sub.add_parser("preview-stack", help="write stacks/Pulumi.pr-<n>.yaml from the preview template")
    preview.add_argument("--pr", type=int, help="pull request number")
    preview.add_argument("--event", help="GitHub event payload (JSON file, or - for stdin)")
    preview.add_argument("--ttl", default=DEFAULT_TTL, help=f"time to live, e.g. 90m, 72h, 3d (default {DEFAULT_TTL})")
    preview.add_argument("--trigger", choices=["label", "always"], default="label", help="when previews deploy")
    preview.add_argument("--label", default=DEFAULT_LABEL, help=f"label that deploys (default {DEFAULT_LABEL})")
    preview.add_argument("--now", help="ISO timestamp the ttl counts from (default: the event's updated_at)")
    preview.add_argument("--dry-run", action="store_true", help="write nothing; print the stack file too")
    preview.set_defaults(func=cmd_preview_stack)

    listing = sub.add_parser("list-previews", help="print every preview stack as name<TAB>number")
    listing.add_argument("--stacks-json", required=True, help="`pulumi stack ls --json` output (file, or -)")
    listing.set_defaults(func=cmd_list_previews)

    expired = sub.add_parser(
        "expired-previews", help="print preview stacks past their time to live, as name<TAB>number"
    )
    expired.add_argument("--stacks-json", required=True, help="`pulumi stack ls --json` output (file, or -)")
    expired.add_argument("--tags-dir", help="folder of <stack>.json files from `pulumi stack tag ls --json`")
    expired.add_argument("--default-ttl", default=DEFAULT_TTL, help="for stacks without an expiry tag")
    expired.add_argument("--now", help="ISO timestamp to compare with (default: now)")
    expired.set_defaults(func=cmd_expired_previews)

    comment = sub.add_parser("preview-comment", help="the PR comment for a deployed preview stack")
    comment.add_argument("--stack", required=True)
    comment.add_argument("--namespace", required=True)
    comment.add_argument("--outputs-json", required=True, help="`pulumi stack output --json` (file, or -)")
    comment.set_defaults(func=cmd_preview_comment)
