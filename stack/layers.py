"""Lambda layers: AWS's published Powertools layer for every function, and JwksLayer
(cryptography) for the authorizer in stacks that verify an identity provider's tokens.

Powertools: AWS publishes "Powertools for AWS Lambda (Python)" as a public layer per
region, Python version and architecture
(``arn:aws:lambda:<region>:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:<n>``,
Powertools documentation, "Install", Lambda Layer:
https://docs.aws.amazon.com/powertools/python/latest/#lambda-layer), and names each
release's ARN in a public SSM parameter,
``/aws/service/powertools/python/<arch>/<python>/<version>``. The template takes the layer
through that parameter (a parameter of type ``AWS::SSM::Parameter::Value<String>``), so
CloudFormation resolves the ARN of exactly the pinned version in the stack's own region;
``<n>`` differs per release and is never written here.

JwksLayer: PyJWT imports cryptography at ``import jwt`` whenever it is installed, which
costs every cold start; only RS256/ES256 verification needs it, so it ships as a layer
the authorizer gets only when JwksUrl is set.
"""

from __future__ import annotations

import re
from pathlib import Path

from troposphere import Equals, If, Not, Parameter, Ref, Sub, Template
from troposphere import awslambda as lam

ROOT = Path(__file__).resolve().parents[1]
POWERTOOLS_REQUIREMENTS = "lambdas/requirements/powertools-layer.txt"
JWKS_REQUIREMENTS = "lambdas/requirements/jwks-layer.txt"

POWERTOOLS_PARAMETER = "PowertoolsLayer"
JWKS_LAYER = "JwksLayer"
# Condition: true when JwksUrl is set (external RS256/ES256 tokens are accepted).
JWKS_CONFIGURED = "JwksConfigured"


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned_version(requirements: str, package: str) -> str:
    """The ``package==version`` pin of a requirements file, relative to the repository
    (names compare as pip compares them: ``aws_lambda_powertools`` is the same package)."""
    for line in (ROOT / requirements).read_text(encoding="utf-8").splitlines():
        name, sep, version = line.split("#", 1)[0].strip().partition("==")
        if sep and _normalised(name.split("[", 1)[0]) == _normalised(package):
            return version.strip()
    raise ValueError(f"{requirements} pins no {package}")


def powertools_parameter_name(runtime: str, architecture: str) -> str:
    """AWS's public SSM parameter holding the layer ARN of the pinned Powertools."""
    version = pinned_version(POWERTOOLS_REQUIREMENTS, "aws-lambda-powertools")
    return f"/aws/service/powertools/python/{architecture}/{runtime}/{version}"


def powertools_layer() -> Ref:
    """The Powertools layer ARN, for a function's Layers."""
    return Ref(POWERTOOLS_PARAMETER)


def jwks_layer_when_configured() -> If:
    """JwksLayer in a function's Layers when JwksUrl is set, nothing otherwise."""
    return If(JWKS_CONFIGURED, Ref(JWKS_LAYER), Ref("AWS::NoValue"))


def add_layers(t: Template, runtime: str, architecture: str) -> None:
    """The PowertoolsLayer parameter; JwksConfigured, JwksLayerCodeKey and JwksLayer."""
    t.add_parameter(
        Parameter(
            POWERTOOLS_PARAMETER,
            Type="AWS::SSM::Parameter::Value<String>",
            Default=powertools_parameter_name(runtime, architecture),
            Description="AWS's public parameter naming the Powertools layer ARN of the "
            "pinned version (lambdas/requirements/powertools-layer.txt)",
        )
    )
    t.add_condition(JWKS_CONFIGURED, Not(Equals(Ref("JwksUrl"), "")))
    t.add_parameter(
        Parameter(
            f"{JWKS_LAYER}CodeKey",
            Type="String",
            Description="S3 key of the JWKS layer zip (content hash)",
        )
    )
    t.add_resource(
        lam.LayerVersion(
            JWKS_LAYER,
            Condition=JWKS_CONFIGURED,
            LayerName=Sub("${AWS::StackName}-jwks"),
            Description="cryptography for RS256/ES256 tokens of the JwksUrl provider",
            Content=lam.Content(S3Bucket=Ref("ArtifactsBucket"), S3Key=Ref(f"{JWKS_LAYER}CodeKey")),
            CompatibleRuntimes=[runtime],
            CompatibleArchitectures=[architecture],
            # Where its packages come from: `make deploy` builds the zip from it.
            Metadata={"Build": {"Requirements": JWKS_REQUIREMENTS}},
        )
    )
