"""GenerateSecretString: fresh random values that honour the options."""

from __future__ import annotations

import json
import string

import pytest

from emulator.aws import generate_secret_string, random_password
from emulator.aws.secret_values import PUNCTUATION


def test_default_is_32_chars_and_never_repeats() -> None:
    values = {random_password({}) for _ in range(20)}
    assert len(values) == 20
    assert all(len(v) == 32 for v in values)


def test_length_and_exclude_punctuation() -> None:
    for _ in range(50):
        value = random_password({"PasswordLength": 64, "ExcludePunctuation": True})
        assert len(value) == 64
        assert not set(value) & set(PUNCTUATION)


def test_exclude_characters_and_classes() -> None:
    for _ in range(50):
        value = random_password(
            {"PasswordLength": "20", "ExcludeCharacters": "abc012", "ExcludeUppercase": "true"}
        )
        assert not set(value) & set("abc012" + string.ascii_uppercase)


def test_each_included_type_is_present() -> None:
    for _ in range(50):
        value = random_password({"PasswordLength": 4})
        assert set(value) & set(string.ascii_lowercase)
        assert set(value) & set(string.ascii_uppercase)
        assert set(value) & set(string.digits)
        assert set(value) & set(PUNCTUATION)


def test_template_and_key() -> None:
    document = json.loads(
        generate_secret_string(
            {"SecretStringTemplate": '{"user": "chat"}', "GenerateStringKey": "password"}
        )
    )
    assert document["user"] == "chat" and len(document["password"]) == 32


def test_nothing_to_choose_from() -> None:
    with pytest.raises(ValueError, match="no characters"):
        random_password(
            {
                "ExcludeLowercase": True,
                "ExcludeUppercase": True,
                "ExcludeNumbers": True,
                "ExcludePunctuation": True,
            }
        )
