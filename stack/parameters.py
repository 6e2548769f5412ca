"""The settings a deployer chooses, and the condition EnableStream drives.

Names and defaults are the ones docs/internals.md fixes (the deploy tool and the
emulator pass them). The parameters that locate the function code (``ArtifactsBucket``,
``<Name>CodeKey``) are declared with the functions, in functions.py.
"""

from __future__ import annotations

from troposphere import Equals, Parameter, Ref, Template

from chatlib import contract

# Condition: true when EnableStream is "true". The stream, its mapping, its failure
# queue and the stream rule (iot_rules/stream.py names it too) carry it.
STREAM_ENABLED = "StreamEnabled"

# The optional external identity provider, read by the authorizer function.
JWT_PARAMETERS = {
    "JwksUrl": "JWKS URL of an external identity provider (RS256/ES256), optional",
    "JwtIssuer": "Issuer (iss) of the external provider's tokens, optional",
    "JwtAudience": "Audience (aud) of the external provider's tokens, optional",
}


def add_parameters(t: Template) -> None:
    """TopicRoot, MessageRetentionDays, EnableStream (and its condition), the JWT trio."""
    t.add_parameter(
        Parameter(
            "TopicRoot",
            Type="String",
            Default=contract.DEFAULT_TOPIC_ROOT,
            AllowedPattern=contract.TOPIC_ROOT_PATTERN,
            Description="First level of every topic; lets several stacks share an endpoint",
        )
    )
    t.add_parameter(
        Parameter(
            "MessageRetentionDays",
            Type="Number",
            Default="7",
            MinValue=1,
            MaxValue=3650,
            Description="Days a stored message lives (DynamoDB TTL)",
        )
    )
    t.add_parameter(
        Parameter(
            "EnableStream",
            Type="String",
            Default="true",
            AllowedValues=["true", "false"],
            Description="false leaves out the Kinesis stream, its rule and its mapping",
        )
    )
    t.add_condition(STREAM_ENABLED, Equals(Ref("EnableStream"), "true"))
    for name, what in JWT_PARAMETERS.items():
        t.add_parameter(Parameter(name, Type="String", Default="", Description=what))
