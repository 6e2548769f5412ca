"""The AWS IoT Device SDK's own clients (awscrt): MQTT 3.1.1 and the MQTT 5 client."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any

import pytest
from awscrt import io, mqtt, mqtt5

from tests.emulator.iot.harness import AUTHORIZER, Harness, wait_for


def _bootstrap() -> io.ClientBootstrap:
    group = io.EventLoopGroup(1)
    return io.ClientBootstrap(group, io.DefaultHostResolver(group))


def _ws_transform(token: str) -> Any:
    def transform(transform_args: Any) -> None:
        transform_args.http_request.path = (
            f"/mqtt?x-amz-customauthorizer-name={AUTHORIZER}&token={token}"
        )
        transform_args.set_done()

    return transform


def _connection(harness: Harness, client_id: str, token: str) -> mqtt.Connection:
    return mqtt.Connection(
        mqtt.Client(_bootstrap()),
        host_name="127.0.0.1",
        port=harness.http_port,
        client_id=client_id,
        use_websockets=True,
        websocket_handshake_transform=_ws_transform(token),
        clean_session=True,
        keep_alive_secs=30,
    )


def test_mqtt311_client_connects_subscribes_and_receives(harness: Harness) -> None:
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


def test_mqtt311_client_with_bad_token_is_refused(harness: Harness) -> None:
    conn = _connection(harness, "alice-crt", "nope")
    # aws-c-mqtt surfaces a refused 3.1.1 CONNACK as a protocol error; the failure is the point.
    with pytest.raises(Exception):  # noqa: B017
        conn.connect().result(10)
    assert harness.authorizer.events[-1]["token"] == "nope"


class Mqtt5:
    """An awscrt MQTT 5 client that records its lifecycle and messages."""

    def __init__(self, harness: Harness, client_id: str, token: str, *, ws: bool) -> None:
        self.connected: Future[Any] = Future()
        self.messages: list[mqtt5.PublishPacket] = []
        self.got = threading.Event()
        if ws:
            connect = mqtt5.ConnectPacket(client_id=client_id, keep_alive_interval_sec=30)
            extra: dict[str, Any] = {"websocket_handshake_transform": _ws_transform(token)}
            port = harness.http_port
        else:
            connect = mqtt5.ConnectPacket(
                client_id=client_id,
                username=f"device?x-amz-customauthorizer-name={AUTHORIZER}",
                password=token.encode(),
                keep_alive_interval_sec=30,
            )
            extra = {}
            port = harness.mqtt_port
        self.client = mqtt5.Client(
            mqtt5.ClientOptions(
                host_name="127.0.0.1",
                port=port,
                bootstrap=_bootstrap(),
                connect_options=connect,
                session_behavior=mqtt5.ClientSessionBehaviorType.CLEAN,
                on_publish_callback_fn=self._on_publish,
                on_lifecycle_event_connection_success_fn=self._on_success,
                on_lifecycle_event_connection_failure_fn=self._on_failure,
                **extra,
            )
        )

    def _on_publish(self, data: mqtt5.PublishReceivedData) -> None:
        self.messages.append(data.publish_packet)
        self.got.set()

    def _on_success(self, data: mqtt5.LifecycleConnectSuccessData) -> None:
        if not self.connected.done():
            self.connected.set_result(data.connack_packet)

    def _on_failure(self, data: mqtt5.LifecycleConnectFailureData) -> None:
        if not self.connected.done():
            self.connected.set_result(data.connack_packet)

    def start(self) -> mqtt5.ConnackPacket:
        self.client.start()
        return self.connected.result(10)

    def stop(self) -> None:
        self.client.stop()


@pytest.mark.parametrize("ws", [False, True], ids=["tcp", "ws"])
def test_mqtt5_client_subscribes_publishes_and_reads_reason_codes(
    harness: Harness, ws: bool
) -> None:
    client = Mqtt5(harness, "alice-5", "alice", ws=ws)
    connack = client.start()
    assert connack.reason_code == mqtt5.ConnectReasonCode.SUCCESS
    assert connack.maximum_qos == mqtt5.QoS.AT_LEAST_ONCE
    assert connack.topic_alias_maximum == 8
    suback = client.client.subscribe(
        mqtt5.SubscribePacket(
            subscriptions=[
                mqtt5.Subscription("chat/in/alice-5", mqtt5.QoS.AT_LEAST_ONCE),
                mqtt5.Subscription("chat/in/bob-1", mqtt5.QoS.AT_LEAST_ONCE),
            ]
        )
    ).result(10)
    assert suback.reason_codes == [
        mqtt5.SubackReasonCode.GRANTED_QOS_1,
        mqtt5.SubackReasonCode.NOT_AUTHORIZED,
    ]
    harness.publish("chat/in/alice-5", b"hello", qos=1)
    assert client.got.wait(5)
    assert (client.messages[0].topic, client.messages[0].payload) == ("chat/in/alice-5", b"hello")
    ok = client.client.publish(
        mqtt5.PublishPacket(topic="chat/out", payload=b"{}", qos=mqtt5.QoS.AT_LEAST_ONCE)
    ).result(10)
    assert ok.puback.reason_code == mqtt5.PubackReasonCode.SUCCESS
    denied = client.client.publish(
        mqtt5.PublishPacket(topic="chat/pub/lobby", payload=b"{}", qos=mqtt5.QoS.AT_LEAST_ONCE)
    ).result(10)
    assert denied.puback.reason_code == mqtt5.PubackReasonCode.NOT_AUTHORIZED
    client.stop()


def test_mqtt5_client_with_bad_token_sees_not_authorized(harness: Harness) -> None:
    client = Mqtt5(harness, "alice-5", "nope", ws=False)
    connack = client.start()
    assert connack.reason_code == mqtt5.ConnectReasonCode.NOT_AUTHORIZED
    client.stop()
