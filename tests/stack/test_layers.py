"""stack/layers.py: AWS's Powertools layer of exactly the pinned version, in any region;
cryptography only for an authorizer that verifies an identity provider's tokens."""

from __future__ import annotations

import re
from typing import Any

import pytest

from stack.layers import pinned_version
from tests.stack.conftest import REPO, of_type

SSM_NAME = re.compile(r"^/aws/service/powertools/python/(arm64|x86_64)/(python3\.\d+)/(\S+)$")


def lock_pin(package: str) -> str:
    return pinned_version("requirements.txt", package)


def test_powertools_layer_is_the_pinned_version_for_the_functions_platform(
    template: dict[str, Any],
) -> None:
    """The public SSM parameter names the layer of the version the emulator runs, for the
    functions' runtime and architecture; CloudFormation resolves it in the stack's region."""
    parameter = template["Parameters"]["PowertoolsLayer"]
    assert parameter["Type"] == "AWS::SSM::Parameter::Value<String>"
    match = SSM_NAME.match(parameter["Default"])
    assert match, parameter["Default"]
    architecture, runtime, version = match.groups()
    assert version == lock_pin("aws-lambda-powertools")
    functions = of_type(template["Resources"], "AWS::Lambda::Function")
    for props in (f["Properties"] for f in functions.values()):
        assert props["Architectures"] == [architecture] and props["Runtime"] == runtime
        assert props["Layers"][0] == {"Ref": "PowertoolsLayer"}
    assert "017000801446" not in (REPO / "templates" / "chat.json").read_text()


def test_jwks_layer_exists_only_with_a_jwks_url(template: dict[str, Any]) -> None:
    assert template["Conditions"]["JwksConfigured"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "JwksUrl"}, ""]}]
    }
    layer = template["Resources"]["JwksLayer"]
    assert layer["Type"] == "AWS::Lambda::LayerVersion"
    assert layer["Condition"] == "JwksConfigured"
    assert layer["Metadata"] == {"Build": {"Requirements": "lambdas/requirements/jwks-layer.txt"}}
    props = layer["Properties"]
    assert props["Content"] == {
        "S3Bucket": {"Ref": "ArtifactsBucket"},
        "S3Key": {"Ref": "JwksLayerCodeKey"},
    }
    assert props["CompatibleRuntimes"] == ["python3.12"]
    assert props["CompatibleArchitectures"] == ["arm64"]
    assert "Default" not in template["Parameters"]["JwksLayerCodeKey"]
    users = [
        lid
        for lid, res in of_type(template["Resources"], "AWS::Lambda::Function").items()
        if "JwksLayer" in str(res["Properties"]["Layers"])
    ]
    assert users == ["AuthorizerFunction"]


def test_the_jwks_layer_carries_the_cryptography_pyjwt_needs() -> None:
    assert pinned_version("lambdas/requirements/jwks-layer.txt", "cryptography") == lock_pin(
        "cryptography"
    )


def test_a_missing_pin_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="pins no boto3"):
        pinned_version("lambdas/requirements/pyjwt.txt", "boto3")
