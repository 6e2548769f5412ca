"""sns:Publish through the IAM gate: checked on the topic's ARN, as a rule's SNS action
with its role calls it ("Amazon SNS" rule action,
https://docs.aws.amazon.com/iot/latest/developerguide/sns-rule-action.html; "Actions,
resources, and condition keys for Amazon SNS",
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsns.html)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from emulator.aws.iam.operations import ApiRequest, ContinuationTokens, checks
from tests.emulator.aws.iam.conftest import Gate


def test_sns_calls_name_their_topic() -> None:
    body = "Action=Publish&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A1%3At&Message=x"
    request = ApiRequest.parse("sns", "us-east-1", "1", target=None, path="/", body=body.encode())
    assert checks(request, ContinuationTokens()) == [("sns:Publish", "arn:aws:sns:us-east-1:1:t")]
    listing = ApiRequest.parse(
        "sns", "us-east-1", "1", target=None, path="/", body=b"Action=ListTopics"
    )
    assert checks(listing, ContinuationTokens()) == [("sns:ListTopics", "*")]


def test_a_role_publishes_to_its_topic_only(gate: Gate) -> None:
    sns = gate.admin("sns")
    mine = sns.create_topic(Name="mine")["TopicArn"]
    other = sns.create_topic(Name="other")["TopicArn"]
    role = gate.role([{"Effect": "Allow", "Action": "sns:Publish", "Resource": mine}])
    client = gate.as_role(role)("sns")
    client.publish(TargetArn=mine, Message="hot")
    with pytest.raises(ClientError) as caught:
        client.publish(TargetArn=other, Message="hot")
    error = caught.value.response["Error"]
    assert error["Code"] == "AccessDenied"
    assert f"sns:Publish on resource: {other}" in error["Message"]
