"""Last Will: authorized at CONNECT, sent according to AWS's disconnect-reason table."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from emulator.mqtt.codec import Decoder, encode
from emulator.mqtt.packets import Connect, Will
from tests.emulator.iot.harness import (
    AUTHORIZER,
    V3,
    V5,
    Client,
    Harness,
    RawClient,
)

WILL_TOPIC = "status/dev-1"


def watcher(h: Harness) -> Client:
    w = Client(h, "watch-1", "watch").connect()
    w.subscribe(WILL_TOPIC)
    return w


def with_will(h: Harness, version: int = V3, **kw: object) -> Client:
    return Client(h, "dev-1", "dev", version=version, **kw).will(WILL_TOPIC, b"gone", 1)


def reason_of(h: Harness) -> str:
    return h.wait_event("disconnected", "dev-1")[-1]["disconnectReason"]


def test_a_lost_connection_sends_the_will(admin: Harness) -> None:
    w = watcher(admin)
    with_will(admin).connect().drop()
    assert [m.payload for m in w.wait_messages(1)] == [b"gone"]
    assert reason_of(admin) == "CONNECTION_LOST"
    will_ctx = next(c for t, _, c in admin.published if t == WILL_TOPIC)
    assert (will_ctx.client_id, will_ctx.principal) == ("dev-1", "dev")  # rules see the owner
    w.close()


@pytest.mark.parametrize("version", [V3, V5])
def test_disconnect_sends_no_will(admin: Harness, version: int) -> None:
    w = watcher(admin)
    with_will(admin, version).connect().close()
    assert reason_of(admin) == "CLIENT_INITIATED_DISCONNECT"
    w.sync()
    assert w.received() == []
    w.close()


def test_disconnect_with_will_message_reason_still_sends_none(admin: Harness) -> None:
    """AWS's table: every client-initiated disconnect goes without the will."""
    w = watcher(admin)
    c = with_will(admin, V5).connect()
    c.c.disconnect(reasoncode=ReasonCode(PacketTypes.DISCONNECT, identifier=0x04))
    assert reason_of(admin) == "CLIENT_INITIATED_DISCONNECT"
    w.sync()
    assert w.received() == []
    c.c.loop_stop()
    w.close()


def test_a_websocket_close_frame_is_client_initiated_and_sends_no_will(admin: Harness) -> None:
    async def connect_then_close() -> None:
        url = (
            f"http://127.0.0.1:{admin.http_port}/mqtt"
            f"?x-amz-customauthorizer-name={AUTHORIZER}&token=dev"
        )
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(url, protocols=("mqtt",)) as ws,
        ):
            await ws.send_bytes(encode(Connect(4, "dev-1", will=Will(WILL_TOPIC, b"gone", 1)), 4))
            reply = await ws.receive_bytes(timeout=5)
            assert Decoder(side="client", version=4).feed(reply)[0].reason_code == 0
            await ws.close()  # a Close frame, no MQTT DISCONNECT

    w = watcher(admin)
    asyncio.run(connect_then_close())
    assert reason_of(admin) == "CLIENT_INITIATED_DISCONNECT"
    w.sync()
    assert w.received() == []
    w.close()


def test_a_duplicate_client_id_sends_the_old_connections_will(admin: Harness) -> None:
    w = watcher(admin)
    first = with_will(admin).connect()
    first.c.reconnect_delay_set(60, 60)
    second = Client(admin, "dev-1", "dev").connect()
    assert [m.payload for m in w.wait_messages(1)] == [b"gone"]
    assert reason_of(admin) == "DUPLICATE_CLIENTID"
    first.close()
    second.close()
    w.close()


@pytest.mark.parametrize(("prevent", "expected"), [(False, [b"gone"]), (True, [])])
def test_delete_connection_sends_the_will_unless_prevented(
    admin: Harness, prevent: bool, expected: list[bytes]
) -> None:
    w = watcher(admin)
    c = with_will(admin, V5).connect()
    assert admin.run(lambda: admin.broker.disconnect_client("dev-1", prevent_will=prevent))
    assert c.disconnected.wait(5)
    assert c.disconnect_code == 0x98  # Administrative action
    assert reason_of(admin) == "API_INITIATED_DISCONNECT"
    if expected:
        w.wait_messages(1)
    w.sync()
    assert [m.payload for m in w.messages] == expected
    assert not admin.run(lambda: admin.broker.disconnect_client("nobody"))
    c.close()
    w.close()


def test_a_will_delay_is_cancelled_by_resuming_the_session(admin: Harness) -> None:
    w = watcher(admin)
    first = with_will(admin, V5, clean=False, session_expiry=60)
    first.c.will_clear()
    first.will(WILL_TOPIC, b"gone", 1, delay=1).connect().drop()
    admin.wait_event("disconnected", "dev-1")
    again = Client(admin, "dev-1", "dev", version=V5, clean=False, session_expiry=60).connect()
    assert again.session_present is True
    # A marker published after the delay has passed proves the will was not sent first.
    admin.call(_publish_later(admin, 1.2, WILL_TOPIC, b"marker"))
    assert [m.payload for m in w.wait_messages(1)] == [b"marker"]
    again.close()
    w.close()


def test_a_delayed_will_is_sent_after_its_delay(admin: Harness) -> None:
    w = watcher(admin)
    c = Client(admin, "dev-1", "dev", version=V5, clean=False, session_expiry=60)
    c.will(WILL_TOPIC, b"gone", 1, delay=1).connect().drop()
    admin.wait_event("disconnected", "dev-1")
    w.sync()
    assert w.received() == []  # not at once
    assert [m.payload for m in w.wait_messages(1, timeout=5)] == [b"gone"]
    w.close()


async def _publish_later(h: Harness, delay: float, topic: str, payload: bytes) -> None:
    await asyncio.sleep(delay)
    await h.broker.publish(topic, payload, 1)


def test_disconnect_client_takes_the_reason_to_report(admin: Harness) -> None:
    c = Client(admin, "dev-1", "dev", version=V5).connect()
    assert admin.run(
        lambda: admin.broker.disconnect_client(
            "dev-1", reason="SERVER_INITIATED_DISCONNECT", reason_code=0x8B
        )
    )
    assert c.disconnected.wait(5)
    assert c.disconnect_code == 0x8B
    assert reason_of(admin) == "SERVER_INITIATED_DISCONNECT"
    c.close()


def test_disconnect_client_with_clean_session_discards_a_persistent_one(admin: Harness) -> None:
    c = Client(admin, "dev-1", "dev", clean=False).connect()
    c.subscribe("jobs/+")
    assert admin.run(lambda: admin.broker.disconnect_client("dev-1", clean_session=True))
    assert c.disconnected.wait(5)
    assert not admin.run(lambda: admin.broker.has_session("dev-1"))
    c.close()


@pytest.mark.parametrize(
    ("version", "will", "code"),
    [
        (5, Will("$aws/events/fake", b"x"), 0x90),  # reserved topic: Topic Name invalid
        (5, Will("t/" + "x" * 255, b"x"), 0x90),  # over 256 bytes
        (5, Will("status/dev-1", b"x", qos=2), 0x9B),  # QoS not supported
        (4, Will("status/dev-1", b"x", qos=2), 5),  # 3.1.1 has no such code
    ],
    ids=["reserved", "too-long", "qos2-v5", "qos2-v3"],
)
def test_wills_that_cannot_be_published_refuse_the_connect(
    admin: Harness, version: int, will: Will, code: int
) -> None:
    raw = RawClient(admin, version)
    assert raw.connect("dev-1", "dev", will=will).reason_code == code
    assert raw.read() is None
    assert admin.events("connected", "dev-1") == []
