"""What a site tells its clients: config.json and a guest token from the token URL.

Both are plain HTTPS/HTTP calls, the same two the browser makes before it connects.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from client.errors import ClientError, RateLimited

DEFAULT_SITE = "http://127.0.0.1:8080"


@dataclass(frozen=True)
class SiteConfig:
    """The fields of `<site>/config.json`, with relative URLs made absolute."""

    site: str
    mqtt_url: str
    authorizer: str
    token_url: str
    topic_root: str


@dataclass(frozen=True)
class GuestToken:
    """A token answer: the JWT and the client-id prefix the policy allows."""

    token: str
    client_id_prefix: str
    expires_at: Any = None


def _http_json(url: str, body: dict | None = None, timeout: float = 10.0) -> Any:
    """GET (or POST `body` as JSON) and decode the JSON answer, with readable errors."""
    if not url.startswith(("http://", "https://")):
        raise ClientError(f"not an http(s) URL: {url}")
    data = None if body is None else json.dumps(body).encode()
    headers = {"content-type": "application/json"} if body is not None else {}
    req = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310 (scheme checked)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310
            return json.load(resp)
    except urllib.error.HTTPError as exc:
        detail = exc.read(300).decode(errors="replace").strip()
        message = f"{url} answered HTTP {exc.code}: {detail or exc.reason}"
        if exc.code == 429:  # rate limited (Retry-After) or the function's concurrency
            retry_after = exc.headers.get("Retry-After", "")
            wait = float(retry_after) if retry_after.isdigit() else 1.0
            raise RateLimited(message, wait) from None
        raise ClientError(message) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ClientError(f"cannot reach {url}: {reason}") from None
    except ValueError:
        raise ClientError(f"{url} did not answer JSON") from None


def _ws_default(site: str) -> str:
    """The /mqtt URL on the site's own host, for a config.json that leaves it relative."""
    parts = urllib.parse.urlsplit(site)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urllib.parse.urlunsplit((scheme, parts.netloc, "/mqtt", "", ""))


def load_config(site: str = DEFAULT_SITE) -> SiteConfig:
    """Read `<site>/config.json`."""
    site = site.rstrip("/")
    raw = _http_json(f"{site}/config.json")
    if not isinstance(raw, dict):
        raise ClientError(f"{site}/config.json is not a JSON object")
    missing = [k for k in ("mqttUrl", "authorizer", "tokenUrl") if not raw.get(k)]
    if missing:
        raise ClientError(f"{site}/config.json lacks {', '.join(missing)}")
    mqtt_url = str(raw["mqttUrl"])
    if "://" not in mqtt_url:
        mqtt_url = urllib.parse.urljoin(_ws_default(site), mqtt_url)
    return SiteConfig(
        site=site,
        mqtt_url=mqtt_url,
        authorizer=str(raw["authorizer"]),
        token_url=urllib.parse.urljoin(site + "/", str(raw["tokenUrl"])),
        topic_root=str(raw.get("topicRoot") or "chat"),
    )


def fetch_token(
    config: SiteConfig, name: str, timeout: float = 10.0, previous: str | None = None
) -> GuestToken:
    """POST the name to the token URL, as the browser does, and return the guest token.
    With ``previous`` (a guest token still valid), the token is for the same principal
    while its guest session lasts (docs/people.md)."""
    body = {"name": name} if previous is None else {"name": name, "token": previous}
    raw = _http_json(config.token_url, body, timeout=timeout)
    if not isinstance(raw, dict) or not raw.get("token"):
        raise ClientError(f"{config.token_url} gave no token: {raw!r}"[:300])
    return GuestToken(
        token=str(raw["token"]),
        client_id_prefix=str(raw.get("clientIdPrefix") or ""),
        expires_at=raw.get("expiresAt"),
    )
