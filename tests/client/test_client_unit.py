"""The client's pieces that need no broker: limits, endpoint derivation, rendering."""

from __future__ import annotations

import pytest

from client.connection import spec_from_url
from client.errors import ClientError
from client.limits import NAME_MAX, ROOM_PATTERN, TEXT_MAX, check_room, check_text
from client.render import render
from client.session import Incoming, make_client_id


def test_limits_are_the_contracts() -> None:
    """The client reads the very file the functions read (cases: tests/contract)."""
    from chatlib import contract

    assert (ROOM_PATTERN, NAME_MAX, TEXT_MAX) == (
        contract.ROOM_PATTERN,
        contract.NAME_MAX,
        contract.TEXT_MAX,
    )


def test_refusals_say_why() -> None:
    with pytest.raises(ClientError, match="bad room name"):
        check_room("a b")
    with pytest.raises(ClientError, match="too long"):
        check_text("x" * (TEXT_MAX + 1))


def test_deployment_url_gives_wss_on_443() -> None:
    spec = spec_from_url("wss://abc-ats.iot.eu-west-1.amazonaws.com/mqtt", "p-1", "auth", "t")
    assert (spec.transport, spec.host, spec.port) == (
        "wss",
        "abc-ats.iot.eu-west-1.amazonaws.com",
        443,
    )
    direct = spec_from_url("wss://abc-ats.iot.eu-west-1.amazonaws.com/mqtt", "p-1", "a", "t", "tls")
    assert (direct.transport, direct.port) == ("tls", 443)


def test_local_url_gives_ws_or_tcp() -> None:
    spec = spec_from_url("ws://localhost:8080/mqtt", "p-1", "auth", "t")
    assert (spec.transport, spec.host, spec.port, spec.path) == ("ws", "127.0.0.1", 8080, "/mqtt")
    tcp = spec_from_url("ws://127.0.0.1:8080/mqtt", "p-1", "auth", "t", "tcp", tcp_port=1999)
    assert (tcp.transport, tcp.port) == ("tcp", 1999)


def test_client_id_stays_under_the_policy_prefix() -> None:
    assert make_client_id("abc123").startswith("abc123-")
    assert make_client_id("abc123-").startswith("abc123-")
    assert make_client_id("abc123") != make_client_id("abc123")


def test_render_message_and_presence() -> None:
    msg = Incoming("chat/pub/lobby", {"type": "message", "name": "Bob", "text": "hi"}, 0)
    assert render(msg)[0].endswith("Bob: hi")
    members = [{"name": "Al"}, {"name": "Bo"}]
    presence = Incoming("chat/pub/x", {"type": "presence", "room": "x", "members": members}, 0)
    assert render(presence) == ["* in x: Al, Bo"]
