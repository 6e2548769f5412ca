"""IoT policy engine: wildcards, variables, explicit deny, each action."""

from __future__ import annotations

import json

import pytest

from emulator.iot.policy import (
    Decision,
    IotArns,
    Policy,
    PolicyError,
    PolicySet,
    connection_variables,
)

ARNS = IotArns("us-east-1", "123456789012")
VARS = connection_variables("alice-1")


def policy(*statements: dict) -> PolicySet:
    return PolicySet.from_documents(
        [json.dumps({"Version": "2012-10-17", "Statement": list(statements)})]
    )


def test_client_id_variable_is_substituted() -> None:
    ps = policy(
        {
            "Effect": "Allow",
            "Action": "iot:Subscribe",
            "Resource": ARNS.topicfilter("chat/in/${iot:ClientId}"),
        }
    )
    assert ps.is_allowed("iot:Subscribe", ARNS.topicfilter("chat/in/alice-1"), VARS)
    assert not ps.is_allowed("iot:Subscribe", ARNS.topicfilter("chat/in/bob-1"), VARS)


def test_variable_value_is_literal_not_a_wildcard() -> None:
    ps = policy(
        {"Effect": "Allow", "Action": "iot:Receive", "Resource": ARNS.topic("in/${iot:ClientId}")}
    )
    star = connection_variables("*")
    assert ps.is_allowed("iot:Receive", ARNS.topic("in/*"), star)
    assert not ps.is_allowed("iot:Receive", ARNS.topic("in/anything"), star)


def test_unknown_variable_matches_nothing() -> None:
    ps = policy(
        {"Effect": "Allow", "Action": "iot:Publish", "Resource": ARNS.topic("${iot:Unknown}")}
    )
    assert not ps.is_allowed("iot:Publish", ARNS.topic(""), VARS)


def test_thing_name_variable_resolves_to_client_id() -> None:
    ps = policy(
        {
            "Effect": "Allow",
            "Action": "iot:Connect",
            "Resource": ARNS.client("${iot:Connection.Thing.ThingName}"),
        }
    )
    assert ps.is_allowed("iot:Connect", ARNS.client("alice-1"), VARS)


def test_resource_wildcards_star_and_question_mark() -> None:
    ps = policy(
        {"Effect": "Allow", "Action": "iot:Connect", "Resource": ["arn:aws:iot:*:*:client/alice-?"]}
    )
    assert ps.is_allowed("iot:Connect", ARNS.client("alice-1"), VARS)
    assert not ps.is_allowed("iot:Connect", ARNS.client("alice-12"), VARS)


def test_star_spans_topic_levels_and_mqtt_wildcards_are_literal() -> None:
    ps = policy(
        {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": ARNS.topicfilter("chat/pub/*")}
    )
    assert ps.is_allowed("iot:Subscribe", ARNS.topicfilter("chat/pub/a/b"), VARS)
    assert ps.is_allowed("iot:Subscribe", ARNS.topicfilter("chat/pub/#"), VARS)
    exact = policy(
        {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": ARNS.topicfilter("chat/+")}
    )
    assert not exact.is_allowed("iot:Subscribe", ARNS.topicfilter("chat/x"), VARS)


def test_action_wildcards_and_lists() -> None:
    ps = policy({"Effect": "Allow", "Action": ["iot:*"], "Resource": "*"})
    for action in ("iot:Connect", "iot:Publish", "iot:Subscribe", "iot:Receive"):
        assert ps.is_allowed(action, ARNS.topic("x"), VARS)
    pub = policy({"Effect": "Allow", "Action": "iot:Pub*", "Resource": "*"})
    assert pub.is_allowed("iot:Publish", ARNS.topic("x"), VARS)
    assert not pub.is_allowed("iot:Receive", ARNS.topic("x"), VARS)


def test_explicit_deny_wins_across_documents() -> None:
    allow_all = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": {"Effect": "Allow", "Action": "iot:*", "Resource": "*"},
        }
    )
    deny = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Deny", "Action": "iot:Publish", "Resource": ARNS.topic("chat/pub/*")}
            ],
        }
    )
    ps = PolicySet.from_documents([allow_all, deny])
    assert ps.evaluate("iot:Publish", ARNS.topic("chat/pub/lobby"), VARS) is Decision.EXPLICIT_DENY
    assert ps.evaluate("iot:Publish", ARNS.topic("chat/out"), VARS) is Decision.ALLOW


def test_nothing_allowed_is_implicit_deny() -> None:
    ps = policy({"Effect": "Allow", "Action": "iot:Publish", "Resource": ARNS.topic("chat/out")})
    assert ps.evaluate("iot:Receive", ARNS.topic("chat/out"), VARS) is Decision.IMPLICIT_DENY


def test_not_action_and_not_resource() -> None:
    ps = policy(
        {"Effect": "Allow", "NotAction": "iot:Publish", "NotResource": ARNS.topic("secret")}
    )
    assert ps.is_allowed("iot:Receive", ARNS.topic("open"), VARS)
    assert not ps.is_allowed("iot:Receive", ARNS.topic("secret"), VARS)
    assert not ps.is_allowed("iot:Publish", ARNS.topic("open"), VARS)


def test_condition_allow_grants_nothing_condition_deny_still_denies() -> None:
    cond = {"StringEquals": {"iot:ClientId": "x"}}
    ps = policy({"Effect": "Allow", "Action": "iot:*", "Resource": "*", "Condition": cond})
    assert not ps.is_allowed("iot:Publish", ARNS.topic("a"), VARS)


@pytest.mark.parametrize(
    "document",
    [
        "not json",
        json.dumps({"Version": "2099-01-01", "Statement": []}),
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Maybe", "Action": "iot:*", "Resource": "*"}],
            }
        ),
        json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*"}]}),
        json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:*"}]}
        ),
    ],
)
def test_invalid_documents_are_rejected(document: str) -> None:
    with pytest.raises(PolicyError):
        Policy.parse(document)
