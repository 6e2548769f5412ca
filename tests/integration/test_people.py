"""People on the emulator with real MQTT clients: every device of a user, direct
messages, typing, edits and deletes, private rooms, and every refusal IoT Core and the
chat function make (the functions run with their template roles)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from emulator.testing import EmulatorProcess
from tests.support.chat import stored_messages, unique_room, wait_stored
from tests.support.mqtt_client import ChatClient, new_client_id

pytestmark = pytest.mark.integration

REFUSED = 0x80


def token_for(emulator: EmulatorProcess, name: str, previous: str | None = None) -> dict:
    """POST /api/token, presenting the token a page already has when ``previous``."""
    body: dict[str, Any] = {"name": name}
    if previous is not None:
        body["token"] = previous
    req = urllib.request.Request(
        f"{emulator.base_url}/api/token",
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.load(resp)


def codes(granted: list[Any]) -> list[int]:
    return [getattr(code, "value", code) for code in granted]


class Person:
    """One user: a token (one principal) and any number of connections (devices)."""

    def __init__(self, emulator: EmulatorProcess, name: str, opened: list[ChatClient]) -> None:
        self.emulator, self.name, self.opened = emulator, name, opened
        self.token = token_for(emulator, name)
        self.principal: str = self.token["clientIdPrefix"]

    def device(self, *extra: str) -> ChatClient:
        """A new connection subscribed to its inbox, its user topic and ``extra``."""
        client = ChatClient(
            "127.0.0.1",
            self.emulator.mqtt_port,
            self.token["token"],
            self.emulator.config()["authorizer"],
            new_client_id(self.principal),
        )
        self.opened.append(client)
        assert client.connect() == "Success"
        granted = client.subscribe(
            f"chat/in/{client.client_id}", f"chat/user/{self.principal}", *extra
        )
        assert codes(granted)[:2] == [1, 1]
        return client

    def joined(self, room: str = "lobby") -> ChatClient:
        """A device that has joined ``room`` (which makes the person known for DMs)."""
        client = self.device(f"chat/pub/{room}")
        client.publish("chat/out", {"type": "join", "room": room, "name": self.name})
        client.wait_for(lambda t, b: b.get("type") == "backlog")
        return client


@pytest.fixture
def person(emulator: EmulatorProcess) -> Iterator[Any]:
    opened: list[ChatClient] = []
    yield lambda name: Person(emulator, name, opened)
    for client in opened:
        client.close()


def error_on(client: ChatClient) -> dict:
    return client.wait_for(lambda t, b: b.get("type") == "error")[1]


# -- every device of a user --------------------------------------------------------------


def test_a_guest_keeps_its_principal_across_token_renewals(emulator) -> None:
    first = token_for(emulator, "Alice")
    again = token_for(emulator, "Alice", previous=first["token"])
    assert again["clientIdPrefix"] == first["clientIdPrefix"]
    assert token_for(emulator, "Alice")["clientIdPrefix"] != first["clientIdPrefix"]


def test_only_the_principal_may_subscribe_to_its_user_topic(person) -> None:
    alice, bob = person("Alice"), person("Bob")
    alice.device()
    snoop = bob.device()
    assert codes(snoop.subscribe(f"chat/user/{alice.principal}", "chat/user/+")) == [
        REFUSED,
        REFUSED,
    ]


# -- direct messages ---------------------------------------------------------------------


def test_a_dm_reaches_every_device_of_both_and_only_they_page_it(person) -> None:
    alice, bob, carol = person("Alice"), person("Bob"), person("Carol")
    laptop, phone = alice.joined(), alice.device()
    bob_tab = bob.joined()
    carol_tab = carol.joined()
    laptop.publish("chat/out", {"type": "dm", "to": bob.principal, "name": "Alice", "text": "psst"})

    def is_dm(topic: str, body: Any) -> bool:
        return body.get("type") == "dm" and body.get("text") == "psst"

    for client, user in ((bob_tab, bob), (laptop, alice), (phone, alice)):
        topic, dm = client.wait_for(is_dm)
        assert topic == f"chat/user/{user.principal}"
        assert (dm["sender"], dm["to"], dm["clientId"]) == (
            alice.principal,
            bob.principal,
            laptop.client_id,
        )

    bob_tab.publish("chat/out", {"type": "history", "with": alice.principal})
    page = bob_tab.wait_for(lambda t, b: b.get("type") == "history")[1]
    assert [m["text"] for m in page["messages"]] == ["psst"]
    # Carol can name Alice and Bob, but only ever pages her own conversations.
    carol_tab.publish("chat/out", {"type": "history", "with": alice.principal})
    carol_tab.publish("chat/out", {"type": "history", "with": bob.principal})
    carol_tab.wait_for(
        lambda t, b: len([x for x in carol_tab.received if x[1].get("type") == "history"]) == 2
    )
    pages = [b for _, b in carol_tab.matching(lambda t, b: b.get("type") == "history")]
    assert [p["messages"] for p in pages] == [[], []]
    assert carol_tab.matching(is_dm) == []


def test_a_dm_to_oneself_or_to_no_one_is_a_clear_error(person) -> None:
    alice = person("Alice")
    tab = alice.joined()
    tab.publish("chat/out", {"type": "dm", "to": "nobody42", "name": "Alice", "text": "hi"})
    assert error_on(tab)["message"] == "no user nobody42 (they must have joined the chat)"
    tab.received.clear()
    tab.publish("chat/out", {"type": "dm", "to": alice.principal, "name": "Alice", "text": "hi"})
    assert error_on(tab)["message"] == "you cannot send a direct message to yourself"


# -- typing, edits and deletes -----------------------------------------------------------


def test_typing_reaches_the_room_stamped_and_is_never_stored(emulator, person) -> None:
    room = unique_room()
    alice, bob = person("Alice"), person("Bob")
    tab = alice.joined(room)
    watcher = bob.joined(room)
    tab.publish("chat/out", {"type": "typing", "room": room, "name": "Alice", "sender": "x"})
    _, typing = watcher.wait_for(lambda t, b: b.get("type") == "typing")
    assert (typing["name"], typing["sender"]) == ("Alice", alice.principal)
    tab.publish("chat/out", {"type": "message", "room": room, "name": "Alice", "text": "done"})
    stored = wait_stored(emulator, room, 1)
    assert [item["type"] for item in stored] == ["message"]


def test_edit_and_delete_reach_the_room_and_a_forged_one_is_refused(emulator, person) -> None:
    room = unique_room()
    alice, bob, mallory = person("Alice"), person("Bob"), person("Mallory")
    tab, watcher, forger = alice.joined(room), bob.joined(room), mallory.joined(room)
    tab.publish("chat/out", {"type": "message", "room": room, "name": "Alice", "text": "typo"})
    _, msg = watcher.wait_for(lambda t, b: b.get("text") == "typo")
    wait_stored(emulator, room, 1)

    forger.publish("chat/out", {"type": "edit", "room": room, "id": msg["id"], "text": "pwned"})
    assert "only its sender" in error_on(forger)["message"]
    forger.received.clear()
    forger.publish("chat/out", {"type": "delete", "room": room, "id": msg["id"]})
    assert "only its sender" in error_on(forger)["message"]

    tab.publish("chat/out", {"type": "edit", "room": room, "id": msg["id"], "text": "fixed"})
    _, edit = watcher.wait_for(lambda t, b: b.get("type") == "edit")
    assert (edit["id"], edit["text"]) == (msg["id"], "fixed")
    tab.publish("chat/out", {"type": "delete", "room": room, "id": msg["id"]})
    watcher.wait_for(lambda t, b: b.get("type") == "delete")
    # The forged edit and delete came before these and none of them reached the room.
    changes = watcher.matching(lambda t, b: b.get("type") in ("edit", "delete"))
    assert [b["type"] for _, b in changes] == ["edit", "delete"]
    (item,) = stored_messages(emulator, room)
    assert item["deleted"] is True and "text" not in item


# -- private rooms -----------------------------------------------------------------------


def test_a_private_room_admits_members_only_before_and_after_removal(emulator, person) -> None:
    alice, bob = person("Alice"), person("Bob")
    owner = alice.joined()
    outsider = bob.joined()
    owner.publish("chat/out", {"type": "create", "title": "Team", "private": True, "name": "A"})
    _, created = owner.wait_for(lambda t, b: b.get("type") == "created")
    room = created["room"]
    topic = f"chat/priv/{room}"
    # The owner's policy has the room once it reconnects (the authorizer reads memberships).
    owner_tab = alice.device(topic)

    # Before: Bob can neither subscribe nor send.
    assert codes(outsider.subscribe(topic)) == [REFUSED]
    say = {"type": "message", "room": room, "private": True, "name": "Bob", "text": "let me in"}
    outsider.publish("chat/out", say)
    assert error_on(outsider)["message"] == "you are not a member of this private room"

    owner.publish("chat/out", {"type": "invite", "room": room, "member": bob.principal})
    _, invited = outsider.wait_for(lambda t, b: b.get("type") == "invited")
    assert invited == {"type": "invited", "room": room, "title": "Team", "by": alice.principal}
    member = bob.device(topic)  # a new connection gets a policy with the room
    member.publish("chat/out", {**say, "text": "hello team"})
    for client in (member, owner_tab):
        _, got = client.wait_for(lambda t, b: b.get("text") == "hello team")
        assert (got["sender"], got["room"]) == (bob.principal, room)

    owner.publish("chat/out", {"type": "remove", "room": room, "member": bob.principal})
    member.wait_for(lambda t, b: b.get("type") == "removed")
    assert member.disconnected.wait(10), "DeleteConnection closes the removed member's clients"
    assert outsider.disconnected.wait(10)

    # After: a new connection cannot subscribe, and nothing Bob sends gets in.
    again = bob.device()
    assert codes(again.subscribe(topic)) == [REFUSED]
    again.publish("chat/out", {**say, "text": "still here"})
    assert error_on(again)["message"] == "you are not a member of this private room"
    owner.publish(
        "chat/out", {"type": "message", "room": room, "private": True, "name": "A", "text": "after"}
    )
    owner_tab.wait_for(lambda t, b: b.get("text") == "after")
    assert owner_tab.matching(lambda t, b: b.get("text") == "still here") == []
    # The functions did all of it with their template roles (IAM is on): nothing denied.
    denied = [line for line in emulator.output if "IAM denied" in line or "AccessDenied" in line]
    assert denied == []
