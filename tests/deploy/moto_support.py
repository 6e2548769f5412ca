"""What moto 5.2.5's CloudFormation can and cannot run, so tests say it explicitly.

moto skips resource types it does not implement (logging a warning), and then fails the
whole ExecuteChangeSet when a kept resource uses `Fn::GetAtt` on a skipped one (for
example `AuthorizerInvokePermission` -> `ChatAuthorizer.Arn`). `for_moto` removes the
unsupported resources, everything that reaches them through GetAtt/DependsOn, and the
outputs built from them, and says what it removed and why."""

from __future__ import annotations

import copy
from typing import Any

from moto.cloudformation.parsing import NULL_MODELS, get_model_map


def unsupported_types(template: dict[str, Any]) -> set[str]:
    """Resource types in the template that moto's CloudFormation does not create."""
    models = get_model_map()
    types = {res["Type"] for res in template["Resources"].values()}
    return {t for t in types if t not in models and t not in NULL_MODELS}


def _getatt_and_depends(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Fn::GetAtt":
                target = value[0] if isinstance(value, list) else str(value).split(".")[0]
                found.add(target)
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                for part in str(text).split("${")[1:]:
                    name = part.split("}")[0]
                    if "." in name:
                        found.add(name.split(".")[0])
                found |= _getatt_and_depends(value)
            else:
                found |= _getatt_and_depends(value)
    elif isinstance(node, list):
        for item in node:
            found |= _getatt_and_depends(item)
    return found


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            found |= _refs(value)
    elif isinstance(node, list):
        for item in node:
            found |= _refs(item)
    return found


def skipped_ids(template: dict[str, Any], skipped: set[str]) -> set[str]:
    """Logical ids moto will skip by itself (left in the template, as in real use)."""
    return {lid for lid, res in template["Resources"].items() if res["Type"] in skipped}


def for_moto(template: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """A copy moto can run, and {removed logical id or Outputs.<name>: why}."""
    tpl = copy.deepcopy(template)
    resources = tpl["Resources"]
    skipped = unsupported_types(tpl)
    removed = {
        lid: f"{res['Type']} is not implemented by moto's CloudFormation"
        for lid, res in resources.items()
        if res["Type"] in skipped
    }
    changed = True
    while changed:
        changed = False
        for lid, res in resources.items():
            if lid in removed:
                continue
            deps = res.get("DependsOn", [])
            deps = [deps] if isinstance(deps, str) else deps
            hit = (_getatt_and_depends(res) | set(deps)) & set(removed)
            if hit:
                removed[lid] = f"needs {', '.join(sorted(hit))} (GetAtt/DependsOn)"
                changed = True
    for lid in [k for k in removed if k not in skipped_ids(template, skipped)]:
        resources.pop(lid)
    for name, out in list((tpl.get("Outputs") or {}).items()):
        hit = (_getatt_and_depends(out) | _refs(out)) & set(removed)
        if hit:
            removed[f"Outputs.{name}"] = f"built from {', '.join(sorted(hit))}"
    return tpl, removed


STAND_IN_PARAMETER = "/test/powertools/layer-arn"
STAND_IN_ARN = (
    "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:1"
)


def provide_public_parameters(template: dict[str, Any], ssm: Any) -> dict[str, str]:
    """Stand in for the public SSM parameter AWS provides in every region, naming its
    Powertools layer ARN, which moto does not hold.

    moto refuses to create a parameter under ``/aws/`` (as AWS does), so each parameter
    of type ``AWS::SSM::Parameter::Value<String>`` is pointed at one of the test's own.
    (moto's CloudFormation drops a function's ``Layers``, so no layer is needed behind
    the ARN.) Changes ``template`` in place; returns {template parameter: why}."""
    changed: dict[str, str] = {}
    for name, spec in (template.get("Parameters") or {}).items():
        if spec.get("Type") == "AWS::SSM::Parameter::Value<String>":
            ssm.put_parameter(Name=STAND_IN_PARAMETER, Value=STAND_IN_ARN, Type="String")
            changed[name] = f"{spec['Default']} is AWS's; moto resolves {STAND_IN_PARAMETER}"
            spec["Default"] = STAND_IN_PARAMETER
    return changed
