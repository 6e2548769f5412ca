"""moto's server on a loopback port, and the environment that points boto3 at it.

moto runs in a child process (emulator.aws.moto_process) and is reached over HTTP, so
the emulator, its Lambda workers and tests all see the same state through the standard
AWS_ENDPOINT_URL_<SERVICE> variables, without any emulator branch in code. With ``iam``
on (the default) requests made with role credentials pass IAM there first.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
import urllib.request
from typing import Any, Self

import boto3
from botocore.config import Config

from emulator.aws.provision import Provisioned, provision
from emulator.template import DEFAULT_ACCOUNT_ID, DEFAULT_REGION, Template

log = logging.getLogger("emulator.aws")

# boto3 service ids served by moto; AWS_ENDPOINT_URL_<ID> routes each to it.
MOTO_SERVICE_IDS = (
    "DYNAMODB",
    "DYNAMODB_STREAMS",
    "KINESIS",
    "SECRETS_MANAGER",
    "SQS",
    "CLOUDWATCH_LOGS",
    "STS",
    "SNS",
    "SFN",
    "FIREHOSE",
    "S3",
    "CLOUDWATCH",
)
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


class AwsServices:
    """Start moto, provision a template into it, hand out env and boto3 clients."""

    def __init__(
        self,
        region: str = DEFAULT_REGION,
        account_id: str = DEFAULT_ACCOUNT_ID,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        iam: bool = True,
        aws_managed_policies: bool = False,
    ) -> None:
        self.region = region
        self.account_id = account_id
        self.iam = iam
        self._host = host
        self._port = port
        self._aws_managed_policies = aws_managed_policies
        self._server: subprocess.Popen[str] | None = None
        self._session: boto3.session.Session | None = None
        self._clients: dict[str, Any] = {}
        self.endpoint_url = ""
        if account_id != DEFAULT_ACCOUNT_ID:
            log.warning("moto serves account %s; ARNs will say %s", DEFAULT_ACCOUNT_ID, account_id)

    def start(self, timeout: float = 30.0) -> Self:
        """Start moto on the loopback interface (a free port unless one was given)."""
        if self._server is not None:
            return self
        port = self._port or _free_port(self._host)
        command = [
            sys.executable,
            "-m",
            "emulator.aws.moto_process",
            "--host",
            self._host,
            "--port",
            str(port),
            "--account-id",
            self.account_id,
            "--log-level",
            logging.getLevelName(logging.getLogger().getEffectiveLevel()),
        ]
        if not self.iam:
            command.append("--no-iam")
        env = dict(os.environ)
        if self._aws_managed_policies:
            env["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"  # moto's setting, off by default
        server = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            text=True,
            start_new_session=True,  # Ctrl-C reaches the emulator, which stops moto
        )
        assert server.stdout is not None
        ready = server.stdout.readline().strip()  # blocks until moto listens, or exits
        if ready != "ready":
            server.kill()
            server.wait()
            raise OSError(f"moto did not start: {ready or 'it exited'}")
        self._server = server
        self.endpoint_url = f"http://{self._host}:{port}"
        _wait_until_answering(self.endpoint_url, timeout)
        log.info("moto listening on %s", self.endpoint_url)
        return self

    def stop(self) -> None:
        """Stop moto and forget the clients bound to it."""
        server, self._server = self._server, None
        if server is not None:
            assert server.stdin is not None
            server.stdin.close()  # moto_process exits at EOF
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            if server.stdout is not None:
                server.stdout.close()
        self._clients.clear()
        self.endpoint_url = ""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Drop every resource moto holds."""
        url = f"{self.endpoint_url}/moto-api/reset"
        request = urllib.request.Request(url, method="POST")  # noqa: S310 - loopback moto
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310
            pass

    def env(self) -> dict[str, str]:
        """Variables that send boto3 (in any process) to moto, with dummy credentials."""
        if not self.endpoint_url:
            raise RuntimeError("AwsServices.start() first")
        variables = {f"AWS_ENDPOINT_URL_{sid}": self.endpoint_url for sid in MOTO_SERVICE_IDS}
        variables.update(DUMMY_CREDENTIALS)
        variables.update({"AWS_REGION": self.region, "AWS_DEFAULT_REGION": self.region})
        return variables

    def client(self, service: str, **kwargs: Any) -> Any:
        """A boto3 client bound to moto; cached per service when called without options."""
        if not self.endpoint_url:
            raise RuntimeError("AwsServices.start() first")
        cacheable = not kwargs
        if cacheable and service in self._clients:
            return self._clients[service]
        if self._session is None:
            self._session = boto3.session.Session(
                aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                region_name=self.region,
            )
        kwargs.setdefault("endpoint_url", self.endpoint_url)
        kwargs.setdefault("config", Config(retries={"max_attempts": 2, "mode": "standard"}))
        made = self._session.client(service, **kwargs)
        if cacheable:
            self._clients[service] = made
        return made

    def provision(self, template: Template) -> Provisioned:
        """Create the template's roles, tables, streams, secrets, queues and log groups."""
        return provision(template, self.client)


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _wait_until_answering(endpoint_url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{endpoint_url}/moto-api/data.json", timeout=2):  # noqa: S310
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
