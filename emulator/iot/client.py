"""What IoT Core knows about one connected client: its authorizer answer and policy cache."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from emulator.iot.auth import AuthResult, CustomAuthorizer
from emulator.iot.limits import RateLimiter
from emulator.iot.policy import IotArns, connection_variables

_CACHE_SIZE = 1024


@dataclass(eq=False)
class IotClient:
    """Per-connection IoT state, kept by the broker core as the connection's ``state``.

    ``event`` is the authorizer request, reused with ``authorizer`` for policy refreshes;
    ``version`` the lifecycle versionNumber of this connection; ``close_tag`` set when IoT
    Core itself closes the connection (the AWS disconnectReason to report).
    """

    client_id: str
    source_ip: str
    auth: AuthResult
    arns: IotArns
    event: dict[str, Any]
    inbound: RateLimiter
    outbound: RateLimiter
    authorizer: CustomAuthorizer
    version: int = -1
    timers: list[asyncio.TimerHandle | asyncio.Task[None]] = field(default_factory=list)
    _variables: dict[str, str] = field(default_factory=dict)
    _cache: dict[tuple[str, str], bool] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._variables = connection_variables(self.client_id)

    @property
    def principal(self) -> str:
        """The authorizer's principalId."""
        return self.auth.principal_id

    def refresh(self, result: AuthResult) -> None:
        """Adopt a refreshed answer's policies (the disconnect deadline stays as it was)."""
        self.auth = AuthResult(
            result.principal_id,
            result.policies,
            self.auth.disconnect_after_s,
            result.refresh_after_s,
        )
        self._cache.clear()

    def allowed(self, action: str, resource: str) -> bool:
        """Policy decision, cached (Receive is checked for every delivery)."""
        key = (action, resource)
        decision = self._cache.get(key)
        if decision is None:
            decision = self.auth.policies.is_allowed(action, resource, self._variables)
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            self._cache[key] = decision
        return decision

    def may_publish(self, topic: str, retain: bool) -> bool:
        """iot:Publish, plus iot:RetainPublish for a retained message."""
        resource = self.arns.topic(topic)
        if not self.allowed("iot:Publish", resource):
            return False
        return not retain or self.allowed("iot:RetainPublish", resource)

    def cancel_timers(self) -> None:
        """Stop the authorizer and WebSocket timers."""
        for timer in self.timers:
            timer.cancel()
        self.timers.clear()
