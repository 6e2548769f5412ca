"""stack/outputs.py: exactly the outputs the deploy tool reads."""

from __future__ import annotations

from typing import Any


def test_outputs_follow_internals(template: dict[str, Any]) -> None:
    """The deploy tool reads exactly these outputs."""
    assert set(template["Outputs"]) == {
        "SiteUrl",
        "TokenUrl",
        "AuthorizerName",
        "TopicRoot",
        "MessagesTableName",
        "ConnectionsTableName",
        "SiteBucketName",
        "DistributionId",
    }
    assert template["Outputs"]["SiteUrl"]["Value"] == {
        "Fn::Sub": "https://${SiteDistribution.DomainName}/lobby"
    }
