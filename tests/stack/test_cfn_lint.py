"""cfn-lint finds nothing in the committed template.

No check is ignored: errors, warnings and informational findings all fail the test, so
a new finding is either fixed or ignored here with its reason written next to it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.stack.conftest import TEMPLATE_PATH

# Checks deliberately left out, each with its reason. Empty: the template is clean.
IGNORED_CHECKS: dict[str, str] = {}


def test_cfn_lint_reports_nothing() -> None:
    """Run cfn-lint (with informational checks) as `make lint` does."""
    # The venv's console script (cfnlint has no __main__), else the one on PATH.
    exe = Path(sys.executable).with_name("cfn-lint")
    exe_path = str(exe) if exe.exists() else shutil.which("cfn-lint")
    assert exe_path, "cfn-lint is not installed"
    cmd = [exe_path, "--format", "json", "--include-checks", "I"]
    if IGNORED_CHECKS:
        cmd += ["--ignore-checks", *IGNORED_CHECKS]
    result = subprocess.run(
        [*cmd, "--", str(TEMPLATE_PATH)], capture_output=True, text=True, timeout=170
    )
    assert result.stdout.strip(), f"cfn-lint printed nothing: {result.stderr}"
    findings = json.loads(result.stdout)
    summary = [
        f"{f['Rule']['Id']} {f['Level']} {f['Message']} "
        f"(line {f['Location']['Start']['LineNumber']})"
        for f in findings
    ]
    assert not summary, "\n".join(summary)
    assert result.returncode == 0, result.stderr
