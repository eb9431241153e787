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


#: What every resource of plan.json carries (components/render/recorder.py writes them).
REQUIRED_KEYS = ("type", "urn", "name")


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


def _malformed(resource: Any) -> str | None:
    """Why a plan.json entry cannot be judged, or None when it can."""
    if not isinstance(resource, dict):
        return f"is not an object ({type(resource).__name__})"
    # type and name are never empty; a read resource (a StackReference) has an empty urn
    missing = [key for key in REQUIRED_KEYS if not isinstance(resource.get(key), str)]
    missing += [key for key in ("type", "name") if key not in missing and not resource[key]]
    if missing:
        return f"has no {', '.join(missing)}: not a resource the render writes"
    if not isinstance(resource.get("inputs") or {}, dict):
        return "has inputs that are not an object"
    return None


def validate(inputs: Inputs) -> Result:
    try:
        from policies.rules import RULES
    except ImportError as exc:
        return Result(VALIDATOR, "plan.json", error=f"cannot import the policies ({exc}): run `make setup`")
    shown = inputs.show(inputs.plan)
    try:
        resources = json.loads(inputs.plan.read_text(encoding="utf-8"))["resources"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return Result(VALIDATOR, shown, error=f"cannot read plan.json: {exc}")
    if not isinstance(resources, list):
        return Result(VALIDATOR, shown, error="cannot read plan.json: resources is not a list")
    result = Result(VALIDATOR, f"{len(RULES)} policies x {len(resources)} resources in {shown}", count=len(resources))
    for index, resource in enumerate(resources):
        problem = _malformed(resource)
        if problem is not None:
            result.findings.append(Finding(shown, f"resources[{index}]", "plan.json", problem))
            continue
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
