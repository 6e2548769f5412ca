"""JWTs: guest tokens (HS256, key in Secrets Manager) and optional external tokens
(RS256/ES256 from an identity provider's JWKS).

Algorithm handling: the token's ``alg`` header only *selects* one of the configured
verification paths, each of which pins its single algorithm and its own key:

* ``HS256``           -> the guest secret, issuer ``GUEST_ISSUER``, audience ``GUEST_AUDIENCE``;
* ``RS256``/``ES256`` -> only when ``JWKS_URL`` is set: the JWKS key named by ``kid``,
  which must be of the matching type (RSA / EC P-256), issuer ``JWT_ISSUER`` and
  audience ``JWT_AUDIENCE`` (both required, otherwise external tokens are refused);
* anything else (``none``, HS384, PS256, ...) is refused.

``exp``, ``iss``, ``aud`` and ``sub`` are required; ``nbf`` and ``iat`` are checked
when present, with a small leeway for clock skew.

principalId (what IoT Core sees, alphanumeric, 1..128 characters) from ``sub``:

* guest tokens: ``sub`` itself, which must already be alphanumeric 1..128 characters
  (the token function mints 32 hex characters); anything else is refused;
* external tokens: ``sub`` itself when it is alphanumeric and at most 128 characters,
  otherwise ``"h"`` followed by the first 40 hex digits of SHA-256(sub), so that an
  identity provider's ``auth0|123`` or UUID subjects still map to one stable id.

PyJWT signs and checks HS256 with the standard library alone; RS256/ES256 need
cryptography, which the authorizer gets from a layer only in stacks that set
``JWKS_URL`` (PyJWT imports it at ``import jwt`` when it is there, so leaving it out
keeps every other cold start short). Nothing here imports it at module load.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt
from aws_lambda_powertools.utilities.parameters import SecretsProvider

from chatlib import aws, config

GUEST_ALGORITHM = "HS256"
EXTERNAL_ALGORITHMS = ("RS256", "ES256")
LEEWAY_SECONDS = 10
SECRET_TTL_SECONDS = 300
JWKS_LIFESPAN_SECONDS = 300
JWKS_TIMEOUT_SECONDS = 3
TOKEN_MAX_LENGTH = 8192
EXTERNAL_SUB_MAX = 1024
PRINCIPAL_RE = re.compile(r"^[A-Za-z0-9]{1,128}$")
REQUIRED_CLAIMS = ["exp", "iss", "aud", "sub"]
# A guest keeps one principal (the token's sub) from its first token for this long: a
# page renewing its token, or reloaded, presents the token it has and gets the same
# principal back, so its DMs and private rooms follow it. After that, a new principal.
GUEST_SESSION_SECONDS = 86400


class TokenError(Exception):
    """The token is not acceptable; ``str(exc)`` says why (for logs, not for clients)."""


@dataclass(frozen=True)
class Identity:
    principal_id: str
    expires_at: int  # epoch seconds (the token's exp)
    name: str | None
    kind: str  # "guest" | "external"


# -- caches (one per container) --------------------------------------------------------


@functools.cache
def _secrets() -> SecretsProvider:
    """Powertools' Secrets Manager provider on the container's client (its timeouts)."""
    return SecretsProvider(boto3_client=aws.client("secretsmanager"))


@functools.cache
def _jwks_client(url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(
        url, cache_keys=True, lifespan=JWKS_LIFESPAN_SECONDS, timeout=JWKS_TIMEOUT_SECONDS
    )


def reset_caches() -> None:
    """Forget the cached secret, its provider and the JWKS clients (tests)."""
    _secrets.cache_clear()
    _jwks_client.cache_clear()


def guest_secret() -> bytes:
    """The HS256 key (the secret's SecretString), cached for SECRET_TTL_SECONDS."""
    value = _secrets().get(config.token_secret_arn(), max_age=SECRET_TTL_SECONDS)
    if not isinstance(value, str) or not value:
        raise TokenError("the token secret has no SecretString")
    return value.encode("utf-8")


# -- principal ids --------------------------------------------------------------------


def guest_principal(sub: Any) -> str:
    if not isinstance(sub, str) or not PRINCIPAL_RE.fullmatch(sub):
        raise TokenError("guest sub is not alphanumeric (1..128)")
    return sub


def external_principal(sub: Any) -> str:
    if not isinstance(sub, str) or not sub.strip() or len(sub) > EXTERNAL_SUB_MAX:
        raise TokenError("sub is missing or unusable")
    if PRINCIPAL_RE.fullmatch(sub):
        return sub
    return "h" + hashlib.sha256(sub.encode("utf-8")).hexdigest()[:40]


# -- guest tokens ---------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    token: str
    principal_id: str
    expires_at: int


def continued_session(previous: Any, now: int) -> tuple[str, int] | None:
    """The principal and session start of a still valid guest token, if its session has
    room for one more token (at least the shortest token lifetime); else None."""
    if not isinstance(previous, str) or not previous:
        return None
    try:
        if jwt.get_unverified_header(previous).get("alg") != GUEST_ALGORITHM:
            return None
        claims = _decode(
            previous,
            guest_secret(),
            GUEST_ALGORITHM,
            config.guest_issuer(),
            config.guest_audience(),
        )
        sub = guest_principal(claims.get("sub"))
    except (jwt.PyJWTError, TokenError):
        return None
    started = claims.get("sst")
    if isinstance(started, bool) or not isinstance(started, int) or started > now:
        return None
    if started + GUEST_SESSION_SECONDS - now < config.MIN_TOKEN_LIFETIME_SECONDS:
        return None
    return sub, started


def issue_guest_token(
    name: str, now: float | None = None, previous: str | None = None
) -> IssuedToken:
    """A guest token for ``name``; with ``previous``, a still valid guest token, for the
    same principal (until GUEST_SESSION_SECONDS after its session started)."""
    issued_at = int(time.time() if now is None else now)
    session = continued_session(previous, issued_at)
    sub, started = session if session else (secrets.token_hex(16), issued_at)
    expires_at = min(issued_at + config.token_lifetime_seconds(), started + GUEST_SESSION_SECONDS)
    claims = {
        "iss": config.guest_issuer(),
        "aud": config.guest_audience(),
        "sub": sub,
        "name": name,
        "iat": issued_at,
        "nbf": issued_at,
        "exp": expires_at,
        "sst": started,
    }
    token = jwt.encode(claims, guest_secret(), algorithm=GUEST_ALGORITHM)
    return IssuedToken(token=token, principal_id=guest_principal(sub), expires_at=expires_at)


# -- verification ---------------------------------------------------------------------


def _name_claim(claims: dict[str, Any]) -> str | None:
    name = claims.get("name")
    return name if isinstance(name, str) else None


def _decode(token: str, key: Any, algorithm: str, issuer: str, audience: str) -> dict[str, Any]:
    try:
        return jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            issuer=issuer,
            audience=audience,
            leeway=LEEWAY_SECONDS,
            options={"require": REQUIRED_CLAIMS, "verify_signature": True},
        )
    except jwt.PyJWTError as exc:
        raise TokenError(f"{type(exc).__name__}: {exc}") from exc


def _verify_guest(token: str) -> Identity:
    claims = _decode(
        token, guest_secret(), GUEST_ALGORITHM, config.guest_issuer(), config.guest_audience()
    )
    return Identity(
        principal_id=guest_principal(claims.get("sub")),
        expires_at=int(claims["exp"]),
        name=_name_claim(claims),
        kind="guest",
    )


def _check_key_matches(algorithm: str, key: Any) -> None:
    # Imported here: cryptography ships only with the JWKS layer (see the module docstring).
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if algorithm == "RS256" and isinstance(key, rsa.RSAPublicKey):
        return
    if (
        algorithm == "ES256"
        and isinstance(key, ec.EllipticCurvePublicKey)
        and isinstance(key.curve, ec.SECP256R1)
    ):
        return
    raise TokenError(f"the JWKS key does not fit {algorithm}")


def _verify_external(token: str, algorithm: str, url: str) -> Identity:
    issuer, audience = config.jwt_issuer(), config.jwt_audience()
    if not issuer or not audience:
        raise TokenError("JWKS_URL is set but JWT_ISSUER or JWT_AUDIENCE is not")
    try:
        signing_key = _jwks_client(url).get_signing_key_from_jwt(token)
    except jwt.PyJWTError as exc:
        raise TokenError(f"no usable JWKS key: {type(exc).__name__}: {exc}") from exc
    if signing_key.algorithm_name != algorithm:
        raise TokenError(f"the JWKS key is for {signing_key.algorithm_name}, not {algorithm}")
    _check_key_matches(algorithm, signing_key.key)
    claims = _decode(token, signing_key.key, algorithm, issuer, audience)
    return Identity(
        principal_id=external_principal(claims.get("sub")),
        expires_at=int(claims["exp"]),
        name=_name_claim(claims),
        kind="external",
    )


def verify(token: Any) -> Identity:
    """Verify a token and return who it is for; :class:`TokenError` if it is not good."""
    if not isinstance(token, str) or not token or len(token) > TOKEN_MAX_LENGTH:
        raise TokenError("token missing or too long")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise TokenError(f"malformed token: {exc}") from exc
    algorithm = header.get("alg")
    if algorithm == GUEST_ALGORITHM:
        return _verify_guest(token)
    if algorithm in EXTERNAL_ALGORITHMS:
        url = config.jwks_url()
        if not url:
            raise TokenError(f"{algorithm} token but no JWKS_URL is configured")
        return _verify_external(token, algorithm, url)
    raise TokenError(f"algorithm {algorithm!r} is not allowed")
