"""The MQTT 3.1.1 / MQTT 5 wire format: a stream Decoder and ``encode``.

Written from the OASIS specifications (MQTT Version 3.1.1, 2014; MQTT Version 5.0,
2019). The decoder validates what the specs call malformed (lengths, UTF-8, reserved
flags, property rules) and raises ``MqttError`` carrying the MQTT 5 reason code to
close with; what a packet *means* (may this client publish here?) is the broker's.
"""

from __future__ import annotations

import struct

from emulator.mqtt import properties as P
from emulator.mqtt import reasons
from emulator.mqtt.packets import (
    AUTH,
    CONNACK,
    CONNECT,
    DISCONNECT,
    MQTT_5,
    MQTT_311,
    PACKET_NAMES,
    PINGREQ,
    PINGRESP,
    PUBACK,
    PUBCOMP,
    PUBLISH,
    PUBREC,
    PUBREL,
    SUBACK,
    SUBSCRIBE,
    UNSUBACK,
    UNSUBSCRIBE,
    Ack,
    Auth,
    Connack,
    Connect,
    Disconnect,
    Packet,
    PingReq,
    PingResp,
    Publish,
    Suback,
    Subscribe,
    SubscriptionRequest,
    Unsuback,
    Unsubscribe,
    Will,
)

MAX_REMAINING_LENGTH = 268_435_455
_ACK_TYPES = (PUBACK, PUBREC, PUBREL, PUBCOMP)
_FROM_CLIENT = frozenset(
    {CONNECT, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBSCRIBE, UNSUBSCRIBE, PINGREQ}
    | {DISCONNECT, AUTH}
)
_FROM_SERVER = frozenset(
    {CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK, PINGRESP}
    | {DISCONNECT, AUTH}
)
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")


class MqttError(Exception):
    """A packet the peer must not have sent; ``reason_code`` is the MQTT 5 answer."""

    reason_code = reasons.PROTOCOL_ERROR

    def __init__(self, message: str, reason_code: int | None = None) -> None:
        super().__init__(message)
        if reason_code is not None:
            self.reason_code = reason_code


class MalformedPacket(MqttError):
    """Bytes that do not follow the packet layout (0x81)."""

    reason_code = reasons.MALFORMED_PACKET


class ProtocolError(MqttError):
    """A well-formed packet the protocol forbids here (0x82)."""

    reason_code = reasons.PROTOCOL_ERROR


class PacketTooLarge(MqttError):
    """A packet over the receiver's Maximum Packet Size (0x95)."""

    reason_code = reasons.PACKET_TOO_LARGE


class UnsupportedProtocolVersion(MqttError):
    """CONNECT with a protocol name or level this broker does not speak (0x84)."""

    reason_code = reasons.UNSUPPORTED_PROTOCOL_VERSION


# ---- reading ------------------------------------------------------------------------


class _Reader:
    """Reads fields from one packet body; any overrun is a malformed packet."""

    __slots__ = ("data", "end", "pos")

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    def remaining(self) -> int:
        return self.end - self.pos

    def take(self, n: int) -> bytes:
        pos = self.pos
        if n > self.end - pos:
            raise MalformedPacket("a field runs past the end of the packet")
        self.pos = pos + n
        return self.data[pos : pos + n]

    def u8(self) -> int:
        if self.pos >= self.end:
            raise MalformedPacket("a field runs past the end of the packet")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def u16(self) -> int:
        return int(_U16.unpack(self.take(2))[0])

    def u32(self) -> int:
        return int(_U32.unpack(self.take(4))[0])

    def varint(self) -> int:
        value = shift = 0
        for _ in range(4):
            byte = self.u8()
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7
        raise MalformedPacket("variable byte integer longer than four bytes")

    def binary(self) -> bytes:
        return self.take(self.u16())

    def utf8(self) -> str:
        return decode_utf8(self.binary())

    def rest(self) -> bytes:
        chunk = self.data[self.pos : self.end]
        self.pos = self.end
        return chunk


def decode_utf8(raw: bytes) -> str:
    """A UTF-8 Encoded String (section 1.5.4): valid UTF-8 without U+0000."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedPacket("string is not valid UTF-8") from exc
    if "\x00" in text:
        raise MalformedPacket("string contains U+0000")
    return text


def _read_properties(reader: _Reader, where: str) -> P.Properties:
    length = reader.varint()
    if length > reader.remaining():
        raise MalformedPacket("property length runs past the end of the packet")
    end = reader.pos + length
    props: P.Properties = {}
    while reader.pos < end:
        identifier = reader.varint()
        spec = P.SPEC.get(identifier)
        if spec is None:
            raise MalformedPacket(f"unknown property 0x{identifier:02x}")
        _, kind, allowed = spec
        if where not in allowed:
            raise ProtocolError(f"{spec[0]} is not allowed in {where}")
        value = _read_value(reader, kind)
        if reader.pos > end:
            raise MalformedPacket("a property runs past the property length")
        if identifier in P.REPEATABLE:
            bucket = props.setdefault(identifier, [])
            assert isinstance(bucket, list)
            bucket.append(value)
        elif identifier in props:
            raise ProtocolError(f"{spec[0]} appears twice")
        else:
            _check_value(identifier, value)
            props[identifier] = value
    return props


def _read_value(reader: _Reader, kind: P.Kind) -> object:
    if kind is P.Kind.BYTE:
        return reader.u8()
    if kind is P.Kind.U16:
        return reader.u16()
    if kind is P.Kind.U32:
        return reader.u32()
    if kind is P.Kind.VARINT:
        return reader.varint()
    if kind is P.Kind.UTF8:
        return reader.utf8()
    if kind is P.Kind.BINARY:
        return reader.binary()
    return (reader.utf8(), reader.utf8())


def _check_value(identifier: int, value: object) -> None:
    if identifier in P.BOOLEAN and value not in (0, 1):
        raise ProtocolError(f"{P.name(identifier)} must be 0 or 1")
    if identifier in (P.RECEIVE_MAXIMUM, P.MAXIMUM_PACKET_SIZE) and value == 0:
        raise ProtocolError(f"{P.name(identifier)} must not be 0")
    if identifier == P.TOPIC_ALIAS and value == 0:
        raise ProtocolError("Topic Alias must not be 0")


def _check_subscription_ids(props: P.Properties) -> None:
    for value in props.get(P.SUBSCRIPTION_IDENTIFIER, ()):  # type: ignore[union-attr]
        if value == 0:
            raise ProtocolError("Subscription Identifier must not be 0")


def _read_packet_id(reader: _Reader) -> int:
    packet_id = reader.u16()
    if packet_id == 0:
        raise MalformedPacket("packet identifier 0")
    return packet_id


# ---- the decoder --------------------------------------------------------------------


class Decoder:
    """Turns a byte stream into packets.

    ``side`` is who is reading: a "server" decodes what clients send (its first packet
    must be CONNECT, which also fixes the protocol version), a "client" decodes what
    servers send and must be given the version. ``max_packet_size`` counts the whole
    packet, fixed header included, as MQTT 5's Maximum Packet Size does.
    """

    def __init__(
        self,
        *,
        side: str = "server",
        version: int | None = None,
        max_packet_size: int | None = None,
    ) -> None:
        if side not in ("server", "client"):
            raise ValueError("side must be 'server' or 'client'")
        self.side = side
        self.version = version
        self.max_packet_size = max_packet_size
        self._buffer = bytearray()
        self.error: MqttError | None = None
        self._allowed = _FROM_CLIENT if side == "server" else _FROM_SERVER

    def feed(self, data: bytes) -> list[Packet]:
        """Every complete packet in the stream so far; keeps a partial packet buffered.

        A malformed packet raises MqttError; packets decoded before it in the same
        chunk are returned first, and the error is raised by the next call (or read
        from ``error``), so nothing the client sent correctly is lost.
        """
        if self.error is not None:
            raise self.error
        buf = self._buffer
        buf += data
        packets: list[Packet] = []
        try:
            self._parse(buf, packets)
        except MqttError as exc:
            self.error = exc
            buf.clear()
            if not packets:
                raise
        return packets

    def _parse(self, buf: bytearray, packets: list[Packet]) -> None:
        pos = 0
        size = len(buf)
        while size - pos >= 1:
            first = buf[pos]
            self._check_type(first >> 4)
            if size - pos < 2:
                break
            length = 0
            multiplier = 1
            index = pos + 1
            complete = False
            for _ in range(4):
                if index >= size:
                    break
                byte = buf[index]
                index += 1
                length += (byte & 0x7F) * multiplier
                if byte < 0x80:
                    complete = True
                    break
                multiplier <<= 7
            else:
                raise MalformedPacket("remaining length longer than four bytes")
            if not complete:
                break
            total = index - pos + length
            limit = self.max_packet_size
            if limit is not None and total > limit:
                raise PacketTooLarge(f"packet of {total} bytes exceeds {limit}")
            if size - pos < total:
                break
            packets.append(self._decode(first, bytes(buf[index : index + length])))
            pos += total
            if pos == size:
                buf.clear()
                return
        if pos:
            del buf[:pos]

    def _check_type(self, packet_type: int) -> None:
        """Refuse a packet by its first byte, before waiting for its body."""
        if packet_type not in self._allowed:
            name = PACKET_NAMES.get(packet_type, f"type {packet_type}")
            raise ProtocolError(f"{name} may not be sent by a {_other(self.side)}")
        if self.version is None and packet_type != CONNECT:
            raise ProtocolError("the first packet must be CONNECT")

    def _decode(self, first: int, body: bytes) -> Packet:
        packet_type, flags = first >> 4, first & 0x0F
        if self.version is None:
            if flags:
                raise MalformedPacket("CONNECT reserved flags must be 0")
            packet = decode_connect(body)
            self.version = packet.version
            return packet
        if packet_type == CONNECT:
            raise ProtocolError("a second CONNECT on one connection")
        return decode_body(packet_type, flags, body, self.version)


def _other(side: str) -> str:
    return "client" if side == "server" else "server"


def decode_connect(body: bytes) -> Connect:
    """A CONNECT body (3.1.1 or 5); raises UnsupportedProtocolVersion for other levels."""
    reader = _Reader(body)
    name = reader.utf8()
    level = reader.u8()
    if name != "MQTT" or level not in (MQTT_311, MQTT_5):
        raise UnsupportedProtocolVersion(f"protocol {name!r} level {level} is not supported")
    flags = reader.u8()
    keep_alive = reader.u16()
    if flags & 0x01:
        raise MalformedPacket("CONNECT reserved flag is set")
    has_will, will_qos, will_retain = bool(flags & 0x04), (flags >> 3) & 0x03, bool(flags & 0x20)
    if will_qos == 3:
        raise MalformedPacket("will QoS 3")
    if not has_will and (will_qos or will_retain):
        raise MalformedPacket("will QoS or retain set without a will")
    has_user, has_password = bool(flags & 0x80), bool(flags & 0x40)
    if level == MQTT_311 and has_password and not has_user:
        raise MalformedPacket("password flag without user name flag")
    props = _read_properties(reader, "CONNECT") if level == MQTT_5 else {}
    client_id = reader.utf8()
    will = None
    if has_will:
        will_props = _read_properties(reader, "WILL") if level == MQTT_5 else {}
        topic = reader.utf8()
        will = Will(topic, reader.binary(), will_qos, will_retain, will_props)
    username = reader.utf8() if has_user else None
    password = reader.binary() if has_password else None
    if reader.remaining():
        raise MalformedPacket("bytes after the CONNECT payload")
    return Connect(
        version=level,
        client_id=client_id,
        clean_start=bool(flags & 0x02),
        keep_alive=keep_alive,
        username=username,
        password=password,
        will=will,
        properties=props,
    )


def decode_body(packet_type: int, flags: int, body: bytes, version: int) -> Packet:
    """Any packet but CONNECT, once the version is known."""
    v5 = version == MQTT_5
    if packet_type == PUBLISH:
        return _decode_publish(flags, body, v5)
    if packet_type in (PUBREL, SUBSCRIBE, UNSUBSCRIBE):
        if flags != 0b0010:
            raise MalformedPacket(f"{PACKET_NAMES[packet_type]} reserved flags must be 0010")
    elif flags:
        raise MalformedPacket(f"{PACKET_NAMES[packet_type]} reserved flags must be 0")
    reader = _Reader(body)
    if packet_type in _ACK_TYPES:
        packet_id = _read_packet_id(reader)
        code, props = 0, {}
        if v5 and reader.remaining():
            code = reader.u8()
            if reader.remaining():
                props = _read_properties(reader, "PUBACK")
        packet: Packet = Ack(packet_type, packet_id, code, props)
    elif packet_type == SUBSCRIBE:
        packet = _decode_subscribe(reader, v5)
    elif packet_type == UNSUBSCRIBE:
        packet_id = _read_packet_id(reader)
        props = _read_properties(reader, "UNSUBSCRIBE") if v5 else {}
        filters = []
        while reader.remaining():
            filters.append(reader.utf8())
        if not filters:
            raise ProtocolError("UNSUBSCRIBE without topic filters")
        packet = Unsubscribe(packet_id, filters, props)
    elif packet_type in (PINGREQ, PINGRESP):
        packet = PingReq() if packet_type == PINGREQ else PingResp()
    elif packet_type in (DISCONNECT, AUTH):
        if not v5 and packet_type == AUTH:
            raise ProtocolError("AUTH exists only in MQTT 5")
        code, props = 0, {}
        if v5 and reader.remaining():
            code = reader.u8()
            if reader.remaining():
                props = _read_properties(reader, PACKET_NAMES[packet_type])
        packet = Disconnect(code, props) if packet_type == DISCONNECT else Auth(code, props)
    elif packet_type == CONNACK:
        packet = _decode_connack(reader, v5)
    elif packet_type == SUBACK:
        packet_id = _read_packet_id(reader)
        props = _read_properties(reader, "SUBACK") if v5 else {}
        packet = Suback(packet_id, list(reader.rest()), props)
    elif packet_type == UNSUBACK:
        packet_id = _read_packet_id(reader)
        props = _read_properties(reader, "UNSUBACK") if v5 else {}
        packet = Unsuback(packet_id, list(reader.rest()) if v5 else [], props)
    else:
        raise MalformedPacket(f"reserved packet type {packet_type}")
    if reader.remaining():
        raise MalformedPacket(f"bytes after the end of {PACKET_NAMES[packet_type]}")
    return packet


def _decode_publish(flags: int, body: bytes, v5: bool) -> Publish:
    qos = (flags >> 1) & 0x03
    if qos == 3:
        raise MalformedPacket("PUBLISH with QoS 3")
    dup = bool(flags & 0x08)
    if dup and qos == 0:
        raise MalformedPacket("DUP set on a QoS 0 PUBLISH")
    reader = _Reader(body)
    topic = reader.utf8()
    packet_id = _read_packet_id(reader) if qos else None
    props = _read_properties(reader, "PUBLISH") if v5 else {}
    if props:
        _check_subscription_ids(props)
    return Publish(topic, reader.rest(), qos, bool(flags & 0x01), dup, packet_id, props)


def _decode_subscribe(reader: _Reader, v5: bool) -> Subscribe:
    packet_id = _read_packet_id(reader)
    props = _read_properties(reader, "SUBSCRIBE") if v5 else {}
    if props:
        _check_subscription_ids(props)
        if len(props.get(P.SUBSCRIPTION_IDENTIFIER, ())) > 1:  # type: ignore[arg-type]
            raise ProtocolError("more than one Subscription Identifier")
    requests = []
    while reader.remaining():
        topic_filter = reader.utf8()
        options = reader.u8()
        qos = options & 0x03
        if qos == 3:
            raise MalformedPacket("requested QoS 3")
        if v5:
            retain_handling = (options >> 4) & 0x03
            if options & 0xC0 or retain_handling == 3:
                raise MalformedPacket("reserved subscription option bits set")
            request = SubscriptionRequest(
                topic_filter, qos, bool(options & 0x04), bool(options & 0x08), retain_handling
            )
        else:
            if options & 0xFC:
                raise MalformedPacket("reserved bits of the requested QoS byte set")
            request = SubscriptionRequest(topic_filter, qos)
        requests.append(request)
    if not requests:
        raise ProtocolError("SUBSCRIBE without topic filters")
    return Subscribe(packet_id, requests, props)


def _decode_connack(reader: _Reader, v5: bool) -> Connack:
    ack_flags = reader.u8()
    if ack_flags & 0xFE:
        raise MalformedPacket("CONNACK reserved flags set")
    code = reader.u8()
    props = _read_properties(reader, "CONNACK") if v5 else {}
    return Connack(bool(ack_flags & 0x01), code, props)


# ---- writing ------------------------------------------------------------------------


def varint(value: int) -> bytes:
    """A Variable Byte Integer (section 1.5.5)."""
    if not 0 <= value <= MAX_REMAINING_LENGTH:
        raise ValueError(f"{value} does not fit a variable byte integer")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _string(text: str) -> bytes:
    raw = text.encode("utf-8")
    return _binary(raw)


def _binary(raw: bytes) -> bytes:
    if len(raw) > 0xFFFF:
        raise ValueError("a string or binary field is longer than 65535 bytes")
    return _U16.pack(len(raw)) + raw


def encode_properties(props: P.Properties) -> bytes:
    """A property block: its length, then each property (user properties in order)."""
    if not props:
        return b"\x00"
    out = bytearray()
    for identifier, value in props.items():
        kind = P.SPEC[identifier][1]
        values = value if identifier in P.REPEATABLE else (value,)
        for item in values:  # type: ignore[union-attr]
            out += varint(identifier)
            out += _encode_value(kind, item)
    return varint(len(out)) + bytes(out)


def _encode_value(kind: P.Kind, value: object) -> bytes:
    if kind is P.Kind.BYTE:
        return bytes((int(value),))  # type: ignore[call-overload]
    if kind is P.Kind.U16:
        return _U16.pack(value)
    if kind is P.Kind.U32:
        return _U32.pack(value)
    if kind is P.Kind.VARINT:
        return varint(int(value))  # type: ignore[call-overload]
    if kind is P.Kind.UTF8:
        return _string(str(value))
    if kind is P.Kind.BINARY:
        return _binary(bytes(value))  # type: ignore[call-overload]
    name, text = value  # type: ignore[misc]
    return _string(name) + _string(text)


def _frame(first: int, body: bytes) -> bytes:
    return bytes((first,)) + varint(len(body)) + body


def encode(packet: Packet, version: int) -> bytes:
    """The bytes of ``packet`` for a connection speaking ``version`` (4 or 5)."""
    v5 = version == MQTT_5
    kind = packet.type
    if isinstance(packet, Publish):
        return encode_publish(packet, v5)
    if isinstance(packet, Ack):
        body = _U16.pack(packet.packet_id)
        if v5 and (packet.reason_code or packet.properties):
            body += bytes((packet.reason_code,))
            if packet.properties:
                body += encode_properties(packet.properties)
        return _frame((kind << 4) | (0b0010 if kind == PUBREL else 0), body)
    if isinstance(packet, Connack):
        code = packet.reason_code if v5 else reasons.connack_code_v3(packet.reason_code)
        body = bytes((int(packet.session_present), code))
        if v5:
            body += encode_properties(packet.properties)
        return _frame(CONNACK << 4, body)
    if isinstance(packet, Suback):
        body = _U16.pack(packet.packet_id)
        if v5:
            body += encode_properties(packet.properties)
        return _frame(SUBACK << 4, body + bytes(packet.reason_codes))
    if isinstance(packet, Unsuback):
        body = _U16.pack(packet.packet_id)
        if v5:
            body += encode_properties(packet.properties) + bytes(packet.reason_codes)
        return _frame(UNSUBACK << 4, body)
    if isinstance(packet, (PingReq, PingResp)):
        return bytes((kind << 4, 0))
    if isinstance(packet, (Disconnect, Auth)):
        if not v5:
            if isinstance(packet, Auth):
                raise ValueError("AUTH exists only in MQTT 5")
            return bytes((DISCONNECT << 4, 0))
        body = b""
        if packet.reason_code or packet.properties or isinstance(packet, Auth):
            body = bytes((packet.reason_code,)) + encode_properties(packet.properties)
        return _frame(kind << 4, body)
    if isinstance(packet, Subscribe):
        return _encode_subscribe(packet, v5)
    if isinstance(packet, Unsubscribe):
        body = _U16.pack(packet.packet_id)
        if v5:
            body += encode_properties(packet.properties)
        body += b"".join(_string(f) for f in packet.topic_filters)
        return _frame((UNSUBSCRIBE << 4) | 0b0010, body)
    if isinstance(packet, Connect):
        return _encode_connect(packet)
    raise TypeError(f"cannot encode {packet!r}")


def encode_publish(packet: Publish, v5: bool) -> bytes:
    """One PUBLISH (see publish_parts for the fan-out path)."""
    head, tail = publish_parts(
        packet.topic, packet.payload, packet.qos, packet.retain, packet.dup, packet.properties, v5
    )
    if packet.qos:
        if not packet.packet_id:
            raise ValueError("a QoS 1 or 2 PUBLISH needs a packet identifier")
        return head + _U16.pack(packet.packet_id) + tail
    return head + tail


def publish_parts(
    topic: str,
    payload: bytes,
    qos: int,
    retain: bool,
    dup: bool,
    props: P.Properties | None,
    v5: bool,
) -> tuple[bytes, bytes]:
    """A PUBLISH split around its packet identifier: ``head + pid + tail`` (or head + tail).

    The broker sends one message to many subscribers; only the identifier differs, so
    this is computed once per message and version.
    """
    topic_field = _string(topic)
    props_field = encode_properties(props or {}) if v5 else b""
    length = len(topic_field) + (2 if qos else 0) + len(props_field) + len(payload)
    first = (PUBLISH << 4) | (0x08 if dup else 0) | (qos << 1) | (0x01 if retain else 0)
    return bytes((first,)) + varint(length) + topic_field, props_field + payload


def packet_id_bytes(packet_id: int) -> bytes:
    """The two bytes of a packet identifier."""
    return _U16.pack(packet_id)


def _encode_subscribe(packet: Subscribe, v5: bool) -> bytes:
    body = bytearray(_U16.pack(packet.packet_id))
    if v5:
        body += encode_properties(packet.properties)
    for request in packet.requests:
        body += _string(request.topic_filter)
        options = request.qos
        if v5:
            options |= (
                (0x04 if request.no_local else 0)
                | (0x08 if request.retain_as_published else 0)
                | (request.retain_handling << 4)
            )
        body.append(options)
    return _frame((SUBSCRIBE << 4) | 0b0010, bytes(body))


def _encode_connect(packet: Connect) -> bytes:
    v5 = packet.version == MQTT_5
    flags = 0x02 if packet.clean_start else 0
    will = packet.will
    if will is not None:
        flags |= 0x04 | (will.qos << 3) | (0x20 if will.retain else 0)
    if packet.username is not None:
        flags |= 0x80
    if packet.password is not None:
        flags |= 0x40
    body = bytearray(_string("MQTT"))
    body += bytes((packet.version, flags)) + _U16.pack(packet.keep_alive)
    if v5:
        body += encode_properties(packet.properties)
    body += _string(packet.client_id)
    if will is not None:
        if v5:
            body += encode_properties(will.properties)
        body += _string(will.topic) + _binary(will.payload)
    if packet.username is not None:
        body += _string(packet.username)
    if packet.password is not None:
        body += _binary(packet.password)
    return _frame(CONNECT << 4, bytes(body))
