"""stack/findings.py: every accepted finding is a real check id with a one-line reason,
and resources carry them in the shape checkov reads."""

from __future__ import annotations

import re
from typing import Any

import pytest

from stack import findings
from stack.findings import Finding, skipped

ACCEPTED: dict[str, Finding] = {
    name: value
    for name, value in vars(findings).items()
    if name.isupper() and isinstance(value, tuple)
}


def test_there_are_accepted_findings() -> None:
    assert len(ACCEPTED) >= 8


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_reason_is_one_line_a_reviewer_can_read(name: str) -> None:
    check, reason = ACCEPTED[name]
    assert re.fullmatch(r"CKV2?_AWS_\d+", check), check
    assert "\n" not in reason and 40 <= len(reason) <= 200, reason


def test_skipped_is_checkovs_metadata_shape() -> None:
    assert skipped(findings.NOT_IN_VPC, findings.DEFAULT_CERTIFICATE) == {
        "checkov": {
            "skip": [
                {"id": "CKV_AWS_117", "comment": findings.NOT_IN_VPC[1]},
                {"id": "CKV_AWS_174", "comment": findings.DEFAULT_CERTIFICATE[1]},
            ]
        }
    }


def test_template_skips_use_these_reasons(resources: dict[str, Any]) -> None:
    """Each skip in the template is one of the findings above, word for word."""
    known = set(ACCEPTED.values())
    for name, resource in resources.items():
        for entry in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert (entry["id"], entry["comment"]) in known, name
