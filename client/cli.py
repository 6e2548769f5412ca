"""`python -m client ...`: argument parsing, and one-line errors instead of tracebacks."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from client import commands, people
from client.connection import TRANSPORTS
from client.errors import ClientError
from client.session import RECONNECT_ATTEMPTS
from client.site import DEFAULT_SITE


def _common(parser: argparse.ArgumentParser, room: bool = True) -> None:
    parser.add_argument("--site", default=DEFAULT_SITE, help="site URL serving config.json")
    if room:
        parser.add_argument("--room", required=True, help="room name ([A-Za-z0-9_-]{1,64})")
    parser.add_argument(
        "--transport",
        default="auto",
        choices=("auto", *TRANSPORTS),
        help="auto follows config.json's mqttUrl (wss for AWS, ws for the emulator)",
    )
    parser.add_argument(
        "--mqtt-port", type=int, default=None, help="plain MQTT port for --transport tcp"
    )
    parser.add_argument("--token", help="use this JWT instead of asking the token URL")
    parser.add_argument("--client-id", help="client id to use with --token")
    parser.add_argument(
        "--token-file",
        type=Path,
        help="keep the guest token here: later runs are the same principal (24 h session)",
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per step")
    parser.add_argument(
        "--reconnect-attempts",
        type=int,
        default=RECONNECT_ATTEMPTS,
        help="chat and listen: reconnects in a row before giving up with an error",
    )


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m client", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True)

    p = sub.add_parser("chat", help="interactive chat in a room (/quit to leave)")
    _common(p)
    p.add_argument("--name", required=True)
    p.set_defaults(func=commands.chat)

    p = sub.add_parser("send", help="send one message and wait for its echo")
    _common(p)
    p.add_argument("--name", required=True)
    p.add_argument("--stream", action="store_true", help="post on chat/stream (Kinesis path)")
    p.add_argument("text")
    p.set_defaults(func=commands.send)

    p = sub.add_parser("listen", help="print a room's traffic as JSON lines")
    _common(p)
    p.add_argument("--name", default="listener", help="name for the guest token")
    p.add_argument("--join", action="store_true", help="join (appear in presence, get backlog)")
    p.add_argument("--count", type=int, default=None, help="stop after N messages")
    p.add_argument("--seconds", type=float, default=None, help="stop after S seconds")
    p.set_defaults(func=commands.listen)
    _people(sub)
    return top


def _people(sub: Any) -> None:
    """whoami, dm, create, invite, remove, edit, delete (client/people.py)."""
    p = sub.add_parser("whoami", help="print this client's principal")
    _common(p, room=False)
    p.add_argument("--name", default="me")
    p.set_defaults(func=people.whoami)

    p = sub.add_parser("dm", help="send a direct message to a principal")
    _common(p, room=False)
    p.add_argument("--name", required=True)
    p.add_argument("--to", required=True, help="the recipient's principal")
    p.add_argument("text")
    p.set_defaults(func=people.dm)

    p = sub.add_parser("create", help="create a private room (you own it)")
    _common(p, room=False)
    p.add_argument("--name", required=True)
    p.add_argument("--title", required=True)
    p.set_defaults(func=people.create)

    for kind, func in (("invite", people.invite), ("remove", people.remove)):
        p = sub.add_parser(kind, help=f"{kind} a member of your private room")
        _common(p)
        p.add_argument("--name", default="owner")
        p.add_argument("--member", required=True, help="the member's principal")
        p.set_defaults(func=func)

    for kind, func in (("edit", people.edit), ("delete", people.delete)):
        p = sub.add_parser(kind, help=f"{kind} one of your messages")
        _common(p)
        p.add_argument("--name", default="me")
        p.add_argument("--id", required=True, help="the message's id")
        p.add_argument("--private", action="store_true", help="the room is a private room")
        if kind == "edit":
            p.add_argument("text")
        p.set_defaults(func=func)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ClientError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        return 130
