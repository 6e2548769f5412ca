"""chatlib.policy and chatlib.config."""

from __future__ import annotations

import json

import pytest

from chatlib import config, policy
from chatlib.policy import ArnScope, build_policy


def test_scope_from_function_arn() -> None:
    scope = ArnScope.from_function_arn("arn:aws-cn:lambda:cn-north-1:111122223333:function:f:live")
    assert scope == ArnScope("aws-cn", "cn-north-1", "111122223333")
    assert scope.iot("topic/x") == "arn:aws-cn:iot:cn-north-1:111122223333:topic/x"


@pytest.mark.parametrize(
    "arn",
    [None, "", "arn:aws:s3:::bucket", "arn:aws:lambda:us-east-1:abc:function:f", "nope"],
)
def test_bad_function_arns(arn) -> None:
    with pytest.raises(ValueError):
        ArnScope.from_function_arn(arn)


def test_policy_allows_nothing_else() -> None:
    base = build_policy("p1", "chat", ArnScope("aws", "us-east-1", "123456789012"))
    actions = [s["Action"] for s in base["Statement"]]
    assert actions == ["iot:Connect", "iot:Subscribe", "iot:Receive", "iot:Publish"]
    assert all(s["Effect"] == "Allow" for s in base["Statement"])
    text = str(base)
    assert "*:*" not in text and "topic/chat/*" not in text


def test_config_defaults_and_clamps(monkeypatch) -> None:
    for name in ("TOPIC_ROOT", "GUEST_ISSUER", "GUEST_AUDIENCE", "TOKEN_LIFETIME_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    assert config.topic_root() == "chat"
    assert config.guest_issuer() == config.DEFAULT_GUEST_ISSUER
    assert config.guest_audience() == config.DEFAULT_GUEST_AUDIENCE
    assert config.token_lifetime_seconds() == 3600
    monkeypatch.setenv("TOPIC_ROOT", "bad/root")
    with pytest.raises(config.ConfigError):
        config.topic_root()
    monkeypatch.setenv("MESSAGE_RETENTION_DAYS", "zero")
    with pytest.raises(config.ConfigError):
        config.message_retention_days()
    monkeypatch.delenv("MESSAGES_TABLE", raising=False)
    with pytest.raises(config.ConfigError):
        config.messages_table()


def test_the_most_private_rooms_fit_aws_limits_in_the_worst_case() -> None:
    """MAX_PRIVATE_ROOMS rooms with the longest partition, region, account, topic root
    and principal stay within AWS's 10 documents of 2048 characters (no white space)."""
    scope = ArnScope("aws-iso-b", "ap-southeast-2", "123456789012")
    rooms = [f"p-{n:020x}" for n in range(policy.MAX_PRIVATE_ROOMS + 5)]
    documents = policy.policy_documents("P" * 128, "r" * 32, scope, rooms)
    assert len(documents) == policy.MAX_DOCUMENTS
    assert max(len(d) for d in documents) <= policy.MAX_DOCUMENT_CHARS
    assert not any(c.isspace() for d in documents for c in d)
    granted = {
        resource
        for d in documents[1:]
        for s in json.loads(d)["Statement"]
        if s["Action"] == "iot:Subscribe"
        for resource in s["Resource"]
    }
    # The rooms past the limit are left out (the chat function never lets one in).
    assert len(granted) == policy.MAX_PRIVATE_ROOMS
    assert policy.MAX_PRIVATE_ROOMS == 72


def test_a_private_room_policy_grants_only_subscribe_and_receive() -> None:
    scope = ArnScope("aws", "us-east-1", "123456789012")
    document = policy.private_rooms_policy(["p-" + "a" * 20], "chat", scope)
    assert document["Statement"] == [
        {
            "Effect": "Allow",
            "Action": "iot:Subscribe",
            "Resource": [f"arn:aws:iot:us-east-1:123456789012:topicfilter/chat/priv/p-{'a' * 20}"],
        },
        {
            "Effect": "Allow",
            "Action": "iot:Receive",
            "Resource": [f"arn:aws:iot:us-east-1:123456789012:topic/chat/priv/p-{'a' * 20}"],
        },
    ]
