"""S3 and CloudWatch through the IAM gate.

S3 REST calls are told apart by method, path and sub-resource and checked on the
bucket's or the object's ARN ("Required permissions for Amazon S3 API operations",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html);
CloudWatch signs as ``monitoring`` and is checked as ``cloudwatch:<operation>``, metric
calls on ``*`` ("Actions, resources, and condition keys for Amazon CloudWatch",
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html).
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from emulator.aws.iam.operations import ApiRequest, ContinuationTokens, checks
from tests.emulator.aws.iam.conftest import Gate


def s3(method: str, path: str, host: str = "127.0.0.1:5000", **headers: str) -> list:
    request = ApiRequest.parse(
        "s3",
        "us-east-1",
        "123456789012",
        target=None,
        path=path,
        body=b"",
        method=method,
        headers={"host": host, **headers},
    )
    return checks(request, ContinuationTokens())


def test_s3_routes_name_their_permission_and_arn() -> None:
    assert s3("PUT", "/bucket/a%20b/c.json") == [("s3:PutObject", "arn:aws:s3:::bucket/a b/c.json")]
    assert s3("GET", "/bucket/k") == [("s3:GetObject", "arn:aws:s3:::bucket/k")]
    assert s3("HEAD", "/bucket/k") == [("s3:GetObject", "arn:aws:s3:::bucket/k")]
    assert s3("GET", "/bucket/k?versionId=3") == [("s3:GetObjectVersion", "arn:aws:s3:::bucket/k")]
    assert s3("DELETE", "/bucket/k") == [("s3:DeleteObject", "arn:aws:s3:::bucket/k")]
    assert s3("GET", "/bucket/k?acl") == [("s3:GetObjectAcl", "arn:aws:s3:::bucket/k")]
    assert s3("PUT", "/bucket") == [("s3:CreateBucket", "arn:aws:s3:::bucket")]
    assert s3("HEAD", "/bucket") == [("s3:ListBucket", "arn:aws:s3:::bucket")]
    assert s3("GET", "/bucket?list-type=2&prefix=a") == [("s3:ListBucket", "arn:aws:s3:::bucket")]
    assert s3("GET", "/bucket?acl") == [("s3:GetBucketAcl", "arn:aws:s3:::bucket")]
    assert s3("DELETE", "/bucket?tagging") == [("s3:PutBucketTagging", "arn:aws:s3:::bucket")]
    assert s3("GET", "/") == [("s3:ListAllMyBuckets", "*")]
    assert s3("POST", "/bucket/k?uploads") == [("s3:PutObject", "arn:aws:s3:::bucket/k")]
    assert s3("DELETE", "/bucket/k?uploadId=1") == [
        ("s3:AbortMultipartUpload", "arn:aws:s3:::bucket/k")
    ]
    assert s3("PUT", "/bucket/k", **{"x-amz-copy-source": "/src/x%2By"}) == [
        ("s3:PutObject", "arn:aws:s3:::bucket/k"),
        ("s3:GetObject", "arn:aws:s3:::src/x+y"),
    ]
    # The keys of a DeleteObjects are in its XML body, which is not read: checked on *.
    assert s3("POST", "/bucket?delete") == [("s3:DeleteObject", "*")]


def test_s3_virtual_hosted_requests_name_the_bucket_in_the_host() -> None:
    host = "my.bucket.s3.us-east-1.amazonaws.com"
    assert s3("PUT", "/k/x", host) == [("s3:PutObject", "arn:aws:s3:::my.bucket/k/x")]
    # S3's own endpoints without a bucket in front are path-style.
    for endpoint in ("s3.amazonaws.com", "s3.us-east-1.amazonaws.com", "localhost:5000"):
        assert s3("PUT", "/b/k", endpoint) == [("s3:PutObject", "arn:aws:s3:::b/k")]
    assert s3("GET", "/?list-type=2", "logs.localhost:5000") == [
        ("s3:ListBucket", "arn:aws:s3:::logs")
    ]


def test_cloudwatch_is_checked_as_cloudwatch() -> None:
    def call(operation: str, params: dict, **headers: str) -> list:
        request = ApiRequest.parse(
            "monitoring",
            "us-east-1",
            "123456789012",
            target=f"GraniteServiceVersion20100801.{operation}",
            path="/",
            body=json.dumps(params).encode(),
            headers=headers,
        )
        return checks(request, ContinuationTokens())

    assert call("PutMetricData", {"Namespace": "n"}) == [("cloudwatch:PutMetricData", "*")]
    assert call("DeleteAlarms", {"AlarmNames": ["a", "b"]}) == [
        ("cloudwatch:DeleteAlarms", "arn:aws:cloudwatch:us-east-1:123456789012:alarm:a"),
        ("cloudwatch:DeleteAlarms", "arn:aws:cloudwatch:us-east-1:123456789012:alarm:b"),
    ]
    # The RPC v2 CBOR protocol names its operation in the path (its body is not read).
    cbor = ApiRequest.parse(
        "monitoring",
        "us-east-1",
        "123456789012",
        target=None,
        path="/service/GraniteServiceVersion20100801/operation/PutMetricData",
        body=b"\xa0",
        headers={"smithy-protocol": "rpc-v2-cbor"},
    )
    assert checks(cbor, ContinuationTokens()) == [("cloudwatch:PutMetricData", "*")]


def test_a_role_writes_objects_under_its_prefix_only(gate: Gate) -> None:
    admin = gate.admin("s3")
    admin.create_bucket(Bucket="landing")
    role = gate.role(
        [
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::landing/in/*"},
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::landing"},
        ]
    )
    client = gate.as_role(role)("s3")
    client.put_object(Bucket="landing", Key="in/a b+c.json", Body=b"{}")
    assert admin.get_object(Bucket="landing", Key="in/a b+c.json")["Body"].read() == b"{}"
    assert [o["Key"] for o in client.list_objects_v2(Bucket="landing")["Contents"]] == [
        "in/a b+c.json"
    ]
    with pytest.raises(ClientError) as caught:
        client.put_object(Bucket="landing", Key="out/x", Body=b"{}")
    error = caught.value.response["Error"]
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error["Code"] == "AccessDenied"
    assert "s3:PutObject on resource: arn:aws:s3:::landing/out/x" in error["Message"]
    with pytest.raises(ClientError, match="s3:GetObject"):
        client.get_object(Bucket="landing", Key="in/a b+c.json")


def test_a_role_puts_metric_data_with_cloudwatch_permission(gate: Gate) -> None:
    allowed = gate.role(
        [{"Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*"}]
    )
    datum = {"MetricName": "temp", "Value": 21.5, "Unit": "None"}
    gate.as_role(allowed)("cloudwatch").put_metric_data(Namespace="gate", MetricData=[datum])
    metrics = gate.admin("cloudwatch").list_metrics(Namespace="gate")["Metrics"]
    assert [m["MetricName"] for m in metrics] == ["temp"]
    other = gate.role([{"Effect": "Allow", "Action": "cloudwatch:ListMetrics", "Resource": "*"}])
    with pytest.raises(ClientError) as caught:
        gate.as_role(other)("cloudwatch").put_metric_data(Namespace="gate", MetricData=[datum])
    error = caught.value.response["Error"]
    assert error["Code"] == "AccessDenied"
    # A call with no resource: IAM's message names none.
    assert "not authorized to perform: cloudwatch:PutMetricData because" in error["Message"]
