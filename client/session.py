"""A chat session over one MQTT connection: the topics, the JSON commands, an inbox queue.

Everything the broker delivers lands in `inbox` as an Incoming, in arrival order, so the
commands (chat, send, listen) and the benchmark all read one queue from one thread.
"""

from __future__ import annotations

import itertools
import json
import queue
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from awscrt import mqtt

from client import connection
from client.connection import ConnectSpec
from client.errors import ClientError, ConnectRefused, RateLimited
from client.limits import SEQ_MAX, check_name, check_room, check_text, topic
from client.site import SiteConfig, fetch_token, load_config

RECONNECT_ATTEMPTS = 6  # 1 + 2 + 4 + 8 + 10 + 10 s of waiting before giving up
RENEW_AT = 0.8  # of a token's remaining life, as the web client renews
RENEW_MARGIN_S = 60  # a token with less left is replaced before reconnecting


@dataclass(frozen=True)
class Incoming:
    """One delivered message; `payload` is None when it was not a JSON object."""

    topic: str
    payload: dict[str, Any] | None
    received_ns: int


def make_client_id(prefix: str) -> str:
    """A fresh client id under the prefix the policy allows (`<principal>-*`)."""
    if not prefix:
        return f"device-{uuid.uuid4().hex[:12]}"
    sep = "" if prefix.endswith("-") else "-"
    return f"{prefix}{sep}{uuid.uuid4().hex[:12]}"


def _decode(payload: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(payload)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


@dataclass(frozen=True)
class Credentials:
    """Where and as whom to connect, and until when the token is good (epoch seconds)."""

    spec: ConnectSpec
    expires_at: float | None = None


@dataclass(frozen=True)
class Recovery:
    """How a session gets back after losing its connection.

    ``renew`` fetches a new token (None: the token was given and cannot be renewed).
    ``attempts`` bounds the reconnects in a row before the session gives up; the waits
    between them double from ``first_wait`` up to ``max_wait`` seconds.
    """

    renew: Callable[[], Credentials] | None
    attempts: int = RECONNECT_ATTEMPTS
    first_wait: float = 1.0
    max_wait: float = 10.0

    def waits(self) -> list[float]:
        return [min(self.max_wait, self.first_wait * 2**n) for n in range(self.attempts)]


def renewal_delay(expires_at: float | None, now: float, fraction: float = RENEW_AT) -> float | None:
    """Seconds until a token should be replaced: at ``fraction`` of the time it has left
    (so a token is never used in its last minutes); None without an expiry."""
    if expires_at is None:
        return None
    return max(0.0, (expires_at - now) * fraction)


class ChatSession:
    """One connected client: join rooms, send commands, read `inbox`.

    With a ``recovery``, the session survives losing its connection: it connects again
    (with a new token when its own is refused or about to expire), subscribes again
    (clean sessions forget subscriptions) and joins its rooms again, which brings each
    room's backlog. Deliveries say so on the inbox: ``$client/interrupted``,
    ``$client/resumed`` and, after ``recovery.attempts`` failures in a row,
    ``$client/failed`` (``failure`` then holds the one-line reason).
    """

    def __init__(
        self,
        spec: ConnectSpec,
        topic_root: str = "chat",
        sink: Callable[[str, bytes, int], None] | None = None,
        *,
        recovery: Recovery | None = None,
        expires_at: float | None = None,
    ) -> None:
        """`sink`, if given, gets every delivery raw (topic, payload, receipt ns) instead of
        `inbox`: the benchmark keeps the CRT callback down to one append."""
        self.spec = spec
        self.root = topic_root
        self.sink = sink
        self.recovery = recovery
        self.expires_at = expires_at
        self.inbox: queue.Queue[Incoming] = queue.Queue()
        self._seq = itertools.count()  # orders our messages within one millisecond
        self._topics: dict[str, int] = {}  # subscribed filters besides our own inbox
        self._rooms: dict[str, str] = {}  # joined room -> the name we joined with
        self._with_inbox = False
        self._closing = False
        self._recovering = threading.Lock()
        self._renewal: threading.Timer | None = None
        self.failure: str | None = None
        self.conn = self._build(spec)
        self.connected = False

    def _build(self, spec: ConnectSpec) -> mqtt.Connection:
        return connection.build(
            spec,
            on_connection_interrupted=self._on_interrupted,
            on_connection_resumed=self._on_resumed,
        )

    @property
    def client_id(self) -> str:
        return self.spec.client_id

    @property
    def out_topic(self) -> str:
        return topic("out", self.root)

    @property
    def stream_topic(self) -> str:
        return topic("stream", self.root)

    @property
    def inbox_topic(self) -> str:
        return topic("inbox", self.root, clientId=self.client_id)

    def room_topic(self, room: str) -> str:
        return topic("room", self.root, room=room)

    @property
    def principal(self) -> str:
        """Who this session is: its client id's prefix (the token's principal)."""
        return self.client_id.rsplit("-", 1)[0]

    @property
    def user_topic(self) -> str:
        return topic("user", self.root, principal=self.principal)

    def private_topic(self, room: str) -> str:
        return topic("private", self.root, room=room)

    def _on_message(self, topic: str, payload: bytes, **_: Any) -> None:
        if self.sink is not None:
            self.sink(topic, payload, time.time_ns())
            return
        self.inbox.put(Incoming(topic, _decode(payload), time.time_ns()))

    def _note(self, what: str, body: dict[str, Any]) -> None:
        self.inbox.put(Incoming(f"$client/{what}", body, time.time_ns()))

    def _on_interrupted(self, connection: Any, error: Exception, **_: Any) -> None:
        if connection is not self.conn or self._closing:
            return  # a connection the session already replaced
        self.connected = False
        self._note("interrupted", {"error": str(error)})
        if self.recovery is not None:
            self._recover_soon(refresh=False)

    def _on_resumed(self, connection: Any, return_code: Any, session_present: bool, **_: Any):
        if connection is self.conn and self.recovery is None:
            self._note("resumed", {"code": int(return_code)})

    def open(self, timeout: float = 10.0, inbox: bool = True) -> ChatSession:
        """Connect, then subscribe to this client's reply topic (unless `inbox=False`)."""
        connection.connect(self.conn, self.spec, timeout)
        self.connected = True
        self._with_inbox = inbox
        if inbox:
            self._subscribe(self.inbox_topic, 1, timeout)
        self._schedule_renewal()
        return self

    def _subscribe(self, topic: str, qos: int, timeout: float) -> None:
        future, _ = self.conn.subscribe(topic, mqtt.QoS(qos), callback=self._on_message)
        try:
            result = future.result(timeout)
        except Exception as exc:
            raise ClientError(f"subscribe to {topic} failed: {exc}") from None
        if result.get("qos") is None:
            raise ClientError(f"subscribe to {topic} refused by the broker's policy")

    def wait_for(self, match: Callable[[Incoming], bool], timeout: float, missing: str) -> Incoming:
        """The first delivery ``match`` accepts, read off the inbox.

        ClientError when the chat answers with an error on the inbox topic, when the
        connection drops meanwhile (a refused publish closes it), or, saying ``missing``,
        when nothing matched within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                item = self.inbox.get(timeout=left)
            except queue.Empty:
                break
            body = item.payload if isinstance(item.payload, dict) else {}
            if item.topic == "$client/interrupted":
                raise ClientError(f"connection lost while waiting ({missing}; publish refused?)")
            if item.topic == self.inbox_topic and body.get("type") == "error":
                raise ClientError(f"the chat refused it: {body.get('code')}: {body.get('message')}")
            if match(item):
                return item
        raise ClientError(f"{missing} within {timeout:g}s")

    def subscribe(self, topic: str, qos: int = 1, timeout: float = 10.0) -> None:
        """Subscribe and wait for the SUBACK; a refused filter (0x80) is an error."""
        self._subscribe(topic, qos, timeout)
        self._topics[topic] = qos

    def publish(self, topic: str, body: dict[str, Any] | bytes, qos: int = 1) -> Future:
        """Publish JSON (or raw bytes); the future completes on PUBACK for QoS 1."""
        if self.recovery is not None and not self.connected:
            raise ClientError("not connected (reconnecting); try again in a moment")
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        future, _ = self.conn.publish(topic, payload, mqtt.QoS(qos))
        return future

    def _announce(self, room: str, name: str) -> Future:
        return self.publish(self.out_topic, {"type": "join", "room": room, "name": name})

    def join(self, room: str, name: str, timeout: float = 10.0) -> None:
        """Subscribe to the room's traffic, then announce ourselves (the backlog follows)."""
        check_room(room)
        check_name(name)
        self.subscribe(self.room_topic(room), timeout=timeout)
        self._announce(room, name).result(timeout)
        self._rooms[room] = name

    def send(self, room: str, name: str, text: str, stream: bool = False) -> Future:
        """Post a chat message on chat/out (or chat/stream), numbered by ``seq`` so the
        room keeps our messages in the order we sent them, even within one millisecond."""
        body = {
            "type": "message",
            "room": check_room(room),
            "name": check_name(name),
            "text": check_text(text),
            "seq": next(self._seq) % (SEQ_MAX + 1),
        }
        return self.publish(self.stream_topic if stream else self.out_topic, body)

    def history(self, room: str, before: str | None = None) -> Future:
        """Ask for one page of older messages; the answer arrives on the inbox topic."""
        body: dict[str, Any] = {"type": "history", "room": check_room(room)}
        if before:
            body["before"] = before
        return self.publish(self.out_topic, body)

    def leave(self, room: str) -> Future:
        self._rooms.pop(room, None)
        return self.publish(self.out_topic, {"type": "leave", "room": room})

    def close(self) -> None:
        self._closing = True
        if self._renewal is not None:
            self._renewal.cancel()
        if self.connected:
            self.connected = False
            connection.disconnect(self.conn)

    # -- recovery ---------------------------------------------------------------------

    def _schedule_renewal(self) -> None:
        """Replace the token before it runs out (the authorizer disconnects at expiry)."""
        if self.recovery is None or self.recovery.renew is None:
            return
        delay = renewal_delay(self.expires_at, time.time())
        if delay is None:
            return
        if self._renewal is not None:
            self._renewal.cancel()
        self._renewal = threading.Timer(delay, self._recover_soon, kwargs={"refresh": True})
        self._renewal.daemon = True
        self._renewal.start()

    def _recover_soon(self, refresh: bool) -> None:
        """Recover on a thread of our own (never on the CRT's callback thread)."""
        threading.Thread(target=self._recover, args=(refresh,), daemon=True).start()

    def _recover(self, refresh: bool) -> None:
        assert self.recovery is not None
        if not self._recovering.acquire(blocking=False):
            return  # already under way
        try:
            self.connected = False
            connection.disconnect(self.conn, timeout=2)  # ends the CRT's own retries too
            reason = "the connection was lost"
            for wait in self.recovery.waits():
                if self._closing:
                    return
                try:
                    self._reconnect(refresh or self._expiring())
                    return
                except ConnectRefused as exc:
                    reason, refresh = str(exc), True
                    if self.recovery.renew is None:
                        reason += " (a token given with --token cannot be renewed)"
                        break
                except RateLimited as exc:
                    reason, wait = str(exc), max(wait, exc.retry_after)
                except ClientError as exc:
                    reason = str(exc)
                time.sleep(wait)
            self.failure = f"gave up reconnecting after {self.recovery.attempts} tries: {reason}"
            self._note("failed", {"error": self.failure})
        finally:
            self._recovering.release()

    def _expiring(self) -> bool:
        return self.expires_at is not None and self.expires_at - time.time() < RENEW_MARGIN_S

    def _reconnect(self, refresh: bool) -> None:
        """One attempt: a new token if asked, connect, subscribe and join again."""
        assert self.recovery is not None
        if refresh and self.recovery.renew is not None:
            credentials = self.recovery.renew()
            self.spec, self.expires_at = credentials.spec, credentials.expires_at
        conn = self._build(self.spec)
        try:
            connection.connect(conn, self.spec)
        except ClientError:
            connection.disconnect(conn, timeout=2)
            raise
        self.conn = conn
        try:
            if self._with_inbox:
                self._subscribe(self.inbox_topic, 1, 10.0)
            for filter_, qos in self._topics.items():
                self._subscribe(filter_, qos, 10.0)
            self.connected = True
            for room, name in self._rooms.items():
                self._announce(room, name).result(10.0)
        except Exception as exc:
            self.connected = False
            connection.disconnect(conn, timeout=2)
            raise ClientError(f"reconnected but could not rejoin: {exc}") from None
        self._note("resumed", {"clientId": self.client_id, "rooms": sorted(self._rooms)})
        self._schedule_renewal()


def _kept_token(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    token = kept.get("token") if isinstance(kept, dict) else None
    return token if isinstance(token, str) and token else None


def _keep_token(path: Path, token: str) -> None:
    """Write the token readable by its owner only (it is a credential)."""
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(json.dumps({"token": token}), encoding="utf-8")


def open_site_session(
    site: str,
    name: str,
    transport: str = "auto",
    tcp_port: int | None = None,
    timeout: float = 10.0,
    *,
    recover: bool = False,
    reconnect_attempts: int = RECONNECT_ATTEMPTS,
    token_file: Path | None = None,
) -> tuple[ChatSession, SiteConfig]:
    """Read config.json, get a guest token for `name`, connect; the usual way in. With
    `recover`, the session reconnects by itself with fresh tokens (see ChatSession).
    With `token_file`, the guest token is kept there and presented for the next one, so
    runs of the client are one principal (as a page's reloads are)."""
    check_name(name)
    config = load_config(site)

    def credentials() -> Credentials:
        token = fetch_token(config, name, previous=_kept_token(token_file))
        if token_file is not None:
            _keep_token(token_file, token.token)
        spec = connection.spec_from_url(
            config.mqtt_url,
            make_client_id(token.client_id_prefix),
            config.authorizer,
            token.token,
            transport=transport,
            tcp_port=tcp_port,
        )
        expires = token.expires_at if isinstance(token.expires_at, int | float) else None
        return Credentials(spec, expires)

    first = credentials()
    recovery = Recovery(credentials, reconnect_attempts) if recover else None
    session = ChatSession(
        first.spec, config.topic_root, recovery=recovery, expires_at=first.expires_at
    )
    return session.open(timeout), config
