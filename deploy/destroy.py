"""`destroy`: empty the stack's buckets (every version), delete the stack, then the
artifacts bucket; a stack that is not there is reported, not a traceback."""

from __future__ import annotations

from typing import Any

from deploy import report
from deploy.artifacts import artifacts_bucket_name, bucket_exists, empty_bucket
from deploy.errors import DeployError
from deploy.preflight import AwsContext
from deploy.stack import Timing, delete_and_wait, describe_stack


def stack_buckets(cfn: Any, stack_name: str) -> list[str]:
    """Physical names of the stack's AWS::S3::Bucket resources."""
    names = []
    for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack_name):
        for res in page.get("StackResourceSummaries", []):
            is_bucket = res.get("ResourceType") == "AWS::S3::Bucket"
            if is_bucket and res.get("ResourceStatus") != "DELETE_COMPLETE":
                names.append(res.get("PhysicalResourceId") or "")
    return sorted(n for n in names if n)


def _empty(s3: Any, bucket: str) -> None:
    if not bucket_exists(s3, bucket):
        return
    report.step(f"emptying bucket {bucket}")
    report.info(f"{empty_bucket(s3, bucket)} object version(s) deleted")


def destroy(ctx: AwsContext, stack_name: str, timing: Timing) -> int:
    """Tear everything down; returns the exit code."""
    cfn, s3 = ctx.client("cloudformation"), ctx.client("s3")
    artifacts = artifacts_bucket_name(stack_name, ctx.account, ctx.region)
    stack = describe_stack(cfn, stack_name)
    if stack is None:
        report.step(
            f"stack {stack_name} does not exist in {ctx.region} (account {ctx.account}): "
            "nothing to delete"
        )
    else:
        status = stack["StackStatus"]
        if status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS":
            raise DeployError(
                f"stack {stack_name} is busy ({status}): wait until it finishes, then run again"
            )
        for bucket in stack_buckets(cfn, stack["StackId"]):
            _empty(s3, bucket)
        delete_and_wait(cfn, stack, timing)
    if bucket_exists(s3, artifacts):
        _empty(s3, artifacts)
        report.step(f"deleting artifacts bucket {artifacts}")
        s3.delete_bucket(Bucket=artifacts)
    report.step(f"destroyed {stack_name}" if stack else "done")
    return 0
