"""Byte transports for the broker: plain TCP (asyncio.Protocol) and aiohttp WebSockets.

MQTT over WebSockets (MQTT 5.0 section 6) uses binary frames; a packet may span
frames and a frame may hold several packets, so both transports feed a byte stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket

from aiohttp import WSMsgType, web

from emulator.mqtt import reasons
from emulator.mqtt.broker import Broker
from emulator.mqtt.connection import Connection
from emulator.mqtt.hooks import PROTOCOL_ERROR, Peer

log = logging.getLogger(__name__)

_WS_UNSUPPORTED_DATA = 1003


class _TcpProtocol(asyncio.Protocol):
    """One TCP connection feeding a Connection."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.conn: Connection | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        peer = transport.get_extra_info("peername") or ("", 0)
        self.conn = Connection(self.broker, _TcpTransport(transport), Peer(peer[0], peer[1], "tcp"))
        self.broker.open(self.conn)

    def data_received(self, data: bytes) -> None:
        assert self.conn is not None
        self.conn.data_received(data)

    def eof_received(self) -> bool:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        if self.conn is not None:
            self.conn.transport_lost(error=exc)


class _TcpTransport:
    """The Transport interface over an asyncio transport."""

    __slots__ = ("_transport",)

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport

    def write(self, data: bytes) -> None:
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self._transport.close()

    def abort(self) -> None:
        self._transport.abort()

    def buffered(self) -> int:
        return self._transport.get_write_buffer_size()


class TcpListener:
    """A TCP listening socket serving a broker."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> int:
        """Listen on host:port (0: any free port); returns the bound port."""
        loop = asyncio.get_running_loop()
        broker = self.broker
        self._server = await loop.create_server(lambda: _TcpProtocol(broker), host, port)
        return int(self._server.sockets[0].getsockname()[1])

    def close(self) -> None:
        """Stop accepting connections (existing ones are the broker's to close)."""
        if self._server is not None:
            self._server.close()

    async def stop(self) -> None:
        """Stop accepting, then wait (up to 5 s) for the listener and its connections."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 5)


class _WsTransport:
    """Writes go out as binary WebSocket messages, batched per event-loop turn."""

    def __init__(self, ws: web.WebSocketResponse, raw: asyncio.BaseTransport | None) -> None:
        self._ws = ws
        self._raw = raw
        self._chunks: list[bytes] = []
        self._size = 0
        self._wake = asyncio.Event()
        self._closing = False
        self._writer = asyncio.ensure_future(self._run())

    def write(self, data: bytes) -> None:
        if self._closing or self._ws.closed:
            return
        self._chunks.append(data)
        self._size += len(data)
        self._wake.set()

    def close(self) -> None:
        self._closing = True
        self._wake.set()

    def abort(self) -> None:
        self._closing = True
        self._writer.cancel()
        if isinstance(self._raw, asyncio.Transport):
            self._raw.abort()

    def buffered(self) -> int:
        return self._size

    async def _run(self) -> None:
        ws = self._ws
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                if self._chunks:
                    data = b"".join(self._chunks)
                    self._chunks.clear()
                    self._size = 0
                    with contextlib.suppress(ConnectionError, RuntimeError):
                        await ws.send_bytes(data)
                if self._closing:
                    with contextlib.suppress(Exception):
                        await ws.close()
                    return
        except asyncio.CancelledError:
            pass

    async def finished(self) -> None:
        """Wait until the writer has sent everything and closed (or was aborted)."""
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer


async def serve_websocket(
    broker: Broker,
    ws: web.WebSocketResponse,
    peer: Peer,
    raw_transport: asyncio.BaseTransport | None = None,
) -> None:
    """Run MQTT over a prepared WebSocket until either side closes it.

    ``raw_transport`` (the HTTP request's transport) lets a stuck peer be aborted.
    A Close frame from the peer ends the connection as "transport closed"; losing
    the connection without one ends it as "connection lost".
    """
    transport = _WsTransport(ws, raw_transport)
    conn = Connection(broker, transport, peer)
    broker.open(conn)
    closed_by_peer = False
    error: Exception | None = None
    try:
        while True:
            msg = await ws.receive()
            if msg.type == WSMsgType.BINARY:
                conn.data_received(msg.data)
                continue
            if msg.type == WSMsgType.TEXT:
                log.info("%r sent a text frame; MQTT uses binary frames only", conn)
                conn.close_with(reasons.PROTOCOL_ERROR, "text frame", kind=PROTOCOL_ERROR)
                await ws.close(code=_WS_UNSUPPORTED_DATA)
            elif msg.type == WSMsgType.CLOSE:
                closed_by_peer = True
            elif msg.type == WSMsgType.ERROR:
                error = ws.exception()
            break
    except ConnectionError as exc:
        error = exc
    finally:
        conn.transport_lost(closed_by_peer=closed_by_peer, error=error)
        transport.close()
        await transport.finished()
