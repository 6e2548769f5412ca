"""Function URL mounts, the site and config.json from the template's metadata or options."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from emulator.serving import ServingOptions, plan
from emulator.template import TemplateError, template_from_dict


def _raw(metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    url = {
        "Type": "AWS::Lambda::Url",
        "Properties": {"TargetFunctionArn": "arn", "AuthType": "NONE"},
    }
    raw: dict[str, Any] = {
        "Resources": {"A": url, "B": url},
        "Outputs": {
            "AUrl": {"Value": {"Fn::Sub": "${A.FunctionUrl}api/x"}},
            "Name": {"Value": "fixed"},
        },
    }
    if metadata is not None:
        raw["Metadata"] = {"LocalEmulator": metadata}
    return raw


def test_every_url_gets_its_own_mount_and_outputs_follow_it() -> None:
    template = template_from_dict(_raw())
    serving = plan(template, ServingOptions(site_config={"a": "AUrl"}))
    assert serving.url_paths == {"A": "/lambda-url/A/", "B": "/lambda-url/B/"}
    assert serving.site_config == {"a": "/lambda-url/A/api/x"}
    assert serving.site is None and serving.open_path == "/"


def test_metadata_and_options_choose_mounts_site_and_config(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    meta = {"FunctionUrlPaths": {"A": "/"}, "SiteConfig": {"a": "AUrl"}, "Site": "site"}
    path = tmp_path / "t.json"
    template = template_from_dict(_raw(meta), path=path)
    serving = plan(
        template, ServingOptions(function_url_paths={"B": "/b/"}, site_config={"n": "Name"})
    )
    assert serving.url_paths == {"A": "/", "B": "/b/"}
    assert serving.site_config == {"a": "/api/x", "n": "fixed"}
    assert serving.site == (tmp_path / "site").resolve()


@pytest.mark.parametrize(
    ("options", "error"),
    [
        (ServingOptions(function_url_paths={"C": "/c/"}), "unknown URLs: C"),
        (ServingOptions(function_url_paths={"A": "x"}), "must start and end with /"),
        (ServingOptions(function_url_paths={"A": "/s/", "B": "/s/"}), "share a mount path"),
        (ServingOptions(site_config={"k": "Missing"}), "outputs the template lacks"),
    ],
)
def test_bad_serving_options_are_clear_errors(options: ServingOptions, error: str) -> None:
    with pytest.raises(TemplateError, match=error):
        plan(template_from_dict(_raw()), options)
