"""The zips `make deploy` would upload (python3.12 / arm64), measured.

Sizes packed and unpacked (Lambda's limits are 50 MB zipped for a direct upload and
250 MB unpacked with every layer), file count, and the distributions a zip carries
(its ``*.dist-info`` folders), so a dependency that should not be there shows.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from deploy.package import PackageOptions, package_function, package_layer
from deploy.template import FunctionSpec, LayerSpec


@dataclass(frozen=True)
class ZipFigures:
    logical_id: str
    kind: str  # "function" | "layer"
    zip_bytes: int
    unpacked_bytes: int
    files: int
    distributions: tuple[str, ...]


def figures(logical_id: str, kind: str, path: Path) -> ZipFigures:
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
    dists = sorted(
        {
            part.removesuffix(".dist-info").replace("-", " ")
            for info in infos
            for part in info.filename.split("/")
            if part.endswith(".dist-info")
        }
    )
    return ZipFigures(
        logical_id=logical_id,
        kind=kind,
        zip_bytes=path.stat().st_size,
        unpacked_bytes=sum(info.file_size for info in infos),
        files=len(infos),
        distributions=tuple(dists),
    )


def lambda_zips(
    functions: list[FunctionSpec], layers: list[LayerSpec], out: Path
) -> list[ZipFigures]:
    """Build every function and layer zip for Lambda's platform and measure it."""
    options = PackageOptions(build_dir=out / "lambda")
    found = [
        figures(s.logical_id, "function", package_function(s, options).path) for s in functions
    ]
    found += [figures(s.logical_id, "layer", package_layer(s, options).path) for s in layers]
    return found
