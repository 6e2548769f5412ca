"""Import times in fresh interpreters: each handler, and a bare ``import boto3``.

Every sample is a new ``python -B -I -S`` process whose ``sys.path`` is the variant's
folders (zip, layers, runtime) before the standard library, and which measures only
the import statement, in CPU time and wall time. Samples of all variants are
interleaved, so a busy moment costs each of them alike; the figure is the median. On a
shared machine even CPU time moves by 20 % or more, so with ``--instructions`` each
import is also counted in machine instructions under valgrind (callgrind), once: the
same work gives the same count whatever else runs (the interpreter's start-up, counted
with the same ``sys.path`` and no import, is subtracted).

Three layouts of bytecode:

* ``deployed``: none in the zip or the layers (``deploy.package`` leaves it out; AWS
  deletes it from its Powertools layer; Lambda's /var/task is read-only, so nothing is
  cached either): every module of the zip and the layers is compiled on each cold start.
  The runtime's boto3 has its bytecode (assumed, as pip leaves it);
* ``layers compiled``: the zip as deployed, the layers with bytecode (what a layer that
  kept its bytecode would give);
* ``compiled``: everything compiled beforehand (what ``python -X importtime`` in a
  development virtualenv measures).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.coldstart.sites import Variant

BOTO3 = "import boto3"
MEASURE = """
import json, sys, time
sys.path[:0] = {paths!r}
{before}
cpu, wall = time.process_time(), time.perf_counter()
import {module}
print(json.dumps([time.process_time() - cpu, time.perf_counter() - wall]))
"""
# What the handlers read at import (the Powertools logger); the template sets them too.
ENVIRONMENT = {"AWS_REGION": "us-east-1", "LOG_LEVEL": "INFO", "POWERTOOLS_SERVICE_NAME": "bench"}


COLLECTED = re.compile(r"Collected : (\d+)")


@dataclass(frozen=True)
class ImportTime:
    """Medians over the samples, in milliseconds; instructions if counted."""

    cpu_ms: float
    wall_ms: float
    samples: int
    instructions: int | None = None


def _environment() -> dict[str, str]:
    # A fixed hash seed: the same work, instruction for instruction, on every run.
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONHASHSEED": "0", **ENVIRONMENT}


@dataclass(frozen=True)
class Component:
    """What one library adds: ``import module`` once ``before`` is imported, in the
    layout of one variant (its zip, layers and runtime)."""

    label: str
    variant: str
    before: str
    module: str


def _sample(python: str, paths: list[Path], module: str, before: str = "") -> tuple[float, float]:
    code = MEASURE.format(paths=[str(p) for p in paths], module=module, before=before)
    done = subprocess.run(  # noqa: S603
        [python, "-B", "-I", "-S", "-c", code],
        capture_output=True,
        text=True,
        env=_environment(),
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"import {module} failed:\n{done.stderr[-2000:]}")
    cpu, wall = json.loads(done.stdout.strip().splitlines()[-1])
    return cpu * 1000, wall * 1000


def _instructions(python: str, paths: list[Path], statement: str) -> int:
    code = f"import sys; sys.path[:0] = {[str(p) for p in paths]!r}; {statement}"
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    cmd += [python, "-B", "-I", "-S", "-c", code]
    done = subprocess.run(cmd, capture_output=True, text=True, env=_environment(), check=False)  # noqa: S603
    found = COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"valgrind could not count {statement!r}:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def instructions(python: str, paths: list[Path], module: str, before: str = "") -> int:
    """Machine instructions of ``import module``, start-up (and ``before``) subtracted."""
    start = _instructions(python, paths, before or "pass")
    return _instructions(python, paths, f"{before}; import {module}".lstrip("; ")) - start


def measure_components(
    python: str,
    components: list[Component],
    variants: list[Variant],
    runtime: Path,
    runs: int,
    count: bool = False,
) -> dict[str, ImportTime]:
    """Median marginal import times of each component, by label (variants absent from
    ``variants`` are skipped)."""
    by_name = {v.name: v for v in variants}
    found: dict[str, ImportTime] = {}
    for c in components:
        v = by_name.get(c.variant)
        if v is None:
            continue
        paths = [v.task, *v.layers, runtime]
        before = f"import {c.before}"
        values = [_sample(python, paths, c.module, before) for _ in range(runs)]
        found[c.label] = ImportTime(
            cpu_ms=statistics.median(x[0] for x in values),
            wall_ms=statistics.median(x[1] for x in values),
            samples=runs,
            instructions=instructions(python, paths, c.module, before) if count else None,
        )
    return found


def compiled_copy(folder: Path, dest: Path, python: str) -> Path:
    """A copy of ``folder`` with every module compiled by ``python``."""
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(folder, dest)
    subprocess.run([python, "-m", "compileall", "-q", str(dest)], check=True)  # noqa: S603
    return dest


def measure(
    python: str, variants: list[Variant], runtime: Path, runs: int, count: bool = False
) -> dict[str, ImportTime]:
    """Median import times of ``boto3`` and of each variant's handler; with ``count``
    their instruction counts too."""
    targets = {BOTO3: ([runtime], "boto3")}
    for v in variants:
        targets[v.name] = ([v.task, *v.layers, runtime], v.module)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in targets}
    for _ in range(runs):
        for name, (paths, module) in targets.items():
            samples[name].append(_sample(python, paths, module))
    return {
        name: ImportTime(
            cpu_ms=statistics.median(s[0] for s in values),
            wall_ms=statistics.median(s[1] for s in values),
            samples=len(values),
            instructions=instructions(python, *targets[name]) if count else None,
        )
        for name, values in samples.items()
    }


def compiled_variants(
    variants: list[Variant], out: Path, python: str, zip_too: bool = True
) -> list[Variant]:
    """The same variants with their layer folders (and zip, with ``zip_too``) compiled."""
    copies: dict[Path, Path] = {}
    base = out / ("compiled" if zip_too else "layers-compiled")

    def copy(folder: Path) -> Path:
        if folder not in copies:
            copies[folder] = compiled_copy(folder, base / str(len(copies)), python)
        return copies[folder]

    return [
        Variant(
            v.name,
            v.module,
            copy(v.task) if zip_too else v.task,
            tuple(copy(layer) for layer in v.layers),
        )
        for v in variants
    ]
