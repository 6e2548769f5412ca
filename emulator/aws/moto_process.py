"""moto's server in a process of its own, tied to the emulator's lifetime.

moto parses and answers every DynamoDB, Kinesis and Secrets Manager call in Python;
in the emulator's process that work competed with the broker and the rules engine
for the interpreter. Here it runs beside them. It exits when its standard input
closes, so it cannot outlive an emulator that was killed.

    python -m emulator.aws.moto_process --host 127.0.0.1 --port 4566
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

from emulator.aws.atomic_writes import SerializedItemWrites


def _exit_at_eof() -> None:
    sys.stdin.read()  # returns when the parent closes the pipe, or dies
    os._exit(0)


def main() -> None:
    parser = argparse.ArgumentParser(description="moto server for the emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    threading.Thread(target=_exit_at_eof, daemon=True).start()
    app = SerializedItemWrites(DomainDispatcherApplication(create_backend_app))
    try:
        server = make_server(
            args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler
        )
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc}", flush=True)
        sys.exit(1)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
