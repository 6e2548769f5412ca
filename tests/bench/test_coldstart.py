"""The cold-start benchmark's parts on small inputs (the full run needs PyPI and minutes)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from bench.coldstart import imports, sites, zips
from bench.coldstart.cli import tables
from emulator.template import load_template

ROOT = Path(__file__).resolve().parents[2]


def test_zip_figures_count_files_sizes_and_distributions(tmp_path: Path) -> None:
    path = tmp_path / "f.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("handler.py", "x" * 100)
        zf.writestr("python/PyJWT-2.15.1.dist-info/METADATA", "y" * 50)
        zf.writestr("python/jwt/__init__.py", "")
    found = zips.figures("Fn", "layer", path)
    assert (found.files, found.unpacked_bytes) == (3, 150)
    assert found.zip_bytes == path.stat().st_size
    assert found.distributions == ("PyJWT 2.15.1",)


def test_imports_are_timed_in_fresh_interpreters_on_the_given_path(tmp_path: Path) -> None:
    task, runtime = tmp_path / "task", tmp_path / "runtime"
    (task / "pkg").mkdir(parents=True)
    runtime.mkdir()
    (runtime / "boto3.py").write_text("X = 1\n")
    (task / "handler.py").write_text("import boto3\nfrom pkg import mod\n")
    (task / "pkg" / "__init__.py").write_text("")
    (task / "pkg" / "mod.py").write_text("import json\n")
    variant = sites.Variant("Fn", "handler", task, ())
    found = imports.measure("python3", [variant], runtime, runs=2)
    assert set(found) == {imports.BOTO3, "Fn"}
    assert found["Fn"].samples == 2 and found["Fn"].cpu_ms > 0
    assert not list(task.rglob("__pycache__")), "-B: nothing is written, as on Lambda"
    layered = sites.Variant("Fn", "handler", task, (runtime,))
    [compiled] = imports.compiled_variants([layered], tmp_path / "out", "python3")
    assert list(compiled.task.rglob("*.pyc")) and list(compiled.layers[0].rglob("*.pyc"))
    [layers_only] = imports.compiled_variants([layered], tmp_path / "out", "python3", False)
    assert layers_only.task == task and list(layers_only.layers[0].rglob("*.pyc"))
    assert layers_only.layers[0] != compiled.layers[0]


def test_a_component_is_timed_once_its_prerequisites_are_imported(tmp_path: Path) -> None:
    (tmp_path / "boto3.py").write_text("import json\n")
    (tmp_path / "lib.py").write_text("import boto3\nX = 1\n")
    variant = sites.Variant("Fn", "lib", tmp_path, ())
    wanted = imports.Component("lib", "Fn", "boto3", "lib")
    missing = imports.Component("other", "Absent", "boto3", "lib")
    found = imports.measure_components("python3", [wanted, missing], [variant], tmp_path, 1)
    assert set(found) == {"lib"} and found["lib"].samples == 1


def test_a_failing_import_is_reported(tmp_path: Path) -> None:
    (tmp_path / "boto3.py").write_text("")
    variant = sites.Variant("Fn", "missing_module", tmp_path, ())
    with pytest.raises(RuntimeError, match="import missing_module failed"):
        imports.measure("python3", [variant], tmp_path, runs=1)


def test_the_authorizer_gets_the_jwks_layer_only_with_a_jwks_url(tmp_path: Path) -> None:
    """Layers come from the template as bound to its parameters (Powertools is looked
    up as a folder already built, so nothing reaches PyPI)."""
    built = {"JwksLayer": tmp_path / "jwks"}
    version = load_template(ROOT / "templates/chat.json").resolve({"Ref": "PowertoolsLayer"})
    powertools = tmp_path / f"powertools-{version.rsplit('/', 1)[1]}" / "python"
    (powertools).mkdir(parents=True)
    (powertools.parent / "python" / ".complete").write_text("")
    for parameters, expected in (
        ({}, [powertools]),
        ({"JwksUrl": "https://x"}, [powertools, built["JwksLayer"]]),
    ):
        template = load_template(ROOT / "templates/chat.json", parameters=parameters)
        found = sites.function_layers(template, "AuthorizerFunction", built, ROOT, tmp_path)
        assert list(found) == expected


def test_tables_show_ratios_to_boto3() -> None:
    timing = {"cpu_ms": 150.0, "wall_ms": 160.0, "samples": 3, "instructions": 500_000_000}
    slower = {**timing, "cpu_ms": 180.0, "instructions": 600_000_000}
    result = {
        "zips": [
            {
                "logical_id": "ChatFunction",
                "kind": "function",
                "zip_bytes": 14_336,
                "unpacked_bytes": 36_864,
                "files": 11,
                "distributions": [],
            }
        ],
        "imports": {"deployed": {imports.BOTO3: timing, "ChatFunction": slower}},
        "invocations": {
            "ChatFunction": {
                "first_ms": 900.0,
                "second_ms": 20.0,
                "first_min_ms": 700.0,
                "first_max_ms": 1500.0,
                "runs": 5,
            }
        },
    }
    text = tables(result)
    assert "| ChatFunction | 14 | 36 | 11 | none |" in text
    assert "| `ChatFunction` | deployed | 600 | x1.20 | 180 | x1.20 | 160 |" in text
    assert "| ChatFunction | 900 | 700..1500 | 20 |" in text
