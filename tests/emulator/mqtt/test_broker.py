"""The core broker with its default (spec) settings and no hooks, against paho 3.1.1 and 5.

emulator.iot changes several of these behaviours to AWS IoT Core's; here the core shows
it follows the MQTT specs when nobody asks otherwise.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from emulator.mqtt import Broker, Hooks, Settings, TcpListener
from emulator.mqtt.hooks import CloseReason

V3, V5 = paho.MQTTv311, paho.MQTTv5


class Recording(Hooks):
    """Open hooks that remember how connections ended."""

    def __init__(self) -> None:
        self.closed: list[CloseReason] = []

    def on_disconnected(self, client: Any, reason: CloseReason) -> None:
        self.closed.append(reason)


class Core:
    def __init__(self, settings: Settings) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.hooks = Recording()
        self.broker = Broker(self.hooks, settings)
        self.listener = TcpListener(self.broker)
        self.port = self.call(self.listener.start("127.0.0.1", 0))

    def call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    def stop(self) -> None:
        self.call(self.listener.stop())
        self.call(self.broker.close_all())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def core(request: pytest.FixtureRequest) -> Iterator[Core]:
    c = Core(getattr(request, "param", Settings()))
    try:
        yield c
    finally:
        c.stop()


class Peer:
    def __init__(self, core: Core, client_id: str, version: int = V3) -> None:
        self.messages: list[paho.MQTTMessage] = []
        self.event = threading.Condition()
        self.subacks: list[int] = []
        self.disconnected = threading.Event()
        self.c = paho.Client(
            paho.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=version,
            reconnect_on_failure=False,
        )
        self.c.on_message = self._message
        self.c.on_subscribe = self._suback
        self.c.on_disconnect = lambda *_a: self.disconnected.set()
        connected = threading.Event()
        self.c.on_connect = lambda *_a: connected.set()
        self.c.connect("127.0.0.1", core.port, 30)
        self.c.loop_start()
        assert connected.wait(5)

    def _message(self, _c: Any, _u: Any, msg: paho.MQTTMessage) -> None:
        with self.event:
            self.messages.append(msg)
            self.event.notify_all()

    def _suback(self, _c: Any, _u: Any, _m: int, codes: list[Any], _p: Any) -> None:
        with self.event:
            self.subacks.extend(int(getattr(c, "value", c)) for c in codes)
            self.event.notify_all()

    def subscribe(self, topic: str, qos: int = 1) -> int:
        count = len(self.subacks)
        self.c.subscribe(topic, qos)
        with self.event:
            assert self.event.wait_for(lambda: len(self.subacks) > count, 5)
        return self.subacks[-1]

    def wait(self, count: int) -> list[paho.MQTTMessage]:
        with self.event:
            assert self.event.wait_for(lambda: len(self.messages) >= count, 5)
        return list(self.messages)

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


def test_hash_matches_the_parent_level_and_retained_reach_wildcards(core: Core) -> None:
    pub = Peer(core, "pub")
    pub.c.publish("sport", b"retained", 1, retain=True)
    sub = Peer(core, "sub")
    sub.subscribe("sport/#")
    message = sub.wait(1)[0]
    assert (message.topic, message.retain) == ("sport", True)
    pub.close()
    sub.close()


def test_qos2_subscriptions_are_granted_qos1(core: Core) -> None:
    sub = Peer(core, "sub", V5)
    assert sub.subscribe("t/x", 2) == 1
    sub.close()


def test_v3_qos2_publish_closes_the_connection(core: Core) -> None:
    pub = Peer(core, "pub")
    pub.c.publish("t/x", b"two", 2)
    assert pub.disconnected.wait(5)
    pub.c.loop_stop()


def test_disconnect_with_will_message_publishes_the_will(core: Core) -> None:
    sub = Peer(core, "sub", V5)
    sub.subscribe("status")
    dev = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="dev", protocol=V5)
    dev.will_set("status", b"gone", 1)
    dev.connect("127.0.0.1", core.port, 30)
    dev.loop_start()
    dev.disconnect(reasoncode=ReasonCode(PacketTypes.DISCONNECT, identifier=0x04))
    assert sub.wait(1)[0].payload == b"gone"
    dev.loop_stop()
    sub.close()


def test_open_hooks_accept_anyone_and_report_why_connections_closed(core: Core) -> None:
    Peer(core, "polite").close()
    rude = Peer(core, "rude")
    rude.c.socket().close()  # no DISCONNECT
    rude.c.loop_stop()
    deadline = time.monotonic() + 5
    while len(core.hooks.closed) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sorted(r.kind for r in core.hooks.closed) == ["client_disconnect", "connection_lost"]
