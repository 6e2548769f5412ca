"""The web client: upload web/ and a generated config.json to the site bucket with
content types and cache headers, remove stale files, and invalidate CloudFront."""

from __future__ import annotations

import hashlib
import json
import mimetypes
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploy import report
from deploy.errors import DeployError

CONFIG_KEY = "config.json"
VENDOR_FILE = "vendor/mqtt.min.js"
NO_CACHE = "no-cache"
SHORT_CACHE = "public, max-age=300"
VENDOR_CACHE = "public, max-age=86400"
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
HASHED_NAME = re.compile(r"[.-][0-9a-f]{8,}\.[A-Za-z0-9]+$")
TEXT_TYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".txt": "text/plain",
    ".webmanifest": "application/manifest+json",
}
BINARY_TYPES = {
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".jpg": "image/jpeg",
    ".webp": "image/webp",
    ".woff2": "font/woff2",
}
# The outputs config.json and the invalidation need, and the resource each comes from.
REQUIRED_OUTPUTS = {
    "SiteBucketName": "AWS::S3::Bucket SiteBucket",
    "AuthorizerName": "AWS::IoT::Authorizer ChatAuthorizer",
    "TokenUrl": "AWS::Lambda::Url TokenFunctionUrl",
    "TopicRoot": "the TopicRoot parameter",
    "DistributionId": "AWS::CloudFront::Distribution SiteDistribution",
    "SiteUrl": "AWS::CloudFront::Distribution SiteDistribution",
}


@dataclass(frozen=True)
class WebFile:
    """One object to put in the site bucket."""

    key: str
    body: bytes
    content_type: str
    cache_control: str

    @property
    def md5(self) -> str:
        return hashlib.md5(self.body, usedforsecurity=False).hexdigest()


def content_type(name: str) -> str:
    """MIME type with charset for text, so browsers never guess."""
    suffix = Path(name).suffix.lower()
    if suffix in TEXT_TYPES:
        return f"{TEXT_TYPES[suffix]}; charset=utf-8"
    if suffix in BINARY_TYPES:
        return BINARY_TYPES[suffix]
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def cache_control(key: str) -> str:
    """Pages and config revalidate; hashed names are immutable; vendor files a day."""
    if key.endswith(".html") or key == CONFIG_KEY:
        return NO_CACHE
    if HASHED_NAME.search(key):
        return IMMUTABLE_CACHE
    if key.startswith("vendor/"):
        return VENDOR_CACHE
    return SHORT_CACHE


def check_web_dir(web_dir: Path) -> None:
    """The client and its vendored mqtt.js must be there before anything is deployed."""
    if not (web_dir / "index.html").is_file():
        raise DeployError(f"{web_dir}/index.html not found: is --web-dir the web client?")
    if not (web_dir / VENDOR_FILE).is_file():
        raise DeployError(
            f"{web_dir}/{VENDOR_FILE} is missing: run `make setup` to copy it from npm"
        )


def missing_outputs(out: Mapping[str, str]) -> list[str]:
    """Required outputs the stack does not have."""
    return [k for k in REQUIRED_OUTPUTS if not out.get(k)]


def explain_missing(missing: list[str]) -> str:
    """Which outputs are missing and which resource each should come from."""
    return ", ".join(f"{k} (from {REQUIRED_OUTPUTS[k]})" for k in missing)


def site_config(out: Mapping[str, str], iot_endpoint: str) -> dict[str, Any]:
    """config.json for the browser: where to connect and how to get a token."""
    return {
        "mqttUrl": f"wss://{iot_endpoint}/mqtt",
        "authorizer": out.get("AuthorizerName") or None,
        "tokenUrl": out.get("TokenUrl") or None,
        "topicRoot": out.get("TopicRoot") or None,
    }


def collect(web_dir: Path, config: Mapping[str, Any]) -> list[WebFile]:
    """Every web file (dotfiles and a local config.json left out) plus the generated one."""
    files = []
    for path in sorted(web_dir.rglob("*")):
        rel = path.relative_to(web_dir).as_posix()
        if not path.is_file() or any(p.startswith(".") for p in rel.split("/")):
            continue
        if rel == CONFIG_KEY:
            continue
        files.append(WebFile(rel, path.read_bytes(), content_type(rel), cache_control(rel)))
    body = (json.dumps(dict(config), indent=2, sort_keys=True) + "\n").encode()
    files.append(WebFile(CONFIG_KEY, body, content_type(CONFIG_KEY), NO_CACHE))
    return files


def _listing(s3: Any, bucket: str) -> dict[str, str]:
    """Key -> ETag (without quotes) of what the bucket holds now."""
    out: dict[str, str] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            out[obj["Key"]] = obj.get("ETag", "").strip('"')
    return out


def upload(s3: Any, bucket: str, files: list[WebFile]) -> list[str]:
    """Put new and changed files, delete stale ones; returns the keys that changed."""
    report.step(f"uploading the web client to s3://{bucket}")
    existing = _listing(s3, bucket)
    changed: list[str] = []
    for f in files:
        if existing.get(f.key) == f.md5:
            continue
        s3.put_object(
            Bucket=bucket,
            Key=f.key,
            Body=f.body,
            ContentType=f.content_type,
            CacheControl=f.cache_control,
        )
        report.info(f"{f.key}  ({f.content_type}; {f.cache_control})")
        changed.append(f.key)
    stale = sorted(set(existing) - {f.key for f in files})
    for i in range(0, len(stale), 1000):
        batch = [{"Key": k} for k in stale[i : i + 1000]]
        s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
    for key in stale:
        report.info(f"removed stale {key}")
    if not changed and not stale:
        report.info("web client unchanged")
    return changed + stale


def invalidate(cloudfront: Any, distribution_id: str, keys: list[str]) -> str | None:
    """Invalidate everything once anything changed: room paths (/lobby) are cached copies
    of index.html under their own keys, so per-file paths would miss them."""
    if not keys:
        return None
    paths = ["/*"]
    report.step(f"invalidating CloudFront {distribution_id}: {' '.join(paths)}")
    resp = cloudfront.create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={
            "Paths": {"Quantity": len(paths), "Items": paths},
            "CallerReference": f"deploy-{time.time_ns()}",
        },
    )
    return str(resp["Invalidation"]["Id"])
