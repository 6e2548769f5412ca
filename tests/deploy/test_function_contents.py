"""What each real function's zip holds, and where everything its handler imports comes
from: its own requirements, AWS's Powertools layer, the JWKS layer, or the runtime."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from deploy.package import handler_imports
from deploy.template import functions, load_template
from stack.layers import pinned_version

ROOT = Path(__file__).resolve().parents[2]
LAMBDAS = ROOT / "lambdas"
REQUIREMENTS = "lambdas/requirements"
# contract.json is package data: chatlib.contract reads it beside its module.
CHATLIB = [
    *["chatlib/__init__.py", "chatlib/aws.py", "chatlib/config.py", "chatlib/contract.json"],
    *["chatlib/contract.py", "chatlib/log.py"],
    # Every handler counts its business metrics (chatlib.metrics names command types).
    *["chatlib/metrics.py", "chatlib/validation.py"],
]
COMMANDS = [
    *CHATLIB,
    *["chatlib/commands.py", "chatlib/connections.py", "chatlib/messages.py"],
    *["chatlib/people.py", "chatlib/policy.py", "chatlib/publisher.py"],
]
# What Lambda's python3.12 runtime brings (boto3 and what it needs).
RUNTIME = {"boto3", "botocore"}
POWERTOOLS = {"aws-lambda-powertools"}
JWKS = {"cryptography", "cffi", "pycparser"}

# logical id: (modules in the zip, its requirements file, its layers' packages,
#              top-level third-party imports of its handler)
EXPECTED = {
    "AuthorizerFunction": (
        ["authorizer.py", *CHATLIB, "chatlib/people.py", "chatlib/policy.py", "chatlib/tokens.py"],
        f"{REQUIREMENTS}/pyjwt.txt",
        POWERTOOLS | JWKS,
        {"aws_lambda_powertools", "boto3", "botocore", "jwt", "cryptography"},
    ),
    "TokenFunction": (
        ["guest_token.py", *CHATLIB, "chatlib/ratelimit.py", "chatlib/tokens.py"],
        f"{REQUIREMENTS}/pyjwt.txt",
        POWERTOOLS,
        # cryptography: chatlib.tokens imports it where a JWKS key is checked, which the
        # token function never does (test_hs256_needs_no_cryptography below).
        {"aws_lambda_powertools", "boto3", "botocore", "jwt", "cryptography"},
    ),
    "ChatFunction": (
        ["chat.py", *COMMANDS],
        None,
        POWERTOOLS,
        {"aws_lambda_powertools", "boto3", "botocore"},
    ),
    "PresenceFunction": (
        ["presence.py", *COMMANDS],
        None,
        POWERTOOLS,
        {"aws_lambda_powertools", "boto3", "botocore"},
    ),
}
NEVER_REACHED = {"TokenFunction": {"cryptography"}}


def specs():
    return {s.logical_id: s for s in functions(load_template(ROOT / "templates/chat.json"), ROOT)}


def pinned(path: Path | None) -> set[str]:
    """Normalised distribution names a requirements file pins."""
    if path is None:
        return set()
    names = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        name = line.split("#", 1)[0].split("==", 1)[0].strip()
        if name:
            names.add(name.lower().replace("_", "-"))
    return names


def distribution(module: str) -> str:
    """The distribution that installs a top-level module, as pip names it."""
    return packages_distributions()[module][0].lower().replace("_", "-")


@pytest.mark.parametrize("logical_id", sorted(EXPECTED))
def test_each_zip_holds_what_its_handler_imports(logical_id: str) -> None:
    files, requirements, layered, imports = EXPECTED[logical_id]
    spec = specs()[logical_id]
    found = handler_imports(spec)
    assert sorted(found.files) == sorted(files)
    assert spec.requirements == (ROOT / requirements if requirements else None)
    assert found.external == imports
    provided = pinned(spec.requirements) | layered | RUNTIME
    missing = {distribution(m) for m in found.external} - provided
    assert missing == NEVER_REACHED.get(logical_id, set())


def test_the_layers_carry_what_expected_says() -> None:
    assert pinned(ROOT / REQUIREMENTS / "powertools-layer.txt") == POWERTOOLS
    assert pinned(ROOT / REQUIREMENTS / "jwks-layer.txt") == JWKS
    assert pinned(ROOT / REQUIREMENTS / "pyjwt.txt") == {"pyjwt"}
    assert pinned_version(f"{REQUIREMENTS}/pyjwt.txt", "PyJWT")


def test_hs256_needs_no_cryptography() -> None:
    """Issue and verify a guest token in a fresh interpreter where cryptography cannot be
    imported, as in a zip without the JWKS layer."""
    code = """
import sys
sys.modules["cryptography"] = None  # any import of it raises ImportError
from unittest import mock
import authorizer, guest_token, jwt
from chatlib import tokens
secret = b"0123456789abcdef0123456789abcdef"
with mock.patch.object(tokens, "guest_secret", return_value=secret):
    issued = tokens.issue_guest_token("Alice")
    assert tokens.verify(issued.token).principal_id == issued.principal_id
assert not jwt.algorithms.has_crypto
assert "cryptography" not in {m.split(".")[0] for m in sys.modules if sys.modules[m]}
print("ok")
"""
    env = {"AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=LAMBDAS, env=env, capture_output=True, text=True
    )
    assert done.stdout.strip() == "ok", done.stderr


@pytest.mark.parametrize("logical_id", sorted(EXPECTED))
def test_each_zip_alone_imports_its_handler(logical_id: str, tmp_path: Path) -> None:
    """The zip's own files, without the rest of lambdas/, are enough to import the
    handler in a fresh interpreter (a module or data file left out fails here, as it
    would at a cold start on AWS). Third-party packages come from the virtualenv."""
    spec = specs()[logical_id]
    for name, path in handler_imports(spec).files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(path.read_bytes())
    module = spec.handler.rsplit(".", 1)[0]
    env = {"AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}; print({module}.handler.__name__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and done.stdout.strip() == "handler", done.stderr
