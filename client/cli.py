"""`python -m client ...`: argument parsing, and one-line errors instead of tracebacks."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from client import commands
from client.connection import TRANSPORTS
from client.errors import ClientError
from client.session import RECONNECT_ATTEMPTS
from client.site import DEFAULT_SITE


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site", default=DEFAULT_SITE, help="site URL serving config.json")
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
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ClientError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        return 130
