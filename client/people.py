"""The people commands: whoami, dm, create, invite, remove, edit, delete.

Each sends one command and exits 0 only once the chat answered it (the DM on both user
topics, ``created``, the owner's ``done``, the room's ``edit`` or ``delete``); an
``error`` reply ends it with the chat's reason. ``--token-file`` keeps the guest token
between runs, so they are one principal (needed to own or be invited to a private room).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from client.commands import open_session
from client.limits import check_name, check_room, check_text
from client.session import ChatSession

Match = Callable[[str, dict[str, Any]], bool]


def answer(session: ChatSession, match: Match, timeout: float) -> dict[str, Any]:
    """The first delivery ``match`` accepts; ClientError for an error reply or none."""
    item = session.wait_for(
        lambda item: match(item.topic, item.payload or {}), timeout, "no answer"
    )
    return item.payload or {}


def _run(
    args: argparse.Namespace,
    body: dict[str, Any],
    match: Match,
    topic: Callable[[ChatSession], str] = lambda session: session.user_topic,
) -> int:
    """Subscribe to where the answer comes (``topic``), send ``body``, print the answer."""
    session = open_session(args, args.name)
    try:
        session.subscribe(topic(session), timeout=args.timeout)
        session.publish(session.out_topic, body).result(args.timeout)
        print(json.dumps(answer(session, match, args.timeout), ensure_ascii=False), flush=True)
    finally:
        session.close()
    return 0


def whoami(args: argparse.Namespace) -> int:
    """Print this client's principal (stable across runs with --token-file)."""
    session = open_session(args, args.name)
    try:
        print(session.principal, flush=True)
    finally:
        session.close()
    return 0


def dm(args: argparse.Namespace) -> int:
    body = {
        "type": "dm",
        "to": args.to,
        "name": check_name(args.name),
        "text": check_text(args.text),
    }

    def match(topic: str, got: dict[str, Any]) -> bool:
        return got.get("type") == "dm" and got.get("to") == args.to and got.get("text") == args.text

    return _run(args, body, match)


def create(args: argparse.Namespace) -> int:
    body = {"type": "create", "title": args.title, "private": True, "name": check_name(args.name)}
    return _run(args, body, lambda t, got: got.get("type") == "created")


def _membership(kind: str) -> Callable[[argparse.Namespace], int]:
    """invite or remove: the owner's answer is ``done`` on its inbox."""

    def run(args: argparse.Namespace) -> int:
        body = {"type": kind, "room": args.room, "member": args.member}
        return _run(
            args, body, lambda t, got: got.get("type") == "done" and got.get("command") == kind
        )

    return run


invite = _membership("invite")
remove = _membership("remove")


def _change(kind: str) -> Callable[[argparse.Namespace], int]:
    """edit or delete: the answer is the change, on the room's topic."""

    def run(args: argparse.Namespace) -> int:
        body: dict[str, Any] = {"type": kind, "room": args.room, "id": args.id}
        if kind == "edit":
            body["text"] = check_text(args.text)
        if args.private:
            body["private"] = True
        else:
            check_room(args.room)

        def topic(session: ChatSession) -> str:
            if args.private:
                return session.private_topic(args.room)
            return session.room_topic(args.room)

        return _run(
            args,
            body,
            lambda t, got: got.get("type") == kind and got.get("id") == args.id,
            topic,
        )

    return run


edit = _change("edit")
delete = _change("delete")
