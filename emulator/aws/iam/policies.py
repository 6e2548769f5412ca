"""A role's identity-based policies, read from IAM (moto), evaluated per request.

The evaluation is the emulator's IoT policy engine (``emulator.iot.policy``), so IAM
and IoT policies share one set of semantics: an explicit Deny wins, then an Allow,
otherwise the request is implicitly denied; ``*`` and ``?`` glob in Action and Resource
(actions ignore case, resources do not); a statement with a Condition never allows and
still denies. AWS: "Policy evaluation logic",
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html

Denials read as IAM writes them: "Troubleshoot access denied error messages",
https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from emulator.iot.policy import Decision, PolicyError, PolicySet

log = logging.getLogger("emulator.iam")

DEFAULT_TTL = 2.0  # seconds a role's policies are reused before IAM is asked again

# IAM's change count (emulator.aws.iam.changes), or None when it cannot be told.
VersionSource = Callable[[], "int | None"]


def role_name(role_arn: str) -> str:
    """``arn:aws:iam::123:role/path/name`` -> ``name`` (the path is not part of the name)."""
    return role_arn.rsplit("/", 1)[-1]


def role_policy_documents(iam: Any, name: str) -> list[Any]:
    """Every inline and attached managed policy document of a role, as IAM returns them."""
    documents: list[Any] = []
    for page in iam.get_paginator("list_role_policies").paginate(RoleName=name):
        for policy_name in page["PolicyNames"]:
            got = iam.get_role_policy(RoleName=name, PolicyName=policy_name)
            documents.append(got["PolicyDocument"])
    for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name):
        for attached in page["AttachedPolicies"]:
            arn = attached["PolicyArn"]
            version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
            got = iam.get_policy_version(PolicyArn=arn, VersionId=version)
            documents.append(got["PolicyVersion"]["Document"])
    return documents


class RolePolicies:
    """Each role's policies as a PolicySet, read from IAM and reused for ``ttl`` seconds.

    AWS applies policy changes within seconds too ("changes that I make are not always
    immediately visible", IAM troubleshooting). A role that does not exist, or whose
    policies do not parse, has no permissions: every request it makes is denied.

    One reader per role at a time: requests that find no usable copy while it is being
    read wait for that read instead of each reading IAM again (under load, dozens did).
    A copy older than ``ttl`` is still used up to twice that age while one reader
    refreshes it in the background, so in steady use no request waits on IAM (every
    two seconds, the republish action's check did, which stalled deliveries); a policy
    change shows within ``ttl`` to ``2 * ttl`` seconds.

    With ``iam_version`` (the IAM gate's count of IAM writes), a copy that is too old is
    first checked against it: if IAM has not been written since the copy was read, the
    copy is kept without reading the role's policies again (one small request instead
    of three or more per role every ``ttl``, the largest fixed cost of an idle emulator).
    """

    def __init__(
        self,
        iam_client: Callable[[], Any],
        ttl: float = DEFAULT_TTL,
        iam_version: VersionSource | None = None,
    ) -> None:
        self._iam_client = iam_client
        self._ttl = ttl
        self._iam_version = iam_version
        # role ARN -> (when read or last confirmed, IAM's version then, its policies)
        self._cache: dict[str, tuple[float, int | None, PolicySet]] = {}
        self._lock = threading.Lock()
        self._readers: dict[str, threading.Lock] = {}  # per role: held while IAM is read
        self._refreshing: set[str] = set()  # roles read in the background right now

    def cached(self, role_arn: str) -> PolicySet | None:
        """The role's policies if usable without waiting: read less than ``2 * ttl`` ago.

        A copy older than ``ttl`` starts a background read of IAM (one per role).
        """
        with self._lock:
            entry = self._cache.get(role_arn)
        if entry is None:
            return None
        age = time.monotonic() - entry[0]
        if age <= self._ttl:
            return entry[2]
        if age > 2 * self._ttl:
            return None
        with self._lock:
            start = role_arn not in self._refreshing
            self._refreshing.add(role_arn)
        if start:
            threading.Thread(target=self._refresh, args=(role_arn,), daemon=True).start()
        return entry[2]

    def get(self, role_arn: str) -> PolicySet:
        """The role's policies, reading IAM when no usable copy is cached (blocking)."""
        found = self.cached(role_arn)
        if found is not None:
            return found
        return self._read_once(role_arn)

    def _fresh(self, role_arn: str) -> PolicySet | None:
        with self._lock:
            entry = self._cache.get(role_arn)
        if entry is None or time.monotonic() - entry[0] > self._ttl:
            return None
        return entry[2]

    def _read_once(self, role_arn: str) -> PolicySet:
        """Read IAM, unless the reader this call waited for just did, or IAM has not
        been written since the cached copy was read."""
        with self._lock:
            reader = self._readers.setdefault(role_arn, threading.Lock())
        with reader:
            found = self._fresh(role_arn)
            if found is not None:
                return found
            version = self._version()
            with self._lock:
                entry = self._cache.get(role_arn)
                if entry is not None and version is not None and entry[1] == version:
                    self._cache[role_arn] = (time.monotonic(), version, entry[2])
                    return entry[2]
            policies = self._read(role_arn)  # a write meanwhile changes the version: read again
            with self._lock:
                self._cache[role_arn] = (time.monotonic(), version, policies)
        return policies

    def _version(self) -> int | None:
        if self._iam_version is None:
            return None
        try:
            return self._iam_version()
        except Exception as exc:  # unknown: read the policies as if IAM had changed
            log.debug("IAM's version unknown: %s", exc)
            return None

    def _refresh(self, role_arn: str) -> None:
        try:
            self._read_once(role_arn)
        except Exception:  # the next request reads again, or uses its copy until 2 * ttl
            log.exception("role %s: could not refresh its policies", role_arn)
        finally:
            with self._lock:
                self._refreshing.discard(role_arn)

    def _read(self, role_arn: str) -> PolicySet:
        try:
            documents = role_policy_documents(self._iam_client(), role_name(role_arn))
        except ClientError as exc:
            log.warning("role %s: %s; it is granted nothing", role_arn, exc)
            return PolicySet()
        try:
            return PolicySet.from_documents(documents)
        except PolicyError as exc:
            log.warning("role %s: a policy does not parse (%s); it gets nothing", role_arn, exc)
            return PolicySet()


class DecisionMemo:
    """Decisions already made, per policy set, action and resource.

    A PolicySet never changes (new policies for a role are a new set), and the same roles
    ask for the same few actions on the same few resources again and again (a republish
    action checks ``iot:Publish`` on its room's topic for every message: 13 % of the
    emulator's CPU under the chat's load before this). Keyed by the set's identity, so a
    role's changed policies never meet an old decision; bounded by clearing when full.
    """

    def __init__(self, limit: int = 10_000) -> None:
        self._limit = limit
        self._made: dict[tuple[int, str, str], tuple[PolicySet, Decision]] = {}

    def decide(self, policies: PolicySet, action: str, resource: str) -> Decision:
        key = (id(policies), action, resource)
        made = self._made.get(key)
        if made is not None and made[0] is policies:
            return made[1]
        decision = policies.evaluate(action, resource, {})
        if len(self._made) >= self._limit:
            self._made.clear()
        self._made[key] = (policies, decision)  # holding the set keeps its id unique
        return decision


_DECISIONS = DecisionMemo()


def evaluate(policies: PolicySet, action: str, resource: str) -> Decision:
    """The decision for one action on one resource (no policy variables are known)."""
    return _DECISIONS.decide(policies, action, resource)


def denial_message(principal_arn: str, action: str, resource: str, decision: Decision) -> str:
    """IAM's access denied message for an identity-based policy decision."""
    target = f" on resource: {resource}" if resource != "*" else ""
    if decision is Decision.EXPLICIT_DENY:
        reason = "with an explicit deny in an identity-based policy"
    else:
        reason = f"because no identity-based policy allows the {action} action"
    return f"User: {principal_arn} is not authorized to perform: {action}{target} {reason}"
