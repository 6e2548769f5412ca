"""Build one deterministic zip per function: its handler module, the shared packages
beside it, and its requirements installed for Lambda's python3.12 / arm64 platform.

Same sources -> same bytes -> same content hash -> same S3 key, so CloudFormation sees
no change for a function whose code did not change."""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from deploy import report
from deploy.errors import DeployError
from deploy.template import FunctionSpec

# Lambda python3.12 runs on Amazon Linux 2023 (glibc 2.34): every manylinux tag up to it fits.
LAMBDA_PLATFORM = ("manylinux2014_aarch64", "manylinux_2_28_aarch64", "manylinux_2_34_aarch64")
LAMBDA_PYTHON = "3.12"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644
EXCLUDED_DIRS = {"__pycache__", "tests", "test", "bin"}
EXCLUDED_SUFFIXES = (".pyc", ".pyo")
COMPLETE_MARKER = ".complete"


@dataclass(frozen=True)
class PackageOptions:
    """How dependencies are installed; the overrides exist so tests never reach PyPI."""

    build_dir: Path
    requirements_override: Path | None = None
    find_links: Sequence[Path] = field(default_factory=tuple)
    install_deps: bool = True


@dataclass(frozen=True)
class Package:
    """A built function zip and its content hash."""

    logical_id: str
    path: Path
    sha256: str
    size: int

    @property
    def key(self) -> str:
        """The S3 key: content-addressed, so an unchanged zip keeps its key."""
        return f"functions/{self.logical_id}-{self.sha256}.zip"


def package_function(spec: FunctionSpec, options: PackageOptions) -> Package:
    """Build `build/functions/<logicalId>.zip` for one function."""
    report.step(f"packaging {spec.logical_id} ({spec.handler})")
    files: dict[str, Path] = {}
    requirements = options.requirements_override or spec.requirements
    if options.install_deps and requirements is not None:
        deps = install_requirements(requirements, options)
        files.update(_tree(deps, deps))
    files.update(source_files(spec))
    data = deterministic_zip(files.items())
    out = options.build_dir / "functions" / f"{spec.logical_id}.zip"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    report.info(f"{len(files)} files, {len(data) // 1024} KiB, sha256 {digest[:12]}")
    return Package(spec.logical_id, out, digest, len(data))


def source_files(spec: FunctionSpec) -> dict[str, Path]:
    """The handler's top-level module or package plus every package beside it."""
    src = spec.source
    if not src.is_dir():
        raise DeployError(f"{spec.logical_id}: source directory {src} does not exist")
    top = spec.handler.rsplit(".", 1)[0].split(".")[0]
    files: dict[str, Path] = {}
    module_file = src / f"{top}.py"
    if module_file.is_file():
        files[module_file.name] = module_file
    elif not (src / top / "__init__.py").is_file():
        raise DeployError(
            f"{spec.logical_id}: handler module {top!r} not found in {src} "
            f"(looked for {top}.py and {top}/__init__.py)"
        )
    for child in sorted(src.iterdir()):
        if child.is_dir() and (child / "__init__.py").is_file() and _keep_dir(child.name):
            files.update(_tree(child, src))
    return files


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
    h.update(repr((LAMBDA_PLATFORM, LAMBDA_PYTHON)).encode())
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
        report.info(f"installing {requirements} for python{LAMBDA_PYTHON}/arm64 into {target}")
        cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        cmd += ["--no-compile", "--target", str(tmp), "--implementation", "cp"]
        cmd += ["--python-version", LAMBDA_PYTHON, "--only-binary=:all:"]
        for platform in LAMBDA_PLATFORM:
            cmd += ["--platform", platform]
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
