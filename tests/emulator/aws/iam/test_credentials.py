"""Role credentials as Lambda and IoT obtain them: trust, caching, renewal, sessions."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator.aws.iam.credentials import (
    IOT,
    LAMBDA,
    CredentialIssuer,
    RoleClients,
    RoleNotAssumable,
    session_name,
    trusts,
)
from tests.emulator.aws.iam.conftest import REGION, Gate


def trust(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def assume(effect: str = "Allow", principal: Any = None, action: Any = "sts:AssumeRole") -> dict:
    return {"Effect": effect, "Principal": principal or {"Service": LAMBDA}, "Action": action}


def test_trust_policies() -> None:
    assert trusts(trust(assume()), LAMBDA)
    assert not trusts(trust(assume()), IOT)
    assert trusts(trust(assume(principal={"Service": [IOT, LAMBDA]})), IOT)
    assert trusts(trust(assume(action=["sts:*"])), LAMBDA)
    assert not trusts(trust(assume(action="sts:AssumeRoleWithSAML")), LAMBDA)
    assert not trusts(trust(assume(), assume("Deny")), LAMBDA)
    assert trusts({"Statement": assume(principal="*")}, IOT)
    assert not trusts({}, LAMBDA)


def test_session_names_are_valid() -> None:
    assert session_name("local_route") == "local_route"
    assert session_name("a b/c") == "a-b-c"
    assert session_name("x") == "x-"
    assert len(session_name("n" * 100)) == 64


def test_credentials_are_reused_until_they_would_not_last(gate: Gate) -> None:
    issuer = CredentialIssuer(gate.admin)
    role = gate.role([])
    first = issuer.issue(role, LAMBDA, "fn")
    assert first.access_key_id.startswith("ASIA") and 3500 < first.remaining() <= 3600
    assert first.principal_arn.endswith(f"assumed-role/{role.rsplit('/', 1)[1]}/fn")
    assert issuer.issue(role, LAMBDA, "fn", min_remaining=60) is first
    renewed = issuer.issue(role, LAMBDA, "fn", min_remaining=3600)
    assert renewed.access_key_id != first.access_key_id
    assert issuer.lookup(first.access_key_id) is first
    assert issuer.lookup(renewed.access_key_id) is renewed
    assert issuer.lookup("AKIAOTHER") is None
    assert set(first.env()) == {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}


def test_a_role_must_exist_and_trust_the_service(gate: Gate) -> None:
    issuer = CredentialIssuer(gate.admin)
    with pytest.raises(RoleNotAssumable, match="cannot be read"):
        issuer.issue("arn:aws:iam::123456789012:role/missing", LAMBDA, "fn")
    role = gate.role([])
    with pytest.raises(RoleNotAssumable, match=r"does not allow iot\.amazonaws\.com"):
        issuer.issue(role, IOT, "rule")


def test_role_clients_act_as_the_role(gate: Gate) -> None:
    issuer = CredentialIssuer(gate.admin)
    role = gate.role([{"Effect": "Allow", "Action": "sqs:ListQueues", "Resource": "*"}])
    clients = RoleClients(issuer, gate.endpoint_url, REGION)
    sqs = clients.factory(role, LAMBDA, "fn")("sqs")
    assert sqs is clients.client("sqs", role, LAMBDA, "fn")
    sqs.list_queues()
    with pytest.raises(ClientError) as denied:
        sqs.create_queue(QueueName="nope")
    assert f"assumed-role/{role.rsplit('/', 1)[1]}/fn" in str(denied.value)
