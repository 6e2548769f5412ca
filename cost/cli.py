"""`python -m cost`: the monthly bill of this design and of the two designs a team would
pick instead (API Gateway WebSockets, AppSync Events) for your numbers, itemised per
AWS service and price line, the first capacity limit they reach, and a plot.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from cost.bill import Bill, price
from cost.prices import PRICES_FILE, Prices, PricesError, load_prices
from cost.workload import Workload, WorkloadError

ROOT = Path(__file__).resolve().parents[1]
PLOT = ROOT / "build" / "cost.png"


class _Parser(argparse.ArgumentParser):
    """argparse, with its documented error hook reduced to one line (exit status 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def _whole(text: str) -> int:
    value = _number(text)
    if value != int(value):
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}")
    return int(value)


def parser() -> argparse.ArgumentParser:
    d = Workload()
    p = _Parser(prog="python -m cost", description=__doc__)
    add = p.add_argument
    add(
        "--users", type=_number, default=d.users, help=f"users online at once (default {d.users:g})"
    )
    add(
        "--hours",
        type=_number,
        default=d.hours,
        help=f"hours a day they are online (default {d.hours:g})",
    )
    add(
        "--messages",
        type=_number,
        default=d.messages,
        help=f"messages per user per hour (default {d.messages:g})",
    )
    add(
        "--room-size",
        type=_number,
        default=d.room_size,
        help=f"members per room (default {d.room_size:g})",
    )
    add(
        "--message-bytes",
        type=_whole,
        default=d.message_bytes,
        help=f"bytes of text per message (default {d.message_bytes})",
    )
    add(
        "--history",
        type=_number,
        default=d.history,
        help=f"history pages per user per hour (default {d.history:g})",
    )
    add(
        "--retention-days",
        type=_whole,
        default=None,
        help="days messages are kept (default: the template's)",
    )
    add(
        "--stream",
        action=argparse.BooleanOptionalAction,
        default=d.stream,
        help="the Kinesis stream path exists (default on, as the template)",
    )
    add(
        "--stream-share",
        type=_number,
        default=d.stream_share,
        help="share of messages sent on the stream path, 0 to 1 (default 0)",
    )
    add(
        "--subscribe-qos",
        type=_whole,
        default=d.subscribe_qos,
        help="QoS of the web client's subscriptions, this design (default 1)",
    )
    add("--detail", action="store_true", help="show what each price line's units come from")
    add(
        "--plot",
        type=Path,
        default=PLOT,
        help=f"PNG of cost against users online (default {PLOT.relative_to(ROOT)})",
    )
    add("--no-plot", action="store_true", help="skip the PNG")
    add("--prices", type=Path, default=PRICES_FILE, help="price file (default cost/prices.toml)")
    return p


def estimate(w: Workload, prices: Prices) -> list[Bill]:
    """Every design's bill for one workload."""
    # Imported here, not at the top: the models load the template, the emulator's rules
    # engine and matplotlib (1.5 s), which --help and a bad number need not wait for.
    from cost.designs import DESIGNS

    return [price(d.NAME, d.TITLE, d.DESCRIPTION, d.usage(w), prices) for d in DESIGNS]


def _workload(args: argparse.Namespace) -> Workload:
    retention = args.retention_days
    if retention is None:
        from cost.stack import load_stack  # see estimate()

        retention = load_stack(args.stream).retention_default()
    return Workload(
        users=args.users,
        hours=args.hours,
        messages=args.messages,
        room_size=args.room_size,
        message_bytes=args.message_bytes,
        history=args.history,
        retention_days=retention,
        stream=args.stream,
        stream_share=args.stream_share,
        subscribe_qos=args.subscribe_qos,
    )


def main(argv: Sequence[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    try:
        w = _workload(args)
        prices = load_prices(args.prices)
    except (WorkloadError, PricesError) as exc:
        p.error(str(exc))
    bills = estimate(w, prices)
    from cost import capacity, plot, report  # see estimate()

    lines = report.header(w, prices)
    for bill in bills:
        lines += report.itemised(bill, prices, detail=args.detail)
    lines += report.side_by_side(bills)
    lines += report.limits(capacity.reaches(w))
    if not args.no_plot:
        plot.draw(args.plot, w, lambda x: estimate(x, prices))
        lines += ["", f"Plot: {args.plot}"]
    lines += report.footnote(prices)
    print("\n".join(lines))
    return 0
