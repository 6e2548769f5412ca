"""Validates every MQTT frame before amqtt decodes it.

amqtt discards a packet it cannot decode and keeps reading the desynchronised
stream, reads frames of any size into memory and accepts a client that never sends
CONNECT. AWS IoT Core closes the connection on any protocol violation. FrameGuard
reads one whole frame, checks it (types, flags, lengths, UTF-8, that the fields fill
the frame exactly, AWS size limits) and only then hands its bytes to amqtt, so a
malformed frame closes its own connection and nothing else.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from amqtt.adapters import ReaderAdapter
from amqtt.errors import AMQTTError

from emulator.iot.limits import Limits

CONNECT, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 3, 4, 5, 6, 7
SUBSCRIBE, UNSUBSCRIBE, PINGREQ, DISCONNECT = 8, 10, 12, 14
_FLAGS_0010 = {PUBREL, SUBSCRIBE, UNSUBSCRIBE}
_ACK_TYPES = {PUBACK, PUBREC, PUBREL, PUBCOMP}


class FrameError(AMQTTError):
    """A protocol violation: the connection must be closed (disconnectReason given)."""

    def __init__(self, message: str, reason: str = "CLIENT_ERROR") -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(slots=True)
class ConnectInfo:
    """The fields of the CONNECT packet the custom authorizer needs, bytes exact."""

    client_id: str
    username: str | None
    password: bytes | None
    keepalive: int
    clean_session: bool
    will_topic: str | None = None


@dataclass(slots=True)
class FrameStats:
    """What the guard saw, for lifecycle events (was DISCONNECT sent?)."""

    frames: int = 0
    saw_disconnect: bool = False
    last_rx: float = field(default_factory=time.monotonic)


class _Cursor:
    """Reads MQTT fields from one frame body; any overrun is a protocol violation."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.pos = 0

    def remaining(self) -> int:
        return len(self.body) - self.pos

    def take(self, n: int) -> bytes:
        if n > self.remaining():
            raise FrameError("field runs past the end of the frame")
        chunk = self.body[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return int.from_bytes(self.take(2), "big")

    def data(self) -> bytes:
        return self.take(self.u16())

    def string(self) -> str:
        raw = self.data()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FrameError("string is not valid UTF-8") from exc
        if "\x00" in text:
            raise FrameError("string contains U+0000")
        return text


def parse_connect(body: bytes) -> ConnectInfo:
    """Validate a CONNECT body (MQTT 3.1.1 layout) and return its fields."""
    cur = _Cursor(body)
    name = cur.string()
    level = cur.u8()
    if name not in ("MQTT", "MQIsdp"):
        raise FrameError(f"bad protocol name {name!r}")
    flags = cur.u8()
    keepalive = cur.u16()
    if flags & 0x01:
        raise FrameError("CONNECT reserved flag set")
    will, will_qos = bool(flags & 0x04), (flags >> 3) & 0x03
    if will_qos == 3 or (not will and (will_qos or flags & 0x20)):
        raise FrameError("inconsistent will flags")
    client_id = cur.string()
    will_topic = None
    if will:
        will_topic = cur.string()
        cur.data()
    username = cur.string() if flags & 0x80 else None
    password = cur.data() if flags & 0x40 else None
    if cur.remaining():
        raise FrameError("trailing bytes after CONNECT payload")
    del level  # amqtt answers an unsupported level with CONNACK 0x01
    return ConnectInfo(client_id, username, password, keepalive, bool(flags & 0x02), will_topic)


def check_body(packet_type: int, flags: int, body: bytes, limits: Limits) -> None:
    """Validate one non-CONNECT frame sent by a client."""
    cur = _Cursor(body)
    if packet_type == PUBLISH:
        qos = (flags >> 1) & 0x03
        if qos > 1:
            raise FrameError("QoS 2 is not supported by AWS IoT Core" if qos == 2 else "QoS 3")
        cur.string()
        if qos:
            cur.u16()
        if cur.remaining() > limits.max_payload_bytes:
            raise FrameError(f"payload larger than {limits.max_payload_bytes} bytes")
    elif packet_type in _ACK_TYPES:
        cur.u16()
    elif packet_type in (SUBSCRIBE, UNSUBSCRIBE):
        cur.u16()
        if not cur.remaining():
            raise FrameError("SUBSCRIBE/UNSUBSCRIBE without topic filters")
        while cur.remaining():
            cur.string()
            if packet_type == SUBSCRIBE and cur.u8() > 2:
                raise FrameError("bad requested QoS")
    elif packet_type in (PINGREQ, DISCONNECT):
        pass
    elif packet_type == CONNECT:
        raise FrameError("second CONNECT on one connection")
    else:
        raise FrameError(f"packet type {packet_type} may not be sent by a client")
    if cur.remaining() and packet_type != PUBLISH:
        raise FrameError("trailing bytes in frame")


class FrameGuard(ReaderAdapter):
    """ReaderAdapter serving amqtt only validated, complete frames.

    State lives on the object so a read cancelled by amqtt's keep-alive wait_for
    resumes where it stopped.
    """

    def __init__(self, source: ReaderAdapter, limits: Limits) -> None:
        self._source = source
        self._limits = limits
        self._out = bytearray()
        self._header = bytearray()
        self._length: int | None = None
        self._body = bytearray()
        self.connect: ConnectInfo | None = None
        self.stats = FrameStats()
        self.error: FrameError | None = None
        self._started = time.monotonic()

    async def read(self, n: int = -1) -> bytes:
        """Return n bytes of the current frame, reading the next whole frame if needed."""
        if n == 0:
            return b""
        try:
            if not self._out and not await self._next_frame():
                return b""
        except FrameError as exc:
            self.error = self.error or exc
            raise
        if n < 0 or n > len(self._out):
            self.error = FrameError("decoder read past the validated frame")
            raise self.error
        chunk = bytes(self._out[:n])
        del self._out[:n]
        return chunk

    def feed_eof(self) -> None:
        """Nothing to do: EOF comes from the source."""
        self._source.feed_eof()

    def _deadline(self) -> float:
        if self.connect is None:
            return self._started + self._limits.connect_timeout_s
        return self.stats.last_rx + self._limits.keepalive_deadline_s(self.connect.keepalive)

    async def _pull(self, n: int) -> bytes:
        timeout = self._deadline() - time.monotonic()
        if timeout <= 0:
            raise self._timeout_error()
        try:
            data = await asyncio.wait_for(self._source.read(n), timeout)
        except TimeoutError as exc:
            raise self._timeout_error() from exc
        except (asyncio.IncompleteReadError, ConnectionError):
            return b""
        if data:
            self.stats.last_rx = time.monotonic()
        return data

    def _timeout_error(self) -> FrameError:
        if self.connect is None:
            return FrameError("no CONNECT within the connect timeout", "CLIENT_ERROR")
        return FrameError("keep-alive expired", "MQTT_KEEP_ALIVE_TIMEOUT")

    async def _next_frame(self) -> bool:
        """Read and validate one frame into the output buffer; False on clean EOF."""
        while self._length is None:
            byte = await self._pull(1)
            if not byte:
                if self._header:
                    raise FrameError("connection closed inside a frame header", "CONNECTION_LOST")
                return False
            self._header += byte
            if len(self._header) > 1 and not byte[0] & 0x80:
                self._length = sum((b & 0x7F) << (7 * i) for i, b in enumerate(self._header[1:]))
                self._check_header()
            elif len(self._header) > 4:
                raise FrameError("remaining length longer than four bytes")
        while len(self._body) < self._length:
            chunk = await self._pull(self._length - len(self._body))
            if not chunk:
                raise FrameError("connection closed inside a frame", "CONNECTION_LOST")
            self._body += chunk
        packet_type, flags, body = self._header[0] >> 4, self._header[0] & 0x0F, bytes(self._body)
        if self.connect is None:
            self.connect = parse_connect(body)
        else:
            check_body(packet_type, flags, body, self._limits)
        self.stats.frames += 1
        self.stats.saw_disconnect = self.stats.saw_disconnect or packet_type == DISCONNECT
        self._out += self._header + self._body
        self._header, self._body, self._length = bytearray(), bytearray(), None
        return True

    def _check_header(self) -> None:
        assert self._length is not None
        packet_type, flags = self._header[0] >> 4, self._header[0] & 0x0F
        if self.connect is None and packet_type != CONNECT:
            raise FrameError("first packet is not CONNECT")
        if packet_type in _FLAGS_0010:
            if flags != 0b0010:
                raise FrameError("reserved flags must be 0010")
        elif packet_type != PUBLISH and flags:
            raise FrameError("reserved flags must be 0000")
        if self._length > self._limits.max_frame_bytes:
            raise FrameError(f"frame of {self._length} bytes exceeds the limit")
        if packet_type in (PINGREQ, DISCONNECT) and self._length:
            raise FrameError("PINGREQ/DISCONNECT must be empty")
