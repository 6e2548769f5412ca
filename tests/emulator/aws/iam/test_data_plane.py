"""iot:Publish on the data plane for role credentials, through moto's process and the app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import boto3
import pytest
from aiohttp.test_utils import TestServer
from botocore.exceptions import ClientError

from emulator.aws import AwsServices
from emulator.aws.iam import LAMBDA, EmulatorIam, data_plane_iam
from emulator.http import create_app
from emulator.iot.policy import IotArns
from emulator.template import template_from_dict
from tests.emulator.aws.iam.conftest import create_role


def role_with(aws: AwsServices, statements: list[dict[str, Any]]) -> str:
    return create_role(aws.client("iam"), statements, LAMBDA)


class Broker:
    """Records what the data plane published."""

    def __init__(self) -> None:
        self.topics: list[str] = []
        self.closed: list[str] = []

    def disconnect_client(self, client_id: str, **_: Any) -> bool:
        self.closed.append(client_id)
        return True

    async def publish(self, topic: str, payload: bytes, qos: int = 0, **_: Any) -> None:
        self.topics.append(topic)

    async def handle_websocket(self, ws: Any, request: Any) -> None:
        raise NotImplementedError


@pytest.fixture
async def plane(aws: AwsServices) -> AsyncIterator[tuple[str, EmulatorIam, Broker]]:
    iam = EmulatorIam(aws, template_from_dict({"Resources": {}}))
    broker = Broker()
    app = create_app(broker=broker, web_root=None)
    app.middlewares.append(data_plane_iam(iam, IotArns()))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")), iam, broker
    finally:
        await server.close()


def iot_data(url: str, key: str, secret: str, token: str | None = None) -> Any:
    return boto3.client(
        "iot-data",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
    )


async def publish(client: Any, topic: str, **extra: Any) -> str:
    try:
        await asyncio.to_thread(client.publish, topic=topic, qos=1, payload=b"{}", **extra)
    except ClientError as exc:
        status = exc.response["ResponseMetadata"]["HTTPStatusCode"]
        return f"{status} {exc.response['Error']['Code']}"
    return "ok"


async def test_a_role_publishes_only_where_its_policy_allows(
    aws: AwsServices, plane: tuple[str, EmulatorIam, Broker]
) -> None:
    url, iam, broker = plane
    topic_arn = "arn:aws:iot:us-east-1:123456789012:topic/chat/in/*"
    role = role_with(aws, [{"Effect": "Allow", "Action": "iot:Publish", "Resource": topic_arn}])
    got = await iam.credentials(role, LAMBDA, "fn", 0)
    client = iot_data(url, got.access_key_id, got.secret_access_key, got.session_token)
    assert await publish(client, "chat/in/alice") == "ok"
    assert await publish(client, "chat/pub/lobby") == "403 ForbiddenException"
    assert await publish(client, "chat/in/alice", retain=True) == "403 ForbiddenException"
    assert broker.topics == ["chat/in/alice"]


async def test_forged_tokens_are_refused_and_other_keys_not_evaluated(
    aws: AwsServices, plane: tuple[str, EmulatorIam, Broker]
) -> None:
    url, iam, broker = plane
    got = await iam.credentials(role_with(aws, []), LAMBDA, "fn", 0)
    forged = iot_data(url, got.access_key_id, got.secret_access_key, "forged")
    assert await publish(forged, "chat/in/a") == "403 ForbiddenException"
    assert await publish(iot_data(url, "testing", "testing"), "anything/goes") == "ok"
    assert broker.topics == ["anything/goes"]


async def test_a_role_closes_connections_only_with_iot_delete_connection(
    aws: AwsServices, plane: tuple[str, EmulatorIam, Broker]
) -> None:
    """iot:DeleteConnection on the client's ARN, as "AWS IoT Core policy actions" says."""
    url, iam, broker = plane
    clients = "arn:aws:iot:us-east-1:123456789012:client/alice-*"
    allowed = role_with(
        aws, [{"Effect": "Allow", "Action": "iot:DeleteConnection", "Resource": clients}]
    )
    publisher = role_with(aws, [{"Effect": "Allow", "Action": "iot:Publish", "Resource": "*"}])

    async def delete(role: str, client_id: str) -> str:
        got = await iam.credentials(role, LAMBDA, "fn", 0)
        client = iot_data(url, got.access_key_id, got.secret_access_key, got.session_token)
        try:
            await asyncio.to_thread(client.delete_connection, clientId=client_id)
        except ClientError as exc:
            return exc.response["Error"]["Code"]
        return "ok"

    assert await delete(allowed, "alice-1") == "ok"
    assert await delete(allowed, "bob-1") == "ForbiddenException"
    assert await delete(publisher, "alice-2") == "ForbiddenException"
    assert broker.closed == ["alice-1"]
