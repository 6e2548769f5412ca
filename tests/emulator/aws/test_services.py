"""moto on loopback: provisioning creates what the template declares."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator.aws import MOTO_SERVICE_IDS, AwsServices
from emulator.aws.iam import LAMBDA, CredentialIssuer, RoleClients
from emulator.aws.provision import create_bucket, uses_aws_managed_policies
from emulator.template import load_template, template_from_dict

REPO = Path(__file__).resolve().parents[3]
CHAT_TEMPLATE = REPO / "templates" / "chat.json"

RAW: dict[str, Any] = {
    "Parameters": {"Retention": {"Type": "Number", "Default": 7}},
    "Resources": {
        "MessagesTable": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "TableName": {"Fn::Sub": "${AWS::StackName}-messages"},
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [
                    {"AttributeName": "room", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "S"},
                ],
                "KeySchema": [
                    {"AttributeName": "room", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                "TimeToLiveSpecification": {"AttributeName": "expiresAt", "Enabled": True},
            },
        },
        "ConnectionsTable": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "ProvisionedThroughput": {"ReadCapacityUnits": "2", "WriteCapacityUnits": 3},
                "AttributeDefinitions": [
                    {"AttributeName": "clientId", "AttributeType": "S"},
                    {"AttributeName": "room", "AttributeType": "S"},
                ],
                "KeySchema": [{"AttributeName": "clientId", "KeyType": "HASH"}],
                "GlobalSecondaryIndexes": [
                    {
                        "IndexName": "room-index",
                        "KeySchema": [{"AttributeName": "room", "KeyType": "HASH"}],
                        "Projection": {"ProjectionType": "ALL"},
                    }
                ],
            },
        },
        "ChatStream": {
            "Type": "AWS::Kinesis::Stream",
            "Properties": {"StreamModeDetails": {"StreamMode": "ON_DEMAND"}},
        },
        "SmallStream": {"Type": "AWS::Kinesis::Stream", "Properties": {"ShardCount": 2}},
        "TokenSecret": {
            "Type": "AWS::SecretsManager::Secret",
            "Properties": {
                "Name": {"Fn::Sub": "${AWS::StackName}/token-key"},
                "GenerateSecretString": {"PasswordLength": 64, "ExcludePunctuation": True},
            },
        },
        "FailureQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {"MessageRetentionPeriod": 1209600, "VisibilityTimeout": 45},
        },
        "Logs": {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {
                "LogGroupName": {"Fn::Sub": "/aws/lambda/${AWS::StackName}-chat"},
                "RetentionInDays": 14,
            },
        },
        "Site": {"Type": "AWS::S3::Bucket"},
    },
}


def _stack() -> str:
    return "t" + uuid.uuid4().hex[:8]


def test_env_points_every_service_at_moto(aws: AwsServices) -> None:
    env = aws.env()
    assert aws.endpoint_url.startswith("http://127.0.0.1:")
    for sid in MOTO_SERVICE_IDS:
        assert env[f"AWS_ENDPOINT_URL_{sid}"] == aws.endpoint_url
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["AWS_ACCESS_KEY_ID"] == "testing"


def test_provision_creates_what_the_template_declares(aws: AwsServices) -> None:
    stack = _stack()
    template = template_from_dict(RAW, stack_name=stack)
    done = aws.provision(template)
    assert done.created["AWS::DynamoDB::Table"] == [
        f"{stack}-messages",
        f"{stack}-ConnectionsTable",
    ]
    assert done.created["AWS::S3::Bucket"] == [f"{stack}-site"]  # the generated name
    assert aws.client("s3").head_bucket(Bucket=f"{stack}-site")

    dynamodb = aws.client("dynamodb")
    messages = dynamodb.describe_table(TableName=f"{stack}-messages")["Table"]
    assert [k["AttributeName"] for k in messages["KeySchema"]] == ["room", "sk"]
    assert messages["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ttl = dynamodb.describe_time_to_live(TableName=f"{stack}-messages")
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expiresAt"
    connections = dynamodb.describe_table(TableName=f"{stack}-ConnectionsTable")["Table"]
    assert connections["GlobalSecondaryIndexes"][0]["IndexName"] == "room-index"
    assert connections["ProvisionedThroughput"]["WriteCapacityUnits"] == 3

    kinesis = aws.client("kinesis")
    on_demand = kinesis.describe_stream_summary(StreamName=f"{stack}-ChatStream")
    assert on_demand["StreamDescriptionSummary"]["StreamModeDetails"]["StreamMode"] == "ON_DEMAND"
    small = kinesis.list_shards(StreamName=f"{stack}-SmallStream")
    assert len(small["Shards"]) == 2

    secret_arn = template.resolve({"Ref": "TokenSecret"})
    value = aws.client("secretsmanager").get_secret_value(SecretId=secret_arn)["SecretString"]
    assert len(value) == 64 and value.isalnum()

    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=f"{stack}-FailureQueue")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "45"

    groups = aws.client("logs").describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{stack}")
    assert groups["logGroups"][0]["retentionInDays"] == 14


def test_secret_differs_between_stacks(aws: AwsServices) -> None:
    values = []
    for _ in range(2):
        template = template_from_dict(RAW, stack_name=_stack())
        aws.provision(template)
        arn = template.resolve({"Ref": "TokenSecret"})
        values.append(aws.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"])
    assert values[0] != values[1]


def test_another_process_reaches_moto_through_env(aws: AwsServices) -> None:
    stack = _stack()
    aws.provision(template_from_dict(RAW, stack_name=stack))
    code = (
        "import boto3, json;"
        f"print(json.dumps(boto3.client('dynamodb').describe_table(TableName='{stack}-messages')"
        "['Table']['TableName']))"
    )
    env = {"PATH": os.environ.get("PATH", ""), **aws.env()}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == f"{stack}-messages"


def test_stop_is_clean() -> None:
    services = AwsServices().start()
    url = services.endpoint_url
    services.stop()
    services.stop()  # idempotent
    assert url
    with pytest.raises(RuntimeError, match="start"):
        services.env()


def test_provision_real_chat_template(aws: AwsServices) -> None:
    stack = _stack()
    template = load_template(CHAT_TEMPLATE, stack_name=stack)
    done = aws.provision(template)
    tables = {r.physical_id for r in template.resources(type="AWS::DynamoDB::Table")}
    assert set(done.created["AWS::DynamoDB::Table"]) == tables
    assert done.created["AWS::Kinesis::Stream"]
    (secret,) = template.resources(type="AWS::SecretsManager::Secret")
    value = aws.client("secretsmanager").get_secret_value(SecretId=secret.ref)["SecretString"]
    assert len(value) >= 32


def test_moto_exits_with_its_parent() -> None:
    """A killed emulator cannot leave moto running: it exits when its stdin closes."""
    script = (
        "import sys, os\n"
        "from emulator.aws import AwsServices\n"
        "aws = AwsServices().start()\n"
        "print(aws._server.pid, flush=True)\n"
        "os._exit(0)\n"  # no stop(): as if killed
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parents[3],
        capture_output=True,
        text=True,
        timeout=60,
    )
    pid = int(done.stdout.split()[-1])
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(pid, 9)
    raise AssertionError("moto outlived its parent")


def test_busy_port_is_an_error_not_a_hang() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(OSError, match="moto did not start"):
            AwsServices(port=port).start()


BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


def role_template(stack: str, managed: list[str] | None = None) -> Any:
    trust = {"Effect": "Allow", "Principal": {"Service": LAMBDA}, "Action": "sts:AssumeRole"}
    listing = {"Effect": "Allow", "Action": "sqs:ListQueues", "Resource": "*"}
    properties: dict[str, Any] = {
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [trust]},
        "Policies": [
            {
                "PolicyName": "list",
                "PolicyDocument": {"Version": "2012-10-17", "Statement": [listing]},
            }
        ],
    }
    if managed:
        properties["ManagedPolicyArns"] = managed
    raw = {"Resources": {"FnRole": {"Type": "AWS::IAM::Role", "Properties": properties}}}
    return template_from_dict(raw, stack_name=stack)


def sqs_as(services: AwsServices, role_arn: str) -> Any:
    issuer = CredentialIssuer(services.client)
    return RoleClients(issuer, services.endpoint_url, services.region).client(
        "sqs", role_arn, LAMBDA, "fn"
    )


def test_roles_are_provisioned_and_what_they_sign_is_evaluated(aws: AwsServices) -> None:
    stack = _stack()
    template = role_template(stack)
    assert aws.provision(template).created["AWS::IAM::Role"] == [f"{stack}-FnRole"]
    assert not uses_aws_managed_policies(template)
    sqs = sqs_as(aws, template.resolve({"Fn::GetAtt": ["FnRole", "Arn"]}))
    sqs.list_queues()
    with pytest.raises(ClientError) as denied:
        sqs.create_queue(QueueName=f"{stack}-q")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"


def test_without_iam_roles_are_not_evaluated_and_aws_policies_attach() -> None:
    stack = _stack()
    template = role_template(stack, managed=[BASIC_EXECUTION])
    assert uses_aws_managed_policies(template)
    with AwsServices(iam=False, aws_managed_policies=True) as services:
        services.provision(template)
        attached = services.client("iam").list_attached_role_policies(RoleName=f"{stack}-FnRole")
        assert [p["PolicyArn"] for p in attached["AttachedPolicies"]] == [BASIC_EXECUTION]
        sqs = sqs_as(services, template.resolve({"Fn::GetAtt": ["FnRole", "Arn"]}))
        assert sqs.create_queue(QueueName=f"{stack}-q")["QueueUrl"].endswith(f"{stack}-q")


def test_a_bucket_outside_us_east_1_names_its_region(aws: AwsServices) -> None:
    """CreateBucket needs a LocationConstraint in any other region (the S3 API reference's
    CreateBucket, https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html)."""
    bucket = f"{_stack()}-eu"
    template = template_from_dict(
        {"Resources": {"Eu": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": bucket}}}},
        region="eu-west-1",
    )
    create_bucket(aws.client("s3", region_name="eu-west-1"), template.resource("Eu"))
    location = aws.client("s3").get_bucket_location(Bucket=bucket)["LocationConstraint"]
    assert location == "eu-west-1"


def delivery_template(stack: str, destination: dict[str, Any]) -> Any:
    return template_from_dict(
        {
            "Resources": {
                "Archive": {"Type": "AWS::S3::Bucket"},
                "Role": {
                    "Type": "AWS::IAM::Role",
                    "Properties": {
                        "AssumeRolePolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Principal": {"Service": "firehose.amazonaws.com"},
                                    "Action": "sts:AssumeRole",
                                }
                            ],
                        }
                    },
                },
                "Delivery": {
                    "Type": "AWS::KinesisFirehose::DeliveryStream",
                    "Properties": destination,
                },
            }
        },
        stack_name=stack,
    )


def test_a_delivery_stream_to_s3_delivers_to_the_templates_bucket(aws: AwsServices) -> None:
    stack = _stack()
    template = delivery_template(
        stack,
        {
            "ExtendedS3DestinationConfiguration": {
                "BucketARN": {"Fn::GetAtt": ["Archive", "Arn"]},
                "RoleARN": {"Fn::GetAtt": ["Role", "Arn"]},
                "Prefix": "raw/",
                "BufferingHints": {"IntervalInSeconds": 60, "SizeInMBs": 1},
            }
        },
    )
    done = aws.provision(template)
    name = template.resource("Delivery").physical_id
    assert done.created["AWS::KinesisFirehose::DeliveryStream"] == [name]
    aws.client("firehose").put_record(DeliveryStreamName=name, Record={"Data": b'{"t": 21}\n'})
    bucket = template.resource("Archive").physical_id
    keys = [o["Key"] for o in aws.client("s3").list_objects_v2(Bucket=bucket)["Contents"]]
    assert len(keys) == 1 and keys[0].startswith("raw/")
    body = aws.client("s3").get_object(Bucket=bucket, Key=keys[0])["Body"].read()
    assert body == b'{"t": 21}\n'


def test_a_delivery_stream_without_an_s3_destination_is_not_created(
    aws: AwsServices, caplog: pytest.LogCaptureFixture
) -> None:
    stack = _stack()
    template = delivery_template(
        stack, {"HttpEndpointDestinationConfiguration": {"EndpointConfiguration": {"Url": "x"}}}
    )
    done = aws.provision(template)
    assert "AWS::KinesisFirehose::DeliveryStream" not in done.created
    assert "delivery stream Delivery not created: no S3 destination" in caplog.text
    streams = aws.client("firehose").list_delivery_streams()["DeliveryStreamNames"]
    assert template.resource("Delivery").physical_id not in streams


def test_a_delivery_stream_fed_by_kinesis_is_not_created(
    aws: AwsServices, caplog: pytest.LogCaptureFixture
) -> None:
    template = delivery_template(
        _stack(),
        {
            "DeliveryStreamType": "KinesisStreamAsSource",
            "S3DestinationConfiguration": {
                "BucketARN": {"Fn::GetAtt": ["Archive", "Arn"]},
                "RoleARN": {"Fn::GetAtt": ["Role", "Arn"]},
            },
        },
    )
    done = aws.provision(template)
    assert "AWS::KinesisFirehose::DeliveryStream" not in done.created
    assert "DeliveryStreamType KinesisStreamAsSource (only DirectPut is emulated)" in caplog.text
