"""amqtt reader/writer adapters for plain TCP and for aiohttp WebSockets.

The broker needs to know, per connection, where it came from and (for WebSockets)
the upgrade request's headers and query string: the custom authorizer reads its
token there. Writers also expose abort() so a stuck peer cannot block a close.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass, field

from aiohttp import WSMsgType, web
from amqtt.adapters import ReaderAdapter, WriterAdapter

_CLOSE_TIMEOUT_S = 2.0


@dataclass(frozen=True, slots=True)
class TransportInfo:
    """Where a connection came from; http_* only for WebSockets."""

    source_ip: str
    source_port: int
    protocol: str  # "tcp" or "ws"
    http_headers: dict[str, str] = field(default_factory=dict)
    http_query: str = ""  # raw query string, without the leading '?'


class TcpWriter(WriterAdapter):
    """StreamWriter adapter whose close() cannot hang on a peer that stopped reading."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self._closed = False

    def write(self, data: bytes) -> None:
        if not self._closed:
            self._writer.write(data)

    async def drain(self) -> None:
        if not self._closed:
            await self._writer.drain()

    def get_peer_info(self) -> tuple[str, int] | None:
        peer = self._writer.get_extra_info("peername")
        return (peer[0], peer[1]) if peer and len(peer) >= 2 else None

    def get_ssl_info(self) -> ssl.SSLObject | None:
        return self._writer.get_extra_info("ssl_object")

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            await asyncio.wait_for(self._writer.drain(), _CLOSE_TIMEOUT_S)
        except (TimeoutError, ConnectionError):
            self._writer.transport.abort()
        self._writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._writer.wait_closed(), _CLOSE_TIMEOUT_S)

    def abort(self) -> None:
        """Drop the connection at once."""
        self._closed = True
        self._writer.transport.abort()


class WsReader(ReaderAdapter):
    """Byte stream over binary WebSocket messages (MQTT may split or join packets)."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self._ws = ws
        self._buffer = bytearray()
        self._eof = False
        self.client_closed = False

    async def read(self, n: int = -1) -> bytes:
        while not self._eof and (n < 0 or len(self._buffer) < n):
            msg = await self._ws.receive()
            if msg.type == WSMsgType.BINARY:
                self._buffer += msg.data
            elif msg.type == WSMsgType.TEXT:
                # MQTT over WebSockets uses binary frames only.
                self._eof = True
                await self._ws.close(code=1003)
            else:
                self.client_closed = msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING)
                self._eof = True
        take = len(self._buffer) if n < 0 else min(n, len(self._buffer))
        if n > 0 and take < n:
            raise asyncio.IncompleteReadError(bytes(self._buffer), n)
        chunk = bytes(self._buffer[:take])
        del self._buffer[:take]
        return chunk

    def feed_eof(self) -> None:
        self._eof = True


class WsWriter(WriterAdapter):
    """Sends each drained batch of MQTT bytes as one binary WebSocket message."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        peer: tuple[str, int],
        transport: asyncio.BaseTransport | None,
    ) -> None:
        self._ws = ws
        self._peer = peer
        self._transport = transport
        self._pending = bytearray()

    def write(self, data: bytes) -> None:
        self._pending += data

    async def drain(self) -> None:
        if self._pending and not self._ws.closed:
            data, self._pending = bytes(self._pending), bytearray()
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self._ws.send_bytes(data)

    def get_peer_info(self) -> tuple[str, int] | None:
        return self._peer

    def get_ssl_info(self) -> ssl.SSLObject | None:
        return None

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._ws.close(), _CLOSE_TIMEOUT_S)

    def abort(self) -> None:
        """Drop the underlying transport at once."""
        if isinstance(self._transport, asyncio.Transport):
            self._transport.abort()
