"""Checks that stop a run before it changes anything: profile, region, credentials and
the account's IoT data endpoint. Each failure is one line the user can act on."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)

from deploy import report
from deploy.errors import DeployError

# A region boto3 does not know yet (newer than this botocore) still has this shape.
REGION_PATTERN = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
PARTITIONS = ("aws", "aws-cn", "aws-us-gov")


@dataclass
class AwsContext:
    """Who and where we deploy: the session every client comes from, and its identity."""

    session: boto3.Session
    region: str
    account: str
    arn: str
    iot_endpoint: str | None = None

    def client(self, service: str) -> Any:
        """A client of this session and region (endpoint variables still apply)."""
        return self.session.client(service, region_name=self.region)


def make_session(profile: str | None, region: str | None) -> boto3.Session:
    """A boto3 session; an unknown profile is a one-line error."""
    try:
        return boto3.Session(profile_name=profile or None, region_name=region or None)
    except ProfileNotFound:
        raise DeployError(
            f"AWS profile {profile!r} not found in ~/.aws/config or ~/.aws/credentials: "
            "pass --profile (or set AWS_PROFILE) to a configured profile"
        ) from None


def known_regions(session: boto3.Session) -> set[str]:
    """Every region boto3 knows CloudFormation in, across partitions."""
    regions: set[str] = set()
    for partition in PARTITIONS:
        try:
            regions.update(session.get_available_regions("cloudformation", partition))
        except (BotoCoreError, ValueError):
            continue
    return regions


def check_region(session: boto3.Session) -> str:
    """The session's region, which must be set and look like a real one."""
    region = session.region_name
    if not region:
        raise DeployError(
            "no AWS region: pass --region, set AWS_REGION (or AWS_DEFAULT_REGION), "
            "or set region in the profile"
        )
    if region not in known_regions(session) and not REGION_PATTERN.match(region):
        raise DeployError(
            f"unknown AWS region {region!r}: use a region name such as us-east-1 or eu-west-1"
        )
    return region


def check_credentials(session: boto3.Session, region: str) -> tuple[str, str]:
    """STS GetCallerIdentity: (account, arn), or why the credentials do not work."""
    try:
        ident = session.client("sts", region_name=region).get_caller_identity()
    except (NoCredentialsError, PartialCredentialsError):
        raise DeployError(
            "no AWS credentials found: configure a profile (aws configure / aws sso login) "
            "and set AWS_PROFILE, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        ) from None
    except EndpointConnectionError as exc:
        raise DeployError(f"cannot reach AWS STS ({exc.kwargs.get('endpoint_url')})") from None
    except ClientError as exc:
        err = exc.response.get("Error", {})
        raise DeployError(
            f"AWS rejected the credentials ({err.get('Code')}): {err.get('Message')}"
        ) from None
    except NoRegionError:
        raise DeployError("no AWS region: pass --region or set AWS_REGION") from None
    except BotoCoreError as exc:
        raise DeployError(f"could not load AWS credentials: {exc}") from None
    return ident["Account"], ident["Arn"]


def iot_data_endpoint(ctx: AwsContext) -> str:
    """The account's IoT data endpoint (ATS), which browsers connect to."""
    try:
        resp = ctx.client("iot").describe_endpoint(endpointType="iot:Data-ATS")
    except ClientError as exc:
        err = exc.response.get("Error", {})
        raise DeployError(
            f"cannot read the IoT data endpoint (iot:DescribeEndpoint): {err.get('Code')}: "
            f"{err.get('Message')}"
        ) from None
    except EndpointConnectionError as exc:
        raise DeployError(f"cannot reach AWS IoT ({exc.kwargs.get('endpoint_url')})") from None
    return str(resp["endpointAddress"])


def preflight(profile: str | None, region: str | None, need_iot: bool = True) -> AwsContext:
    """Run every check in order; the first failure raises DeployError."""
    report.step("checking AWS profile, region and credentials")
    session = make_session(profile, region)
    region_name = check_region(session)
    account, arn = check_credentials(session, region_name)
    ctx = AwsContext(session=session, region=region_name, account=account, arn=arn)
    report.info(f"account {account}, region {region_name}, as {arn}")
    if need_iot:
        ctx.iot_endpoint = iot_data_endpoint(ctx)
        report.info(f"IoT data endpoint {ctx.iot_endpoint}")
    return ctx
