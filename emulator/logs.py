"""One log format for the emulator and the processes it starts (moto's, for one)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TextIO

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def configure(level: str, stream: TextIO, noisy: Iterable[str] = ()) -> None:
    """Log at ``level`` to ``stream``; the ``noisy`` loggers only from WARNING up."""
    logging.basicConfig(level=level.upper(), format=FORMAT, datefmt="%H:%M:%S", stream=stream)
    quiet = max(logging.WARNING, logging.getLogger().level)
    for name in noisy:
        logging.getLogger(name).setLevel(quiet)
