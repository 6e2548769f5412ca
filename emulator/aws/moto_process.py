"""moto's server in a process of its own, tied to the emulator's lifetime.

moto parses and answers every DynamoDB, Kinesis and Secrets Manager call in Python;
in the emulator's process that work competed with the broker and the rules engine
for the interpreter. Here it runs beside them. It exits when its standard input
closes, so it cannot outlive an emulator that was killed.

Unless ``--no-iam`` is given, requests made with role credentials pass the IAM gate
(emulator.aws.iam.gate) before moto sees them.

    python -m emulator.aws.moto_process --host 127.0.0.1 --port 4566
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

import boto3
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    create_backend_app,
)
from waitress.server import create_server

from emulator import logs
from emulator.aws.atomic_writes import SerializedItemWrites
from emulator.aws.dispatch import DirectDispatch

# waitress serves requests on a fixed pool of threads (werkzeug's server, which moto
# ships, starts one per request and closes every connection after its response). The
# gate's IAM reads are requests to this same server made while a request waits, so the
# pool is kept well above the emulator's concurrent callers (the rules' 8 threads, the
# Lambda workers, the stream poller).
THREADS = 32
ADMIN_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def _exit_at_eof() -> None:
    sys.stdin.read()  # returns when the parent closes the pipe, or dies
    os._exit(0)


def _iam_client_of(endpoint_url: str) -> Callable[[], Any]:
    """One IAM client to this very server (the gate reads roles' policies through it)."""
    made: list[Any] = []
    lock = threading.Lock()

    def client() -> Any:
        with lock:
            if not made:
                made.append(
                    boto3.client(
                        "iam",
                        endpoint_url=endpoint_url,
                        region_name="us-east-1",
                        **ADMIN_CREDENTIALS,
                    )
                )
            return made[0]

    return client


def main() -> None:
    parser = argparse.ArgumentParser(description="moto server for the emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--account-id", default="123456789012")
    parser.add_argument("--no-iam", action="store_true", help="do not evaluate role credentials")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args()
    # stdout carries only "ready" (the parent stops reading it); logs go to stderr.
    logs.configure(args.log_level, sys.stderr, ("waitress", "botocore", "urllib3", "moto"))
    threading.Thread(target=_exit_at_eof, daemon=True).start()
    app: Any = SerializedItemWrites(DirectDispatch(DomainDispatcherApplication(create_backend_app)))
    if not args.no_iam:
        from emulator.aws.iam.changes import IamChanges
        from emulator.aws.iam.gate import IamGate
        from emulator.aws.iam.policies import RolePolicies

        changes = IamChanges()
        policies = RolePolicies(
            _iam_client_of(f"http://{args.host}:{args.port}"), iam_version=lambda: changes.count
        )
        app = IamGate(app, policies, args.account_id, changes=changes)
    try:
        server = create_server(app, host=args.host, port=args.port, threads=THREADS, ident="moto")
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc}", flush=True)
        sys.exit(1)
    print("ready", flush=True)
    server.run()


if __name__ == "__main__":
    main()
