"""Open one awscrt MQTT 3.1.1 connection, and say in one line why it failed if it does.

Four transports, because the chat is reached four ways:
- `wss`: a deployment (IoT Core on 443), awsiotsdk's websockets custom-authorizer builder;
- `tls`: a deployment over direct MQTT on 443 (ALPN `mqtt`), awsiotsdk's direct builder;
- `ws`:  the local emulator's `/mqtt`, token in the upgrade's query string like a browser;
- `tcp`: plain MQTT (the emulator's device port, or a bare broker with no auth at all).
"""

from __future__ import annotations

import contextlib
import urllib.parse
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from awscrt import io, mqtt
from awscrt.exceptions import AwsCrtError
from awsiot import mqtt_connection_builder

from client.errors import ClientError, ConnectRefused

TRANSPORTS = ("wss", "tls", "ws", "tcp")
_UNREACHABLE = (
    "AWS_IO_SOCKET_CONNECTION_REFUSED",
    "AWS_IO_SOCKET_TIMEOUT",
    "AWS_IO_SOCKET_NO_ROUTE_TO_HOST",
    "AWS_IO_SOCKET_NETWORK_DOWN",
    "AWS_IO_DNS_INVALID_NAME",
    "AWS_IO_DNS_QUERY_FAILED",
    "AWS_IO_DNS_NO_ADDRESS_FOR_HOST",
    "AWS_IO_SOCKET_INVALID_ADDRESS",
)
_REFUSED_HINT = (
    "AWS_ERROR_HTTP_WEBSOCKET_UPGRADE_FAILURE",
    "AWS_ERROR_MQTT_UNEXPECTED_HANGUP",
    "AWS_IO_SOCKET_CLOSED",
    "AWS_ERROR_MQTT_PROTOCOL_ERROR",
)


@dataclass(frozen=True)
class ConnectSpec:
    """Where and as whom to connect; `authorizer=None` means no custom auth (bare broker)."""

    host: str
    port: int
    transport: str
    client_id: str
    path: str = "/mqtt"
    authorizer: str | None = None
    token: str | None = None
    keep_alive_secs: int = 30
    ping_timeout_ms: int = 10_000  # awscrt also waits this long for the CONNACK

    @property
    def where(self) -> str:
        return f"{self.transport}://{self.host}:{self.port}"


def spec_from_url(
    mqtt_url: str,
    client_id: str,
    authorizer: str | None,
    token: str | None,
    transport: str = "auto",
    tcp_port: int | None = None,
) -> ConnectSpec:
    """Derive a ConnectSpec from config.json's mqttUrl and the transport asked for."""
    parts = urllib.parse.urlsplit(mqtt_url)
    host = parts.hostname or "127.0.0.1"
    if host == "localhost":  # stay on IPv4 loopback, as the emulator binds there
        host = "127.0.0.1"
    url_transport = {"ws": "ws", "wss": "wss", "mqtt": "tcp", "mqtts": "tls"}.get(parts.scheme)
    if url_transport is None:
        raise ClientError(f"unsupported mqttUrl scheme in {mqtt_url!r}")
    chosen = url_transport if transport == "auto" else transport
    if chosen not in TRANSPORTS:
        raise ClientError(f"unknown transport {transport!r}; use one of {', '.join(TRANSPORTS)}")
    default_port = {"ws": 80, "wss": 443, "tcp": 1883, "tls": 443}[chosen]
    if chosen == url_transport:
        port = parts.port or default_port
    elif chosen == "tcp":
        port = tcp_port or 1883
    else:
        port = default_port
    return ConnectSpec(
        host=host,
        port=port,
        transport=chosen,
        client_id=client_id,
        path=parts.path or "/mqtt",
        authorizer=authorizer,
        token=token,
    )


def _auth_username(spec: ConnectSpec) -> str | None:
    if spec.authorizer is None:
        return None
    return "device?x-amz-customauthorizer-name=" + urllib.parse.quote(spec.authorizer, safe="")


def _query_path(spec: ConnectSpec) -> str:
    query = urllib.parse.urlencode(
        {"x-amz-customauthorizer-name": spec.authorizer or "", "token": spec.token or ""}
    )
    return f"{spec.path}?{query}"


def build(spec: ConnectSpec, **callbacks: Any) -> mqtt.Connection:
    """A not-yet-connected awscrt Connection for `spec` (callbacks go to the constructor)."""
    common: dict[str, Any] = {
        "client_id": spec.client_id,
        "clean_session": True,
        "keep_alive_secs": spec.keep_alive_secs,
        "ping_timeout_ms": spec.ping_timeout_ms,
        **callbacks,
    }
    if spec.transport == "wss":
        return mqtt_connection_builder.websockets_with_custom_authorizer(
            endpoint=spec.host,
            port=spec.port,
            auth_username="device",
            auth_authorizer_name=spec.authorizer,
            auth_password=spec.token,
            **common,
        )
    if spec.transport == "tls":
        return mqtt_connection_builder.direct_with_custom_authorizer(
            endpoint=spec.host,
            auth_username="device",
            auth_authorizer_name=spec.authorizer,
            auth_password=spec.token,
            **common,
        )
    transform = None
    username = password = None
    if spec.transport == "ws" and spec.authorizer is not None:
        path = _query_path(spec)

        def transform(transform_args: mqtt.WebsocketHandshakeTransformArgs, **_: Any) -> None:
            transform_args.http_request.path = path
            transform_args.set_done()

    elif spec.transport == "tcp" and spec.authorizer is not None:
        username, password = _auth_username(spec), spec.token
    socket_options = io.SocketOptions()
    socket_options.connect_timeout_ms = 5000
    client = mqtt.Client(io.ClientBootstrap.get_or_create_static_default(), None)
    return mqtt.Connection(
        client=client,
        host_name=spec.host,
        port=spec.port,
        username=username,
        password=password,
        socket_options=socket_options,
        use_websockets=spec.transport == "ws",
        websocket_handshake_transform=transform,
        reconnect_min_timeout_secs=1,
        reconnect_max_timeout_secs=10,
        **common,
    )


def explain(exc: BaseException, spec: ConnectSpec) -> ClientError:
    """Turn a failed connect into the one line a user needs."""
    if exc.args and isinstance(exc.args[0], mqtt.ConnectReturnCode):
        code = exc.args[0]
        if code in (
            mqtt.ConnectReturnCode.BAD_USERNAME_OR_PASSWORD,
            mqtt.ConnectReturnCode.NOT_AUTHORIZED,
        ):
            return ConnectRefused(
                f"connection refused by the authorizer at {spec.where}: "
                f"token rejected ({code.name})"
            )
        return ClientError(f"connection refused by {spec.where}: {code.name}")
    if isinstance(exc, AwsCrtError):
        if exc.name == "AWS_ERROR_MQTT_TIMEOUT":
            return ClientError(f"no CONNACK from {spec.where} in time (a slow authorizer?)")
        if exc.name in _UNREACHABLE:
            return ClientError(f"cannot reach the MQTT endpoint {spec.where}: {exc.name}")
        if exc.name in _REFUSED_HINT:
            return ConnectRefused(
                f"connection refused by {spec.where} ({exc.name}): "
                "the authorizer most likely rejected the token"
            )
        return ClientError(f"cannot connect to {spec.where}: {exc.name}")
    if isinstance(exc, FutureTimeout | TimeoutError):
        return ClientError(f"no answer from the MQTT endpoint {spec.where} in time")
    return ClientError(f"cannot connect to {spec.where}: {exc}")


def connect(conn: mqtt.Connection, spec: ConnectSpec, timeout: float = 10.0) -> None:
    """Connect and wait for CONNACK; raise ClientError with a clear reason if refused."""
    future: Future = conn.connect()
    try:
        future.result(timeout)
    except Exception as exc:  # awscrt raises bare Exception for CONNACK codes
        raise explain(exc, spec) from None


def disconnect(conn: mqtt.Connection, timeout: float = 5.0) -> None:
    """Disconnect cleanly, ignoring a connection that is already gone."""
    with contextlib.suppress(Exception):
        conn.disconnect().result(timeout)
