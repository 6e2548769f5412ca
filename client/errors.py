"""The one exception the command line turns into a one-line message and exit status 1."""

from __future__ import annotations


class ClientError(Exception):
    """A failure the user can act on; `str()` is the whole message, no traceback shown."""
