"""The client's people commands against the emulator: whoami, dm, create, invite,
remove, edit, delete, each answered by the chat or ending with its one-line reason."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from client.session import ChatSession, open_site_session
from emulator.testing import EmulatorProcess
from tests.client.helpers import run_client

pytestmark = pytest.mark.integration


def cli(site: EmulatorProcess, command: str, *args: str) -> Any:
    return run_client(command, "--site", site.base_url, *args)


def ok(result: Any) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def refused(result: Any, fragment: str) -> None:
    assert result.returncode == 1, (result.stdout, result.stderr)
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: the chat refused it:") and fragment in line, line


def received(session: ChatSession, kind: str, timeout: float = 15) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        item = session.inbox.get(timeout=max(0.1, deadline - time.monotonic()))
        if (item.payload or {}).get("type") == kind:
            return item.payload
    raise AssertionError(f"no {kind}")


@pytest.fixture
def bob(site: EmulatorProcess) -> Any:
    """Bob, joined to a room (so he exists for DMs and invitations), on his user topic."""
    session, _ = open_site_session(site.base_url, "Bob")
    session.join(f"t{uuid.uuid4().hex[:10]}", "Bob")
    session.subscribe(session.user_topic)
    yield session
    session.close()


def test_a_token_file_keeps_the_principal_across_runs(site, tmp_path: Path) -> None:
    kept = tmp_path / "token.json"
    first = cli(site, "whoami", "--token-file", str(kept))
    again = cli(site, "whoami", "--token-file", str(kept))
    assert first.returncode == again.returncode == 0, first.stderr + again.stderr
    assert first.stdout == again.stdout and first.stdout.strip().isalnum()
    assert kept.stat().st_mode & 0o777 == 0o600
    assert cli(site, "whoami").stdout != first.stdout


def test_dm_reaches_the_recipient_and_a_dm_to_no_one_is_refused(site, bob) -> None:
    sent = ok(cli(site, "dm", "--name", "Alice", "--to", bob.principal, "hello Bob"))
    assert (sent["type"], sent["to"], sent["text"]) == ("dm", bob.principal, "hello Bob")
    assert received(bob, "dm")["id"] == sent["id"]
    refused(cli(site, "dm", "--name", "Alice", "--to", "nobody42", "hi"), "no user nobody42")


def test_create_invite_remove_a_private_room(site, bob, tmp_path: Path) -> None:
    owner = ["--token-file", str(tmp_path / "owner.json")]
    created = ok(cli(site, "create", "--name", "Alice", "--title", "Ops", *owner))
    room = created["room"]
    assert created["title"] == "Ops" and room.startswith("p-")
    done = ok(cli(site, "invite", "--room", room, "--member", bob.principal, *owner))
    assert (done["command"], done["changed"]) == ("invite", True)
    assert received(bob, "invited")["room"] == room
    # Someone else's client (another principal) is not the owner.
    refused(cli(site, "remove", "--room", room, "--member", bob.principal), "only the owner")
    done = ok(cli(site, "remove", "--room", room, "--member", bob.principal, *owner))
    assert (done["command"], done["changed"]) == ("remove", True)
    assert received(bob, "removed")["room"] == room


def test_edit_and_delete_own_messages_only(site, tmp_path: Path) -> None:
    room = f"t{uuid.uuid4().hex[:10]}"
    mine = ["--token-file", str(tmp_path / "me.json")]
    echo = ok(cli(site, "send", "--room", room, "--name", "Alice", "first try", *mine))
    other = cli(site, "edit", "--room", room, "--id", echo["id"], "forged")
    refused(other, "only its sender")
    edited = ok(cli(site, "edit", "--room", room, "--id", echo["id"], "second try", *mine))
    assert (edited["type"], edited["text"]) == ("edit", "second try")
    deleted = ok(cli(site, "delete", "--room", room, "--id", echo["id"], *mine))
    assert (deleted["type"], deleted["id"]) == ("delete", echo["id"])
