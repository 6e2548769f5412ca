"""The one exception the CLI turns into a one-line message and a non-zero exit."""

from __future__ import annotations


class DeployError(Exception):
    """A failure the user can act on; its message is shown as is, without a traceback."""
