"""The client gets back by itself: after the broker drops it, after an emulator restart
that changed the signing key, and it gives up with one line when it cannot."""

from __future__ import annotations

import json
import queue
import time
import uuid
from typing import Any

import pytest

from client import connection
from client.session import ChatSession, Incoming, open_site_session, renewal_delay
from emulator.testing import EmulatorProcess
from tests.client.helpers import LiveClient, warm_up

pytestmark = pytest.mark.integration


def _room() -> str:
    return f"r{uuid.uuid4().hex[:10]}"


def next_matching(session: ChatSession, predicate: Any, timeout: float = 30) -> Incoming:
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            item = session.inbox.get(timeout=left)
        except queue.Empty:
            break
        if predicate(item):
            return item
        if item.topic == "$client/failed":
            raise AssertionError(f"the session gave up: {item.payload}")
    raise AssertionError(f"nothing matched within {timeout}s")


def is_text(text: str) -> Any:
    return lambda item: (item.payload or {}).get("text") == text


def send_from_another_client(site: str, room: str, text: str) -> None:
    other, _ = open_site_session(site, "Other")
    try:
        other.join(room, "Other")
        other.send(room, "Other", text).result(10)
    finally:
        other.close()


def test_resubscribes_and_rejoins_after_the_broker_drops_it(site: EmulatorProcess) -> None:
    room = _room()
    alice, _ = open_site_session(site.base_url, "Alice", recover=True)
    try:
        alice.join(room, "Alice")
        # Another connection with the same client id: IoT Core drops the older one.
        intruder = connection.build(alice.spec)
        connection.connect(intruder, alice.spec)
        connection.disconnect(intruder)
        next_matching(alice, lambda i: i.topic == "$client/interrupted", 15)
        resumed = next_matching(alice, lambda i: i.topic == "$client/resumed", 30)
        assert resumed.payload["rooms"] == [room]
        # The join was sent again: a backlog comes, and the room's traffic too.
        next_matching(alice, lambda i: (i.payload or {}).get("type") == "backlog", 15)
        send_from_another_client(site.base_url, room, "after the drop")
        next_matching(alice, is_text("after the drop"), 15)
        assert alice.failure is None
    finally:
        alice.close()


def test_gets_a_new_token_after_a_restart_with_a_new_key(fresh_emulator: EmulatorProcess) -> None:
    warm_up(fresh_emulator.base_url)
    room = _room()
    # Enough attempts to outlast a restart on a loaded machine (waits stop growing at 10 s).
    alice, _ = open_site_session(
        fresh_emulator.base_url, "Alice", recover=True, reconnect_attempts=30
    )
    try:
        alice.join(room, "Alice")
        old_client_id = alice.client_id
        fresh_emulator.stop()  # no state kept: the restarted emulator signs with a new key
        fresh_emulator.start()
        resumed = next_matching(alice, lambda i: i.topic == "$client/resumed", 150)
        assert resumed.payload["clientId"] != old_client_id  # a new token, a new principal
        send_from_another_client(fresh_emulator.base_url, room, "after the restart")
        next_matching(alice, is_text("after the restart"), 20)
    finally:
        alice.close()


def test_gives_up_with_one_line_after_its_attempts(fresh_emulator: EmulatorProcess) -> None:
    room = _room()
    listener = LiveClient(
        "listen",
        "--site",
        fresh_emulator.base_url,
        "--room",
        room,
        "--join",
        "--name",
        "Lis",
        "--reconnect-attempts",
        "2",
    )
    try:
        listener.wait_for(lambda line: json.loads(line).get("type") == "backlog")
        fresh_emulator.stop()
        assert listener.finish(timeout=60) == 1
        assert listener.proc.stderr is not None
        errors = [
            line for line in listener.proc.stderr.read().splitlines() if line.startswith("error")
        ]
        assert len(errors) == 1 and "gave up reconnecting after 2 tries" in errors[0], errors
    finally:
        if listener.proc.poll() is None:
            listener.proc.kill()


def test_a_token_is_renewed_before_it_runs_out() -> None:
    assert renewal_delay(1000.0, now=0.0) == 800.0
    assert renewal_delay(10.0, now=20.0) == 0.0  # already expired: now
    assert renewal_delay(None, now=0.0) is None
