"""The model's page weight is the web client's as CloudFront serves it today."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from cost import assumptions

WEB = Path(__file__).resolve().parents[2] / "web"


def test_page_weight_is_within_a_quarter_of_the_web_client():
    files = sorted(p for p in WEB.rglob("*") if p.suffix in {".html", ".css", ".js"})
    assert WEB / "vendor" / "mqtt.min.js" in files, "web/vendor is filled by `make setup`"
    served = sum(len(gzip.compress(p.read_bytes(), compresslevel=6)) for p in files)
    # Re-measure PAGE_BYTES / PAGE_REQUESTS (cost/assumptions.py) when this fails.
    assert served + assumptions.CONFIG_JSON_BYTES == pytest.approx(assumptions.PAGE_BYTES, rel=0.25)
    assert len(files) + 1 == assumptions.PAGE_REQUESTS  # + config.json
