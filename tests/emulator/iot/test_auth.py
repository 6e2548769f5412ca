"""Custom authentication: the request event AWS documents, the answer checked as AWS does."""

from __future__ import annotations

import base64

import pytest

from tests.emulator.iot.harness import (
    ALL,
    AUTHORIZER,
    V3,
    V5,
    Client,
    Harness,
    allow,
    arn,
    policy,
    statement,
    wait_for,
)


def test_tcp_event_carries_the_password_only_base64_in_protocol_data(harness: Harness) -> None:
    c = Client(harness, "alice-1", "alice").connect()
    assert c.connack == 0
    event = harness.authorizer.events[-1]
    assert "token" not in event  # the password is never copied into "token"
    assert event["signatureVerified"] is False
    assert event["protocols"] == ["mqtt"]
    assert event["protocolData"] == {
        "mqtt": {
            "username": f"user?x-amz-customauthorizer-name={AUTHORIZER}",
            "password": base64.b64encode(b"alice").decode(),
            "clientId": "alice-1",
        }
    }
    assert event["connectionMetadata"]["id"]
    c.close()


def test_token_in_the_user_name_query_is_the_event_token(harness: Harness) -> None:
    c = Client(harness, "alice-1", None)
    c.c.username_pw_set(f"user?x-amz-customauthorizer-name={AUTHORIZER}&token=alice")
    c.connect()
    assert c.connack == 0
    event = harness.authorizer.events[-1]
    assert event["token"] == "alice"
    assert "password" not in event["protocolData"]["mqtt"]
    c.close()


def test_websocket_event_has_query_string_and_headers_as_sent(harness: Harness) -> None:
    c = Client(harness, "alice-1", "alice", transport="ws").connect()
    assert c.connack == 0
    event = harness.authorizer.events[-1]
    assert event["token"] == "alice"
    assert event["protocols"] == ["http", "mqtt"]
    http = event["protocolData"]["http"]
    assert http["queryString"] == f"?x-amz-customauthorizer-name={AUTHORIZER}&token=alice"
    # Header names keep the case the client sent (paho sends "Sec-Websocket-Protocol").
    assert http["headers"]["Sec-Websocket-Protocol"] == "mqtt"
    assert "sec-websocket-protocol" not in http["headers"]
    assert event["protocolData"]["mqtt"] == {"clientId": "alice-1"}
    c.close()


def test_empty_client_id_is_absent_from_the_event_and_assigned(harness: Harness) -> None:
    harness.authorizer.tokens["any"] = allow("alice", policy=ALL)
    c = Client(harness, "", "any", version=V5).connect()
    assert c.connack == 0
    assigned = c.connack_properties.AssignedClientIdentifier
    assert assigned
    assert "clientId" not in harness.authorizer.events[-1]["protocolData"]["mqtt"]
    assert harness.wait_event("connected", assigned)
    c.close()


@pytest.mark.parametrize("transport", ["tcp", "ws"])
@pytest.mark.parametrize(
    "answer",
    [
        {"isAuthenticated": False},
        RuntimeError("lambda crashed"),
        "slow",
        {"isAuthenticated": "yes", "principalId": "a", "policyDocuments": [ALL]},
        {"isAuthenticated": True, "principalId": "not alnum!", "policyDocuments": [ALL]},
        {"isAuthenticated": True, "principalId": "a" * 129, "policyDocuments": [ALL]},
        {"isAuthenticated": True, "principalId": "a", "policyDocuments": []},
        {"isAuthenticated": True, "principalId": "a", "policyDocuments": [ALL] * 11},
        {"isAuthenticated": True, "principalId": "a", "policyDocuments": ["{"]},
        {"isAuthenticated": True, "principalId": "a", "policyDocuments": [ALL + " " * 10 + "x"]},
        allow("a", policy=ALL, disconnectAfterInSeconds=86_401),
        allow("a", policy=ALL, refreshAfterInSeconds=0),
        allow("a", policy=ALL, disconnectAfterInSeconds="3600"),
    ],
    ids=[
        "denied",
        "error",
        "timeout",
        "not-boolean",
        "principal-not-alnum",
        "principal-too-long",
        "no-policy",
        "eleven-policies",
        "bad-policy-json",
        "trailing-garbage",
        "disconnect-after-too-long",
        "refresh-zero",
        "disconnect-after-string",
    ],
)
def test_refused_answers_refuse_the_connect(
    harness: Harness, transport: str, answer: object
) -> None:
    harness.authorizer.tokens["t"] = answer
    c = Client(harness, "alice-1", "t", transport=transport).connect()
    assert c.connack == 5
    failed = harness.wait_event("connect_failed", "alice-1")[0]
    assert failed["connectFailureReason"] == "AUTHORIZATION_FAILED"
    assert failed["ipAddress"] == "127.0.0.1"
    assert failed["sessionIdentifier"]
    assert "principalIdentifier" not in failed  # nobody was authenticated
    assert harness.events("connected", "alice-1") == []
    c.close()


def test_policy_document_length_counts_non_space_characters(harness: Harness) -> None:
    padded = policy(statement("iot:*", ["*"])).replace(",", "," + " " * 3000)
    harness.authorizer.tokens["t"] = allow("a", policy=padded)
    c = Client(harness, "alice-1", "t").connect()
    assert c.connack == 0
    c.close()


def test_policy_documents_may_be_objects(harness: Harness) -> None:
    harness.authorizer.tokens["t"] = allow("a", policy={"Version": "2012-10-17", "Statement": []})
    harness.authorizer.tokens["t"]["policyDocuments"] = [
        {"Version": "2012-10-17", "Statement": [statement("iot:*", ["*"])]}
    ]
    c = Client(harness, "alice-1", "t").connect()
    assert c.connack == 0
    c.close()


@pytest.mark.parametrize("version", [V3, V5])
def test_wrong_authorizer_name_is_refused_without_invoking(harness: Harness, version: int) -> None:
    c = Client(harness, "alice-1", "alice", authorizer="Other", version=version).connect()
    assert c.connack == (5 if version == V3 else 0x87)
    assert harness.authorizer.events == []
    c.close()


@pytest.mark.parametrize("version", [V3, V5])
def test_connect_policy_limits_client_ids(harness: Harness, version: int) -> None:
    c = Client(harness, "bob-1", "alice", version=version).connect()  # alice may be alice-* only
    assert c.connack == (5 if version == V3 else 0x87)
    failed = harness.wait_event("connect_failed", "bob-1")[0]
    assert failed["principalIdentifier"] == "alice"
    c.close()


def test_connect_policy_variables_are_substituted(harness: Harness) -> None:
    own = policy(statement("iot:Connect", [arn("client", "${iot:ClientId}")]))
    harness.authorizer.tokens["t"] = allow("a", policy=own)
    assert Client(harness, "any-id", "t").connect().connack == 0
    stars = policy(statement("iot:Connect", [arn("client", "x${iot:ClientId}")]))
    harness.authorizer.tokens["u"] = allow("a", policy=stars)
    assert Client(harness, "*", "u").connect().connack == 5  # '*' is literal, not a glob


def test_disconnect_after_seconds_closes_with_customauth_ttl_expiration(harness: Harness) -> None:
    harness.authorizer.tokens["short"] = allow("alice", disconnectAfterInSeconds=1)
    c = Client(harness, "alice-1", "short", version=V5, transport="ws").connect()
    assert c.connack == 0
    assert c.disconnected.wait(5)
    assert c.disconnect_code == 0xA0  # Maximum connect time
    event = harness.wait_event("disconnected", "alice-1")[0]
    assert event["disconnectReason"] == "CUSTOMAUTH_TTL_EXPIRATION"
    assert event["clientInitiatedDisconnect"] is False
    c.close()


def test_policy_refresh_refusal_disconnects_with_auth_error(harness: Harness) -> None:
    harness.authorizer.tokens["r"] = allow("alice", refreshAfterInSeconds=1)
    c = Client(harness, "alice-1", "r", version=V5).connect()
    assert c.connack == 0
    harness.authorizer.tokens["r"] = {"isAuthenticated": False}
    assert c.disconnected.wait(5)
    assert c.disconnect_code == 0x87
    assert harness.wait_event("disconnected", "alice-1")[0]["disconnectReason"] == "AUTH_ERROR"
    assert len(harness.authorizer.events) == 2  # the refresh reused the event
    assert harness.authorizer.events[0] is harness.authorizer.events[1]
    c.close()


def test_policy_refresh_applies_new_policies(harness: Harness) -> None:
    harness.authorizer.tokens["r"] = allow("alice", refreshAfterInSeconds=1)
    c = Client(harness, "alice-1", "r", version=V5).connect()
    assert c.subscribe("chat/pub/lobby") == 1
    harness.authorizer.tokens["r"] = allow(
        "alice",
        refreshAfterInSeconds=1,
        policy=policy(
            statement("iot:Connect", [arn("client", "alice-*")]),
            statement("iot:Subscribe", [arn("topicfilter", "chat/pub/*")]),
        ),
    )
    wait_for(lambda: len(harness.authorizer.events) >= 2)
    harness.publish("chat/pub/lobby", b"after refresh")
    c.sync()
    assert c.received() == []  # iot:Receive is gone with the refreshed policy
    c.close()


def test_client_ids_over_128_bytes_and_reserved_ones_are_refused_before_auth(
    harness: Harness,
) -> None:
    harness.authorizer.tokens["any"] = allow("alice", policy=ALL)
    for client_id, version, code in [("a" * 129, V3, 2), ("é" * 65, V5, 0x85), ("$me", V3, 2)]:
        c = Client(harness, client_id, "any", version=version).connect()
        assert c.connack == code
        c.close()
    assert harness.authorizer.events == []
    assert Client(harness, "a" * 128, "any").connect().connack == 0
