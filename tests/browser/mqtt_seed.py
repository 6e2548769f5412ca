"""Publish chat commands as a real device would: paho-mqtt over the emulator's TCP port,
signed in through the custom authorizer with a guest token (username carries the
authorizer's name, password the token)."""

from __future__ import annotations

import json
import time
import uuid

import paho.mqtt.client as mqtt

from emulator.testing import EmulatorProcess


def publish_messages(
    server: EmulatorProcess, room: str, name: str, texts: list[str], rate: float = 40.0
) -> None:
    """Sends each text as a chat message, in order, waiting for every PUBACK.

    `rate` (messages per second) stays well under IoT Core's per-connection publish
    limit, and keeps the rule's timestamps distinct so the order is the sending order.
    """
    config = server.config()
    grant = server.guest_token(name)
    client = mqtt.Client(
        callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
        client_id=f"{grant['clientIdPrefix']}-{uuid.uuid4().hex[:8]}",
        protocol=mqtt.MQTTv311,
        clean_session=True,
    )
    client.username_pw_set(
        f"any?x-amz-customauthorizer-name={config['authorizer']}", grant["token"]
    )
    connected: list[int] = []
    client.on_connect = lambda c, u, flags, rc, props=None: connected.append(int(rc.value))
    client.connect("127.0.0.1", server.mqtt_port, keepalive=30)
    client.loop_start()
    try:
        deadline = time.monotonic() + 10
        while not connected and time.monotonic() < deadline:
            time.sleep(0.02)
        assert connected == [0], f"device connect refused or timed out: {connected}"
        topic = f"{config['topicRoot']}/out"
        for text in texts:
            payload = json.dumps({"type": "message", "room": room, "name": name, "text": text})
            info = client.publish(topic, payload, qos=1)
            info.wait_for_publish(timeout=10)
            assert info.is_published(), f"no PUBACK for {text!r}"
            time.sleep(1 / rate)
    finally:
        client.disconnect()
        client.loop_stop()
