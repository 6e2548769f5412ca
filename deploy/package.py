"""Build one deterministic zip per function and per layer.

A function's zip holds the modules its handler imports from its source folder (found
statically, imports inside functions included) and its own requirements, installed for
Lambda's python3.12 / arm64 platform; a layer's zip holds its requirements under
``python/``, where Lambda puts a layer on ``sys.path``. boto3 comes with the runtime and
Powertools with AWS's layer, so neither is packaged.

Same sources -> same bytes -> same content hash -> same S3 key, so CloudFormation sees
no change for a function or layer whose code did not change."""

from __future__ import annotations

import hashlib
import io
import modulefinder
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from deploy import report
from deploy.errors import DeployError
from deploy.template import FunctionSpec, LayerSpec

# Lambda python3.12 runs on Amazon Linux 2023 (glibc 2.34): every manylinux tag up to it fits.
LAMBDA_PLATFORM = ("manylinux2014_aarch64", "manylinux_2_28_aarch64", "manylinux_2_34_aarch64")
LAMBDA_PYTHON = "3.12"
LAYER_PREFIX = "python/"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644
EXCLUDED_DIRS = {"__pycache__", "tests", "test", "bin"}
EXCLUDED_SUFFIXES = (".pyc", ".pyo")
COMPLETE_MARKER = ".complete"


@dataclass(frozen=True)
class Platform:
    """What pip installs for: platform tags and Python version (empty: this machine's)."""

    tags: tuple[str, ...]
    python: str | None


LAMBDA = Platform(LAMBDA_PLATFORM, LAMBDA_PYTHON)
HOST = Platform((), None)  # the cold-start benchmark imports the zips on this machine


@dataclass(frozen=True)
class PackageOptions:
    """How dependencies are installed; the overrides exist so tests never reach PyPI."""

    build_dir: Path
    requirements_override: Path | None = None
    find_links: Sequence[Path] = field(default_factory=tuple)
    install_deps: bool = True
    platform: Platform = LAMBDA


@dataclass(frozen=True)
class Package:
    """A built function or layer zip and its content hash."""

    logical_id: str
    path: Path
    sha256: str
    size: int
    folder: str = "functions"  # "layers" for a layer

    @property
    def key(self) -> str:
        """The S3 key: content-addressed, so an unchanged zip keeps its key."""
        return f"{self.folder}/{self.logical_id}-{self.sha256}.zip"


@dataclass(frozen=True)
class HandlerImports:
    """What a handler imports: its modules in the source folder (archive name -> file)
    and the top-level names of everything else that is not the standard library."""

    files: dict[str, Path]
    external: frozenset[str]


def package_function(spec: FunctionSpec, options: PackageOptions) -> Package:
    """Build `build/functions/<logicalId>.zip` for one function."""
    report.step(f"packaging {spec.logical_id} ({spec.handler})")
    files: dict[str, Path] = {}
    requirements = options.requirements_override or spec.requirements
    if options.install_deps and requirements is not None:
        deps = install_requirements(requirements, options)
        files.update(_tree(deps, deps))
    files.update(handler_imports(spec).files)
    return _write(spec.logical_id, files, options.build_dir / "functions", "functions")


def package_layer(spec: LayerSpec, options: PackageOptions) -> Package:
    """Build `build/layers/<logicalId>.zip`: its requirements under python/."""
    report.step(f"packaging {spec.logical_id} (layer: {spec.requirements.name})")
    files: dict[str, Path] = {}
    if options.install_deps:
        deps = install_requirements(spec.requirements, options)
        files = {LAYER_PREFIX + name: path for name, path in _tree(deps, deps).items()}
    return _write(spec.logical_id, files, options.build_dir / "layers", "layers")


def _write(logical_id: str, files: dict[str, Path], out_dir: Path, folder: str) -> Package:
    data = deterministic_zip(files.items())
    out = out_dir / f"{logical_id}.zip"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    report.info(f"{len(files)} files, {len(data) // 1024} KiB, sha256 {digest[:12]}")
    return Package(logical_id, out, digest, len(data), folder)


def handler_imports(spec: FunctionSpec) -> HandlerImports:
    """The handler module and every module of the source folder it imports, directly or
    not, at load or inside a function (the standard library's modulefinder reads the
    bytecode; nothing is executed)."""
    src = spec.source.resolve()
    if not src.is_dir():
        raise DeployError(f"{spec.logical_id}: source directory {src} does not exist")
    module = spec.handler.rsplit(".", 1)[0].replace("/", ".")
    finder = modulefinder.ModuleFinder(path=[str(src)])
    try:
        finder.import_hook(module)
    except ImportError:
        raise DeployError(
            f"{spec.logical_id}: handler module {module!r} not found in {src}"
        ) from None
    except SyntaxError as exc:
        raise DeployError(f"{spec.logical_id}: {module} does not compile: {exc}") from None
    files: dict[str, Path] = {}
    for found in finder.modules.values():
        path = Path(found.__file__).resolve() if found.__file__ else None
        if path is not None and path.is_relative_to(src):
            files[path.relative_to(src).as_posix()] = path
            if path.name == "__init__.py":
                files.update(_package_data(path.parent, src))
    stdlib = sys.stdlib_module_names | {"__future__"}
    external = {name.split(".")[0] for name in finder.badmodules}
    return HandlerImports(files, frozenset(external - stdlib))


def _package_data(package: Path, src: Path) -> dict[str, Path]:
    """The data files an imported package reads beside its modules (chatlib's
    contract.json): every file of its own folder that is not Python source or bytecode."""
    return {
        path.relative_to(src).as_posix(): path
        for path in sorted(package.iterdir())
        if path.is_file()
        and not path.name.endswith((".py", *EXCLUDED_SUFFIXES))
        and not path.name.startswith(".")
    }


def _keep_dir(name: str) -> bool:
    return name not in EXCLUDED_DIRS and not name.startswith(".") and not name.endswith(".egg-info")


def _tree(directory: Path, base: Path) -> dict[str, Path]:
    """Every regular file under `directory`, keyed by its path relative to `base`."""
    out: dict[str, Path] = {}
    for path in sorted(directory.rglob("*")):
        rel = path.relative_to(base)
        if not path.is_file() or path.name == COMPLETE_MARKER:
            continue
        if any(not _keep_dir(part) for part in rel.parts[:-1]):
            continue
        if path.name.endswith(EXCLUDED_SUFFIXES) or path.name == ".DS_Store":
            continue
        out[rel.as_posix()] = path
    return out


def deterministic_zip(entries: Iterable[tuple[str, Path]]) -> bytes:
    """Zip with sorted names, a fixed date and mode and no extras: same input, same bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, path in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.create_system = 3
            info.external_attr = FILE_MODE << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes(), compresslevel=9)
    return buf.getvalue()


def requirements_hash(requirements: Path, options: PackageOptions) -> str:
    """Cache key: the requirements text, the target platform and where wheels come from."""
    h = hashlib.sha256()
    h.update(requirements.read_bytes())
    h.update(repr(options.platform).encode())
    h.update(repr(sorted(str(p) for p in options.find_links)).encode())
    return h.hexdigest()[:16]


def _has_requirements(requirements: Path) -> bool:
    for line in requirements.read_text(encoding="utf-8").splitlines():
        if line.split("#", 1)[0].strip():
            return True
    return False


def install_requirements(requirements: Path, options: PackageOptions) -> Path:
    """pip install for Lambda's platform into build/deps/<hash>/, reused while unchanged."""
    if not requirements.is_file():
        raise DeployError(f"requirements file {requirements} does not exist")
    target = options.build_dir / "deps" / requirements_hash(requirements, options)
    if (target / COMPLETE_MARKER).is_file():
        report.info(f"dependencies from {requirements.name}: cached in {target}")
        return target
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    if _has_requirements(requirements):
        platform = options.platform
        where = f"python{platform.python}/{','.join(platform.tags)}" if platform.tags else "here"
        report.info(f"installing {requirements} for {where} into {target}")
        cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        cmd += ["--no-compile", "--target", str(tmp)]
        if platform.tags:
            cmd += ["--implementation", "cp", "--only-binary=:all:"]
            cmd += ["--python-version", str(platform.python)]
            for tag in platform.tags:
                cmd += ["--platform", tag]
        if options.find_links:
            cmd.append("--no-index")
            for link in options.find_links:
                cmd += ["--find-links", str(link)]
        cmd += ["-r", str(requirements)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)  # noqa: S603
        if proc.returncode != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise DeployError(f"pip could not install {requirements} for Lambda: {last}")
    (tmp / COMPLETE_MARKER).write_text(requirements.read_text(encoding="utf-8"))
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return target
