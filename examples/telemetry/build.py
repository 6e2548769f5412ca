"""Generate template.json, the telemetry example: `python -m examples.telemetry.build`.

Devices publish readings to telemetry/<device id>. A default authorizer (the domain
configuration's, so devices name none) checks each device's password; one rule stores
every reading in DynamoDB, another sends readings over a threshold to an SNS topic.
Nothing in it is specific to the local emulator, which runs it unchanged.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from troposphere import GetAtt, Output, Parameter, Ref, Sub, Template
from troposphere.awslambda import Code, Environment, Function, Permission
from troposphere.dynamodb import (
    AttributeDefinition,
    KeySchema,
    PointInTimeRecoverySpecification,
    Table,
)
from troposphere.iam import Policy, Role
from troposphere.iot import (
    Action,
    Authorizer,
    AuthorizerConfig,
    DomainConfiguration,
    DynamoDBv2Action,
    PutItemInput,
    SnsAction,
    TopicRule,
    TopicRulePayload,
)
from troposphere.logs import LogGroup
from troposphere.secretsmanager import GenerateSecretString, Secret
from troposphere.sns import Topic

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE / "template.json"
AUTHORIZER_NAME = "${AWS::StackName}-devices"


def _checkov_skip(**reasons: str) -> dict:
    """Resource Metadata that tells checkov why a finding does not apply (stack/scan.py)."""
    return {"checkov": {"skip": [{"id": k, "comment": v} for k, v in reasons.items()]}}


# An AWS managed key encrypts these; a customer managed key would cost $1 a month each
# and this example's data (readings, a log of refusals, one HMAC key) does not need it.
MANAGED_KEY = "Encrypted with the AWS managed key; a customer managed key is not needed here"


def _trust(service: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        ],
    }


def _role(name: str, service: str, action: str | list[str], resource: object) -> Role:
    statement = {"Effect": "Allow", "Action": action, "Resource": resource}
    return Role(
        name,
        AssumeRolePolicyDocument=_trust(service),
        Policies=[
            Policy(
                PolicyName="least-privilege",
                PolicyDocument={"Version": "2012-10-17", "Statement": [statement]},
            )
        ],
    )


def _authorizer(t: Template) -> None:
    t.add_resource(
        Secret(
            "FleetKey",
            Description="HMAC key the device passwords are derived from",
            GenerateSecretString=GenerateSecretString(PasswordLength=48, ExcludePunctuation=True),
            Metadata=_checkov_skip(CKV_AWS_149=MANAGED_KEY),
        )
    )
    t.add_resource(
        LogGroup(
            "AuthorizerLogGroup",
            LogGroupName=Sub("/aws/lambda/${AWS::StackName}-device-authorizer"),
            RetentionInDays=14,
            Metadata=_checkov_skip(CKV_AWS_158=MANAGED_KEY),
        )
    )
    role = _role(
        "AuthorizerRole", "lambda.amazonaws.com", "secretsmanager:GetSecretValue", Ref("FleetKey")
    )
    role.Policies.append(
        Policy(
            PolicyName="logs",
            PolicyDocument={
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "Resource": GetAtt("AuthorizerLogGroup", "Arn"),
                    }
                ],
            },
        )
    )
    t.add_resource(role)
    t.add_resource(
        Function(
            "AuthorizerFunction",
            FunctionName=Sub("${AWS::StackName}-device-authorizer"),
            Runtime="python3.12",
            Handler="index.handler",
            Code=Code(ZipFile=(HERE / "authorizer.py").read_text()),
            Role=GetAtt("AuthorizerRole", "Arn"),
            Timeout=5,
            ReservedConcurrentExecutions=10,
            Environment=Environment(Variables={"FLEET_KEY_ARN": Ref("FleetKey")}),
            DependsOn=["AuthorizerLogGroup"],
            Metadata=_checkov_skip(
                CKV_AWS_116="IoT Core invokes the authorizer synchronously: a DLQ never applies",
                CKV_AWS_117="It reaches only Secrets Manager: no private network to join",
                CKV_AWS_173="Its one variable is the fleet key's ARN, not a secret",
            ),
        )
    )
    t.add_resource(
        Authorizer(
            "DeviceAuthorizer",
            AuthorizerName=Sub(AUTHORIZER_NAME),
            AuthorizerFunctionArn=GetAtt("AuthorizerFunction", "Arn"),
            SigningDisabled=True,
            Status="ACTIVE",
        )
    )
    t.add_resource(
        Permission(
            "AuthorizerInvokePermission",
            FunctionName=Ref("AuthorizerFunction"),
            Action="lambda:InvokeFunction",
            Principal="iot.amazonaws.com",
            SourceArn=GetAtt("DeviceAuthorizer", "Arn"),
            SourceAccount=Ref("AWS::AccountId"),
        )
    )
    # Devices connect to this domain without naming an authorizer; it may not be overridden.
    t.add_resource(
        DomainConfiguration(
            "DeviceDomain",
            DomainConfigurationName=Sub("${AWS::StackName}-devices"),
            ServiceType="DATA",
            AuthorizerConfig=AuthorizerConfig(
                DefaultAuthorizerName=Ref("DeviceAuthorizer"), AllowAuthorizerOverride=False
            ),
        )
    )


def _rules(t: Template) -> None:
    t.add_parameter(
        Parameter(
            "AlertTemperature",
            Type="Number",
            Default=50,
            Description="A reading above this temperature is sent to the alert topic",
        )
    )
    t.add_resource(
        Table(
            "ReadingsTable",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                AttributeDefinition(AttributeName="device", AttributeType="S"),
                AttributeDefinition(AttributeName="ts", AttributeType="N"),
            ],
            KeySchema=[
                KeySchema(AttributeName="device", KeyType="HASH"),
                KeySchema(AttributeName="ts", KeyType="RANGE"),
            ],
            PointInTimeRecoverySpecification=PointInTimeRecoverySpecification(
                PointInTimeRecoveryEnabled=True
            ),
            Metadata=_checkov_skip(CKV_AWS_119=MANAGED_KEY),
        )
    )
    t.add_resource(
        Topic("AlertTopic", DisplayName="Telemetry alerts", KmsMasterKeyId="alias/aws/sns")
    )
    t.add_resource(
        _role(
            "StoreRuleRole", "iot.amazonaws.com", "dynamodb:PutItem", GetAtt("ReadingsTable", "Arn")
        )
    )
    t.add_resource(_role("AlertRuleRole", "iot.amazonaws.com", "sns:Publish", Ref("AlertTopic")))
    t.add_resource(
        TopicRule(
            "StoreRule",
            TopicRulePayload=TopicRulePayload(
                AwsIotSqlVersion="2016-03-23",
                RuleDisabled=False,
                Sql="SELECT *, topic(2) AS device, timestamp() AS ts FROM 'telemetry/+'",
                Actions=[
                    Action(
                        DynamoDBv2=DynamoDBv2Action(
                            PutItem=PutItemInput(TableName=Ref("ReadingsTable")),
                            RoleArn=GetAtt("StoreRuleRole", "Arn"),
                        )
                    )
                ],
            ),
        )
    )
    t.add_resource(
        TopicRule(
            "AlertRule",
            TopicRulePayload=TopicRulePayload(
                AwsIotSqlVersion="2016-03-23",
                RuleDisabled=False,
                Sql=Sub(
                    "SELECT topic(2) AS device, temperature FROM 'telemetry/+' "
                    "WHERE temperature > ${AlertTemperature}"
                ),
                Actions=[
                    Action(
                        Sns=SnsAction(
                            TargetArn=Ref("AlertTopic"),
                            MessageFormat="RAW",
                            RoleArn=GetAtt("AlertRuleRole", "Arn"),
                        )
                    )
                ],
            ),
        )
    )


def build() -> Template:
    t = Template(Description="Device telemetry on AWS IoT Core: store and alert (example)")
    t.set_version("2010-09-09")
    _authorizer(t)
    _rules(t)
    t.add_output(Output("ReadingsTableName", Value=Ref("ReadingsTable")))
    t.add_output(Output("AlertTopicArn", Value=Ref("AlertTopic")))
    t.add_output(Output("FleetKeyArn", Value=Ref("FleetKey")))
    return t


def render() -> str:
    return json.dumps(build().to_dict(), indent=1, sort_keys=True) + "\n"


def main() -> int:
    TEMPLATE.write_text(render())
    print(f"wrote {TEMPLATE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
