"""A role's policies read from IAM, cached briefly, and IAM's denial messages."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from emulator.aws.iam.changes import remote_version
from emulator.aws.iam.policies import (
    RolePolicies,
    denial_message,
    evaluate,
    role_name,
    role_policy_documents,
)
from emulator.iot.policy import Decision
from tests.emulator.aws.iam.conftest import Gate


def statement(action: str) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": "*"}


def test_inline_and_attached_managed_policies_are_read(gate: Gate) -> None:
    iam = gate.admin("iam")
    role = gate.role([statement("kinesis:PutRecord")])
    document = {"Version": "2012-10-17", "Statement": [statement("sqs:SendMessage")]}
    managed = iam.create_policy(PolicyName=role_name(role), PolicyDocument=json.dumps(document))
    iam.attach_role_policy(RoleName=role_name(role), PolicyArn=managed["Policy"]["Arn"])
    documents = role_policy_documents(iam, role_name(role))
    actions = sorted(s["Action"] for d in documents for s in d["Statement"])
    assert actions == ["kinesis:PutRecord", "sqs:SendMessage"]


def test_policies_are_reused_for_the_ttl_then_read_again(gate: Gate) -> None:
    reads: list[str] = []

    def iam() -> object:
        reads.append("read")
        return gate.admin("iam")

    policies = RolePolicies(iam, ttl=60)
    role = gate.role([statement("kinesis:PutRecord")])
    assert evaluate(policies.get(role), "kinesis:PutRecord", "x") is Decision.ALLOW
    assert policies.get(role) is policies.cached(role)
    assert len(reads) == 1
    stale = RolePolicies(iam, ttl=-1)
    stale.get(role)
    assert stale.cached(role) is None


def test_requests_that_find_the_copy_stale_together_read_iam_once(gate: Gate) -> None:
    reads: list[str] = []

    def iam() -> object:
        reads.append("read")
        return gate.admin("iam")

    policies = RolePolicies(iam, ttl=60)
    role = gate.role([statement("kinesis:PutRecord")])
    start = threading.Barrier(8)

    def get() -> object:
        start.wait()
        return policies.get(role)

    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda _: get(), range(8)))
    assert len(reads) == 1
    assert all(found is got[0] for found in got)


def test_a_stale_copy_is_used_while_one_read_refreshes_it_behind(gate: Gate) -> None:
    iam_admin = gate.admin("iam")
    reading = threading.Event()
    release = threading.Event()
    reads: list[str] = []

    def iam() -> object:
        reads.append("read")
        if len(reads) > 1:  # the background refresh: hold it until the test lets go
            reading.set()
            assert release.wait(10)
        return iam_admin

    policies = RolePolicies(iam, ttl=0.5)
    role = gate.role([statement("kinesis:PutRecord")])
    first = policies.get(role)
    iam_admin.put_role_policy(
        RoleName=role_name(role),
        PolicyName="p",  # gate.role's inline policy, replaced
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement("sqs:*")]}),
    )
    deadline = time.monotonic() + 10
    while not reading.is_set():  # older than ttl: served as is, while IAM is read again
        assert policies.get(role) is first
        assert time.monotonic() < deadline
    assert policies.cached(role) is first and len(reads) == 2  # one reader at a time
    release.set()
    while policies.cached(role) is first:
        assert time.monotonic() < deadline
    assert evaluate(policies.get(role), "sqs:SendMessage", "*") is Decision.ALLOW


def test_a_missing_role_is_granted_nothing(gate: Gate) -> None:
    policies = RolePolicies(lambda: gate.admin("iam"))
    found = policies.get("arn:aws:iam::123456789012:role/path/does-not-exist")
    assert evaluate(found, "sts:GetCallerIdentity", "*") is Decision.IMPLICIT_DENY


def test_denial_messages() -> None:
    who = "arn:aws:sts::1:assumed-role/r/s"
    assert denial_message(who, "kinesis:PutRecord", "arn:k", Decision.IMPLICIT_DENY) == (
        f"User: {who} is not authorized to perform: kinesis:PutRecord on resource: arn:k "
        "because no identity-based policy allows the kinesis:PutRecord action"
    )
    assert denial_message(who, "iam:ListRoles", "*", Decision.EXPLICIT_DENY) == (
        f"User: {who} is not authorized to perform: iam:ListRoles "
        "with an explicit deny in an identity-based policy"
    )


def test_a_stale_copy_is_kept_while_iam_has_not_been_written(gate: Gate) -> None:
    reads: list[str] = []
    version = [7]

    def iam() -> object:
        reads.append("read")
        return gate.admin("iam")

    policies = RolePolicies(iam, ttl=0, iam_version=lambda: version[0])
    role = gate.role([statement("kinesis:PutRecord")])
    first = policies.get(role)
    assert policies.get(role) is first and len(reads) == 1  # stale, but IAM is unchanged
    version[0] += 1
    assert policies.get(role) is not first and len(reads) == 2


def test_an_unknown_version_reads_iam_as_before(gate: Gate) -> None:
    reads: list[str] = []

    def iam() -> object:
        reads.append("read")
        return gate.admin("iam")

    def broken() -> int:
        raise OSError("no answer")

    policies = RolePolicies(iam, ttl=0, iam_version=broken)
    role = gate.role([statement("kinesis:PutRecord")])
    policies.get(role)
    policies.get(role)
    assert len(reads) == 2


def test_the_gate_counts_iam_writes_and_not_reads(gate: Gate) -> None:
    before = remote_version(gate.endpoint_url)
    assert isinstance(before, int)
    gate.admin("iam").list_roles()
    assert remote_version(gate.endpoint_url) == before
    role = gate.role([statement("sqs:SendMessage")])  # CreateRole, PutRolePolicy
    after = remote_version(gate.endpoint_url)
    assert after is not None and after >= before + 2
    gate.admin("iam").delete_role_policy(RoleName=role_name(role), PolicyName="p")
    assert remote_version(gate.endpoint_url) == after + 1


def test_decisions_are_remembered_per_policy_set_and_never_cross_sets() -> None:
    from emulator.aws.iam.policies import DecisionMemo
    from emulator.iot.policy import PolicySet

    version = "2012-10-17"
    allow = PolicySet.from_documents(
        [{"Version": version, "Statement": [statement("iot:Publish")]}]
    )
    denied = {"Effect": "Deny", "Action": "iot:Publish", "Resource": "*"}
    deny = PolicySet.from_documents([{"Version": version, "Statement": [denied]}])
    memo = DecisionMemo(limit=2)
    assert memo.decide(allow, "iot:Publish", "arn:t") is Decision.ALLOW
    assert memo.decide(allow, "iot:Publish", "arn:t") is Decision.ALLOW
    assert memo.decide(deny, "iot:Publish", "arn:t") is Decision.EXPLICIT_DENY
    assert memo.decide(allow, "iot:Receive", "arn:t") is Decision.IMPLICIT_DENY  # clears
    assert memo.decide(deny, "iot:Publish", "arn:t") is Decision.EXPLICIT_DENY
