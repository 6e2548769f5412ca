"""moto's server on a loopback port, and the environment that points boto3 at it.

moto runs in a thread of the emulator process (ThreadedMotoServer) and is reached
over HTTP, so Lambda workers in other processes see the same state through the
standard AWS_ENDPOINT_URL_<SERVICE> variables, without any emulator branch in code.
"""

from __future__ import annotations

import logging
import urllib.request
from typing import Any, Self

import boto3
from botocore.config import Config
from moto.server import ThreadedMotoServer

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
    ) -> None:
        self.region = region
        self.account_id = account_id
        self._host = host
        self._port = port
        self._server: ThreadedMotoServer | None = None
        self._session: boto3.session.Session | None = None
        self._clients: dict[str, Any] = {}
        self.endpoint_url = ""
        if account_id != DEFAULT_ACCOUNT_ID:
            log.warning("moto serves account %s; ARNs will say %s", DEFAULT_ACCOUNT_ID, account_id)

    def start(self) -> Self:
        """Start moto on the loopback interface (a free port unless one was given)."""
        if self._server is not None:
            return self
        # werkzeug logs one INFO line per request; the emulator's log stays readable.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        server = ThreadedMotoServer(ip_address=self._host, port=self._port, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        self._server = server
        self.endpoint_url = f"http://{host}:{port}"
        log.info("moto listening on %s", self.endpoint_url)
        return self

    def stop(self) -> None:
        """Stop moto and forget the clients bound to it."""
        if self._server is not None:
            self._server.stop()
            self._server = None
        self._clients.clear()
        self.endpoint_url = ""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Drop every resource moto holds (moto's state is per process, not per server)."""
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
        """Create the template's tables, streams, secrets, queues and log groups."""
        return provision(template, self.client)
