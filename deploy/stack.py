"""CloudFormation: stack state, change sets (create, show, execute, delete) and the
event stream that follows a stack until it settles."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from deploy import report
from deploy.errors import DeployError
from emulator.template.document import TemplateDocument

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"]
MAX_TEMPLATE_BODY = 51_200
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
# A stack in one of these cannot be updated; it can only be deleted and created again.
REPLACEABLE = {"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED", "DELETE_FAILED"}
UPDATABLE = {
    "CREATE_COMPLETE",
    "UPDATE_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE",
    "IMPORT_COMPLETE",
    "IMPORT_ROLLBACK_COMPLETE",
}


@dataclass
class Timing:
    """How often to poll and how long to wait (tests poll fast)."""

    poll: float = 5.0
    timeout: float = 3600.0
    sleep: Callable[[float], None] = time.sleep


@dataclass
class ChangeSet:
    """A created change set and what it would do."""

    id: str
    stack_id: str
    kind: str
    status: str
    reason: str = ""
    changes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """True when CloudFormation found nothing to change."""
        return self.status == "FAILED" and any(s in self.reason for s in NO_CHANGES)


def describe_stack(cfn: Any, name: str) -> dict[str, Any] | None:
    """The stack, or None if it does not exist."""
    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        if "does not exist" in exc.response.get("Error", {}).get("Message", ""):
            return None
        raise
    return stacks[0] if stacks else None


def outputs(stack: Mapping[str, Any]) -> dict[str, str]:
    """Stack outputs as a dict."""
    return {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs") or []}


def current_parameters(stack: Mapping[str, Any] | None) -> dict[str, str]:
    """The stack's parameter values as a dict (empty for a new stack)."""
    if not stack:
        return {}
    return {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters") or []}


def check_state(stack: Mapping[str, Any] | None, name: str, replace_failed: bool) -> str:
    """What to do with the stack: "create", "update" or "replace"; else a clear error."""
    if stack is None:
        return "create"
    status = stack["StackStatus"]
    if status == "REVIEW_IN_PROGRESS":
        return "replace"  # an unexecuted CREATE change set left an empty stack behind
    if status in UPDATABLE:
        return "update"
    if status.endswith("_IN_PROGRESS"):
        raise DeployError(
            f"stack {name} is busy ({status}): wait until it finishes, then run again"
        )
    if status in REPLACEABLE:
        if replace_failed:
            return "replace"
        raise DeployError(
            f"stack {name} is in {status} and cannot be updated (its last create or delete "
            "failed): rerun with --replace-failed to delete it and create it again, "
            "or run `make destroy`"
        )
    if status == "UPDATE_ROLLBACK_FAILED":
        raise DeployError(
            f"stack {name} is in UPDATE_ROLLBACK_FAILED: fix the cause, then run "
            f"`aws cloudformation continue-update-rollback --stack-name {name}` and deploy again"
        )
    raise DeployError(f"stack {name} is in {status}, which this tool cannot deploy over")


def build_parameters(
    template: TemplateDocument, given: Mapping[str, str], existing: Mapping[str, str] | None
) -> list[dict[str, Any]]:
    """Given values first; on update, keep earlier non-default values of the others."""
    declared = template.parameters
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise DeployError(f"the template declares no parameter {', '.join(unknown)}")
    params: list[dict[str, Any]] = []
    for key in sorted(declared):
        spec = declared[key] or {}
        if key in given:
            params.append({"ParameterKey": key, "ParameterValue": str(given[key])})
            continue
        has_default = "Default" in spec
        if existing is not None and key in existing:
            default = _as_text(spec.get("Default")) if has_default else None
            if spec.get("NoEcho") or not has_default or existing[key] != default:
                params.append({"ParameterKey": key, "UsePreviousValue": True})
            continue
        if not has_default:
            raise DeployError(f"parameter {key} has no default: pass --parameter {key}=VALUE")
    return params


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def create_change_set(
    ctx_cfn: Any,
    stack_name: str,
    kind: str,
    template_args: Mapping[str, str],
    parameters: list[dict[str, Any]],
    timing: Timing,
    name: str,
) -> ChangeSet:
    """Create a change set and wait until CloudFormation has computed it."""
    report.step(f"creating change set {name} ({kind}) for stack {stack_name}")
    try:
        resp = ctx_cfn.create_change_set(
            StackName=stack_name,
            ChangeSetName=name,
            ChangeSetType=kind,
            Parameters=parameters,
            Capabilities=CAPABILITIES,
            Description=f"python -m deploy ({kind.lower()})",
            **template_args,
        )
    except ClientError as exc:
        message = exc.response.get("Error", {}).get("Message", str(exc))
        if any(s in message for s in NO_CHANGES):
            return ChangeSet("", "", kind, "FAILED", message)
        raise DeployError(f"CloudFormation refused the change set: {message}") from None
    cs = ChangeSet(resp["Id"], resp["StackId"], kind, "CREATE_PENDING")
    deadline = time.monotonic() + timing.timeout
    while True:
        desc = ctx_cfn.describe_change_set(ChangeSetName=cs.id, StackName=stack_name)
        cs.status = desc["Status"]
        cs.reason = desc.get("StatusReason", "") or ""
        if cs.status in ("CREATE_COMPLETE", "FAILED", "DELETE_COMPLETE"):
            break
        if time.monotonic() > deadline:
            raise DeployError(f"change set {name} still {cs.status} after {timing.timeout:.0f} s")
        timing.sleep(timing.poll)
    if cs.status == "CREATE_COMPLETE":
        cs.changes = list(desc.get("Changes", []))
        token = desc.get("NextToken")
        while token:
            desc = ctx_cfn.describe_change_set(
                ChangeSetName=cs.id, StackName=stack_name, NextToken=token
            )
            cs.changes.extend(desc.get("Changes", []))
            token = desc.get("NextToken")
    return cs


def delete_change_set(cfn: Any, cs: ChangeSet, stack_name: str) -> None:
    """Remove a change set that will not be executed."""
    if cs.id:
        cfn.delete_change_set(ChangeSetName=cs.id, StackName=stack_name)


def print_changes(cs: ChangeSet) -> None:
    """The change set as a table: action, logical id, type, replacement."""
    rows = []
    for change in cs.changes:
        rc = change.get("ResourceChange", {})
        rows.append(
            [
                rc.get("Action", "?"),
                rc.get("LogicalResourceId", "?"),
                rc.get("ResourceType", "?"),
                rc.get("Replacement") or "-",
            ]
        )
    if rows:
        report.print_table(["Action", "LogicalId", "Type", "Replacement"], rows)
    else:
        report.info("(no resource changes listed; parameter values change only)")


def print_parameter_changes(old: Mapping[str, str], params: list[dict[str, Any]]) -> int:
    """Parameters whose value changes, as a table; returns how many."""
    rows = []
    for p in params:
        if "ParameterValue" in p and old.get(p["ParameterKey"]) != p["ParameterValue"]:
            key = p["ParameterKey"]
            rows.append([key, old.get(key, "(new)"), p["ParameterValue"]])
    if rows:
        report.print_table(["Parameter", "Old", "New"], rows)
    return len(rows)


def _new_events(cfn: Any, stack_id: str, seen: set[str]) -> list[dict[str, Any]]:
    """Events not seen yet, oldest first (pages stop at the first already-seen event)."""
    fresh: list[dict[str, Any]] = []
    for page in cfn.get_paginator("describe_stack_events").paginate(StackName=stack_id):
        events = page.get("StackEvents", [])
        new = [e for e in events if e["EventId"] not in seen]
        fresh.extend(new)
        if len(new) < len(events):
            break
    for e in fresh:
        seen.add(e["EventId"])
    return sorted(fresh, key=lambda e: e["Timestamp"])


def seen_events(cfn: Any, stack_id: str) -> set[str]:
    """Ids of the events that exist now, so the stream shows only what follows."""
    seen: set[str] = set()
    _new_events(cfn, stack_id, seen)
    return seen


def _print_event(e: Mapping[str, Any]) -> None:
    when = e["Timestamp"].strftime("%H:%M:%S")
    reason = e.get("ResourceStatusReason") or ""
    line = f"{when}  {e['ResourceStatus']:<28} {e['LogicalResourceId']} ({e['ResourceType']})"
    report.info(f"{line}  {reason}".rstrip())


def wait_for_stack(
    cfn: Any, stack_id: str, name: str, seen: set[str], before: str | None, timing: Timing
) -> tuple[str, list[dict[str, Any]]]:
    """Stream events until the stack settles; returns its final status and the events."""
    started = time.monotonic()
    last_note = started
    events: list[dict[str, Any]] = []
    while True:
        status = _status(cfn, stack_id)  # first, so the events read next include its own
        fresh = _new_events(cfn, stack_id, seen)
        for e in fresh:
            _print_event(e)
        events.extend(fresh)
        settled_by_event = any(
            e["LogicalResourceId"] == name
            and e["ResourceType"] == "AWS::CloudFormation::Stack"
            and not e["ResourceStatus"].endswith("_IN_PROGRESS")
            for e in events
        )
        if not status.endswith("_IN_PROGRESS") and (status != before or settled_by_event):
            return status, events
        now = time.monotonic()
        if now - started > timing.timeout:
            raise DeployError(f"stack {name} still {status} after {timing.timeout:.0f} s")
        if now - last_note >= 30:
            report.info(f"... {status} ({now - started:.0f} s)")
            last_note = now
        timing.sleep(timing.poll)


def _status(cfn: Any, stack_id: str) -> str:
    try:
        return str(cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"])
    except ClientError as exc:
        if "does not exist" in exc.response.get("Error", {}).get("Message", ""):
            return "DELETE_COMPLETE"
        raise


def failed_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Events that carry a failure, in order."""
    return [e for e in events if e["ResourceStatus"].endswith("_FAILED")]


def print_failures(events: list[dict[str, Any]]) -> None:
    """The failed resources and CloudFormation's reasons."""
    rows = [
        [
            e["LogicalResourceId"],
            e["ResourceType"],
            e["ResourceStatus"],
            e.get("ResourceStatusReason") or "",
        ]
        for e in failed_events(events)
    ]
    if rows:
        report.print_table(["LogicalId", "Type", "Status", "Reason"], rows)


def execute(cfn: Any, cs: ChangeSet, name: str, before: str | None, timing: Timing) -> None:
    """Execute the change set and follow the stack; failure raises with the reasons."""
    seen = seen_events(cfn, cs.stack_id)
    report.step(f"executing change set on stack {name}")
    cfn.execute_change_set(ChangeSetName=cs.id, StackName=name)
    status, events = wait_for_stack(cfn, cs.stack_id, name, seen, before, timing)
    expected = f"{cs.kind}_COMPLETE"
    if status != expected:
        print_failures(events)
        n = len({e["LogicalResourceId"] for e in failed_events(events)})
        raise DeployError(
            f"stack {name} ended in {status} (expected {expected}): "
            f"{n} resource(s) failed, reasons above"
        )
    report.step(f"stack {name}: {status}")


def delete_and_wait(cfn: Any, stack: Mapping[str, Any], timing: Timing) -> None:
    """Delete a stack and follow it until it is gone."""
    stack_id, name = stack["StackId"], stack["StackName"]
    seen = seen_events(cfn, stack_id)
    report.step(f"deleting stack {name} ({stack['StackStatus']})")
    cfn.delete_stack(StackName=stack_id)
    status, events = wait_for_stack(cfn, stack_id, name, seen, stack["StackStatus"], timing)
    if status != "DELETE_COMPLETE":
        print_failures(events)
        raise DeployError(
            f"stack {name} could not be deleted ({status}): see the reasons above; "
            "empty or remove the listed resources, then run again"
        )
    report.step(f"stack {name}: DELETE_COMPLETE")


def template_args(body: str, upload: Callable[[], str]) -> dict[str, str]:
    """TemplateBody when it fits the API limit, else a TemplateURL of an uploaded copy."""
    if len(body.encode("utf-8")) <= MAX_TEMPLATE_BODY:
        return {"TemplateBody": body}
    return {"TemplateURL": upload()}
