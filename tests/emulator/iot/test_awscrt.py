"""The AWS IoT SDK's own MQTT client (awscrt) over WebSockets with query-string custom auth."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from awscrt import io, mqtt

from tests.emulator.iot.harness import AUTHORIZER, Harness, wait_for


def _connection(harness: Harness, client_id: str, token: str) -> mqtt.Connection:
    def transform(transform_args: Any) -> None:
        transform_args.http_request.path = (
            f"/mqtt?x-amz-customauthorizer-name={AUTHORIZER}&token={token}"
        )
        transform_args.set_done()

    group = io.EventLoopGroup(1)
    bootstrap = io.ClientBootstrap(group, io.DefaultHostResolver(group))
    return mqtt.Connection(
        mqtt.Client(bootstrap),
        host_name="127.0.0.1",
        port=harness.http_port,
        client_id=client_id,
        use_websockets=True,
        websocket_handshake_transform=transform,
        clean_session=True,
        keep_alive_secs=30,
    )


def test_awscrt_client_connects_subscribes_and_receives(harness: Harness) -> None:
    conn = _connection(harness, "alice-crt", "alice")
    conn.connect().result(10)
    received: list[tuple[str, bytes]] = []
    got = threading.Event()

    def on_message(topic: str, payload: bytes, **_kw: Any) -> None:
        received.append((topic, payload))
        got.set()

    future, _ = conn.subscribe("chat/in/alice-crt", mqtt.QoS.AT_LEAST_ONCE, callback=on_message)
    assert future.result(10)["qos"] == mqtt.QoS.AT_LEAST_ONCE
    harness.publish("chat/in/alice-crt", b'{"type":"backlog"}', qos=1)
    assert got.wait(5)
    assert received == [("chat/in/alice-crt", b'{"type":"backlog"}')]
    conn.publish("chat/out", b'{"type":"join"}', mqtt.QoS.AT_LEAST_ONCE)[0].result(10)
    wait_for(lambda: "chat/out" in harness.published_topics())
    conn.disconnect().result(10)


def test_awscrt_client_with_bad_token_is_refused(harness: Harness) -> None:
    conn = _connection(harness, "alice-crt", "nope")
    # The broker answers CONNACK 0x05 (checked byte-exact with paho); aws-c-mqtt surfaces a
    # refused CONNACK as AWS_ERROR_MQTT_PROTOCOL_ERROR, so only the failure itself is asserted.
    with pytest.raises(Exception):  # noqa: B017
        conn.connect().result(10)
    assert harness.authorizer.events[-1]["token"] == "nope"
