"""The web client: real files as they are, other paths answered with index.html.

As the deployed site's CloudFront viewer-request function does (stack/site.py,
SITE_REWRITE_CODE): a path whose last segment has no dot is a room and gets the single
page, which itself says when the room name is not a valid one. So the emulator needs no
copy of the room pattern.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from aiohttp import web

from emulator.http.security import harden, safe_host


class StaticSite:
    """Serves `root`; never anything outside it, never directory listings."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def resolve(self, path: str) -> Path | None:
        """The file a URL path maps to, or None (404)."""
        relative = path.lstrip("/")
        if "." not in relative.rsplit("/", 1)[-1]:
            relative = "index.html"
        if "\\" in relative or "\x00" in relative:
            return None
        candidate = (self.root / relative).resolve()
        if not candidate.is_relative_to(self.root) or not candidate.is_file():
            return None
        if any(part.startswith(".") for part in candidate.relative_to(self.root).parts):
            return None
        return candidate

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """GET/HEAD handler for every path not claimed by another route."""
        host = safe_host(request)
        file = self.resolve(request.path)
        if file is None:
            return harden(web.Response(status=404, text="Not Found"), host)
        content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        response = web.Response(body=file.read_bytes(), content_type=content_type)
        response.headers["Cache-Control"] = "no-cache"
        return harden(response, host)
