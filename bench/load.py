"""One load run: N clients in R rooms publish at a total rate; every receipt is timed.

Each message's text is JSON carrying the run id, a sequence number and the send time
(ns), so every receipt at every room member gives a latency and a (seq, receiver) key
for loss and duplicate counts. The CRT callback only appends; parsing happens on the
main thread between publishes.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from bench.cpu import difference, tree_cpu_seconds
from bench.nodelay import set_nodelay
from bench.progress import Progress
from bench.stats import percentile
from bench.targets import Target
from client.errors import ClientError
from client.session import ChatSession

CONNECT_PARALLELISM = 2


@dataclass(frozen=True)
class LoadSpec:
    """The offered load: who, where, how fast, for how long."""

    clients: int = 20
    rooms: int = 4
    rate: float = 50.0
    duration: float = 10.0
    drain: float = 10.0
    pad: int = 0  # extra characters in each message text


@dataclass
class RunData:
    """Raw outcome of one run, before summarising."""

    target: str
    run_id: str
    spec: LoadSpec
    rooms: list[str]
    member_of: list[int]
    sent_room: list[int] = field(default_factory=list)
    sent_ns: list[int] = field(default_factory=list)
    acked: list[bool | None] = field(default_factory=list)
    receipts: dict[tuple[int, int], int] = field(default_factory=dict)
    samples: list[tuple[float, float]] = field(default_factory=list)  # (send offset s, ms)
    start_ns: int = 0
    send_end_ns: int = 0
    last_receipt_ns: int = 0
    cpu_seconds: float | None = None
    cpu_parts: dict[str, float] = field(default_factory=dict)  # by role: main, moto, lambda
    client_cpu_seconds: float = 0.0  # this process: shows when the clients are the limit
    setup_seconds: float = 0.0


class LoadRun:
    """Drives one target with one LoadSpec; `run()` returns the RunData."""

    def __init__(self, target: Target, spec: LoadSpec, progress: Progress | None = None) -> None:
        self.target = target
        self.spec = spec
        self.progress = progress or Progress()
        run_id = uuid.uuid4().hex[:8]
        self.data = RunData(
            target=target.name,
            run_id=run_id,
            spec=spec,
            rooms=[f"bench{run_id}r{j}" for j in range(spec.rooms)],
            member_of=[i % spec.rooms for i in range(spec.clients)],
        )
        self._raw: list[tuple[int, bytes, int]] = []
        self._parsed = 0
        self._recent: deque[float] = deque(maxlen=2000)
        self.sessions: list[ChatSession] = []

    # -- receipts -------------------------------------------------------------------
    def _sink(self, index: int, topic: str, payload: bytes, received_ns: int) -> None:
        self._raw.append((index, payload, received_ns))

    def _absorb(self) -> None:
        """Parse receipts that arrived since the last call."""
        end = len(self._raw)
        data = self.data
        for index, payload, received_ns in self._raw[self._parsed : end]:
            seq_sent = self._decode(payload)
            if seq_sent is None:
                continue
            seq, sent_ns = seq_sent
            key = (seq, index)
            data.receipts[key] = data.receipts.get(key, 0) + 1
            latency = (received_ns - sent_ns) / 1e6
            data.samples.append(((sent_ns - data.start_ns) / 1e9, latency))
            self._recent.append(latency)
            data.last_receipt_ns = max(data.last_receipt_ns, received_ns)
        self._parsed = end

    def _decode(self, payload: bytes) -> tuple[int, int] | None:
        try:
            body = json.loads(payload)
            if body.get("type") != "message":
                return None
            inner = json.loads(body["text"])
            if inner.get("run") != self.data.run_id:
                return None
            return int(inner["seq"]), int(inner["t"])
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    def _on_ack(self, seq: int, future: Any) -> None:
        self.data.acked[seq] = future.exception() is None

    # -- phases -----------------------------------------------------------------------
    def _status(self, phase: str) -> str:
        d = self.data
        elapsed = (time.time_ns() - d.start_ns) / 1e9 if d.start_ns else 0.0
        recent = sorted(self._recent)
        p99 = percentile(recent, 99)
        p99_text = f"{p99:7.1f}ms" if p99 is not None else "      -  "
        acked = sum(1 for a in d.acked if a)
        return (
            f"{d.target:>9} {phase:<7} {elapsed:5.1f}s sent {len(d.sent_ns):>6} "
            f"acked {acked:>6} recv {len(d.receipts):>7}/{self.expected():<7} p99 {p99_text}"
        )

    def expected(self) -> int:
        counts = [self.data.member_of.count(r) for r in range(self.spec.rooms)]
        return sum(counts[r] for r in self.data.sent_room)

    def _open_one(self, index: int, attempts: int = 3) -> ChatSession:
        for attempt in range(1, attempts + 1):
            try:
                session = self.target.open(index, partial(self._sink, index))
                break
            except ClientError:
                # A cold authorizer worker on a loaded machine can miss the emulator's
                # 5 s authorizer timeout; that refusal is not what this run measures.
                if attempt == attempts:
                    raise
                time.sleep(attempt)
        room = self.data.rooms[self.data.member_of[index]]
        self.target.prepare(session, room, f"bench{index}")
        return session

    def _connect(self) -> None:
        """Connect and join every client (a few at a time: each needs a token and a join)."""
        began = time.monotonic()
        self.sessions.append(self._open_one(0))  # alone: it warms the Lambda workers
        with ThreadPoolExecutor(max_workers=CONNECT_PARALLELISM) as pool:
            futures = [pool.submit(self._open_one, i) for i in range(1, self.spec.clients)]
            for done, future in enumerate(futures, 2):
                self.sessions.append(future.result())
                self.progress.update(f"{self.target.name:>9} connect {done}/{self.spec.clients}")
        if self.target.port:
            set_nodelay(self.target.port)
        self._warm_up()
        self.data.setup_seconds = time.monotonic() - began

    def _warm_up(self, timeout: float = 15.0) -> None:
        """One unmeasured message per room, waited for: first-use costs (cold Lambda
        workers, first table writes) stay out of the steady-state figures."""
        senders = {room: self.data.member_of.index(room) for room in set(self.data.member_of)}
        for room, sender in senders.items():
            text = json.dumps({"run": self.data.run_id, "warm": room})
            self.target.publish(self.sessions[sender], self.data.rooms[room], "warm", text)
        deadline = time.monotonic() + timeout
        seen: set[int] = set()
        while len(seen) < len(senders) and time.monotonic() < deadline:
            for index, payload, _ in list(self._raw):
                if index in senders.values() and b'\\"warm\\"' in payload:
                    seen.add(index)
            time.sleep(0.05)
        time.sleep(0.3)  # let joins' presence traffic settle before the clock starts

    def _publish_all(self) -> None:
        spec, data = self.spec, self.data
        total = max(1, round(spec.rate * spec.duration))
        data.acked = [None] * total
        interval = 1.0 / spec.rate
        names = [f"bench{i}" for i in range(spec.clients)]
        pad = "x" * spec.pad
        start = time.perf_counter()
        data.start_ns = time.time_ns()
        give_up = start + spec.duration * 2 + 5  # never run far past the planned window
        for seq in range(total):
            due = start + seq * interval
            now = time.perf_counter()
            if now > give_up:
                break
            if due > now:
                time.sleep(due - now)
            sender = seq % spec.clients
            room = data.member_of[sender]
            sent_ns = time.time_ns()
            inner = {"run": data.run_id, "seq": seq, "t": sent_ns}
            if pad:
                inner["pad"] = pad
            future = self.target.publish(
                self.sessions[sender], data.rooms[room], names[sender], json.dumps(inner)
            )
            data.sent_room.append(room)
            data.sent_ns.append(sent_ns)
            future.add_done_callback(partial(self._on_ack, seq))
            if seq % 25 == 0:
                self._absorb()
                self.progress.update(self._status("load"))
        data.send_end_ns = time.time_ns()

    def _drain(self) -> None:
        deadline = time.monotonic() + self.spec.drain
        complete_at: float | None = None
        while time.monotonic() < deadline:
            self._absorb()
            pending = any(a is None for a in self.data.acked[: len(self.data.sent_ns)])
            if len(self.data.receipts) >= self.expected() and not pending:
                complete_at = complete_at or time.monotonic()
                if time.monotonic() - complete_at > 0.5:  # a short grace for late duplicates
                    break
            self.progress.update(self._status("drain"))
            time.sleep(0.05)
        self._absorb()

    def _close(self) -> None:
        futures = []
        for session in self.sessions:
            with contextlib.suppress(Exception):
                futures.append(session.conn.disconnect())
            session.connected = False
        for future in futures:
            with contextlib.suppress(Exception):
                future.result(5)

    def run(self) -> RunData:
        try:
            self._connect()
            cpu_before = tree_cpu_seconds(self.target.pid)
            own_before = time.process_time()
            self._publish_all()
            self._drain()
            cpu_after = tree_cpu_seconds(self.target.pid)
            self.data.client_cpu_seconds = time.process_time() - own_before
            self.data.cpu_parts = difference(cpu_before, cpu_after)
            if self.data.cpu_parts:
                self.data.cpu_seconds = sum(self.data.cpu_parts.values())
            self.progress.done(self._status("done"))
        finally:
            self._close()
        return self.data
