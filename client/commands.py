"""The three commands: chat (interactive), send (one message, confirmed), listen (JSON lines)."""

from __future__ import annotations

import argparse
import contextlib
import json
import queue
import sys
import threading
import time

from client import connection
from client.errors import ClientError
from client.limits import check_name, check_room, check_text
from client.render import render
from client.session import (
    RECONNECT_ATTEMPTS,
    ChatSession,
    Incoming,
    Recovery,
    open_site_session,
)
from client.site import load_config


def open_session(args: argparse.Namespace, name: str, recover: bool = False) -> ChatSession:
    """Connect with a guest token, or with `--token`/`--client-id` when given. A session
    that `recover`s reconnects by itself (a given token cannot be renewed)."""
    attempts = getattr(args, "reconnect_attempts", RECONNECT_ATTEMPTS)
    if args.token:
        config = load_config(args.site)
        spec = connection.spec_from_url(
            config.mqtt_url,
            args.client_id or "device-cli",
            config.authorizer,
            args.token,
            transport=args.transport,
            tcp_port=args.mqtt_port,
        )
        recovery = Recovery(None, attempts) if recover else None
        return ChatSession(spec, config.topic_root, recovery=recovery).open(args.timeout)
    session, _ = open_site_session(
        args.site,
        name,
        transport=args.transport,
        tcp_port=args.mqtt_port,
        timeout=args.timeout,
        recover=recover,
        reconnect_attempts=attempts,
        token_file=getattr(args, "token_file", None),
    )
    return session


def _gave_up(session: ChatSession) -> None:
    """End the command with the session's one-line reason once it stopped reconnecting."""
    if session.failure is not None:
        raise ClientError(session.failure)


def _read_stdin(lines: queue.Queue[str | None]) -> None:
    for line in sys.stdin:
        lines.put(line.rstrip("\r\n"))
    lines.put(None)


def _print_new(session: ChatSession) -> None:
    while True:
        try:
            item = session.inbox.get_nowait()
        except queue.Empty:
            return
        for line in render(item):
            print(line, flush=True)


def chat(args: argparse.Namespace) -> int:
    """Join a room and chat from the terminal until /quit, end of input or Ctrl-C."""
    room, name = check_room(args.room), check_name(args.name)
    session = open_session(args, name, recover=True)
    lines: queue.Queue[str | None] = queue.Queue()
    try:
        session.join(room, name, timeout=args.timeout)
        print(f"joined {room} as {name}; type a message, /quit to leave", flush=True)
        threading.Thread(target=_read_stdin, args=(lines,), daemon=True).start()
        while True:
            _print_new(session)
            _gave_up(session)
            try:
                line = lines.get(timeout=0.1)
            except queue.Empty:
                continue
            if line is None or line.strip() == "/quit":
                break
            if not line.strip():
                continue
            try:
                session.send(room, name, line)
            except ClientError as exc:
                print(f"! {exc}", flush=True)
    except KeyboardInterrupt:
        print("", flush=True)
    finally:
        # Leaving is best effort: presence also sees the disconnect.
        with contextlib.suppress(Exception):
            session.leave(room).result(2)
        session.close()
    _print_new(session)
    print(f"left {room}", flush=True)
    return 0


def _wait_echo(session: ChatSession, room: str, text: str, timeout: float) -> Incoming:
    def is_echo(item: Incoming) -> bool:
        body = item.payload if isinstance(item.payload, dict) else {}
        return (
            item.topic == session.room_topic(room)
            and body.get("type") == "message"
            and body.get("clientId") == session.client_id
            and body.get("text") == text
        )

    return session.wait_for(
        is_echo, timeout, f"no echo on {session.room_topic(room)}: the message was not delivered"
    )


def send(args: argparse.Namespace) -> int:
    """Join, post one message and exit 0 only once its echo came back through the rules."""
    room, name, text = check_room(args.room), check_name(args.name), check_text(args.text)
    session = open_session(args, name)
    try:
        session.join(room, name, timeout=args.timeout)
        try:
            session.send(room, name, text, stream=args.stream).result(args.timeout)
        except ClientError:
            raise
        except Exception as exc:
            raise ClientError(f"publish not acknowledged: {exc}") from None
        echo = _wait_echo(session, room, text, args.timeout)
        print(json.dumps(echo.payload), flush=True)
    finally:
        session.close()
    return 0


def listen(args: argparse.Namespace) -> int:
    """Print the room's traffic as JSON lines, until --count lines or --seconds pass."""
    room = check_room(args.room)
    session = open_session(args, args.name, recover=True)
    printed = 0
    deadline = time.monotonic() + args.seconds if args.seconds else None
    try:
        if args.join:
            session.join(room, args.name, timeout=args.timeout)
        else:
            session.subscribe(session.room_topic(room), timeout=args.timeout)
        while args.count is None or printed < args.count:
            wait = 0.5 if deadline is None else min(0.5, deadline - time.monotonic())
            if wait <= 0:
                break
            try:
                item = session.inbox.get(timeout=wait)
            except queue.Empty:
                continue
            if item.topic.startswith("$client/"):
                _gave_up(session)
                print(f"listen: {render(item)[0]}", file=sys.stderr, flush=True)
                continue
            if item.payload is not None:
                print(json.dumps(item.payload), flush=True)
                printed += 1
    finally:
        session.close()
    return 0
