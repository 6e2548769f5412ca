"""Packaging: the right files, byte-for-byte deterministic zips, offline dependencies."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from deploy import package
from deploy.errors import DeployError
from deploy.package import PackageOptions, handler_imports, package_function, package_layer
from deploy.template import LayerSpec, functions, layers, load_template
from tests.deploy.helpers import tiny_wheel

ROOT = Path(__file__).resolve().parents[2]


def _spec(root: Path, logical_id: str = "ChatFunction"):
    specs = {s.logical_id: s for s in functions(load_template(root / "templates/chat.json"), root)}
    return specs[logical_id]


def test_zip_holds_the_handler_and_what_it_imports_only(project: Path) -> None:
    (project / "lambdas" / "chatlib" / "unused.py").write_text("import nothing_here\n")
    pkg = package_function(_spec(project), PackageOptions(build_dir=project / "build"))
    with zipfile.ZipFile(pkg.path) as zf:
        names = zf.namelist()
        infos = zf.infolist()
    assert names == ["chat.py", "chatlib/__init__.py", "chatlib/util.py"]
    assert names == sorted(names)
    for info in infos:
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert info.external_attr >> 16 == 0o100644
        assert info.extra == b""
    assert pkg.key == f"functions/ChatFunction-{pkg.sha256}.zip"


def test_imports_inside_functions_count_and_nothing_is_run(project: Path) -> None:
    lambdas = project / "lambdas"
    ran = project / "ran"
    (lambdas / "presence.py").write_text(
        f"open({str(ran)!r}, 'w').close()\n"
        "def handler(e, c):\n    from chatlib import lazy\n    import jwt\n    return lazy.X\n"
    )
    (lambdas / "chatlib" / "lazy.py").write_text("import json\nX = json.dumps(1)\n")
    found = handler_imports(_spec(project, "PresenceFunction"))
    assert sorted(found.files) == ["chatlib/__init__.py", "chatlib/lazy.py", "presence.py"]
    assert found.external == {"jwt"}  # json is the standard library's
    assert not ran.exists()


def test_a_missing_handler_module_is_one_clear_error(project: Path) -> None:
    (project / "lambdas" / "presence.py").unlink()
    with pytest.raises(DeployError, match="handler module 'presence' not found"):
        handler_imports(_spec(project, "PresenceFunction"))


def test_same_sources_give_the_same_bytes(project: Path, tmp_path: Path) -> None:
    first = package_function(_spec(project), PackageOptions(build_dir=tmp_path / "b1"))
    copy = tmp_path / "copy"
    shutil.copytree(project, copy)
    for path in (copy / "lambdas").rglob("*"):
        os.utime(path, (1_700_000_000, 1_700_000_000))
        if path.is_file():
            path.chmod(0o755)
    second = package_function(_spec(copy), PackageOptions(build_dir=tmp_path / "b2"))
    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.sha256 == second.sha256


def test_a_changed_handler_changes_only_its_zip(project: Path, tmp_path: Path) -> None:
    opts = PackageOptions(build_dir=tmp_path / "b")
    before = {
        f: package_function(_spec(project, f), opts).sha256
        for f in ("ChatFunction", "PresenceFunction")
    }
    (project / "lambdas" / "chat.py").write_text("def handler(e, c):\n    return 3\n")
    after = {
        f: package_function(_spec(project, f), opts).sha256
        for f in ("ChatFunction", "PresenceFunction")
    }
    assert before["ChatFunction"] != after["ChatFunction"]
    assert before["PresenceFunction"] == after["PresenceFunction"]


def test_dependencies_install_offline_from_a_wheel_dir_and_are_cached(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheels = tmp_path / "wheels"
    tiny_wheel(wheels)
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("tinydep==1.0\n")
    opts = PackageOptions(
        build_dir=tmp_path / "build", requirements_override=reqs, find_links=(wheels,)
    )
    first = package_function(_spec(project), opts)
    with zipfile.ZipFile(first.path) as zf:
        names = zf.namelist()
    assert "tinydep/__init__.py" in names
    assert "tinydep-1.0.dist-info/METADATA" in names
    assert not [n for n in names if n.startswith("bin/")], "console scripts stay out"
    assert not [n for n in names if n.endswith(".pyc") or "__pycache__" in n]
    assert len(list((tmp_path / "build" / "deps").iterdir())) == 1

    def no_pip(*args: object, **kwargs: object) -> None:
        raise AssertionError("pip ran again although the requirements did not change")

    monkeypatch.setattr(subprocess, "run", no_pip)
    second = package_function(_spec(project), opts)
    assert second.path.read_bytes() == first.path.read_bytes()


def test_a_layer_puts_its_packages_under_python(project: Path, tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    tiny_wheel(wheels)
    reqs = tmp_path / "layer.txt"
    reqs.write_text("tinydep==1.0\n")
    opts = PackageOptions(build_dir=tmp_path / "build", find_links=(wheels,))
    pkg = package_layer(LayerSpec("TinyLayer", reqs, "TinyLayerCodeKey"), opts)
    with zipfile.ZipFile(pkg.path) as zf:
        names = zf.namelist()
    assert "python/tinydep/__init__.py" in names
    assert all(n.startswith("python/") for n in names)
    assert pkg.key == f"layers/TinyLayer-{pkg.sha256}.zip"


def test_a_failing_pip_is_one_clear_error(project: Path, tmp_path: Path) -> None:
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("not-a-package-anywhere==9.9\n")
    empty = tmp_path / "no-wheels"
    empty.mkdir()
    opts = PackageOptions(
        build_dir=tmp_path / "build", requirements_override=reqs, find_links=(empty,)
    )
    with pytest.raises(package.DeployError, match="pip could not install"):
        package_function(_spec(project), opts)


def test_real_template_functions_package_deterministically(tmp_path: Path) -> None:
    specs = functions(load_template(ROOT / "templates" / "chat.json"), ROOT)
    assert {s.logical_id for s in specs} >= {"ChatFunction", "PresenceFunction"}
    for spec in specs:
        a = package_function(spec, PackageOptions(build_dir=tmp_path / "a", install_deps=False))
        b = package_function(spec, PackageOptions(build_dir=tmp_path / "b", install_deps=False))
        assert a.path.read_bytes() == b.path.read_bytes()
        with zipfile.ZipFile(a.path) as zf:
            names = zf.namelist()
        module = spec.handler.rsplit(".", 1)[0]
        assert f"{module}.py" in names
        assert "chatlib/__init__.py" in names
        assert not [n for n in names if "__pycache__" in n or n.startswith("tests/")]
    built = layers(load_template(ROOT / "templates" / "chat.json"), ROOT)
    assert [layer.logical_id for layer in built] == ["JwksLayer"]
