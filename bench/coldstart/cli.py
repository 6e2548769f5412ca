"""`python -m bench.coldstart`: zip sizes, import times and first invocations.

Prints three Markdown tables (the ones docs/performance.md shows) and writes everything
to <out>/coldstart.json. ``--root`` measures another checkout of the project (its
template, functions and pins), for before/after comparisons; the emulator and the
benchmark are this checkout's.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.coldstart import imports, invoke, sites, zips
from deploy.template import functions as deployed_functions
from deploy.template import layers as deployed_layers
from deploy.template import load_template as load_deploy_template
from emulator.template import load_template

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"
JWKS_URL = "https://idp.example/.well-known/jwks.json"
# What each library adds to a handler's import, once boto3 (and Powertools' package,
# which every Powertools import runs first) is there.
COMPONENTS = [
    imports.Component(
        "Powertools (package, Logger)", "PresenceFunction", "boto3", "aws_lambda_powertools"
    ),
    imports.Component(
        "Powertools parameters",
        "TokenFunction",
        "boto3, aws_lambda_powertools",
        "aws_lambda_powertools.utilities.parameters",
    ),
    imports.Component(
        "Powertools batch",
        "ChatFunction",
        "boto3, aws_lambda_powertools",
        "aws_lambda_powertools.utilities.batch",
    ),
    imports.Component("PyJWT", "TokenFunction", "boto3", "jwt"),
    imports.Component("PyJWT with cryptography", "AuthorizerFunction + JwksLayer", "boto3", "jwt"),
]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.coldstart", description=__doc__)
    p.add_argument("--root", type=Path, default=ROOT, help="project checkout to measure")
    p.add_argument("--runs", type=int, default=15, help="fresh interpreters per import (15)")
    p.add_argument("--python", default=sys.executable, help="interpreter for the imports")
    p.add_argument("--build-dir", type=Path, help="default: <root>/build/coldstart")
    p.add_argument("--out", type=Path, default=RESULTS, help="where coldstart.json goes")
    p.add_argument("--invoke-runs", type=int, default=5, help="cold runtimes to invoke (5)")
    p.add_argument("--no-invoke", action="store_true", help="skip the emulator invocations")
    p.add_argument(
        "--instructions",
        action="store_true",
        help="also count each import's machine instructions under valgrind (minutes)",
    )
    return p


def ratio(value: float, base: float) -> str:
    return f"x{value / base:.2f}"


def import_row(name: str, mode: str, t: dict[str, Any], base: dict[str, Any]) -> str:
    counted = "- | -"
    if t["instructions"] is not None:
        counted = (
            f"{t['instructions'] / 1e6:.0f} | {ratio(t['instructions'], base['instructions'])}"
        )
    cpu = f"{t['cpu_ms']:.0f} | {ratio(t['cpu_ms'], base['cpu_ms'])}"
    return f"| `{name}` | {mode} | {counted} | {cpu} | {t['wall_ms']:.0f} |"


def tables(result: dict[str, Any]) -> str:
    lines = [
        "| package | zip KiB | unpacked KiB | files | distributions in it |",
        "|---|---|---|---|---|",
    ]
    for z in result["zips"]:
        name = z["logical_id"] + (" (layer)" if z["kind"] == "layer" else "")
        dists = ", ".join(z["distributions"]) or "none"
        lines.append(
            f"| {name} | {z['zip_bytes'] / 1024:.0f} | {z['unpacked_bytes'] / 1024:.0f} "
            f"| {z['files']} | {dists} |"
        )
    lines += [
        "",
        "| import | layout | M instructions | vs boto3 | CPU ms | vs boto3 | wall ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for mode, found in result["imports"].items():
        base = found[imports.BOTO3]
        lines += [import_row(name, mode, t, base) for name, t in found.items()]
    if result.get("components"):
        lines += [
            "",
            "| what it adds to an import | layout | M instructions | CPU ms |",
            "|---|---|---|---|",
        ]
        for layout, found in result["components"].items():
            for label, t in found.items():
                counted = "-" if t["instructions"] is None else f"{t['instructions'] / 1e6:.0f}"
                lines.append(f"| {label} | {layout} | {counted} | {t['cpu_ms']:.0f} |")
    if result.get("invocations"):
        lines += [
            "",
            "| function | first invocation ms (median) | fastest..slowest | second ms |",
            "|---|---|---|---|",
        ]
        for name, inv in sorted(result["invocations"].items()):
            spread = f"{inv['first_min_ms']:.0f}..{inv['first_max_ms']:.0f}"
            lines.append(f"| {name} | {inv['first_ms']:.0f} | {spread} | {inv['second_ms']:.0f} |")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> dict[str, Any]:
    root = args.root.resolve()
    out = (args.build_dir or root / "build" / "coldstart").resolve()
    template_path = root / "templates" / "chat.json"
    spec = load_deploy_template(template_path)
    functions, layers = deployed_functions(spec, root), deployed_layers(spec, root)
    templates = {"": load_template(template_path)}
    if "JwksUrl" in spec.parameters:
        templates[" + JwksLayer"] = load_template(template_path, parameters={"JwksUrl": JWKS_URL})

    print("==> building the zips for Lambda (python3.12/arm64)", file=sys.stderr)
    zip_figures = zips.lambda_zips(functions, layers, out)
    print("==> laying out zips, layers and runtime for this machine", file=sys.stderr)
    variants = sites.variants(functions, templates, layers, root, out)
    runtime = sites.runtime_site(root, out)
    layouts = {
        "deployed": variants,
        "layers compiled": imports.compiled_variants(variants, out, args.python, zip_too=False),
        "compiled": imports.compiled_variants(variants, out, args.python),
    }
    print(f"==> importing in fresh interpreters ({args.runs} runs each)", file=sys.stderr)
    timings = {
        layout: imports.measure(args.python, found, runtime, args.runs, args.instructions)
        for layout, found in layouts.items()
    }
    components = {
        layout: imports.measure_components(
            args.python, COMPONENTS, layouts[layout], runtime, args.runs, args.instructions
        )
        for layout in ("deployed", "compiled")
    }
    invocations = {}
    if not args.no_invoke:
        print("==> first and second invocation against the emulator", file=sys.stderr)
        invocations = invoke.invocations(template_path, root, args.invoke_runs)
    return {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "root": str(root),
        "python": args.python,
        "machine": {"platform": platform.platform(), "python": platform.python_version()},
        "zips": [dataclasses.asdict(z) for z in zip_figures],
        "imports": {
            mode: {name: dataclasses.asdict(t) for name, t in found.items()}
            for mode, found in timings.items()
        },
        "components": {
            layout: {label: dataclasses.asdict(t) for label, t in found.items()}
            for layout, found in components.items()
        },
        "invocations": {k: dataclasses.asdict(v) for k, v in invocations.items()},
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    result = run(args)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "coldstart.json").write_text(json.dumps(result, indent=2) + "\n")
    print(tables(result))
    return 0
