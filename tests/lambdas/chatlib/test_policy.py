"""chatlib.policy and chatlib.config."""

from __future__ import annotations

import pytest

from chatlib import config
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
    policy = build_policy("p1", "chat", ArnScope("aws", "us-east-1", "123456789012"))
    actions = [s["Action"] for s in policy["Statement"]]
    assert actions == ["iot:Connect", "iot:Subscribe", "iot:Receive", "iot:Publish"]
    assert all(s["Effect"] == "Allow" for s in policy["Statement"])
    text = str(policy)
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
