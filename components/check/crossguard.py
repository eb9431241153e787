"""The CrossGuard policy functions (policies/rules.py) over every resource of plan.json.

This is what ``pulumi preview --policy-pack policies`` would evaluate, fed from the offline
render instead of the engine: plan.json inputs use the same wire format as policy ``props``.
"""

from __future__ import annotations

import json
from typing import Any

from components.check.inputs import Inputs
from components.check.report import Finding, Result

VALIDATOR = "crossguard policies"


def _args(resource: dict[str, Any]) -> Any:
    from pulumi_policy import PolicyCustomTimeouts, PolicyResourceOptions, ResourceValidationArgs

    opts = PolicyResourceOptions(
        protect=False,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=resource.get("parent"),
    )
    return ResourceValidationArgs(
        resource["type"], resource.get("inputs") or {}, resource["urn"], resource["name"], opts, None
    )


def validate(inputs: Inputs) -> Result:
    try:
        from policies.rules import RULES
    except ImportError as exc:
        return Result(VALIDATOR, "plan.json", error=f"cannot import the policies ({exc}): run `make setup`")
    shown = inputs.show(inputs.plan)
    try:
        resources = json.loads(inputs.plan.read_text(encoding="utf-8"))["resources"]
    except (OSError, ValueError, KeyError) as exc:
        return Result(VALIDATOR, shown, error=f"cannot read plan.json: {exc}")
    result = Result(VALIDATOR, f"{len(RULES)} policies x {len(resources)} resources in {shown}", count=len(resources))
    for resource in resources:
        args = _args(resource)
        obj = f"{resource['type']} {resource['name']}"
        for rule in RULES:
            messages: list[str] = []

            def report(message: str, urn: str | None = None, sink: list[str] = messages) -> None:
                sink.append(message)

            try:
                rule.validate(args, report)
            except Exception as exc:  # a policy bug must show up as a failure, not a traceback
                messages.append(f"the policy raised {type(exc).__name__}: {exc}")
            result.findings += [Finding(shown, obj, rule.name, message) for message in messages]
    return result
