"""Send moto's busiest requests straight to their service's application.

moto's DomainDispatcherApplication works out the service of every request anew: it
lists and stats every directory of the moto package and matches URL patterns, under
one lock shared by all requests. Profiled under the chat's load, that was a quarter
of moto's CPU for each DynamoDB write. A JSON-protocol call names its service in its
``X-Amz-Target`` header; for the prefixes below the application is the one moto's
dispatcher would choose (moto's own ``create_backend_app(service)``), made once. Every
other request goes through moto's dispatcher as before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import create_backend_app

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# X-Amz-Target prefix -> moto's service name (the emulator's hot paths).
TARGET_SERVICES = {"DynamoDB_20120810": "dynamodb", "Kinesis_20131202": "kinesis"}


class DirectDispatch:
    """WSGI: known X-Amz-Target prefixes to their service's app, the rest to ``fallback``."""

    def __init__(
        self, fallback: WsgiApp, create_app: Callable[[Any], WsgiApp] = create_backend_app
    ) -> None:
        self.fallback = fallback
        self._create_app = create_app
        self._apps: dict[str, WsgiApp] = {}
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        prefix = environ.get("HTTP_X_AMZ_TARGET", "").partition(".")[0]
        service = TARGET_SERVICES.get(prefix)
        if service is None:
            return self.fallback(environ, start_response)
        return self._app(service)(environ, start_response)

    def _app(self, service: str) -> WsgiApp:
        app = self._apps.get(service)
        if app is None:
            with self._lock:
                app = self._apps.get(service)
                if app is None:
                    app = self._apps[service] = self._create_app(service)
        return app
