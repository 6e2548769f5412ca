"""`deploy` and `plan`: package, upload, change set; `deploy` then executes it and
publishes the web client. The steps live in their own modules; this only orders them."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploy import report, site
from deploy.artifacts import artifacts_bucket_name, ensure_bucket, upload_file, upload_template
from deploy.errors import DeployError
from deploy.package import Package, PackageOptions, package_function, package_layer
from deploy.preflight import AwsContext
from deploy.stack import (
    Timing,
    build_parameters,
    check_state,
    create_change_set,
    current_parameters,
    delete_and_wait,
    delete_change_set,
    describe_stack,
    execute,
    outputs,
    print_changes,
    print_parameter_changes,
    template_args,
)
from deploy.template import artifacts_bucket_parameter, functions, layers, load_template
from emulator.template.document import TemplateDocument


@dataclass
class DeployOptions:
    """Everything a deploy or plan needs besides the AWS context."""

    stack: str
    root: Path
    template: Path
    web_dir: Path
    package: PackageOptions
    parameters: dict[str, str] = field(default_factory=dict)
    replace_failed: bool = False
    allow_missing_outputs: bool = False
    timing: Timing = field(default_factory=Timing)


def package_and_upload(
    ctx: AwsContext, template: TemplateDocument, opts: DeployOptions
) -> tuple[str, dict[str, str]]:
    """Build every function and layer zip and upload it; returns the bucket and the code
    parameters."""
    packages: list[tuple[str, Package]] = []
    for spec in functions(template, opts.root):
        packages.append((spec.code_key_parameter, package_function(spec, opts.package)))
    for layer in layers(template, opts.root):
        packages.append((layer.code_key_parameter, package_layer(layer, opts.package)))
    keys = [p for p, _ in packages]
    if len(set(keys)) != len(keys):
        raise DeployError(
            f"several functions or layers take their code key from one parameter: {keys}"
        )
    s3 = ctx.client("s3")
    bucket = artifacts_bucket_name(opts.stack, ctx.account, ctx.region)
    ensure_bucket(s3, bucket, ctx.region)
    report.step(f"uploading function and layer code to s3://{bucket}")
    for _, pkg in packages:
        upload_file(s3, bucket, pkg.key, pkg.path)
    params = {artifacts_bucket_parameter(template): bucket}
    params.update({param: pkg.key for param, pkg in packages})
    return bucket, params


def _change_set_name(command: str) -> str:
    return f"{command}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:6]}"


def run(ctx: AwsContext, opts: DeployOptions, execute_it: bool) -> int:
    """deploy (execute_it) or plan; returns the exit code, raises DeployError on failure."""
    template = load_template(opts.template)
    if execute_it:
        site.check_web_dir(opts.web_dir)
    cfn, s3 = ctx.client("cloudformation"), ctx.client("s3")
    name = opts.stack
    stack = describe_stack(cfn, name)
    action = check_state(stack, name, opts.replace_failed)
    failed = action == "replace" and stack and stack["StackStatus"] != "REVIEW_IN_PROGRESS"
    if failed and not execute_it:
        assert stack is not None
        return _plan_replacement(template, stack)
    bucket, code_params = package_and_upload(ctx, template, opts)
    if action == "replace" and stack:
        delete_and_wait(cfn, stack, opts.timing)
        stack = None
    kind = "UPDATE" if stack else "CREATE"
    existing = current_parameters(stack) if stack else None
    params = build_parameters(template, {**opts.parameters, **code_params}, existing)
    if existing is not None:
        print_parameter_changes(existing, params)
    targs = template_args(
        template.body, lambda: upload_template(s3, bucket, ctx.region, template.body)
    )
    command = "deploy" if execute_it else "plan"
    cs = create_change_set(cfn, name, kind, targs, params, opts.timing, _change_set_name(command))
    if cs.empty:
        delete_change_set(cfn, cs, name)
        report.step(f"no changes: stack {name} is already up to date (change set deleted)")
        if not execute_it:
            return 0
    elif cs.status != "CREATE_COMPLETE":
        _discard(cfn, cs, name)
        raise DeployError(f"change set for {name} failed: {cs.reason or cs.status}")
    else:
        print_changes(cs)
        if not execute_it:
            _discard(cfn, cs, name)
            report.step("plan only: change set deleted, nothing was changed")
            return 0
        execute(cfn, cs, name, stack["StackStatus"] if stack else None, opts.timing)
    return publish_site(ctx, cfn, opts)


def _discard(cfn: Any, cs: Any, name: str) -> None:
    """Delete the change set, and the empty stack a CREATE change set leaves behind."""
    delete_change_set(cfn, cs, name)
    if cs.kind == "CREATE":
        stack = describe_stack(cfn, cs.stack_id or name)
        if stack and stack["StackStatus"] == "REVIEW_IN_PROGRESS":
            cfn.delete_stack(StackName=stack["StackId"])


def _plan_replacement(template: TemplateDocument, stack: dict[str, Any]) -> int:
    report.step(
        f"stack {stack['StackName']} is in {stack['StackStatus']}: "
        "`deploy --replace-failed` would delete it and create every resource again:"
    )
    resources = sorted(template.resources.items())
    rows = [["Add", lid, res.get("Type", "?"), "-"] for lid, res in resources]
    report.print_table(["Action", "LogicalId", "Type", "Replacement"], rows)
    return 0


def site_values(cfn: Any, stack: dict[str, Any]) -> dict[str, str]:
    """Stack outputs; the site bucket and topic root fall back to the stack's SiteBucket
    resource and TopicRoot parameter (the same values, read another way)."""
    out = outputs(stack)
    if not out.get("SiteBucketName"):
        for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack["StackId"]):
            for res in page.get("StackResourceSummaries", []):
                if res.get("LogicalResourceId") == "SiteBucket" and res.get("PhysicalResourceId"):
                    out["SiteBucketName"] = res["PhysicalResourceId"]
                    report.info("no SiteBucketName output: using the SiteBucket resource")
    params = current_parameters(stack)
    if not out.get("TopicRoot") and params.get("TopicRoot"):
        out["TopicRoot"] = params["TopicRoot"]
        report.info("no TopicRoot output: using the TopicRoot parameter")
    return out


def publish_site(ctx: AwsContext, cfn: Any, opts: DeployOptions) -> int:
    """Upload web/ and config.json, invalidate CloudFront and print the URL last."""
    stack = describe_stack(cfn, opts.stack)
    if stack is None:
        raise DeployError(f"stack {opts.stack} disappeared before the site could be uploaded")
    out = site_values(cfn, stack)
    missing = site.missing_outputs(out)
    if missing:
        text = site.explain_missing(missing)
        if not opts.allow_missing_outputs or "SiteBucketName" in missing:
            raise DeployError(
                f"stack {opts.stack} has no output {text}: the template must declare them "
                "(the web client was not uploaded)"
            )
        report.warn(f"stack outputs missing, continuing without them: {text}")
    assert ctx.iot_endpoint is not None
    files = site.collect(opts.web_dir, site.site_config(out, ctx.iot_endpoint))
    changed = site.upload(ctx.client("s3"), out["SiteBucketName"], files)
    if out.get("DistributionId"):
        inv = site.invalidate(ctx.client("cloudfront"), out["DistributionId"], changed)
        if inv:
            report.info(f"invalidation {inv} started (takes a minute or two)")
    else:
        report.warn("no DistributionId output: CloudFront cache not invalidated")
    report.step("stack outputs")
    report.print_table(["Output", "Value"], [[k, v] for k, v in sorted(out.items())])
    url = out.get("SiteUrl")
    report.step(f"site URL: {url}" if url else "site URL unknown: the stack has no SiteUrl output")
    return 0
