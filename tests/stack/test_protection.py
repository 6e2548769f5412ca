"""What bounds abuse in the template: reserved concurrency on every function, the token
endpoint's rate limit and CORS origin, retries and a visible destination for every
asynchronous invocation a rule makes."""

from __future__ import annotations

from typing import Any

from stack.functions import FUNCTIONS, RULE_INVOKED
from tests.stack.conftest import of_type


def test_every_function_has_reserved_concurrency_from_a_parameter(template: dict[str, Any]):
    for f in FUNCTIONS:
        props = template["Resources"][f.logical_id]["Properties"]
        assert props["ReservedConcurrentExecutions"] == {"Ref": f.concurrency_parameter}
        parameter = template["Parameters"][f.concurrency_parameter]
        assert int(parameter["Default"]) == f.concurrency >= 1 and parameter["MinValue"] == 1


def test_rule_invoked_functions_retry_then_land_in_a_queue(resources: dict[str, Any]):
    configs = of_type(resources, "AWS::Lambda::EventInvokeConfig")
    invoked = {c["Properties"]["FunctionName"]["Ref"] for c in configs.values()}
    assert invoked == RULE_INVOKED == {"ChatFunction", "PresenceFunction"}
    for config in configs.values():
        props = config["Properties"]
        assert props["MaximumRetryAttempts"] == 2 and props["Qualifier"] == "$LATEST"
        destination = props["DestinationConfig"]["OnFailure"]["Destination"]
        assert destination == {"Fn::GetAtt": ["AsyncFailureQueue", "Arn"]}


def test_failure_queues_are_encrypted_and_alarmed(resources: dict[str, Any]):
    alarmed = {
        a["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for a in of_type(resources, "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Namespace") == "AWS/SQS"
    }
    assert alarmed == {"AsyncFailureQueue", "StreamFailureQueue"}
    for name in alarmed:
        assert resources[name]["Properties"]["KmsMasterKeyId"] == {
            "Fn::GetAtt": ["StackKey", "Arn"]
        }


def test_tokens_are_rate_limited_per_source_and_read_by_the_site_only(template: dict[str, Any]):
    resources = template["Resources"]
    table = resources["RateLimitTable"]["Properties"]
    assert table["KeySchema"] == [{"AttributeName": "key", "KeyType": "HASH"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    env = resources["TokenFunction"]["Properties"]["Environment"]["Variables"]
    assert env["TOKEN_REQUESTS_PER_MINUTE"] == {"Ref": "TokenRequestsPerMinute"}
    assert template["Parameters"]["TokenRequestsPerMinute"]["Default"] == "30"
    cors = resources["TokenFunctionUrl"]["Properties"]["Cors"]
    assert cors["AllowOrigins"] == [{"Fn::Sub": "https://${SiteDistribution.DomainName}"}]
