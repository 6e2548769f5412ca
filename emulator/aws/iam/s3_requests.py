"""Which S3 operation a REST request is, and which IAM action on which ARN it asks for.

S3 names its operation by neither a header nor a parameter: by the method, the path
(``/<bucket>/<key>``, or ``/<key>`` on a virtual-hosted ``<bucket>.s3...`` host), the
sub-resource in the query string (``?acl``, ``?uploads``, ``?list-type=2``) and a few
required headers (``x-amz-copy-source``). The routes are read from botocore's S3 model
(each operation's ``requestUri`` and its required query and header members), so they
are the ones the SDK itself sends.

Each operation is then checked as the permission AWS requires of it, on the bucket's
ARN (``arn:aws:s3:::bucket``) for bucket operations and on the object's
(``arn:aws:s3:::bucket/key``) for object operations: "Required permissions for Amazon
S3 API operations",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html,
and "Actions, resources, and condition keys for Amazon S3",
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

import botocore.session

ANY = "*"

# Operations whose permission is not named after them (the S3 user guide's table).
_PERMISSIONS = {
    "ListBuckets": "ListAllMyBuckets",
    "HeadBucket": "ListBucket",
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "ListObjectVersions": "ListBucketVersions",
    "ListMultipartUploads": "ListBucketMultipartUploads",
    "ListParts": "ListMultipartUploadParts",
    "HeadObject": "GetObject",
    "CopyObject": "PutObject",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "UploadPartCopy": "PutObject",
    "CompleteMultipartUpload": "PutObject",
    "DeleteObjects": "DeleteObject",
    "GetBucketCors": "GetBucketCORS",
    "PutBucketCors": "PutBucketCORS",
    "DeleteBucketCors": "PutBucketCORS",
    "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
    "DeleteBucketLifecycle": "PutLifecycleConfiguration",
    "GetBucketEncryption": "GetEncryptionConfiguration",
    "PutBucketEncryption": "PutEncryptionConfiguration",
    "DeleteBucketEncryption": "PutEncryptionConfiguration",
    "DeleteBucketTagging": "PutBucketTagging",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "PutBucketNotificationConfiguration": "PutBucketNotification",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "PutBucketPublicAccessBlock",
    "DeleteBucketOwnershipControls": "PutBucketOwnershipControls",
    "GetBucketReplication": "GetReplicationConfiguration",
    "PutBucketReplication": "PutReplicationConfiguration",
    "DeleteBucketReplication": "PutReplicationConfiguration",
}
# Operations on one object version need the ...Version permission instead.
_VERSIONED = {
    "GetObject": "GetObjectVersion",
    "HeadObject": "GetObjectVersion",
    "DeleteObject": "DeleteObjectVersion",
}
_COPIES = ("CopyObject", "UploadPartCopy")  # also read their x-amz-copy-source

# <bucket>.s3.amazonaws.com, <bucket>.s3.<region>.amazonaws.com, <bucket>.s3-<region>...,
# and moto's own <bucket>.localhost.
_VIRTUAL_HOST = re.compile(
    r"^(?P<bucket>[^/]+?)\.(?:s3(?:[.-][a-z0-9-]+)*\.amazonaws\.com(?:\.cn)?|localhost)$"
)


@dataclass(frozen=True)
class _Route:
    operation: str
    method: str
    scope: str  # "service" (/), "bucket" (/{Bucket}) or "object" (/{Bucket}/{Key+})
    query: tuple[tuple[str, str | None], ...]  # required query keys, with a value or not
    headers: tuple[str, ...]  # required headers, lower-case
    deprecated: bool  # loses to its replacement on the same route (GetBucketLifecycle)

    def matches(
        self, method: str, scope: str, query: Mapping[str, str], headers: Mapping[str, str]
    ) -> bool:
        if (self.method, self.scope) != (method, scope):
            return False
        for key, value in self.query:
            if key not in query or (value is not None and query[key] != value):
                return False
        return all(name in headers for name in self.headers)


# Served on other endpoints than a bucket's: Object Lambda, S3 Express directory buckets.
_OTHER_ENDPOINTS = frozenset({"WriteGetObjectResponse", "ListDirectoryBuckets"})
_SCOPES = {"/": "service", "/{Bucket}": "bucket", "/{Bucket}/{Key+}": "object"}


@functools.cache
def _routes() -> tuple[_Route, ...]:
    """Every S3 operation's route, from botocore's model of the S3 API."""
    model = botocore.session.get_session().get_service_model("s3")
    routes = []
    for name in model.operation_names:
        operation = model.operation_model(name)
        path, _, query_part = str(operation.http.get("requestUri", "/")).partition("?")
        scope = _SCOPES.get(path)
        if scope is None or name in _OTHER_ENDPOINTS:
            continue
        query: list[tuple[str, str | None]] = []
        for part in filter(None, query_part.split("&")):
            key, equals, value = part.partition("=")
            if key != "x-id":
                query.append((key, value if equals else None))
        headers: list[str] = []
        shape = operation.input_shape
        for member in shape.required_members if shape is not None else ():
            serialization = shape.members[member].serialization
            location, wire = serialization.get("location"), serialization.get("name", member)
            if location == "querystring" and all(key != wire for key, _ in query):
                query.append((wire, None))
            elif location == "header":
                headers.append(wire.lower())
        method = operation.http["method"]
        routes.append(
            _Route(name, method, scope, tuple(query), tuple(headers), operation.deprecated)
        )
    return tuple(routes)


@dataclass(frozen=True)
class S3Request:
    """An S3 REST request: its operation, bucket and key."""

    operation: str  # "" when no S3 operation has this route
    bucket: str
    key: str
    version_id: str | None
    copy_source: str | None

    @classmethod
    def parse(cls, method: str, path: str, host: str, headers: Mapping[str, str]) -> S3Request:
        """``path`` as sent (percent-encoded, with its query); ``headers`` lower-case."""
        parts = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        virtual = _VIRTUAL_HOST.match(host.rsplit(":", 1)[0].lower()) if host else None
        if virtual is not None:
            bucket, key = virtual["bucket"], parts.path[1:]
        else:
            bucket, _, key = parts.path[1:].partition("/")
        bucket, key = unquote(bucket), unquote(key)
        scope = "object" if key else "bucket" if bucket else "service"
        method = method.upper()
        named = query.get("x-id")  # newer SDKs name the operation in the query
        candidates = [
            r
            for r in _routes()
            if (r.operation == named and r.method == method)
            or r.matches(method, scope, query, headers)
        ]
        # The most specific route wins: GET /b?acl is GetBucketAcl, not ListObjects.
        best = max(
            candidates,
            key=lambda r: (r.operation == named, len(r.query) + len(r.headers), not r.deprecated),
            default=None,
        )
        return cls(
            operation=best.operation if best is not None else "",
            bucket=bucket,
            key=key,
            version_id=query.get("versionId"),
            copy_source=headers.get("x-amz-copy-source"),
        )

    def checks(self) -> list[tuple[str, str]]:
        """The (action, ARN) pairs the request needs; an unknown route is checked on ``*``."""
        if not self.operation:
            return [("s3:*", ANY)]
        name = self.operation
        if self.version_id and name in _VERSIONED:
            name = _VERSIONED[name]
        action = f"s3:{_PERMISSIONS.get(name, name)}"
        if self.key:
            resource = f"arn:aws:s3:::{self.bucket}/{self.key}"
        elif self.bucket and self.operation != "DeleteObjects":
            resource = f"arn:aws:s3:::{self.bucket}"
        else:
            resource = ANY  # ListBuckets; DeleteObjects names its keys in its body
        found = [(action, resource)]
        if self.operation in _COPIES and self.copy_source:
            source = unquote(self.copy_source).lstrip("/").split("?versionId=", 1)
            read = "s3:GetObjectVersion" if len(source) > 1 else "s3:GetObject"
            found.append((read, f"arn:aws:s3:::{source[0]}"))
        return found
