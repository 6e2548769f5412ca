"""stack/build.py: the committed template is exactly what the package builds, and
build_template.py (the entry point) writes and checks it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from stack.build import STATEFUL_TYPES, render
from tests.stack.conftest import REPO, TEMPLATE_PATH


def test_committed_template_is_up_to_date() -> None:
    """Byte for byte: a stale chat.json would deploy something nobody reviewed."""
    assert TEMPLATE_PATH.read_text(encoding="utf-8") == render(), (
        "templates/chat.json is stale: run `python build_template.py`"
    )


def test_build_is_deterministic() -> None:
    """Two builds in one process give the same text (no set or dict-order drift)."""
    assert render() == render()


def test_format_sorted_indent_2_trailing_newline() -> None:
    """Stable formatting keeps diffs of the committed file reviewable."""
    text = render()
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert text.splitlines()[1].startswith('  "')
    assert not any(line != line.rstrip() for line in text.splitlines())


def test_check_flag_detects_a_stale_file(tmp_path: Path) -> None:
    """--check passes on a fresh file and fails, saying why, on a changed one."""
    out = tmp_path / "chat.json"
    script = str(REPO / "build_template.py")
    # Run as a script from elsewhere: build_template.py must set up sys.path itself.
    subprocess.run([sys.executable, script, "--output", str(out)], check=True, cwd=tmp_path)
    ok = subprocess.run(
        [sys.executable, script, "--check", "--output", str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    out.write_text(out.read_text(encoding="utf-8").replace('"7"', '"8"', 1), encoding="utf-8")
    stale = subprocess.run(
        [sys.executable, script, "--check", "--output", str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert stale.returncode != 0
    assert "out of date" in stale.stderr


def test_stateful_resources_say_they_go_with_the_stack(resources: dict[str, Any]) -> None:
    """Tables, stream, queue, logs, bucket and secret are deleted with the stack, by
    choice (`make destroy` leaves nothing); no other resource carries a policy."""
    for name, resource in resources.items():
        policies = {k: resource.get(k) for k in ("DeletionPolicy", "UpdateReplacePolicy")}
        if resource["Type"] in STATEFUL_TYPES:
            assert policies == {"DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete"}, name
        else:
            assert policies == {"DeletionPolicy": None, "UpdateReplacePolicy": None}, name
    assert {r["Type"] for r in resources.values()} >= STATEFUL_TYPES
