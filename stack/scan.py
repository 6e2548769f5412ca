"""checkov on every generated template: ``python -m stack.scan`` (`make lint`, and a test).

The templates are found, not listed: every CloudFormation template under templates/ and
examples/ (any depth; JSON or YAML), so a new one is scanned without anyone adding it.

A finding is either fixed in the template or suppressed on its resource with a reason,
through checkov's CloudFormation metadata::

    "Metadata": {"checkov": {"skip": [{"id": "CKV_AWS_117", "comment": "why"}]}}

This fails (exit 1) on a finding that is neither, on a suppression without a reason,
and on a suppression that suppresses nothing (its check passes without it), so a skip
cannot outlive the finding it was written for. To know that, each template is scanned
twice in one checkov run: as it is, and with its suppressions taken out.

checkov runs from its own virtualenv (``.venv-checkov``, see requirements-checkov.in),
offline: no download from the vendor's platform, no update check.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Where generated templates live; examples/ may not exist yet.
TEMPLATE_DIRS = ("templates", "examples")
TEMPLATE_SUFFIXES = frozenset({".json", ".yaml", ".yml", ".template"})
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
# Offline and quiet: no guideline download (--skip-download), no PyPI version check.
CHECKOV_ENV = {"CKV_SKIP_PACKAGE_UPDATE_CHECK": "true"}
CHECKOV_TIMEOUT_SECONDS = 300

Key = tuple[str, str]  # (logical id, check id)


class ScanError(RuntimeError):
    """checkov is missing, crashed, or answered something unreadable."""


@dataclass(frozen=True)
class Finding:
    """One failed check on one resource."""

    check_id: str
    logical_id: str
    resource_type: str
    check_name: str

    def __str__(self) -> str:
        return f"{self.check_id} on {self.resource_type} {self.logical_id}: {self.check_name}"


@dataclass
class Report:
    """What checkov says about one template, and what the gate makes of it."""

    path: Path
    passed: int = 0
    suppressed: dict[Key, str] = field(default_factory=dict)  # honoured skips, by reason
    unsuppressed: list[Finding] = field(default_factory=list)
    stale: list[Key] = field(default_factory=list)
    unexplained: list[Key] = field(default_factory=list)
    parse_errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Nothing left that is neither fixed nor suppressed with a reason."""
        return not (self.unsuppressed or self.stale or self.unexplained or self.parse_errors)

    def lines(self, root: Path = ROOT) -> list[str]:
        """A summary line, then one line per problem."""
        name = self.path.relative_to(root) if self.path.is_relative_to(root) else self.path
        out = [
            f"{name}: {self.passed} checks passed, {len(self.unsuppressed)} failed, "
            f"{len(self.suppressed)} suppressed with a reason"
        ]
        out += [f"  FAILED {f} (fix it, or skip it on the resource with a reason)"
                for f in self.unsuppressed]  # fmt: skip
        out += [
            f"  STALE  skip of {check} on {logical_id} suppresses nothing: the check passes "
            "without it (or does not exist); remove the skip"
            for logical_id, check in self.stale
        ]
        out += [
            f"  NO REASON  skip of {check} on {logical_id} has an empty comment"
            for logical_id, check in self.unexplained
        ]
        out += [f"  PARSE ERROR {e}" for e in self.parse_errors]
        return out


# ------------------------------------------------------------------------- templates


def load_template(path: Path) -> dict[str, Any] | None:
    """The template as plain data (YAML short forms as Fn:: forms), or None when the file
    is not a CloudFormation template (another JSON or YAML file under examples/)."""
    from cfnlint.decode import decode  # the dev tools' parser; imported only when scanning

    parsed, _ = decode(str(path))
    if not isinstance(parsed, dict) or not isinstance(parsed.get("Resources"), dict):
        return None
    return json.loads(json.dumps(parsed))


def find_templates(root: Path = ROOT) -> dict[Path, dict[str, Any]]:
    """Every CloudFormation template under root's templates/ and examples/, parsed."""
    found: dict[Path, dict[str, Any]] = {}
    for folder in TEMPLATE_DIRS:
        for path in sorted((root / folder).rglob("*")):
            if path.suffix in TEMPLATE_SUFFIXES and path.is_file():
                template = load_template(path)
                if template is not None:
                    found[path] = template
    return found


def declared_skips(template: dict[str, Any]) -> dict[Key, str]:
    """(logical id, check id) -> comment, for every skip in the resources' metadata."""
    skips: dict[Key, str] = {}
    for logical_id, resource in template["Resources"].items():
        metadata = resource.get("Metadata") or {}
        for entry in (metadata.get("checkov") or {}).get("skip") or []:
            skips[(logical_id, str(entry.get("id", "")))] = str(entry.get("comment") or "")
    return skips


def without_skips(template: dict[str, Any]) -> dict[str, Any]:
    """A copy of the template with every checkov suppression taken out."""
    bare = copy.deepcopy(template)
    for resource in bare["Resources"].values():
        metadata = resource.get("Metadata")
        if isinstance(metadata, dict) and "checkov" in metadata:
            del metadata["checkov"]
            if not metadata:
                del resource["Metadata"]
    return bare


# --------------------------------------------------------------------------- checkov


def checkov_executable() -> Path:
    """$CHECKOV, else the project's .venv-checkov; a clear error when neither exists."""
    exe = Path(os.environ.get("CHECKOV", CHECKOV))
    if not exe.exists():
        raise ScanError(f"checkov is not installed at {exe}: run `make setup`")
    return exe


def run_checkov(files: Iterable[Path]) -> dict[str, Any]:
    """checkov's JSON report for the given CloudFormation files (one process)."""
    cmd = [
        str(checkov_executable()),
        "--framework",
        "cloudformation",
        "--skip-download",
        "--output",
        "json",
        "--file",
        *map(str, files),
    ]
    done = subprocess.run(  # noqa: S603 (our own executable, our own files)
        cmd,
        capture_output=True,
        text=True,
        timeout=CHECKOV_TIMEOUT_SECONDS,
        env={**os.environ, **CHECKOV_ENV},
        check=False,
    )
    # 0: all passed, 1: some failed; anything else is checkov itself failing.
    if done.returncode not in (0, 1):
        raise ScanError(f"checkov exited {done.returncode}: {done.stderr.strip()[-2000:]}")
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        raise ScanError(f"checkov printed no JSON report: {done.stdout[:500]!r}") from exc
    if isinstance(report, list):  # one entry per framework; only cloudformation runs
        report = next((r for r in report if r.get("check_type") == "cloudformation"), {})
    return report


def _by_file(report: dict[str, Any], kind: str) -> dict[str, list[dict[str, Any]]]:
    """checkov's results of one kind (passed_checks, ...) grouped by file name."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for result in (report.get("results") or {}).get(kind) or []:
        grouped.setdefault(Path(result["file_path"]).name, []).append(result)
    return grouped


def _finding(result: dict[str, Any]) -> Finding:
    resource_type, _, logical_id = result["resource"].rpartition(".")
    return Finding(result["check_id"], logical_id, resource_type, result["check_name"])


# ------------------------------------------------------------------------------ gate


def scan(templates: dict[Path, dict[str, Any]]) -> list[Report]:
    """Scan each template as it is and without its skips; judge every finding and skip."""
    if not templates:
        return []
    with tempfile.TemporaryDirectory(prefix="checkov-") as tmp:
        files: list[Path] = []
        for index, template in enumerate(templates.values()):
            for variant, content in (("as-is", template), ("bare", without_skips(template))):
                path = Path(tmp) / f"{index}-{variant}.json"
                path.write_text(json.dumps(content, indent=1), encoding="utf-8")
                files.append(path)
        report = run_checkov(files)
    passed, failed = _by_file(report, "passed_checks"), _by_file(report, "failed_checks")
    skipped = _by_file(report, "skipped_checks")
    parse_errors = {Path(p).name for p in (report.get("results") or {}).get("parsing_errors", [])}
    reports = []
    for index, (path, template) in enumerate(templates.items()):
        as_is, bare = f"{index}-as-is.json", f"{index}-bare.json"
        declared = declared_skips(template)
        failing_bare = {(f.logical_id, f.check_id) for f in map(_finding, failed.get(bare, []))}
        reports.append(
            Report(
                path=path,
                passed=len(passed.get(as_is, [])),
                suppressed={
                    (f.logical_id, f.check_id): declared.get((f.logical_id, f.check_id), "")
                    for f in map(_finding, skipped.get(as_is, []))
                },
                unsuppressed=[_finding(r) for r in failed.get(as_is, [])],
                stale=sorted(k for k in declared if k not in failing_bare),
                unexplained=sorted(k for k, reason in declared.items() if not reason.strip()),
                parse_errors=[n for n in (as_is, bare) if n in parse_errors],
            )
        )
        if not (passed.get(as_is) or failed.get(as_is) or skipped.get(as_is)):
            reports[-1].parse_errors.append("checkov found no resources to check")
    return reports


def main(argv: list[str] | None = None) -> int:
    """Print one summary per template and every problem; 1 if there is any."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="repository to scan")
    args = parser.parse_args(argv)
    try:
        templates = find_templates(args.root)
        if not templates:
            print(f"no CloudFormation template under {args.root}/templates", file=sys.stderr)
            return 1
        reports = scan(templates)
    except ScanError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for report in reports:
        print("\n".join(report.lines(args.root)))
    return 0 if all(r.ok for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
