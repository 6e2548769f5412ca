"""Application factory: every dependency is injected, nothing is read from the template here."""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from aiohttp import WSCloseCode, web

from emulator.http import data_plane
from emulator.http.function_url import FunctionUrlRoute
from emulator.http.security import harden, safe_host
from emulator.http.static import StaticSite
from emulator.iot.context import PublishMetadata
from emulator.iot.limits import Limits

_WS_MAX_MESSAGE = 2 * 1024 * 1024
_WEBSOCKETS: web.AppKey[weakref.WeakSet[web.WebSocketResponse]] = web.AppKey(
    "websockets", weakref.WeakSet
)


class MqttGateway(Protocol):
    """What the HTTP layer needs from the broker (emulator.iot.IotBroker satisfies it)."""

    async def handle_websocket(self, ws: web.WebSocketResponse, request: web.Request) -> None: ...

    async def publish(
        self,
        topic: str,
        payload: bytes,
        qos: int = 0,
        *,
        retain: bool = False,
        context: PublishMetadata | None = None,
    ) -> None: ...

    def disconnect_client(
        self, client_id: str, *, clean_session: bool = False, prevent_will: bool = False
    ) -> bool: ...


def create_app(
    *,
    broker: MqttGateway,
    web_root: Path | None,
    function_urls: Sequence[FunctionUrlRoute] = (),
    site_config: Mapping[str, Any] | None = None,
    require_data_plane_auth: bool = True,
    limits: Limits | None = None,
) -> web.Application:
    """Build the aiohttp app; it serves any port, since URLs come from the request's Host.

    ``site_config`` is served as /config.json with ``mqttUrl`` added; a value that is a
    path on this server (starts with ``/``) becomes an absolute URL on the request's host,
    as a deployed config.json holds absolute URLs.
    """
    app = web.Application(client_max_size=(limits or Limits()).max_payload_bytes + 1024)
    app[_WEBSOCKETS] = weakref.WeakSet()

    async def config_json(request: web.Request) -> web.Response:
        host = safe_host(request)
        body: dict[str, Any] = {"mqttUrl": f"ws://{host}/mqtt"}
        for key, value in (site_config or {}).items():
            local = isinstance(value, str) and value.startswith("/")
            body[key] = f"http://{host}{value}" if local else value
        response = web.json_response(body)
        response.headers["Cache-Control"] = "no-store"
        return harden(response, host)

    async def topics(request: web.Request) -> web.Response:
        return await data_plane.publish_handler(
            request, broker.publish, require_auth=require_data_plane_auth, limits=limits
        )

    async def connections(request: web.Request) -> web.Response:
        return await data_plane.delete_connection_handler(
            request, broker.disconnect_client, require_auth=require_data_plane_auth
        )

    async def mqtt(request: web.Request) -> web.StreamResponse:
        offered = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",")]
        if "mqtt" not in offered:
            return web.Response(status=400, text="WebSocket subprotocol 'mqtt' required")
        ws = web.WebSocketResponse(
            protocols=("mqtt",), max_msg_size=_WS_MAX_MESSAGE, autoping=True, timeout=2.0
        )
        if not ws.can_prepare(request).ok:
            return web.Response(status=426, text="WebSocket upgrade required")
        await ws.prepare(request)
        request.app[_WEBSOCKETS].add(ws)
        try:
            await broker.handle_websocket(ws, request)
        finally:
            if not ws.closed:
                await ws.close()
        return ws

    async def close_websockets(app: web.Application) -> None:
        for ws in list(app[_WEBSOCKETS]):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")

    app.on_shutdown.append(close_websockets)
    app.router.add_get("/config.json", config_json)
    app.router.add_post("/topics/{topic:.*}", topics)
    app.router.add_delete("/connections/{client_id:.*}", connections)
    app.router.add_get("/mqtt", mqtt)
    # Longest mount first; a URL mounted at "/" gets what nothing before it serves
    # (with a site, every method but GET and HEAD).
    at_root = None
    for route in sorted(function_urls, key=lambda r: len(r.path), reverse=True):
        if route.path == "/":
            at_root = route
        else:
            app.router.add_route("*", route.path + "{path:.*}", route.handle)
    if web_root is not None:
        app.router.add_get("/{path:.*}", StaticSite(web_root).handle)
    if at_root is not None:
        app.router.add_route("*", "/{path:.*}", at_root.handle)
    return app
