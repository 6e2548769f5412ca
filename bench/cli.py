"""`python -m bench`: run the same load against the emulator, bare amqtt and mosquitto.

Each target is started on free loopback ports right before its run and stopped right
after, so no two compete for the CPU. Results go to <out>/latest.{json,csv,png}.
"""

from __future__ import annotations

import argparse
import contextlib
import shlex
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from bench import machine, report
from bench.load import LoadRun, LoadSpec
from bench.processes import MOSQUITTO, Amqtt, Mosquitto
from bench.progress import Progress
from bench.storage import check_storage
from bench.summary import ok, ratios, summarize
from bench.targets import BrokerTarget, EmulatorTarget, Target
from client.errors import ClientError
from emulator.testing import ChildProcess, EmulatorProcess

RESULTS = Path(__file__).resolve().parent / "results"
TARGETS = ("emulator", "amqtt", "mosquitto")
P99_LIMIT_MS = 100.0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--clients", type=int, default=20, help="MQTT clients (default 20)")
    p.add_argument("--rooms", type=int, default=4, help="rooms, clients spread evenly")
    p.add_argument("--rate", type=float, default=50.0, help="total messages/s offered (default 50)")
    p.add_argument("--duration", type=float, default=10.0, help="seconds of load per run")
    p.add_argument("--drain", type=float, default=10.0, help="max seconds to wait for stragglers")
    p.add_argument("--pad", type=int, default=0, help="extra characters per message text")
    p.add_argument(
        "--targets",
        default=",".join(TARGETS),
        help="comma list of emulator, amqtt, mosquitto (default all three)",
    )
    p.add_argument(
        "--path",
        choices=("out", "stream"),
        default="out",
        help="emulator path: chat/out -> republish rule, or chat/stream -> Kinesis -> Lambda",
    )
    p.add_argument(
        "--transport",
        choices=("auto", "tcp", "ws"),
        default="auto",
        help="emulator transport; auto = plain MQTT when its port is known, else ws",
    )
    p.add_argument("--site", help="use this running emulator/site instead of starting one")
    p.add_argument("--mqtt-port", type=int, help="plain MQTT port of --site")
    p.add_argument(
        "--storage",
        choices=("auto", "history", "dynamodb", "none"),
        default="auto",
        help="how to check the messages table (auto: dynamodb if its endpoint is known)",
    )
    p.add_argument("--dynamodb-endpoint", help="the emulator's DynamoDB (moto) endpoint URL")
    p.add_argument("--find-saturation", action="store_true", help="also step the emulator's rate")
    p.add_argument(
        "--saturation-rates",
        default="25,50,100,200,400",
        help="rates (msg/s) to step through, stopping at the first that fails",
    )
    p.add_argument("--step-seconds", type=float, default=5.0, help="seconds per saturation step")
    p.add_argument("--out", type=Path, default=RESULTS, help="directory for latest.*")
    p.add_argument("--no-plot", action="store_true", help="skip the PNG")
    return p


@contextlib.contextmanager
def started(name: str, args: argparse.Namespace, workdir: Path) -> Iterator[Target]:
    """Start (or attach to) one target and stop it again afterwards."""
    child: ChildProcess | None = None
    try:
        if name == "emulator":
            if args.site:
                transport = (
                    args.transport
                    if args.transport != "auto"
                    else ("tcp" if args.mqtt_port else "ws")
                )
                target: Target = EmulatorTarget(
                    name=name, site=args.site, mqtt_port=args.mqtt_port, transport=transport
                )
            else:
                emu = EmulatorProcess(workdir=workdir / name)
                child = emu.start()
                transport = "ws" if args.transport == "ws" else "tcp"
                target = EmulatorTarget(
                    name=name,
                    site=emu.base_url,
                    mqtt_port=emu.mqtt_port,
                    transport=transport,
                    dynamodb_endpoint=emu.aws_endpoint,
                )
            target.path = args.path
        elif name in ("amqtt", "mosquitto"):
            if name == "mosquitto" and not Path(MOSQUITTO).is_file():
                raise ClientError(
                    f"mosquitto not found at {MOSQUITTO}: apt-get install mosquitto, "
                    "or leave it out with --targets emulator,amqtt"
                )
            broker = Amqtt(workdir / name) if name == "amqtt" else Mosquitto(workdir / name)
            child = broker.start()
            target = BrokerTarget(name=name, port=broker.port)
        else:
            raise ClientError(f"unknown target {name!r}; use {', '.join(TARGETS)}")
        if child is not None and child.proc is not None:
            target.pid = child.proc.pid
        yield target
    except BaseException:
        if child is not None:
            print(
                f"\n--- last lines of {child.name}'s log ---\n{child.log_tail(25)}", file=sys.stderr
            )
        raise
    finally:
        if child is not None:
            child.stop()


def _storage_endpoint(args: argparse.Namespace, target: EmulatorTarget) -> str | None:
    """DynamoDB endpoint to read the table from, or None to use the history command."""
    if args.storage in ("history", "none"):
        return None
    endpoint = args.dynamodb_endpoint or target.dynamodb_endpoint
    if args.storage == "dynamodb" and not endpoint:
        raise ClientError("--storage dynamodb needs --dynamodb-endpoint with --site")
    return endpoint


def measure(target: Target, spec: LoadSpec, args: argparse.Namespace, mode: str) -> tuple:
    """One LoadRun plus the storage check; returns (row, samples)."""
    data = LoadRun(target, spec, Progress()).run()
    storage = None
    if isinstance(target, EmulatorTarget) and args.storage != "none" and mode == "compare":
        storage = check_storage(
            target, data.rooms, data.run_id, data.acked, _storage_endpoint(args, target)
        )
    extra = {"mode": mode, "path": target.path, "transport": target.transport}
    return summarize(data, storage, extra), data.samples


def find_saturation(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Step the emulator's offered rate until p99 passes 100 ms or a message is lost."""
    rates = [float(r) for r in args.saturation_rates.split(",") if r.strip()]
    steps: list[dict] = []
    saturated_at = None
    with started("emulator", args, workdir / "saturation") as target:
        for rate in rates:
            spec = LoadSpec(
                clients=args.clients,
                rooms=args.rooms,
                rate=rate,
                duration=args.step_seconds,
                drain=args.drain,
                pad=args.pad,
            )
            row, _ = measure(target, spec, args, "saturation")
            steps.append(row)
            p99 = row["latency_ms"]["p99"]
            if row["lost"] or row["duplicates"] or p99 is None or p99 > P99_LIMIT_MS:
                saturated_at = rate
                break
            if row["achieved_rate"] < rate * 0.9:  # the clients, not the target, are the limit
                saturated_at = None
                break
    good = [s["rate"] for s in steps if s["rate"] != saturated_at]
    return {
        "target": "emulator",
        "criterion": f"p99 > {P99_LIMIT_MS:g} ms or any loss/duplicate",
        "last_good_rate": max(good) if good else None,
        "saturated_at": saturated_at,
        "steps": steps,
    }


def _print_table(rows: list[dict]) -> None:
    print(
        f"{'target':<10}{'mode':<11}{'rate':>7}{'sent':>8}{'recv':>9}{'lost':>6}{'dup':>5}"
        f"{'stored':>8}{'p50':>9}{'p95':>9}{'p99':>9}{'max':>9}{'cpu/msg':>9}"
    )
    for r in rows:
        lat, st = r["latency_ms"], r.get("storage") or {}

        def ms(v: float | None) -> str:
            return "-" if v is None else f"{v:.1f}"

        print(
            f"{r['target']:<10}{r['mode']:<11}{r['rate']:>7g}{r['sent']:>8}{r['received']:>9}"
            f"{r['lost']:>6}{r['duplicates']:>5}{st.get('stored', '-')!s:>8}"
            f"{ms(lat['p50']):>9}{ms(lat['p95']):>9}{ms(lat['p99']):>9}{ms(lat['max']):>9}"
            f"{ms(r['cpu_ms_per_message']):>9}"
        )
    for r in rows:
        parts = r.get("cpu_ms_per_message_by_part") or {}
        if len(parts) > 1:
            where = ", ".join(f"{part} {value:.2f}" for part, value in parts.items())
            print(f"{r['target']} ({r['mode']} {r['rate']:g}) CPU ms/message by process: {where}")


def run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    names = [n.strip() for n in args.targets.split(",") if n.strip()]
    spec = LoadSpec(
        clients=args.clients,
        rooms=args.rooms,
        rate=args.rate,
        duration=args.duration,
        drain=args.drain,
        pad=args.pad,
    )
    result: dict[str, Any] = {
        "command": shlex.join(["python", "-m", "bench", *argv]),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine.describe(),
        "load": {
            "clients": spec.clients,
            "rooms": spec.rooms,
            "rate": spec.rate,
            "duration": spec.duration,
            "qos": 1,
            "path": args.path,
        },
        "runs": [],
    }
    samples: dict[str, list] = {}
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        workdir = Path(tmp)
        for name in names:
            with started(name, args, workdir) as target:
                row, samples[name] = measure(target, spec, args, "compare")
            result["runs"].append(row)
        if args.find_saturation:
            result["saturation"] = find_saturation(args, workdir)
    result["comparison"] = {"emulator_vs": ratios(result["runs"])}
    report.write(args.out, result, samples, plot=not args.no_plot)
    _print_table(result["runs"] + result.get("saturation", {}).get("steps", []))
    for base, entry in result["comparison"]["emulator_vs"].items():
        print(f"emulator / {base}: " + ", ".join(f"{k} x{v}" for k, v in entry.items()))
    if "saturation" in result:
        sat = result["saturation"]
        print(
            f"saturation: last good {sat['last_good_rate']} msg/s, "
            f"saturated at {sat['saturated_at']} msg/s ({sat['criterion']})"
        )
    print(f"results: {args.out}/latest.json, latest.csv" + ("" if args.no_plot else ", latest.png"))
    return 0 if all(ok(r) for r in result["runs"]) else 1


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(argv)
    try:
        return run(args, argv)
    except (ClientError, RuntimeError, TimeoutError) as exc:
        print(f"\nbench: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nbench: interrupted", file=sys.stderr)
        return 130
