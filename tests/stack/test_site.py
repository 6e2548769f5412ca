"""stack/site.py: the web client's bucket is private, served only through CloudFront."""

from __future__ import annotations

import json
from typing import Any


def test_site_is_private_behind_cloudfront(resources: dict[str, Any]) -> None:
    """Only the distribution (OAC) reads the bucket; viewers are sent to HTTPS."""
    bucket = resources["SiteBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    policy = resources["SiteBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    allows = [s for s in policy if s["Effect"] == "Allow"]
    assert len(allows) == 1
    assert allows[0]["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allows[0]["Action"] == "s3:GetObject"
    assert "${SiteDistribution}" in json.dumps(allows[0]["Condition"])
    config = resources["SiteDistribution"]["Properties"]["DistributionConfig"]
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert config["Origins"][0]["OriginAccessControlId"] == {
        "Fn::GetAtt": ["SiteOriginAccessControl", "Id"]
    }
    csp = resources["SiteHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"][
        "SecurityHeadersConfig"
    ]["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "connect-src 'self' wss://*.amazonaws.com https://*.on.aws",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ):
        assert directive in csp


def test_site_files_are_versioned_and_old_versions_expire(resources: dict[str, Any]) -> None:
    """A bad upload can be rolled back for 30 days; older versions cost nothing after."""
    bucket = resources["SiteBucket"]["Properties"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    (rule,) = bucket["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled"
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}


def test_web_acl_and_access_logs_are_opt_in(resources: dict[str, Any]) -> None:
    """SiteWebAclArn and SiteLogBucket attach an existing web ACL / log bucket; empty
    (the default) leaves the property out."""
    config = resources["SiteDistribution"]["Properties"]["DistributionConfig"]
    assert config["WebACLId"] == {
        "Fn::If": ["SiteWebAclGiven", {"Ref": "SiteWebAclArn"}, {"Ref": "AWS::NoValue"}]
    }
    condition, logging, otherwise = config["Logging"]["Fn::If"]
    assert condition == "SiteLogsEnabled" and otherwise == {"Ref": "AWS::NoValue"}
    assert logging["Bucket"] == {"Fn::Sub": "${SiteLogBucket}.s3.amazonaws.com"}
    assert logging["Prefix"] == {"Fn::Sub": "${AWS::StackName}/site/"}
