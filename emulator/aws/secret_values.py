"""GenerateSecretString, done locally with `secrets` so every run gets a fresh key.

Mirrors Secrets Manager's GetRandomPassword options; a fixed value would make the
local token key guessable and hide bugs that assume a particular secret.
"""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Mapping
from typing import Any

# Secrets Manager's punctuation set for ExcludePunctuation.
PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


def _flag(spec: Mapping[str, Any], key: str, default: bool = False) -> bool:
    value = spec.get(key, default)
    return value if isinstance(value, bool) else str(value).lower() == "true"


def random_password(spec: Mapping[str, Any]) -> str:
    """A password following PasswordLength, Exclude* and RequireEachIncludedType."""
    length = int(spec.get("PasswordLength", 32))
    excluded = set(str(spec.get("ExcludeCharacters", "")))
    groups = []
    for key, chars in (
        ("ExcludeLowercase", string.ascii_lowercase),
        ("ExcludeUppercase", string.ascii_uppercase),
        ("ExcludeNumbers", string.digits),
        ("ExcludePunctuation", PUNCTUATION),
    ):
        if not _flag(spec, key):
            groups.append("".join(c for c in chars if c not in excluded))
    if _flag(spec, "IncludeSpace") and " " not in excluded:
        groups.append(" ")
    groups = [g for g in groups if g]
    if not groups or length < 1:
        raise ValueError("GenerateSecretString leaves no characters to choose from")
    alphabet = "".join(groups)
    chars = [secrets.choice(alphabet) for _ in range(length)]
    if _flag(spec, "RequireEachIncludedType", True) and length >= len(groups):
        positions = list(range(length))
        for group in groups:
            position = positions.pop(secrets.randbelow(len(positions)))
            chars[position] = secrets.choice(group)
    return "".join(chars)


def generate_secret_string(spec: Mapping[str, Any]) -> str:
    """The SecretString CloudFormation would store for a GenerateSecretString block."""
    password = random_password(spec)
    template = spec.get("SecretStringTemplate")
    key = spec.get("GenerateStringKey")
    if template is None and key is None:
        return password
    if template is None or key is None:
        raise ValueError("SecretStringTemplate and GenerateStringKey go together")
    document = json.loads(template)
    document[key] = password
    return json.dumps(document)
