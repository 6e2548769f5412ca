"""The stack's outputs: what the deploy tool reads back (names per docs/internals.md)."""

from __future__ import annotations

from troposphere import Output, Ref, Sub, Template


def add_outputs(t: Template) -> None:
    """Outputs per docs/internals.md (read by the deploy tool)."""
    outputs = {
        "SiteUrl": (Sub("https://${SiteDistribution.DomainName}/lobby"), "The chat, lobby room"),
        # The function URL ends in '/'; the token function answers on /api/token as
        # the emulator does.
        "TokenUrl": (
            Sub("${TokenFunctionUrl.FunctionUrl}api/token"),
            'POST {"name"} here for a guest token',
        ),
        "AuthorizerName": (Ref("ChatAuthorizer"), "IoT custom authorizer name"),
        "TopicRoot": (Ref("TopicRoot"), "First level of every topic"),
        "MessagesTableName": (Ref("MessagesTable"), "Messages table"),
        "ConnectionsTableName": (Ref("ConnectionsTable"), "Connections table"),
        "SiteBucketName": (Ref("SiteBucket"), "Bucket the web client is uploaded to"),
        "DistributionId": (Ref("SiteDistribution"), "CloudFront distribution (invalidations)"),
    }
    for name, (value, description) in outputs.items():
        t.add_output(Output(name, Value=value, Description=description))

    # How the local emulator serves this template on one port (emulator/serving.py):
    # the token URL at the root, so TokenUrl is /api/token, and config.json from the
    # same outputs deploy/site.py puts in the deployed one.
    t.set_metadata(
        {
            "LocalEmulator": {
                "Site": "web",
                "SiteConfig": {
                    "authorizer": "AuthorizerName",
                    "tokenUrl": "TokenUrl",
                    "topicRoot": "TopicRoot",
                },
                "FunctionUrlPaths": {"TokenFunctionUrl": "/"},
                "Open": "/lobby",
            }
        }
    )
