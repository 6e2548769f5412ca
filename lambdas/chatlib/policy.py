"""The IoT policy the authorizer returns for one principal."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chatlib import contract


@dataclass(frozen=True)
class ArnScope:
    partition: str
    region: str
    account: str

    @classmethod
    def from_function_arn(cls, arn: Any) -> ArnScope:
        """Partition, region and account of a Lambda function ARN
        (``arn:<partition>:lambda:<region>:<account>:function:<name>``)."""
        parts = arn.split(":") if isinstance(arn, str) else []
        if len(parts) < 7 or parts[0] != "arn" or parts[2] != "lambda":
            raise ValueError(f"not a Lambda function ARN: {arn!r}")
        partition, region, account = parts[1], parts[3], parts[4]
        if not partition or not region or not account.isdigit():
            raise ValueError(f"not a Lambda function ARN: {arn!r}")
        return cls(partition, region, account)

    def iot(self, resource: str) -> str:
        return f"arn:{self.partition}:iot:{self.region}:{self.account}:{resource}"


def build_policy(principal_id: str, topic_root: str, scope: ArnScope) -> dict[str, Any]:
    """Connect as ``<principalId>-*``; subscribe/receive own inbox and rooms; publish
    commands only."""
    own_inbox = contract.topic("inbox", topic_root, client_id="${iot:ClientId}")
    rooms = contract.topic("room", topic_root, room="*")
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "iot:Connect",
                "Resource": scope.iot(f"client/{principal_id}-*"),
            },
            {
                "Effect": "Allow",
                "Action": "iot:Subscribe",
                "Resource": [
                    scope.iot(f"topicfilter/{own_inbox}"),
                    scope.iot(f"topicfilter/{rooms}"),
                ],
            },
            {
                "Effect": "Allow",
                "Action": "iot:Receive",
                "Resource": [scope.iot(f"topic/{own_inbox}"), scope.iot(f"topic/{rooms}")],
            },
            {
                "Effect": "Allow",
                "Action": "iot:Publish",
                "Resource": [
                    scope.iot("topic/" + contract.topic("out", topic_root)),
                    scope.iot("topic/" + contract.topic("stream", topic_root)),
                ],
            },
        ],
    }


def policy_documents(principal_id: str, topic_root: str, scope: ArnScope) -> list[str]:
    return [json.dumps(build_policy(principal_id, topic_root, scope), separators=(",", ":"))]
