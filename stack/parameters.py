"""The settings a deployer chooses, and the condition EnableStream drives.

Names and defaults are the ones docs/internals.md fixes (the deploy tool and the
emulator pass them). The parameters that locate the function code (``ArtifactsBucket``,
``<Name>CodeKey``) are declared with the functions, in functions.py.
"""

from __future__ import annotations

from troposphere import Equals, Not, Parameter, Ref, Template

from chatlib import contract

# Condition: true when EnableStream is "true". The stream, its mapping, its failure
# queue and the stream rule (iot_rules/stream.py names it too) carry it.
STREAM_ENABLED = "StreamEnabled"
# Conditions of the site's opt-ins: a web ACL, access logs (site.py).
SITE_WEB_ACL = "SiteWebAclGiven"
SITE_LOGS = "SiteLogsEnabled"

# The optional external identity provider, read by the authorizer function.
JWT_PARAMETERS = {
    "JwksUrl": "JWKS URL of an external identity provider (RS256/ES256), optional",
    "JwtIssuer": "Issuer (iss) of the external provider's tokens, optional",
    "JwtAudience": "Audience (aud) of the external provider's tokens, optional",
}


def add_parameters(t: Template) -> None:
    """TopicRoot, MessageRetentionDays, EnableStream (and its condition), the JWT trio,
    then the security options that cost money (docs/deploy.md, "Security posture")."""
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
        switch("EnableStream", "false leaves out the Kinesis stream, its rule and its mapping")
    )
    t.add_condition(STREAM_ENABLED, Equals(Ref("EnableStream"), "true"))
    for name, what in JWT_PARAMETERS.items():
        t.add_parameter(Parameter(name, Type="String", Default="", Description=what))
    add_cost_options(t)


def add_cost_options(t: Template) -> None:
    """EnablePointInTimeRecovery, SiteWebAclArn, SiteLogBucket and their conditions; each
    description says what the option costs (us-east-1 list prices)."""
    t.add_parameter(
        switch(
            "EnablePointInTimeRecovery",
            "Continuous backups of the messages table, 35 days back "
            "(USD 0.20 per GB-month of table size)",
        )
    )
    add_optional(
        t,
        "SiteWebAclArn",
        SITE_WEB_ACL,
        pattern="arn:aws[a-z-]*:wafv2:us-east-1:[0-9]{12}:global/webacl/.+",
        description="ARN of an existing AWS WAF web ACL (CloudFront scope) for the site, "
        "optional (a web ACL: USD 5 a month, 1 per rule, 0.60 per million requests)",
    )
    add_optional(
        t,
        "SiteLogBucket",
        SITE_LOGS,
        pattern="[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]",
        description="Name of an existing S3 bucket (ACLs enabled) for the site's "
        "CloudFront access logs, optional (their S3 storage, USD 0.023 per GB-month)",
    )


def switch(name: str, description: str) -> Parameter:
    """A "true"/"false" parameter, on by default."""
    return Parameter(
        name,
        Type="String",
        Default="true",
        AllowedValues=["true", "false"],
        Description=description,
    )


def add_optional(t: Template, name: str, condition: str, pattern: str, description: str) -> None:
    """A parameter that is empty by default or matches ``pattern``, and the condition
    that it was given."""
    t.add_parameter(
        Parameter(
            name,
            Type="String",
            Default="",
            AllowedPattern=f"^({pattern})?$",
            Description=description,
        )
    )
    t.add_condition(condition, Not(Equals(Ref(name), "")))
