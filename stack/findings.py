"""Scanner findings accepted on purpose: the check a resource is exempt from, and why.

A resource carries its exemptions in its Metadata (``Metadata=skipped(...)``), where
checkov reads them. `python -m stack.scan` fails on any other finding, on an exemption
without a reason and on one that suppresses nothing. The reasons are written once, here;
docs/deploy.md ("Security posture") says the same in more words.
"""

from __future__ import annotations

from typing import Any

Finding = tuple[str, str]  # (checkov check id, one-line reason)

NOT_IN_VPC: Finding = (
    "CKV_AWS_117",
    "Calls only AWS public endpoints (IoT data plane, DynamoDB, Kinesis, Secrets Manager) "
    "over TLS with SigV4; a VPC would add NAT or endpoint costs and protect no private resource",
)
FAILURE_DESTINATION: Finding = (
    "CKV_AWS_116",
    "Rule-invoked events retry, then go to AsyncFailureQueue (an EventInvokeConfig "
    "destination, alarmed); a dead-letter queue too would get each failure twice",
)
PUBLIC_TOKEN_URL: Finding = (
    "CKV_AWS_258",
    "Browsers ask for a guest token before they hold any credential; the function only "
    "signs a short-lived token for the name it is given",
)
PRESENCE_NOT_BACKED_UP: Finding = (
    "CKV_AWS_28",
    "Holds only who is connected now and is rebuilt as clients reconnect; a restored copy "
    "would list clients that are gone",
)
RATE_COUNTERS_NOT_BACKED_UP: Finding = (
    "CKV_AWS_28",
    "Holds per-minute token counters that expire within minutes; a restored copy would "
    "only hold stale counts",
)
SITE_BUCKET_NOT_LOGGED: Finding = (
    "CKV_AWS_18",
    "Only CloudFront (origin access control) reads and make deploy writes this bucket; "
    "viewer requests are logged by CloudFront when SiteLogBucket is set",
)
SITE_LOGS_OPT_IN: Finding = (
    "CKV_AWS_86",
    "Access logs are opt-in through the SiteLogBucket parameter (their S3 storage is a "
    "cost); off by default for a site of static files",
)
DEFAULT_CERTIFICATE: Finding = (
    "CKV_AWS_174",
    "Served on the default *.cloudfront.net certificate, whose TLS policy CloudFront sets; "
    "a TLS 1.2 minimum needs a custom domain and an ACM certificate",
)


def skipped(*findings: Finding) -> dict[str, Any]:
    """The Metadata entry through which checkov skips these checks on one resource."""
    return {"checkov": {"skip": [{"id": check, "comment": reason} for check, reason in findings]}}
