"""The two locks stay consistent: `make run` and `make test` run the same versions.

requirements.txt pins what running needs; requirements-dev.txt includes it and pins only
what development adds. A hand edit that pins a package twice, or lets a lock drift from
its .in file or from the functions' own requirements, fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9_.-]+)(\[[^\]]*\])?==(\S+)$")


def pins(path: Path) -> dict[str, str]:
    """Normalised name -> version of every ``name==version`` line (comments, -r skipped)."""
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        match = PIN.match(line)
        assert match, f"{path.name}: not a pin: {line!r}"
        name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
        assert name not in out, f"{path.name} pins {name} twice"
        out[name] = match.group(3)
    return out


RUNTIME = pins(ROOT / "requirements.txt")
DEV_ONLY = pins(ROOT / "requirements-dev.txt")


def test_dev_lock_is_the_runtime_lock_plus_the_rest() -> None:
    """The dev lock includes the runtime lock and pins nothing a second time."""
    text = (ROOT / "requirements-dev.txt").read_text(encoding="utf-8")
    first = next(line for line in text.splitlines() if line and not line.startswith("#"))
    assert first == "-r requirements.txt"
    assert not set(RUNTIME) & set(DEV_ONLY)


def test_every_direct_requirement_is_locked_at_its_version() -> None:
    """Each pin of the .in files is in the locks at the same version."""
    locked = {**RUNTIME, **DEV_ONLY}
    for name, version in pins(ROOT / "requirements.in").items():
        assert RUNTIME.get(name) == version, f"requirements.txt: {name}"
    for name, version in pins(ROOT / "requirements-dev.in").items():
        assert locked.get(name) == version, f"requirements-dev.txt: {name}"


def test_functions_run_locally_on_their_deployed_versions() -> None:
    """The emulator runs the handlers on the runtime lock: same versions as the zips and
    layers (lambdas/requirements/: what zips and layers carry, what AWS's layer gives)."""
    files = sorted((ROOT / "lambdas" / "requirements").glob("*.txt"))
    assert [f.name for f in files] == ["jwks-layer.txt", "powertools-layer.txt", "pyjwt.txt"]
    for path in files:
        for name, version in pins(path).items():
            assert RUNTIME.get(name) == version, f"{path.name}: {name}"


def test_checkov_is_locked_apart() -> None:
    """checkov has a lock of its own (its pins conflict with both locks): it pins every
    package there, checkov at the .in's version, and the other locks do not carry it."""
    text = (ROOT / "requirements-checkov.txt").read_text(encoding="utf-8")
    assert not any(line.startswith("-r") for line in text.splitlines())
    checkov_lock = pins(ROOT / "requirements-checkov.txt")
    assert pins(ROOT / "requirements-checkov.in") == {"checkov": "3.3.30"}
    assert checkov_lock["checkov"] == "3.3.30"
    assert "checkov" not in RUNTIME and "checkov" not in DEV_ONLY
    # Why it is apart: were these equal, it could join requirements-dev.txt.
    assert checkov_lock["boto3"] != RUNTIME["boto3"]
