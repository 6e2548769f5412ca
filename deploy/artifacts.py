"""The artifacts bucket: one per account, region and stack, private and encrypted,
holding function zips (and large templates) under content-hash keys."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from deploy import report
from deploy.errors import DeployError

MAX_BUCKET_NAME = 63


def artifacts_bucket_name(stack: str, account: str, region: str) -> str:
    """`<stack>-artifacts-<account>-<region>`, shortened with a hash if over 63 characters."""
    name = f"{stack}-artifacts-{account}-{region}".lower()
    if len(name) <= MAX_BUCKET_NAME:
        return name
    suffix = f"-artifacts-{account}-{region}"
    digest = hashlib.sha256(stack.encode()).hexdigest()[:8]
    head = stack.lower()[: MAX_BUCKET_NAME - len(suffix) - len(digest) - 1].rstrip("-")
    return f"{head}-{digest}{suffix}"


def bucket_exists(s3: Any, bucket: str) -> bool:
    """True if the bucket is ours; a bucket owned by someone else is an error."""
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("404", "NoSuchBucket", "NotFound"):
            return False
        if code in ("403", "AccessDenied", "Forbidden"):
            raise DeployError(
                f"bucket {bucket} exists but this account cannot use it (owned by another "
                "account, or s3:ListBucket denied)"
            ) from None
        raise
    return True


def ensure_bucket(s3: Any, bucket: str, region: str) -> None:
    """Create the bucket if missing: SSE-S3, all public access blocked, owner enforced."""
    if bucket_exists(s3, bucket):
        return
    report.step(f"creating artifacts bucket {bucket}")
    args: dict[str, Any] = {"Bucket": bucket, "ObjectOwnership": "BucketOwnerEnforced"}
    if region != "us-east-1":
        args["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**args)
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )


def object_exists(s3: Any, bucket: str, key: str) -> bool:
    """HEAD the key; 404 means upload."""
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def upload_file(s3: Any, bucket: str, key: str, path: Path) -> bool:
    """Upload unless the content-addressed key is already there; True if uploaded."""
    if object_exists(s3, bucket, key):
        report.info(f"s3://{bucket}/{key} already uploaded")
        return False
    report.info(f"uploading s3://{bucket}/{key}")
    s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ServerSideEncryption="AES256")
    return True


def upload_template(s3: Any, bucket: str, region: str, body: str) -> str:
    """Store a template too large for TemplateBody; return its S3 URL for TemplateURL."""
    data = body.encode("utf-8")
    key = f"templates/{hashlib.sha256(data).hexdigest()}.json"
    if not object_exists(s3, bucket, key):
        s3.put_object(Bucket=bucket, Key=key, Body=data, ServerSideEncryption="AES256")
    host = "s3.amazonaws.com" if region == "us-east-1" else f"s3.{region}.amazonaws.com"
    return f"https://{bucket}.{host}/{key}"


def empty_bucket(s3: Any, bucket: str) -> int:
    """Delete every object version and delete marker; returns how many were deleted."""
    count = 0
    paginator = s3.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=bucket):
        items = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        for i in range(0, len(items), 1000):
            batch = items[i : i + 1000]
            resp = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
            errors = resp.get("Errors", [])
            if errors:
                first = errors[0]
                raise DeployError(
                    f"could not empty bucket {bucket}: {first.get('Key')}: {first.get('Message')}"
                )
            count += len(batch)
    return count
