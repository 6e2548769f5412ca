"""IAM building blocks: ARNs in this stack's account, Allow statements, one-service roles.

Every role in the template comes from ``role``: trusted by one service, one inline
policy, nothing managed. Least privilege is written statement by statement where the
role's owner is declared (functions.py, rules.py).
"""

from __future__ import annotations

from typing import Any

from troposphere import Sub, iam

from iot_rules import spec as rule_spec

Statement = dict[str, Any]


def arn(service: str, resource: str) -> Sub:
    """An ARN in this stack's partition, region and account."""
    return Sub(f"arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{resource}")


def topic_arn(rule_text: str) -> Sub:
    """ARN of an IoT topic (or topic pattern) written with iot_rules placeholders."""
    return arn("iot", "topic/" + rule_spec.to_sub(rule_text))


def statement(actions: list[str], resources: list[Any]) -> Statement:
    """One Allow statement (actions sorted, so the template does not depend on their order)."""
    return {"Effect": "Allow", "Action": sorted(actions), "Resource": resources}


def role(
    title: str, service: str, policy: str, statements: list[Any], condition: str | None = None
) -> iam.Role:
    """A role trusted by one service, with one inline policy and nothing else."""
    kwargs: dict[str, Any] = {}
    if condition:
        kwargs["Condition"] = condition
    return iam.Role(
        title,
        AssumeRolePolicyDocument={
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": "sts:AssumeRole",
                }
            ],
        },
        Policies=[
            iam.Policy(
                PolicyName=policy,
                PolicyDocument={"Version": "2012-10-17", "Statement": statements},
            )
        ],
        **kwargs,
    )
