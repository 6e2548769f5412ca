"""The chat function's people commands: DMs, edits and deletes, private rooms."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import chat
import pytest

from chatlib import publisher

from .test_chat import T0, command, seed


@pytest.fixture
def env(tables, published, context) -> SimpleNamespace:
    def run(kind: str, client: str = "alice1-tab", **fields: Any) -> str:
        return chat.handler(command(kind, client, **fields), context)["outcome"]

    return SimpleNamespace(tables=tables, published=published, run=run)


def errors(published, client: str = "alice1-tab") -> list[str]:
    return [p["message"] for p in published.on(f"chat/in/{client}") if p["type"] == "error"]


def join(env, who: str, name: str, room: str = "lobby", **fields: Any) -> str:
    return env.run("join", f"{who}-tab", room=room, name=name, **fields)


# -- direct messages -------------------------------------------------------------------


def test_a_dm_reaches_both_user_topics_and_is_stored_per_conversation(env) -> None:
    join(env, "bob1", "Bob")
    assert env.run("dm", to="bob1", name="Alice", text="hi Bob", ts=T0 + 5) == "dm"
    (to_bob,) = env.published.on("chat/user/bob1")
    (to_alice,) = env.published.on("chat/user/alice1")
    assert to_bob == to_alice
    assert to_bob["type"] == "dm" and to_bob["text"] == "hi Bob" and to_bob["ts"] == T0 + 5
    assert (to_bob["sender"], to_bob["clientId"], to_bob["to"]) == ("alice1", "alice1-tab", "bob1")

    # Either of the two pages the same conversation.
    assert env.run("history", "bob1-phone", **{"with": "alice1"}) == "history"
    (page,) = [p for p in env.published.on("chat/in/bob1-phone") if p["type"] == "history"]
    assert page["with"] == "alice1"
    assert [m["text"] for m in page["messages"]] == ["hi Bob"]


def test_a_third_party_pages_only_its_own_conversation(env) -> None:
    join(env, "bob1", "Bob")
    env.run("dm", to="bob1", name="Alice", text="secret")
    # Carol asks for the conversation "with alice1": it is Carol's own with Alice, empty.
    env.run("history", "carol1-tab", **{"with": "alice1"})
    env.run("history", "carol1-tab", **{"with": "bob1"})
    pages = [p for p in env.published.on("chat/in/carol1-tab") if p["type"] == "history"]
    assert [p["messages"] for p in pages] == [[], []]


def test_a_forged_cursor_of_another_conversation_is_refused(env) -> None:
    from chatlib import messages

    join(env, "bob1", "Bob")
    cursor = messages.encode_cursor(messages.conversation("alice1", "bob1"), f"{T0:013d}#x")
    env.run("history", "carol1-tab", **{"with": "alice1", "before": cursor})
    assert errors(env.published, "carol1-tab") == ["invalid cursor"]


@pytest.mark.parametrize(
    ("to", "message"),
    [
        ("alice1", "you cannot send a direct message to yourself"),
        ("nobody7", "no user nobody7 (they must have joined the chat)"),
        ("not/a/principal", "to must be a principal (1 to 128 letters and digits)"),
    ],
)
def test_a_dm_to_oneself_or_to_no_one_is_a_clear_error(env, to, message) -> None:
    assert env.run("dm", to=to, name="Alice", text="hi") == "rejected"
    assert errors(env.published) == [message]
    assert not [t for t, _ in env.published.all() if "/user/" in t]


# -- edit and delete -------------------------------------------------------------------


def test_the_sender_edits_and_deletes_its_message_and_history_shows_it(env, store_rule) -> None:
    first, second = seed(store_rule, 2)  # both sent by alice1
    assert env.run("edit", room="lobby", id=first["id"], text="fixed", ts=T0 + 50) == "edited"
    assert env.run("delete", room="lobby", id=second["id"], ts=T0 + 60) == "deleted"
    assert env.published.on("chat/pub/lobby") == [
        {"type": "edit", "room": "lobby", "id": first["id"], "text": "fixed", "editedAt": T0 + 50},
        {"type": "delete", "room": "lobby", "id": second["id"], "deletedAt": T0 + 60},
    ]
    env.run("history", room="lobby")
    (page,) = [p for p in env.published.on("chat/in/alice1-tab") if p["type"] == "history"]
    edited, deleted = page["messages"]
    assert edited["text"] == "fixed" and edited["editedAt"] == T0 + 50
    assert deleted == {"id": second["id"], "ts": second["ts"], "deleted": True}


def test_a_forged_edit_or_delete_is_refused_and_changes_nothing(env, store_rule) -> None:
    (original,) = seed(store_rule, 1)
    forged = "no such message of yours in this room (only its sender may change it)"
    assert env.run("edit", "mallory1-tab", room="lobby", id=original["id"], text="pwn") == (
        "rejected"
    )
    assert env.run("delete", "mallory1-tab", room="lobby", id=original["id"]) == "rejected"
    # The right id in another room is no better.
    assert env.run("edit", room="other", id=original["id"], text="moved") == "rejected"
    assert errors(env.published, "mallory1-tab") == [forged, forged]
    assert env.published.on("chat/pub/lobby") == []
    env.run("history", room="lobby")
    (page,) = [p for p in env.published.on("chat/in/alice1-tab") if p["type"] == "history"]
    assert page["messages"][0]["text"] == original["text"]
    assert "editedAt" not in page["messages"][0]


def test_a_deleted_message_cannot_be_edited(env, store_rule) -> None:
    (original,) = seed(store_rule, 1)
    env.run("delete", room="lobby", id=original["id"])
    assert env.run("edit", room="lobby", id=original["id"], text="back") == "rejected"


# -- private rooms ---------------------------------------------------------------------


@pytest.fixture
def closed(monkeypatch) -> list[str]:
    """The client ids the function closed (moto has no DeleteConnection; the emulator's
    integration tests run the real one)."""
    calls: list[str] = []
    monkeypatch.setattr(publisher, "disconnect", lambda cid: calls.append(cid) or True)
    return calls


def create(env) -> str:
    assert env.run("create", title="Team", private=True, name="Alice") == "created"
    (created,) = [p for p in env.published.on("chat/user/alice1") if p["type"] == "created"]
    assert created["title"] == "Team" and created["room"].startswith("p-")
    return created["room"]


def test_owner_invites_member_who_chats_then_is_removed(env, closed) -> None:
    room = create(env)
    join(env, "bob1", "Bob")
    assert env.run("message", "bob1-tab", room=room, private=True, name="Bob", text="x") == (
        "rejected"
    )
    assert errors(env.published, "bob1-tab") == ["you are not a member of this private room"]

    assert env.run("invite", room=room, member="bob1") == "invited"
    assert env.published.on("chat/user/bob1") == [
        {"type": "invited", "room": room, "title": "Team", "by": "alice1"}
    ]
    done = {"type": "done", "command": "invite", "room": room, "member": "bob1", "changed": True}
    assert env.published.on("chat/in/alice1-tab")[-1] == done
    assert env.run("invite", room=room, member="bob1") == "invite-noop"
    assert env.published.on("chat/in/alice1-tab")[-1] == {**done, "changed": False}
    assert len(env.published.on("chat/user/bob1")) == 1
    assert env.run("message", "bob1-tab", room=room, private=True, name="Bob", text="hi") == (
        "published-private"
    )
    (msg,) = env.published.on(f"chat/priv/{room}")
    assert (msg["text"], msg["sender"], msg["room"]) == ("hi", "bob1", room)
    join(env, "bob1", "Bob", room=room, private=True)
    backlog = [p for p in env.published.on("chat/in/bob1-tab") if p["type"] == "backlog"][-1]
    assert backlog["room"] == room and [m["text"] for m in backlog["messages"]] == ["hi"]
    assert backlog["messages"][0]["room"] == room
    # The same name's public room is another room.
    join(env, "carol1", "Carol", room=room)
    (public,) = [p for p in env.published.on("chat/in/carol1-tab") if p["type"] == "backlog"]
    assert public["messages"] == []

    edit = {"room": room, "private": True, "id": msg["id"], "text": "hi all"}
    assert env.run("edit", "bob1-tab", **edit) == "edited"
    assert env.published.on(f"chat/priv/{room}")[-1]["text"] == "hi all"

    env.published.clear()
    assert env.run("remove", room=room, member="bob1") == "removed"
    assert env.published.on("chat/user/bob1") == [{"type": "removed", "room": room}]
    assert closed == ["bob1-tab"]
    assert env.published.on("chat/in/alice1-tab")[-1]["command"] == "remove"
    assert env.run("typing", "bob1-tab", room=room, private=True, name="Bob") == "rejected"
    assert env.run("history", "bob1-tab", room=room, private=True) == "rejected"
    # Not even an edit of his own earlier message.
    assert env.run("edit", "bob1-tab", **{**edit, "text": "late"}) == "rejected"


def test_only_the_owner_invites_or_removes(env, closed) -> None:
    room = create(env)
    join(env, "bob1", "Bob")
    join(env, "carol1", "Carol")
    env.run("invite", room=room, member="bob1")
    only_owner = "only the owner of this private room can do that"
    assert env.run("invite", "bob1-tab", room=room, member="carol1") == "rejected"
    assert env.run("remove", "bob1-tab", room=room, member="alice1") == "rejected"
    assert env.run("remove", room=room, member="alice1") == "rejected"
    assert errors(env.published, "bob1-tab") == [only_owner, only_owner]
    assert errors(env.published) == ["the owner cannot be removed from their room"]
    assert env.run("invite", room=room, member="ghost1") == "rejected"
    assert closed == []


def test_private_typing_reaches_members_only_through_the_function(env) -> None:
    room = create(env)
    assert env.run("typing", room=room, private=True, name="Alice", ts=T0 + 9) == "typing"
    assert env.published.on(f"chat/priv/{room}") == [
        {"type": "typing", "room": room, "name": "Alice", "sender": "alice1", "ts": T0 + 9}
    ]


def test_a_user_belongs_to_at_most_the_policy_limit_of_private_rooms(env, monkeypatch) -> None:
    from chatlib import commands

    monkeypatch.setattr(commands, "MAX_PRIVATE_ROOMS", 2)
    create(env)
    env.published.clear()
    env.run("create", title="Two", private=True, name="Alice")
    assert env.run("create", title="Three", private=True, name="Alice") == "rejected"
    assert errors(env.published) == ["a user can belong to at most 2 private rooms"]


def test_a_public_typing_signal_from_the_stream_goes_to_the_public_room(env) -> None:
    assert env.run("typing", room="lobby", name="Alice", ts=T0 + 3) == "typing"
    assert env.published.on("chat/pub/lobby") == [
        {"type": "typing", "room": "lobby", "name": "Alice", "sender": "alice1", "ts": T0 + 3}
    ]
    assert not [t for t, _ in env.published.all() if "/priv/" in t]
