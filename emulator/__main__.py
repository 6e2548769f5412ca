"""`python -m emulator`: run a CloudFormation template's IoT application locally
(templates/chat.json by default); `python -m emulator sql`: the rule tester.

Prints one URL to open; Ctrl-C (or SIGTERM) shuts every layer down cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import signal
import sys
from pathlib import Path

from emulator import logs
from emulator.app import Emulator, Settings
from emulator.serving import ServingOptions
from emulator.template import TemplateError


def _parameter(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected Key=Value, got {text!r}")
    return key, value


def _code(text: str) -> tuple[str, Path]:
    uri, sep, path = text.partition("=")
    if not sep or not uri.startswith("s3://") or not path:
        raise argparse.ArgumentTypeError(f"expected s3://bucket/key=PATH, got {text!r}")
    return uri, Path(path)


def parse_args(argv: list[str] | None = None) -> tuple[Settings, str | None]:
    parser = argparse.ArgumentParser(
        prog="python -m emulator",
        description="Local AWS IoT Core, Lambda, DynamoDB, Kinesis and Secrets Manager, "
        "driven by a CloudFormation template.",
    )
    parser.add_argument("--template", type=Path, default=Path("templates/chat.json"))
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8080)))
    parser.add_argument("--mqtt-port", type=int, default=int(os.environ.get("MQTT_PORT", 1883)))
    parser.add_argument(
        "--aws-port",
        type=int,
        default=int(os.environ.get("AWS_PORT", 0)),
        help="port of the moto server for DynamoDB, Kinesis, ... (default: a free one)",
    )
    parser.add_argument("--stack-name", default="local")
    parser.add_argument(
        "--parameter",
        action="append",
        type=_parameter,
        default=[],
        metavar="KEY=VALUE",
        help="template parameter override, e.g. TopicRoot=dev (repeatable)",
    )
    parser.add_argument(
        "--no-iam",
        dest="iam",
        action="store_false",
        help="do not enforce IAM: functions and rule actions may call anything "
        "(by default every call made with a role's credentials is evaluated, as on AWS)",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="keep tables, secrets and unread stream records here between runs "
        "(saved on stop, restored on start; `make run` uses .local-state)",
    )
    parser.add_argument(
        "--fresh", action="store_true", help="start empty: forget what --state-dir holds"
    )
    parser.add_argument(
        "--site",
        type=Path,
        default=None,
        help="folder of static files to serve (default: Metadata.LocalEmulator.Site)",
    )
    parser.add_argument(
        "--site-config",
        action="append",
        type=_parameter,
        default=[],
        metavar="KEY=OUTPUT",
        help="serve the template output OUTPUT as KEY in /config.json (repeatable; "
        "adds to Metadata.LocalEmulator.SiteConfig)",
    )
    parser.add_argument(
        "--function-url-path",
        action="append",
        type=_parameter,
        default=[],
        metavar="LOGICAL_ID=/PATH/",
        help="mount a function URL at /PATH/ (default /lambda-url/<LogicalId>/ or "
        "Metadata.LocalEmulator.FunctionUrlPaths)",
    )
    parser.add_argument(
        "--code",
        action="append",
        type=_code,
        default=[],
        metavar="s3://BUCKET/KEY=PATH",
        help="local folder or zip for a function whose Code is in S3 (repeatable)",
    )
    parser.add_argument(
        "--open",
        default=None,
        help="path in the printed URL (default: Metadata.LocalEmulator.Open)",
    )
    parser.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "INFO"))
    args = parser.parse_args(argv)
    if not args.template.is_file():
        parser.error(f"template not found: {args.template} (run `make template`)")
    logs.configure(args.log_level, sys.stdout)
    settings = Settings(
        template_path=args.template,
        host=args.host,
        port=args.port,
        mqtt_port=args.mqtt_port,
        aws_port=args.aws_port,
        stack_name=args.stack_name,
        parameters=dict(args.parameter),
        serving=ServingOptions(
            site=args.site,
            site_config=dict(args.site_config),
            function_url_paths=dict(args.function_url_path),
        ),
        code=dict(args.code),
        iam=args.iam,
        state_dir=args.state_dir,
        fresh=args.fresh,
    )
    return settings, args.open


async def serve(settings: Settings, page: str | None) -> None:
    emulator = Emulator(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await emulator.start()
    # What start-up loaded (botocore's service models above all, several hundred thousand
    # objects) lives as long as the process. Frozen, the collector no longer walks it: a
    # full collection had stalled every delivery for 100 to 200 ms (docs/performance.md).
    gc.freeze()
    page = page if page is not None else emulator.serving.open_path
    print(f"\nRunning at {emulator.base_url}{page}  (Ctrl-C to stop)\n", flush=True)
    try:
        await stop.wait()
    finally:
        print("shutting down ...", flush=True)
        await emulator.stop()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["sql"]:
        from emulator.rules.tester import main as sql_main

        return sql_main(args[1:])
    settings, page = parse_args(args)
    try:
        asyncio.run(serve(settings, page))
    except TemplateError as exc:
        print(f"emulator: template error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(
            f"emulator: {exc} (is another emulator running? set PORT / MQTT_PORT)", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
