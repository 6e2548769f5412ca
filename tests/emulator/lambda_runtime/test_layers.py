"""Layers in the emulator: named, and checked against the virtualenv that provides them."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path
from typing import Any

from emulator.lambda_runtime.layers import check_layers
from emulator.template import load_template, template_from_dict

REPO = Path(__file__).resolve().parents[3]
TEMPLATE = REPO / "templates" / "chat.json"
POWERTOOLS = version("aws-lambda-powertools")
ALL = ("AuthorizerFunction", "ChatFunction", "PresenceFunction", "TokenFunction")


def with_layers(*layers: Any) -> dict[str, Any]:
    return {
        "Resources": {
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Metadata": {"Build": {"Source": "lambdas"}},
                "Properties": {"Handler": "chat.handler", "Layers": list(layers)},
            }
        }
    }


def test_the_chat_template_runs_on_the_virtualenvs_powertools() -> None:
    [powertools] = check_layers(load_template(TEMPLATE), REPO)
    assert powertools.layer.endswith(f"/python3.12/{POWERTOOLS}")
    assert powertools.functions == ALL
    assert powertools.provided_by == f"the virtualenv's aws-lambda-powertools {POWERTOOLS}"
    assert powertools.problem is None


def test_with_a_jwks_url_the_authorizer_gets_cryptography() -> None:
    template = load_template(TEMPLATE, parameters={"JwksUrl": "https://idp.example/jwks.json"})
    checks = {c.layer: c for c in check_layers(template, REPO)}
    jwks = checks["JwksLayer"]
    assert jwks.functions == ("AuthorizerFunction",)
    assert f"cryptography {version('cryptography')}" in jwks.provided_by
    assert jwks.problem is None


def test_another_powertools_release_is_a_mismatch() -> None:
    name = "/aws/service/powertools/python/arm64/python3.12/3.0.0"
    [check] = check_layers(template_from_dict(with_layers(name)), REPO)
    assert check.problem == f"the layer has aws-lambda-powertools 3.0.0 (virtualenv: {POWERTOOLS})"


def test_powertools_by_arn_and_an_unknown_layer() -> None:
    arn = (
        "arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:9"
    )
    other = "arn:aws:lambda:eu-west-1:111122223333:layer:mine:1"
    checks = {c.layer: c for c in check_layers(template_from_dict(with_layers(arn, other)), REPO)}
    assert checks[arn].problem is None and POWERTOOLS in checks[arn].provided_by
    assert checks[other].problem == "its packages must be in the virtualenv"
