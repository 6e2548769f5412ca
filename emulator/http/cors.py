"""A function URL's CORS configuration (``AWS::Lambda::Url`` ``Cors``), applied in front
of the function, as Lambda applies it.

AWS Lambda Developer Guide, "Creating and managing Lambda function URLs", section
"Cross-origin resource sharing (CORS)"
(https://docs.aws.amazon.com/lambda/latest/dg/urls-configuration.html#urls-cors): each
property maps to one CORS header, Lambda adds the configured headers to every response
through the URL, and where the function's own headers conflict the configured ones win.
Lambda API Reference, "Cors" (https://docs.aws.amazon.com/lambda/latest/dg/API_Cors.html):
the fields, ``*`` for any origin or method, ``MaxAge`` 0 (no caching) by default.

Not in AWS's documentation, chosen here as function URLs are seen to behave: a
preflight (OPTIONS with ``Origin`` and ``Access-Control-Request-Method``) is answered
from the configuration without invoking the function, 204 with no body; an origin the
configuration does not allow gets no CORS headers at all, which a browser reads as a
refusal; an OPTIONS request that is not a preflight goes to the function.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PREFLIGHT_STATUS = 204


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list | tuple) else ()


@dataclass(frozen=True)
class CorsConfig:
    """The six ``Cors`` properties of a function URL."""

    allow_origins: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    allow_credentials: bool = False
    max_age: int = 0

    @classmethod
    def from_properties(cls, cors: Mapping[str, Any] | None) -> CorsConfig | None:
        """From the resolved ``Cors`` property; None when the URL has no CORS."""
        if not cors:
            return None
        credentials = cors.get("AllowCredentials", False)
        return cls(
            allow_origins=_strings(cors.get("AllowOrigins")),
            allow_methods=_strings(cors.get("AllowMethods")),
            allow_headers=_strings(cors.get("AllowHeaders")),
            expose_headers=_strings(cors.get("ExposeHeaders")),
            allow_credentials=credentials is True or str(credentials).lower() == "true",
            max_age=int(cors.get("MaxAge", 0)),
        )

    def allowed_origin(self, origin: str | None) -> str | None:
        """The Access-Control-Allow-Origin value for this request's Origin, if allowed."""
        if not origin:
            return None
        if "*" in self.allow_origins:
            return "*"
        lowered = origin.lower()
        return origin if any(o.lower() == lowered for o in self.allow_origins) else None

    def _origin_headers(self, origin: str | None) -> dict[str, str]:
        allowed = self.allowed_origin(origin)
        if allowed is None:
            return {}
        headers = {"Access-Control-Allow-Origin": allowed}
        if self.allow_credentials:
            headers["Access-Control-Allow-Credentials"] = "true"
        return headers

    def preflight_headers(self, origin: str | None) -> dict[str, str]:
        """The answer to a preflight from ``origin`` (empty: not allowed)."""
        headers = self._origin_headers(origin)
        if not headers:
            return {}
        if self.allow_methods:
            headers["Access-Control-Allow-Methods"] = ", ".join(self.allow_methods)
        if self.allow_headers:
            headers["Access-Control-Allow-Headers"] = ", ".join(self.allow_headers)
        headers["Access-Control-Max-Age"] = str(self.max_age)
        return headers

    def response_headers(self, origin: str | None) -> dict[str, str]:
        """What Lambda adds to the function's response for ``origin`` (it wins)."""
        headers = self._origin_headers(origin)
        if headers and self.expose_headers:
            headers["Access-Control-Expose-Headers"] = ", ".join(self.expose_headers)
        return headers


def is_preflight(method: str, headers: Mapping[str, str]) -> bool:
    """A CORS preflight: OPTIONS carrying Origin and Access-Control-Request-Method."""
    return (
        method == "OPTIONS"
        and bool(headers.get("Origin"))
        and bool(headers.get("Access-Control-Request-Method"))
    )
