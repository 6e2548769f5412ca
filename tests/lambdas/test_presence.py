"""The presence function: lifecycle events, ordering, duplicates, rosters."""

from __future__ import annotations

import itertools
import random
from typing import Any
from unittest.mock import ANY

import chat
import presence
import pytest

from chatlib import aws, connections

from .conftest import CONNECTIONS_TABLE, REGION

T0 = 1_700_000_000_000


def lifecycle(
    kind: str, client: str, ts: int, version: int = 0, session: str = "s-1", **extra: Any
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "clientId": client,
        "timestamp": ts,
        "eventType": kind,
        "sessionIdentifier": session,
        "principalIdentifier": client.split("-")[0],
        "versionNumber": version,
    }
    if kind == "connected":
        event["ipAddress"] = "192.0.2.1"
    else:
        event["clientInitiatedDisconnect"] = True
        event["disconnectReason"] = "CLIENT_INITIATED_DISCONNECT"
    event.update(extra)
    return event


def join(context, client: str, room: str, name: str, ts: int) -> dict[str, Any]:
    return chat.handler(
        {
            "type": "join",
            "room": room,
            "name": name,
            "clientId": client,
            "sender": client.split("-")[0],
            "ts": ts,
        },
        context,
    )


def item(client: str) -> dict[str, Any] | None:
    table = aws.session().resource("dynamodb", region_name=REGION).Table(CONNECTIONS_TABLE)
    return table.get_item(Key={"clientId": client}).get("Item")


def names(room: str) -> list[str]:
    return [m["name"] for m in connections.roster(room)]


@pytest.fixture
def env(tables, published):
    return published


def test_connect_records_the_connection(env, context) -> None:
    assert presence.handler(lifecycle("connected", "alice1-a", T0, 3), context) == {
        "outcome": "connected"
    }
    stored = item("alice1-a")
    assert stored["clientId"] == "alice1-a"
    assert stored["sender"] == "alice1"
    assert stored["status"] == "connected"
    assert stored["connectedAt"] == T0
    assert stored["version"] == connections.lifecycle_version(3, T0)
    assert stored["sessionId"] == "s-1"
    assert stored["expiresAt"] == T0 // 1000 + connections.CONNECTION_TTL_SECONDS
    assert "room" not in stored
    assert env.all() == []


def test_connect_join_disconnect(env, context) -> None:
    presence.handler(lifecycle("connected", "alice1-a", T0), context)
    presence.handler(lifecycle("connected", "bob1-b", T0), context)
    join(context, "alice1-a", "lobby", "Alice", T0 + 10)
    join(context, "bob1-b", "lobby", "Bob", T0 + 11)
    stored = item("alice1-a")
    assert stored["room"] == "lobby" and stored["name"] == "Alice"
    assert stored["status"] == "connected"  # the join did not clobber the connection

    env.clear()
    presence.handler(lifecycle("disconnected", "alice1-a", T0 + 100), context)
    assert env.all() == [
        (
            "chat/pub/lobby",
            {
                "type": "presence",
                "room": "lobby",
                "members": [{"name": "Bob", "sender": "bob1"}],
                "at": ANY,
            },
        )
    ]
    tombstone = item("alice1-a")
    assert tombstone["status"] == "disconnected"
    assert "room" not in tombstone
    assert tombstone["expiresAt"] == (T0 + 100) // 1000 + connections.TOMBSTONE_TTL_SECONDS
    assert names("lobby") == ["Bob"]


def test_disconnect_outside_a_room_publishes_nothing(env, context) -> None:
    presence.handler(lifecycle("connected", "alice1-a", T0), context)
    presence.handler(lifecycle("disconnected", "alice1-a", T0 + 5), context)
    assert env.all() == []


def test_duplicate_events_are_idempotent(env, context) -> None:
    connect = lifecycle("connected", "alice1-a", T0)
    disconnect = lifecycle("disconnected", "alice1-a", T0 + 100)
    presence.handler(connect, context)
    presence.handler(connect, context)
    join(context, "alice1-a", "lobby", "Alice", T0 + 10)
    presence.handler(connect, context)  # a late duplicate of the connect
    assert item("alice1-a")["room"] == "lobby"
    env.clear()
    for _ in range(3):
        presence.handler(disconnect, context)
    assert len(env.on("chat/pub/lobby")) == 1  # one roster update, not three
    presence.handler(connect, context)  # and a duplicated connect after the disconnect
    assert item("alice1-a")["status"] == "disconnected"
    assert names("lobby") == []


def test_disconnect_before_connect_does_not_resurrect(env, context) -> None:
    presence.handler(lifecycle("disconnected", "alice1-a", T0 + 100, version=4), context)
    presence.handler(lifecycle("connected", "alice1-a", T0, version=4), context)
    stored = item("alice1-a")
    assert stored["status"] == "disconnected"
    assert stored["version"] == connections.lifecycle_version(4, T0 + 100)


def test_stale_disconnect_keeps_the_newer_session(env, context) -> None:
    # Session 1 connects and joins; session 2 (same client id) replaces it and joins;
    # session 1's disconnect arrives last.
    presence.handler(lifecycle("connected", "alice1-a", T0, version=1, session="s1"), context)
    join(context, "alice1-a", "lobby", "Alice", T0 + 10)
    presence.handler(lifecycle("connected", "alice1-a", T0 + 50, version=2, session="s2"), context)
    join(context, "alice1-a", "lobby", "Alice", T0 + 60)
    env.clear()
    late = lifecycle("disconnected", "alice1-a", T0 + 49, version=1, session="s1")
    presence.handler(late, context)
    assert env.all() == []
    assert item("alice1-a")["status"] == "connected"
    assert names("lobby") == ["Alice"]


def test_same_version_number_timestamp_breaks_the_tie(env, context) -> None:
    # An emulator (or AWS for one session) may reuse the versionNumber: timestamps order.
    presence.handler(lifecycle("connected", "alice1-a", T0 + 200, version=0), context)
    presence.handler(lifecycle("disconnected", "alice1-a", T0 + 100, version=0), context)
    assert item("alice1-a")["status"] == "connected"
    presence.handler(lifecycle("disconnected", "alice1-a", T0 + 300, version=0), context)
    assert item("alice1-a")["status"] == "disconnected"


def test_higher_version_number_wins_over_timestamp(env, context) -> None:
    presence.handler(lifecycle("connected", "alice1-a", T0, version=5), context)
    presence.handler(lifecycle("disconnected", "alice1-a", T0 + 500, version=4), context)
    assert item("alice1-a")["status"] == "connected"


def test_a_client_id_back_after_its_version_number_was_reset(env, context) -> None:
    """AWS starts versionNumber again from 0 after a client id was offline for a while:
    the returning connection is listed, and the old connection's late events are not."""
    presence.handler(lifecycle("connected", "alice1-a", T0, version=7), context)
    presence.handler(lifecycle("disconnected", "alice1-a", T0 + 100, version=7), context)
    back = T0 + 2 * 3600 * 1000
    presence.handler(lifecycle("connected", "alice1-a", back, version=0), context)
    join(context, "alice1-a", "lobby", "Alice", back + 10)
    assert item("alice1-a")["status"] == "connected"
    assert names("lobby") == ["Alice"]
    for late in (
        lifecycle("disconnected", "alice1-a", T0 + 100, version=7),
        lifecycle("connected", "alice1-a", T0, version=7),
        lifecycle("disconnected", "alice1-a", T0 + 50, version=6),
    ):
        presence.handler(late, context)
        assert item("alice1-a")["status"] == "connected"
    assert names("lobby") == ["Alice"]
    presence.handler(lifecycle("disconnected", "alice1-a", back + 500, version=0), context)
    assert names("lobby") == []


def test_a_lost_disconnect_does_not_hide_the_next_connection(env, context) -> None:
    presence.handler(lifecycle("connected", "alice1-a", T0, version=7), context)
    later = T0 + 2 * 3600 * 1000  # the disconnect never came; versionNumber was reset
    presence.handler(lifecycle("connected", "alice1-a", later, version=0), context)
    assert item("alice1-a")["connectedAt"] == later


def test_close_events_are_still_ordered_by_version_number(env, context) -> None:
    presence.handler(lifecycle("connected", "alice1-a", T0, version=5), context)
    presence.handler(lifecycle("disconnected", "alice1-a", T0 + 30_000, version=4), context)
    assert item("alice1-a")["status"] == "connected"


def test_join_before_connect_event_is_kept(env, context) -> None:
    join(context, "alice1-a", "lobby", "Alice", T0 + 10)
    presence.handler(lifecycle("connected", "alice1-a", T0 + 5, version=1), context)
    stored = item("alice1-a")
    assert stored["room"] == "lobby" and stored["name"] == "Alice"
    assert stored["status"] == "connected"
    assert stored["sender"] == "alice1"
    assert names("lobby") == ["Alice"]


def test_disconnect_before_join_then_join_is_ignored(env, context) -> None:
    """A join delivered after the client's disconnect (stamped earlier) stays out."""
    presence.handler(lifecycle("connected", "alice1-a", T0), context)
    presence.handler(lifecycle("disconnected", "alice1-a", T0 + 100), context)
    assert join(context, "alice1-a", "lobby", "Alice", T0 + 50) == {"outcome": "join-stale"}
    assert names("lobby") == []


def test_new_session_join_before_its_connect_after_old_disconnect(env, context) -> None:
    presence.handler(lifecycle("connected", "alice1-a", T0, version=1), context)
    presence.handler(lifecycle("disconnected", "alice1-a", T0 + 100, version=1), context)
    join(context, "alice1-a", "lobby", "Alice", T0 + 300)  # session 2, event not seen yet
    presence.handler(lifecycle("connected", "alice1-a", T0 + 250, version=2), context)
    assert names("lobby") == ["Alice"]
    assert item("alice1-a")["status"] == "connected"


def test_reconnect_clears_the_room_of_the_replaced_session(env, context) -> None:
    presence.handler(lifecycle("connected", "alice1-a", T0, version=1), context)
    join(context, "alice1-a", "lobby", "Alice", T0 + 10)
    presence.handler(lifecycle("connected", "bob1-b", T0), context)
    join(context, "bob1-b", "lobby", "Bob", T0 + 11)
    env.clear()
    # Session 2 connects; session 1's disconnect is lost.
    presence.handler(lifecycle("connected", "alice1-a", T0 + 500, version=2), context)
    assert env.on("chat/pub/lobby") == [
        {
            "type": "presence",
            "room": "lobby",
            "members": [{"name": "Bob", "sender": "bob1"}],
            "at": ANY,
        }
    ]
    assert names("lobby") == ["Bob"]


def test_roster_dedupes_tabs_and_sorts(env, context) -> None:
    join(context, "zed1-a", "lobby", "zed", T0)
    join(context, "alice1-a", "lobby", "Alice", T0)
    join(context, "alice1-b", "lobby", "Alice", T0)  # a second tab of the same person
    join(context, "bob1-a", "lobby", "bob", T0)
    assert connections.roster("lobby") == [
        {"name": "Alice", "sender": "alice1"},
        {"name": "bob", "sender": "bob1"},
        {"name": "zed", "sender": "zed1"},
    ]


def test_roster_with_many_members(env, context) -> None:
    for n in range(12):
        join(context, f"user{n}-x", "big", f"user{n:02d}", T0 + n)
    assert len(connections.roster("big")) == 12


@pytest.mark.parametrize(
    "event",
    [
        None,
        [],
        {},
        {"eventType": "connected"},
        {"eventType": "connected", "clientId": "a-1"},
        {"eventType": "connected", "clientId": "a-1", "timestamp": "soon"},
        {"eventType": "connected", "clientId": "a/1", "timestamp": T0},
        {"eventType": "subscribed", "clientId": "a-1", "timestamp": T0, "topics": ["x"]},
        {"eventType": "connected", "clientId": "a-1", "timestamp": 10**14},
    ],
)
def test_malformed_or_other_events_are_ignored(env, context, event) -> None:
    assert presence.handler(event, context) == {"outcome": "ignored"}
    assert env.all() == []


def test_version_number_may_be_a_string_or_missing(env, context) -> None:
    presence.handler(
        {"eventType": "connected", "clientId": "a-1", "timestamp": T0, "versionNumber": "7"},
        context,
    )
    assert item("a-1")["version"] == connections.lifecycle_version(7, T0)
    presence.handler({"eventType": "connected", "clientId": "b-1", "timestamp": T0}, context)
    assert item("b-1")["version"] == connections.lifecycle_version(0, T0)


# -- a shuffled, duplicated history ---------------------------------------------------


def session_events(client: str, sessions: list[tuple[int, int, int | None]]) -> list[dict]:
    """(version, connect ts, disconnect ts or None) per session."""
    events = []
    for version, start, end in sessions:
        events.append(lifecycle("connected", client, start, version, f"{client}-{version}"))
        if end is not None:
            events.append(lifecycle("disconnected", client, end, version, f"{client}-{version}"))
    return events


@pytest.mark.parametrize("seed", range(5))
def test_out_of_order_and_duplicated_events_give_the_right_roster(env, context, seed) -> None:
    rng = random.Random(seed)
    # alice: two sessions, the second still connected, joined lobby in the second.
    # bob: one session, connected and in the lobby.
    # carol: joined the lobby, then disconnected.
    # dave: two sessions, both ended.
    events = (
        session_events("alice1-a", [(1, T0, T0 + 1000), (2, T0 + 2000, None)])
        + session_events("bob1-b", [(1, T0 + 10, None)])
        + session_events("carol1-c", [(1, T0 + 20, T0 + 900)])
        + session_events("dave1-d", [(1, T0 + 30, T0 + 400), (2, T0 + 500, T0 + 800)])
    )
    joins = [
        ("alice1-a", "Alice", T0 + 100),  # first session
        ("alice1-a", "Alice", T0 + 2100),  # second session
        ("bob1-b", "Bob", T0 + 110),
        ("carol1-c", "Carol", T0 + 120),
        ("dave1-d", "Dave", T0 + 130),
        ("dave1-d", "Dave", T0 + 600),
    ]
    actions: list[tuple[str, Any]] = [("event", e) for e in events]
    actions += [("join", j) for j in joins]
    # Duplicate a few at random, then shuffle everything.
    actions += rng.sample(actions, 5)
    rng.shuffle(actions)
    for kind, payload in actions:
        if kind == "event":
            presence.handler(payload, context)
        else:
            join(context, payload[0], "lobby", payload[1], payload[2])

    assert names("lobby") == ["Alice", "Bob"]
    assert item("carol1-c")["status"] == "disconnected"
    assert item("dave1-d")["status"] == "disconnected"
    assert item("alice1-a")["status"] == "connected"
    assert item("bob1-b")["status"] == "connected"


def test_every_order_of_one_session_ends_disconnected(env, context) -> None:
    events = [
        lifecycle("connected", "eve1-e", T0, 3),
        lifecycle("disconnected", "eve1-e", T0 + 100, 3),
    ]
    actions = [("event", e) for e in events] + [("join", None)]
    for n, order in enumerate(itertools.permutations(actions)):
        client = f"eve{n}-e"
        for kind, payload in order:
            if kind == "event":
                presence.handler({**payload, "clientId": client}, context)
            else:
                join(context, client, "lobby", f"Eve{n}", T0 + 50)
        assert item(client)["status"] == "disconnected"
    assert names("lobby") == []


def test_late_join_of_a_replaced_session_is_ignored(env, context) -> None:
    presence.handler(lifecycle("connected", "alice1-a", T0, version=1), context)
    presence.handler(lifecycle("disconnected", "alice1-a", T0 + 100, version=1), context)
    presence.handler(lifecycle("connected", "alice1-a", T0 + 200, version=2), context)
    # Session 1's join, stamped before its disconnect, is delivered only now.
    assert join(context, "alice1-a", "lobby", "Alice", T0 + 50) == {"outcome": "join-stale"}
    assert names("lobby") == []
    stored = item("alice1-a")
    assert stored["status"] == "connected" and "room" not in stored


def test_late_join_of_a_replaced_session_without_its_disconnect(env, context) -> None:
    presence.handler(lifecycle("connected", "alice1-a", T0, version=1), context)
    presence.handler(lifecycle("connected", "alice1-a", T0 + 200, version=2), context)
    assert join(context, "alice1-a", "lobby", "Alice", T0 + 50) == {"outcome": "join-stale"}
    assert names("lobby") == []
