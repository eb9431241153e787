"""Render diffs as terminal text or as a size-bounded Markdown PR comment."""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from components.delivery.diff import SECRET_SHOWN_AS, CostChange, StackDiff, ValueChange

#: First line of the PR comment; the workflow finds and updates the comment by it.
COMMENT_MARKER = "<!-- slm-deploy-diff -->"
#: GitHub refuses comments above 65,536 characters; stay well below.
DEFAULT_MAX_CHARS = 60_000
VALUE_CHARS = 120
SYMBOL = {"added": "+", "removed": "-", "changed": "~"}


def show_value(value: Any, secret: bool) -> str:
    if secret:
        return SECRET_SHOWN_AS
    if value is None:
        return "(absent)"
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"


def _signed(value: Decimal | None) -> str:
    if value is None:
        return "?"
    return f"+{value}" if value > 0 else str(value)


def cost_summary(cost: CostChange | None) -> str:
    """``before -> after (delta)`` of the monthly totals at min / max scale."""
    if cost is None:
        return "-"
    if not cost.priced:
        return "not priced"

    def side(totals: dict[str, str] | None, complete: bool) -> str:
        if totals is None:
            return "none"
        mark = "" if complete else " (incomplete)"
        return f"{totals.get('monthlyMin', '?')} / {totals.get('monthlyMax', '?')}{mark}"

    text = f"{side(cost.before, cost.complete_before)} → {side(cost.after, cost.complete_after)} {cost.currency}"
    if cost.before is not None and cost.after is not None:
        text += f" ({_signed(cost.delta('monthlyMin'))} / {_signed(cost.delta('monthlyMax'))})"
    return text


def _change_line(change: ValueChange) -> str:
    return f"{change.path}: {show_value(change.old, change.secret)} -> {show_value(change.new, change.secret)}"


def diff_text(diffs: Sequence[StackDiff]) -> str:
    """Everything, for a terminal."""
    if not diffs:
        return "no stacks to compare\n"
    out: list[str] = []
    for d in diffs:
        counts = ", ".join(f"{d.count(k)} {k}" for k in ("added", "changed", "removed"))
        out.append(f"stack {d.stack}: {d.status} ({counts}, {len(d.files)} files)")
        for resource in d.resources:
            out.append(f"  {SYMBOL[resource.kind]} {resource.type} {resource.name}")
            out += [f"      {_change_line(c)}" for c in resource.changes]
        for change in d.outputs:
            out.append(f"  ~ output {_change_line(change)}")
        if d.cost is not None:
            out.append(f"  cost per month (min / max): {cost_summary(d.cost)}")
        for file in d.files:
            out.append(f"  {SYMBOL[file.kind]} file {file.path}")
            out += [f"    {line}" for line in file.diff.rstrip("\n").splitlines()]
        out.append("")
    return "\n".join(out)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _summary_table(diffs: Sequence[StackDiff]) -> str:
    rows = [
        "| Stack | Status | Added | Changed | Removed | Files | Cost per month, min / max |",
        "|---|---|---|---|---|---|---|",
    ]
    for d in diffs:
        rows.append(
            f"| `{d.stack}` | {d.status} | {d.count('added')} | {d.count('changed')} | {d.count('removed')} "
            f"| {len(d.files)} | {_cell(cost_summary(d.cost))} |"
        )
    return "\n".join(rows) + "\n"


def _stack_blocks(d: StackDiff) -> list[str]:
    """Self-contained Markdown blocks, most important first."""
    if d.status == "unchanged":
        return []
    blocks = [f"\n### `{d.stack}`: {d.status}\n"]
    for resource in d.resources:
        header = f"\n**{resource.kind}** `{resource.type}` `{resource.name}`\n"
        if not resource.changes:
            blocks.append(header)
            continue
        rows = ["| Input | Before | After |", "|---|---|---|"]
        for c in resource.changes:
            old, new = show_value(c.old, c.secret), show_value(c.new, c.secret)
            rows.append(f"| `{_cell(c.path)}` | `{_cell(old)}` | `{_cell(new)}` |")
        blocks.append(header + "\n" + "\n".join(rows) + "\n")
    if d.outputs:
        rows = ["| Output | Before | After |", "|---|---|---|"]
        for c in d.outputs:
            old, new = show_value(c.old, c.secret), show_value(c.new, c.secret)
            rows.append(f"| `{_cell(c.path)}` | `{_cell(old)}` | `{_cell(new)}` |")
        blocks.append("\n**Stack outputs**\n\n" + "\n".join(rows) + "\n")
    for file in d.files:
        summary = f"<details><summary>{file.kind}: <code>{file.path}</code></summary>"
        blocks.append(f"\n{summary}\n\n```diff\n{file.diff}```\n</details>\n")
    return blocks


def _cut_block(block: str, budget: int) -> str | None:
    """The head of a file-diff block that fits ``budget``, fences closed; None if nothing fits."""
    if "```diff\n" not in block:
        return None
    head, _, rest = block.partition("```diff\n")
    tail = "```\n</details>\n"
    room = budget - len(head) - len("```diff\n") - len(tail) - len("…\n")
    if room <= 0:
        return None
    kept: list[str] = []
    used = 0
    for line in rest.splitlines(keepends=True):
        if used + len(line) > room:
            break
        kept.append(line)
        used += len(line)
    return head + "```diff\n" + "".join(kept) + "…\n" + tail if kept else None


def diff_markdown(diffs: Sequence[StackDiff], max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """The PR comment: a summary table, then details until ``max_chars``, with a note when cut."""
    intro = f"{COMMENT_MARKER}\n## slm-deploy: what this pull request changes\n\n"
    intro += "Offline renders of every stack on the base and on the head (`slm-deploy diff`); not `pulumi preview`.\n\n"
    if not diffs:
        return intro + "No stacks to compare.\n"
    text = intro + _summary_table(diffs)
    blocks = [block for d in diffs for block in _stack_blocks(d)]
    note = (
        "\n> **Cut:** this comment stops at {shown} of {total} sections to stay under {limit} characters. "
        "Run `slm-deploy diff <base> <head>` on the workflow's render artifacts for the rest.\n"
    )
    reserve = len(note) + 40
    for shown, block in enumerate(blocks):
        if len(text) + len(block) > max_chars - reserve:
            partial = _cut_block(block, max_chars - reserve - len(text))
            if partial is not None:
                text += partial
            return text + note.format(shown=shown, total=len(blocks), limit=max_chars)
        text += block
    return text
