"""The one exception the command line turns into a one-line message and exit status 1."""

from __future__ import annotations


class ClientError(Exception):
    """A failure the user can act on; `str()` is the whole message, no traceback shown."""


class ConnectRefused(ClientError):
    """The MQTT endpoint refused the token (expired, or signed with another key)."""


class RateLimited(ClientError):
    """The token URL answered 429; ``retry_after`` is how long it asks us to wait (s)."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after
