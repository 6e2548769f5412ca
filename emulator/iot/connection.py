"""State of one MQTT connection: transport, authorizer result, policy cache, close reason."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from emulator.iot import lifecycle
from emulator.iot.auth import AuthResult
from emulator.iot.framing import FrameGuard
from emulator.iot.policy import IotArns, connection_variables
from emulator.iot.transport import TcpWriter, TransportInfo, WsReader, WsWriter

if TYPE_CHECKING:
    from amqtt.mqtt.protocol.broker_handler import BrokerProtocolHandler

_CACHE_SIZE = 1024


@dataclass(eq=False)
class Connection:
    """One client connection from accept to close."""

    transport: TransportInfo
    guard: FrameGuard
    writer: TcpWriter | WsWriter
    arns: IotArns
    ws_reader: WsReader | None = None
    session_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    client_id: str = ""
    auth: AuthResult | None = None
    version: int = -1
    accepted: bool = False
    handler: BrokerProtocolHandler | None = None
    reason: str | None = None
    subscriptions: set[str] = field(default_factory=set)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    timers: list[asyncio.TimerHandle | asyncio.Task[None]] = field(default_factory=list)
    _variables: dict[str, str] = field(default_factory=dict)
    _cache: dict[tuple[str, str], bool] = field(default_factory=dict)

    @property
    def principal(self) -> str:
        """The authorizer's principalId ('' before authentication)."""
        return self.auth.principal_id if self.auth else ""

    def authorize(self, result: AuthResult) -> None:
        """Adopt (or refresh) the authorizer's answer; forgets cached decisions."""
        self.auth = result
        self._variables = connection_variables(self.client_id)
        self._cache.clear()

    def allowed(self, action: str, resource: str) -> bool:
        """Policy decision for this connection, cached (delivery checks run per message)."""
        if self.auth is None:
            return False
        key = (action, resource)
        decision = self._cache.get(key)
        if decision is None:
            decision = self.auth.policies.is_allowed(action, resource, self._variables)
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            self._cache[key] = decision
        return decision

    async def close(self, reason: str) -> None:
        """Close the connection, remembering the first reason given (for lifecycle events)."""
        if self.reason is None:
            self.reason = reason
        handler = self.handler
        if handler is not None and handler._disconnect_waiter is not None:
            await handler.handle_connection_closed()
        else:
            await self.writer.close()

    def final_reason(self) -> str:
        """disconnectReason of the lifecycle event."""
        if self.reason is not None:
            return self.reason
        if self.guard.error is not None:
            return self.guard.error.reason
        if self.guard.stats.saw_disconnect or (self.ws_reader and self.ws_reader.client_closed):
            return lifecycle.CLIENT_INITIATED_DISCONNECT
        return lifecycle.CONNECTION_LOST

    def cancel_timers(self) -> None:
        """Stop the disconnectAfter and refresh timers."""
        for timer in self.timers:
            timer.cancel()
        self.timers.clear()
