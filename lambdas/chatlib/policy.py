"""The IoT policy the authorizer returns for one principal.

Its first document lets the client connect as ``<principalId>-*``, subscribe to and
receive its own inbox, its user topic (``<root>/user/<principalId>``: every connection
of the principal, no one else) and the public rooms, and publish commands. Each private
room the principal belongs to adds two resources (subscribe to and receive
``<root>/priv/<roomId>``); they fill further documents. AWS IoT accepts at most 10
policy documents of at most 2048 characters each from a custom authorizer, which is
what bounds a principal's private rooms (``MAX_PRIVATE_ROOMS``, docs/internals.md).
AWS: "Defining your Lambda function",
https://docs.aws.amazon.com/iot/latest/developerguide/config-custom-auth.html
"""

from __future__ import annotations

import json
from collections.abc import Sequence
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


MAX_DOCUMENTS = 10
MAX_DOCUMENT_CHARS = 2048  # white space excluded; these documents have none
# Private rooms per document after the first and in all: the worst case (longest
# partition, region, account and topic root) fits, tests/lambdas/chatlib/test_policy.py shows.
ROOMS_PER_DOCUMENT = 8
MAX_PRIVATE_ROOMS = ROOMS_PER_DOCUMENT * (MAX_DOCUMENTS - 1)


def build_policy(principal_id: str, topic_root: str, scope: ArnScope) -> dict[str, Any]:
    """Connect as ``<principalId>-*``; subscribe/receive own inbox, own user topic and
    the public rooms; publish commands only."""
    own_inbox = contract.topic("inbox", topic_root, client_id="${iot:ClientId}")
    own_user = contract.topic("user", topic_root, principal=principal_id)
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
                    scope.iot(f"topicfilter/{own_user}"),
                    scope.iot(f"topicfilter/{rooms}"),
                ],
            },
            {
                "Effect": "Allow",
                "Action": "iot:Receive",
                "Resource": [
                    scope.iot(f"topic/{own_inbox}"),
                    scope.iot(f"topic/{own_user}"),
                    scope.iot(f"topic/{rooms}"),
                ],
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


def private_rooms_policy(rooms: Sequence[str], topic_root: str, scope: ArnScope) -> dict[str, Any]:
    """Subscribe to and receive the given private rooms' topics."""
    topics = [contract.topic("private", topic_root, room=room) for room in rooms]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "iot:Subscribe",
                "Resource": [scope.iot(f"topicfilter/{t}") for t in topics],
            },
            {
                "Effect": "Allow",
                "Action": "iot:Receive",
                "Resource": [scope.iot(f"topic/{t}") for t in topics],
            },
        ],
    }


def _compact(document: dict[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"))


def policy_documents(
    principal_id: str, topic_root: str, scope: ArnScope, private_rooms: Sequence[str] = ()
) -> list[str]:
    """The principal's policy documents: the base one, then its private rooms,
    ROOMS_PER_DOCUMENT to a document. Rooms past MAX_PRIVATE_ROOMS are left out (the
    chat function never lets a principal join more)."""
    rooms = sorted(set(private_rooms))[:MAX_PRIVATE_ROOMS]
    documents = [_compact(build_policy(principal_id, topic_root, scope))]
    for start in range(0, len(rooms), ROOMS_PER_DOCUMENT):
        chunk = rooms[start : start + ROOMS_PER_DOCUMENT]
        documents.append(_compact(private_rooms_policy(chunk, topic_root, scope)))
    return documents
