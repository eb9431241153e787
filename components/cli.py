"""The ``slm-deploy`` command: offline render, check, schema and catalog (more subcommands register here).

Exit status: 0 success, 1 findings or a failed program, 2 usage or configuration errors.
Errors are one line each on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from components.spec import (
    DeploymentSpec,
    SpecError,
    StackFile,
    StackFileError,
    parse_config,
    read_stack_file,
)

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad invocation or configuration: printed as one line, exit status 2."""


class ProgramError(Exception):
    """The Pulumi program raised: printed as one line (``--debug`` shows the traceback), exit 1."""


@dataclass(frozen=True)
class Project:
    """The repository the command works on: Pulumi.yaml, the program and the stack files."""

    root: Path

    @property
    def program(self) -> Path:
        return self.root / "__main__.py"

    @property
    def stacks_dir(self) -> Path:
        settings = yaml.safe_load((self.root / "Pulumi.yaml").read_text(encoding="utf-8")) or {}
        return self.root / str(settings.get("stackConfigDir", "."))

    @classmethod
    def find(cls, start: Path) -> Project:
        for folder in (start, *start.parents):
            if (folder / "Pulumi.yaml").is_file() and (folder / "__main__.py").is_file():
                return cls(folder)
        raise UsageError(f"{start}: not inside a project (no Pulumi.yaml with __main__.py above it)")


def _err(message: str) -> None:
    print(message, file=sys.stderr)


# --- render ------------------------------------------------------------------------------


def load_stack(project: Project, stack: str) -> tuple[StackFile, DeploymentSpec]:
    """Read and validate a stack; raises UsageError with the reasons."""
    try:
        stack_file = read_stack_file(project.stacks_dir, stack)
    except StackFileError as exc:
        raise UsageError(str(exc)) from None
    try:
        spec = parse_config(stack_file.config)
    except SpecError as exc:
        raise UsageError(str(exc)) from None
    return stack_file, spec


def render_stack(project: Project, stack: str, out_dir: Path) -> dict[str, str]:
    """Validate, run the program under mocks, and write the render; returns the files written."""
    from components.render import render_files, run_program, write_render
    from components.render.writer import RenderDirectoryError

    stack_file, spec = load_stack(project, stack)
    try:
        recording = run_program(project.program, stack_file.config, stack_file.secret_keys, stack=stack)
    except Exception as exc:  # the program's own failure, reported as one line
        raise ProgramError(f"the program failed for stack {stack}: {type(exc).__name__}: {exc}") from exc
    files = render_files(recording, spec)
    try:
        write_render(files, out_dir)
    except RenderDirectoryError as exc:
        raise UsageError(str(exc)) from None
    return files


def cmd_render(args: argparse.Namespace) -> int:
    project = Project.find(Path.cwd())
    out_dir = Path(args.out) if args.out else project.root / "build" / args.stack
    files = render_stack(project, args.stack, out_dir)
    plan = json.loads(files["plan.json"])
    print(f"rendered stack {args.stack}: {len(plan['resources'])} resources, {len(files)} files in {out_dir}")
    return EXIT_OK


# --- check -------------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    """Render the stack (or take ``--from``), run every validator, print the table."""
    from components.check import exit_status, render_report, run_checks

    if bool(args.stack) == bool(args.source):
        raise UsageError("slm-deploy check: give a stack name or --from DIR (one of them)")
    if args.source and args.out:
        raise UsageError("slm-deploy check: --out only applies when rendering a stack, not with --from")
    if args.source:
        render_dir = Path(args.source)
        if not (render_dir / "plan.json").is_file():
            raise UsageError(f"{render_dir}: not a render folder (no plan.json); run slm-deploy render first")
        try:
            repo: Path | None = Project.find(Path.cwd()).root
        except UsageError:
            repo = None
    else:
        project = Project.find(Path.cwd())
        repo = project.root
        render_dir = Path(args.out) if args.out else project.root / "build" / args.stack
        render_stack(project, args.stack, render_dir)
    results = run_checks(render_dir, repo)
    print(render_report(str(render_dir), results), end="")
    return exit_status(results)


# --- schema ------------------------------------------------------------------------------


def cmd_schema(args: argparse.Namespace) -> int:
    from components.spec.schema import stack_file_schema

    print(json.dumps(stack_file_schema(), indent=2, sort_keys=True))
    return EXIT_OK


# --- catalog -----------------------------------------------------------------------------


def cmd_catalog(args: argparse.Namespace) -> int:
    from components.catalog.table import catalog_table

    print(catalog_table(context_tokens=args.context, concurrency=args.concurrency))
    return EXIT_OK


# --- wiring ------------------------------------------------------------------------------

Command = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="slm-deploy",
        description="Small Language Models on Docker, Kubernetes and AKS, from one stack file.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of program failures")
    sub = parser.add_subparsers(dest="command", required=True)

    render = sub.add_parser("render", help="run the program offline and write what `pulumi up` would apply")
    render.add_argument("stack", help="stack name (stacks/Pulumi.<stack>.yaml)")
    render.add_argument("--out", help="output folder (default build/<stack>)")
    render.set_defaults(func=cmd_render)

    check = sub.add_parser("check", help="render a stack and run every validator over the render")
    check.add_argument("stack", nargs="?", help="stack name (stacks/Pulumi.<stack>.yaml)")
    check.add_argument("--from", dest="source", metavar="DIR", help="check an existing render folder instead")
    check.add_argument("--out", help="where to render the stack (default build/<stack>)")
    check.set_defaults(func=cmd_check)

    schema = sub.add_parser("schema", help="print the JSON Schema of stack files")
    schema.set_defaults(func=cmd_schema)

    catalog = sub.add_parser("catalog", help="list model presets with their sizing")
    catalog.add_argument("--context", type=int, default=4096, help="context tokens to size for (default 4096)")
    catalog.add_argument("--concurrency", type=int, default=4, help="concurrent sequences (default 4)")
    catalog.set_defaults(func=cmd_catalog)

    from components.delivery.commands import register as register_delivery

    register_delivery(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Command = args.func
    try:
        return func(args)
    except UsageError as exc:
        _err(str(exc))
        return EXIT_USAGE
    except ProgramError as exc:
        if args.debug:
            raise
        _err(str(exc))
        return EXIT_FINDINGS


if __name__ == "__main__":
    # Run as `python -m components.cli`, this file is `__main__`; the commands raise the error
    # classes of `components.cli`, which only that module's main() catches.
    from components.cli import main as cli_main

    sys.exit(cli_main())
