"""The web client's home: a private bucket behind CloudFront, room paths rewritten to
the single-page client, strict security headers.

`make deploy` uploads web/ (and config.json) into SiteBucket; only the distribution,
through its origin access control, may read it.
"""

from __future__ import annotations

from typing import Any

from troposphere import GetAtt, If, Ref, Sub, Template, s3
from troposphere import cloudfront as cf

from stack.findings import DEFAULT_CERTIFICATE, SITE_BUCKET_NOT_LOGGED, SITE_LOGS_OPT_IN, skipped
from stack.parameters import SITE_LOGS, SITE_WEB_ACL

# CloudFront managed policies (fixed ids published by AWS).
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"

# Earlier versions of the site's files stay this long (a bad upload can be rolled back).
NONCURRENT_VERSION_DAYS = 30

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' wss://*.amazonaws.com https://*.on.aws; "
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)

# Viewer-request function: a room path (/lobby) serves the single-page client, while
# real files (last path segment has a dot: /app.js, /config.json) are served as is.
SITE_REWRITE_CODE = """\
function handler(event) {
  var request = event.request;
  var uri = request.uri;
  var last = uri.substring(uri.lastIndexOf('/') + 1);
  if (last.indexOf('.') === -1) {
    request.uri = '/index.html';
  }
  return request;
}
"""


def add_site(t: Template) -> None:
    """Private bucket behind CloudFront (OAC), SPA rewrite, strict security headers."""
    t.add_resource(
        s3.Bucket(
            "SiteBucket",
            PublicAccessBlockConfiguration=s3.PublicAccessBlockConfiguration(
                BlockPublicAcls=True,
                BlockPublicPolicy=True,
                IgnorePublicAcls=True,
                RestrictPublicBuckets=True,
            ),
            BucketEncryption=s3.BucketEncryption(
                ServerSideEncryptionConfiguration=[
                    s3.ServerSideEncryptionRule(
                        ServerSideEncryptionByDefault=s3.ServerSideEncryptionByDefault(
                            SSEAlgorithm="AES256"
                        )
                    )
                ]
            ),
            OwnershipControls=s3.OwnershipControls(
                Rules=[s3.OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]
            ),
            VersioningConfiguration=s3.VersioningConfiguration(Status="Enabled"),
            LifecycleConfiguration=s3.LifecycleConfiguration(
                Rules=[
                    s3.LifecycleRule(
                        Id="ExpireOldVersions",
                        Status="Enabled",
                        NoncurrentVersionExpiration=s3.NoncurrentVersionExpiration(
                            NoncurrentDays=NONCURRENT_VERSION_DAYS
                        ),
                        AbortIncompleteMultipartUpload=s3.AbortIncompleteMultipartUpload(
                            DaysAfterInitiation=1
                        ),
                    )
                ]
            ),
            Metadata=skipped(SITE_BUCKET_NOT_LOGGED),
        )
    )
    t.add_resource(
        cf.OriginAccessControl(
            "SiteOriginAccessControl",
            OriginAccessControlConfig=cf.OriginAccessControlConfig(
                Name=Sub("${AWS::StackName}-site"),
                OriginAccessControlOriginType="s3",
                SigningBehavior="always",
                SigningProtocol="sigv4",
            ),
        )
    )
    t.add_resource(
        cf.Function(
            "SiteRewriteFunction",
            Name=Sub("${AWS::StackName}-site-rewrite"),
            AutoPublish=True,
            FunctionCode=SITE_REWRITE_CODE,
            FunctionConfig=cf.FunctionConfig(
                Comment="Room paths serve /index.html", Runtime="cloudfront-js-2.0"
            ),
        )
    )
    t.add_resource(
        cf.ResponseHeadersPolicy(
            "SiteHeadersPolicy",
            ResponseHeadersPolicyConfig=cf.ResponseHeadersPolicyConfig(
                Name=Sub("${AWS::StackName}-site-headers"),
                SecurityHeadersConfig=cf.SecurityHeadersConfig(
                    ContentSecurityPolicy=cf.ContentSecurityPolicy(
                        ContentSecurityPolicy=CONTENT_SECURITY_POLICY, Override=True
                    ),
                    ContentTypeOptions=cf.ContentTypeOptions(Override=True),
                    FrameOptions=cf.FrameOptions(FrameOption="DENY", Override=True),
                    ReferrerPolicy=cf.ReferrerPolicy(ReferrerPolicy="no-referrer", Override=True),
                    StrictTransportSecurity=cf.StrictTransportSecurity(
                        AccessControlMaxAgeSec=63072000,
                        IncludeSubdomains=True,
                        Override=True,
                    ),
                ),
            ),
        )
    )
    behaviour: dict[str, Any] = {
        "TargetOriginId": "site",
        "ViewerProtocolPolicy": "redirect-to-https",
        "AllowedMethods": ["GET", "HEAD"],
        "CachedMethods": ["GET", "HEAD"],
        "Compress": True,
        "ResponseHeadersPolicyId": Ref("SiteHeadersPolicy"),
    }
    t.add_resource(
        cf.Distribution(
            "SiteDistribution",
            DistributionConfig=cf.DistributionConfig(
                Comment=Sub("Serverless chat site (${AWS::StackName})"),
                Enabled=True,
                DefaultRootObject="index.html",
                HttpVersion="http2and3",
                IPV6Enabled=True,
                PriceClass="PriceClass_100",
                WebACLId=If(SITE_WEB_ACL, Ref("SiteWebAclArn"), Ref("AWS::NoValue")),
                Logging=If(
                    SITE_LOGS,
                    cf.Logging(
                        Bucket=Sub("${SiteLogBucket}.s3.amazonaws.com"),
                        Prefix=Sub("${AWS::StackName}/site/"),
                        IncludeCookies=False,
                    ),
                    Ref("AWS::NoValue"),
                ),
                Origins=[
                    cf.Origin(
                        Id="site",
                        DomainName=GetAtt("SiteBucket", "RegionalDomainName"),
                        OriginAccessControlId=GetAtt("SiteOriginAccessControl", "Id"),
                        S3OriginConfig=cf.S3OriginConfig(OriginAccessIdentity=""),
                    )
                ],
                DefaultCacheBehavior=cf.DefaultCacheBehavior(
                    CachePolicyId=CACHING_OPTIMIZED,
                    FunctionAssociations=[
                        cf.FunctionAssociation(
                            EventType="viewer-request",
                            FunctionARN=GetAtt(
                                "SiteRewriteFunction", "FunctionMetadata.FunctionARN"
                            ),
                        )
                    ],
                    **behaviour,
                ),
                # config.json is rewritten on every deploy: never cache it.
                CacheBehaviors=[
                    cf.CacheBehavior(
                        PathPattern="/config.json", CachePolicyId=CACHING_DISABLED, **behaviour
                    )
                ],
            ),
            Metadata=skipped(SITE_LOGS_OPT_IN, DEFAULT_CERTIFICATE),
        )
    )
    t.add_resource(
        s3.BucketPolicy(
            "SiteBucketPolicy",
            Bucket=Ref("SiteBucket"),
            PolicyDocument={
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "CloudFrontReadOnly",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudfront.amazonaws.com"},
                        "Action": "s3:GetObject",
                        "Resource": Sub("${SiteBucket.Arn}/*"),
                        "Condition": {
                            "StringEquals": {
                                "AWS:SourceArn": Sub(
                                    "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}"
                                    ":distribution/${SiteDistribution}"
                                )
                            }
                        },
                    },
                    {
                        "Sid": "TlsOnly",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [GetAtt("SiteBucket", "Arn"), Sub("${SiteBucket.Arn}/*")],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    },
                ],
            },
        )
    )
