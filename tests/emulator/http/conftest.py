"""A running broker + HTTP app with a small web root."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.emulator.iot.harness import Harness


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    (tmp_path / "index.html").write_text("<!doctype html><title>chat</title>")
    (tmp_path / "app.js").write_text("console.log(1)")
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "mqtt.min.js").write_text("/* mqtt */")
    (tmp_path / ".env").write_text("SECRET=1")
    (tmp_path.parent / "outside.txt").write_text("no")
    h = Harness(web_root=tmp_path).start()
    try:
        yield h
    finally:
        h.stop()
