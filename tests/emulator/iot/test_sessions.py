"""Persistent sessions ("MQTT persistent sessions"), resumption, takeover."""

from __future__ import annotations

import pytest

from emulator.iot import Limits
from tests.emulator.iot.harness import V3, V5, Client, Harness, wait_for


def subscribed_then_gone(h: Harness, version: int) -> None:
    """A persistent session subscribed to jobs/+ whose client has disconnected."""
    first = persistent(h, version).connect()
    first.subscribe("jobs/+", 1)
    first.close()
    h.wait_event("disconnected", "dev-1")


def persistent(h: Harness, version: int, **kw: object) -> Client:
    if version == V5:
        return Client(h, "dev-1", "dev", version=V5, clean=False, session_expiry=3600, **kw)
    return Client(h, "dev-1", "dev", clean=False, **kw)


@pytest.mark.parametrize("version", [V3, V5])
def test_a_persistent_session_keeps_subscriptions_and_queues_qos1(
    admin: Harness, version: int
) -> None:
    first = persistent(admin, version).connect()
    assert first.session_present is False
    first.subscribe("jobs/+", 1)
    first.close()
    admin.wait_event("disconnected", "dev-1")
    for n in range(3):
        admin.publish(f"jobs/{n}", f"job {n}".encode(), 1)
    admin.publish("jobs/q0", b"not stored", 0)
    again = persistent(admin, version).connect()
    assert again.session_present is True
    assert [m.payload for m in again.wait_messages(3)] == [b"job 0", b"job 1", b"job 2"]
    admin.publish("jobs/live", b"live", 1)  # the subscription is still there
    again.wait_messages(4)
    again.sync()
    assert b"not stored" not in [m.payload for m in again.messages]
    again.close()


@pytest.mark.parametrize("version", [V3, V5])
def test_a_clean_start_discards_the_session(admin: Harness, version: int) -> None:
    subscribed_then_gone(admin, version)
    admin.publish("jobs/1", b"queued", 1)
    clean = Client(admin, "dev-1", "dev", version=version).connect()
    assert clean.session_present is False
    admin.publish("jobs/2", b"after", 1)
    clean.sync()
    assert clean.received() == []
    clean.close()


@pytest.mark.parametrize("version", [V3, V5])
def test_unacknowledged_messages_are_resent_with_dup(admin: Harness, version: int) -> None:
    first = persistent(admin, version, manual_ack=True).connect()
    first.subscribe("jobs/+", 1)
    admin.publish("jobs/1", b"job", 1)
    original = first.wait_messages(1)[0]
    assert original.dup is False
    first.close()  # never acknowledged
    admin.wait_event("disconnected", "dev-1")
    again = persistent(admin, version).connect()
    resent = again.wait_messages(1)[0]
    assert (resent.payload, resent.dup, resent.mid) == (b"job", True, original.mid)
    again.sync()
    assert len(again.messages) == 1  # acknowledged now: not sent a third time
    again.close()


def test_taking_over_a_live_persistent_session(admin: Harness) -> None:
    first = persistent(admin, V3).connect()
    first.subscribe("jobs/+", 1)
    second = persistent(admin, V3).connect()
    assert second.session_present is True
    assert first.disconnected.wait(5)
    events = admin.wait_event("disconnected", "dev-1")
    assert events[0]["disconnectReason"] == "DUPLICATE_CLIENTID"
    admin.publish("jobs/1", b"to the new connection", 1)
    assert [m.payload for m in second.wait_messages(1)] == [b"to the new connection"]
    connected = admin.events("connected", "dev-1")
    assert connected[0]["sessionIdentifier"] == connected[1]["sessionIdentifier"]
    first.close()
    second.close()


def test_taking_over_with_a_clean_session_drops_the_old_session(admin: Harness) -> None:
    first = persistent(admin, V3).connect()
    first.subscribe("jobs/+", 1)
    second = Client(admin, "dev-1", "dev", version=V3).connect()
    assert second.session_present is False
    admin.publish("jobs/1", b"nobody", 1)
    second.sync()
    assert second.received() == []
    first.close()
    second.close()


def test_a_session_is_not_resumed_across_mqtt_versions(admin: Harness) -> None:
    subscribed_then_gone(admin, V3)
    again = persistent(admin, V5).connect()
    assert again.session_present is False
    again.close()


def test_session_expiry_is_capped_at_the_account_default(admin: Harness) -> None:
    c = Client(admin, "dev-1", "dev", version=V5, clean=False, session_expiry=7200).connect()
    assert c.connack_properties.SessionExpiryInterval == 3600
    c.close()


def test_a_v5_session_ends_when_its_expiry_runs_out(admin: Harness) -> None:
    first = Client(admin, "dev-1", "dev", version=V5, clean=False, session_expiry=1).connect()
    first.subscribe("jobs/+", 1)
    first.close()
    wait_for(lambda: not admin.run(lambda: admin.broker.has_session("dev-1")), timeout=5)
    again = Client(admin, "dev-1", "dev", version=V5, clean=False, session_expiry=1).connect()
    assert again.session_present is False
    again.close()


def test_session_expiry_zero_keeps_nothing(admin: Harness) -> None:
    first = Client(admin, "dev-1", "dev", version=V5, clean=False, session_expiry=0).connect()
    first.subscribe("jobs/+", 1)
    first.close()
    admin.wait_event("disconnected", "dev-1")
    again = Client(admin, "dev-1", "dev", version=V5, clean=False).connect()
    assert again.session_present is False
    again.close()


def test_a_v3_persistent_session_lasts_the_account_expiry() -> None:
    h = Harness(limits=Limits(authorizer_min_ttl_s=1, session_expiry_s=1)).start()
    try:
        h.allow_all("dev")
        subscribed_then_gone(h, V3)
        assert h.run(lambda: h.broker.has_session("dev-1"))  # kept after the disconnect
        wait_for(lambda: not h.run(lambda: h.broker.has_session("dev-1")), timeout=5)
        again = persistent(h, V3).connect()
        assert again.session_present is False
        # The expired session also restarted the client's lifecycle versionNumber.
        assert [e["versionNumber"] for e in h.wait_event("connected", "dev-1", 2)] == [0, 0]
        again.close()
    finally:
        h.stop()


def test_queued_messages_per_second_are_limited_account_wide() -> None:
    h = Harness(limits=Limits(authorizer_min_ttl_s=1, queued_per_second=2)).start()
    try:
        h.allow_all("dev")
        subscribed_then_gone(h, V3)
        for n in range(5):
            h.publish(f"jobs/{n}", f"job {n}".encode(), 1)
        again = persistent(h, V3).connect()
        assert [m.payload for m in again.wait_messages(2)] == [b"job 0", b"job 1"]
        again.sync()
        assert len(again.messages) == 2  # the rest were over the rate and dropped
        again.close()
    finally:
        h.stop()
