"""Choosing the custom authorizer: the client's x-amz-customauthorizer-name, the domain
configuration's default, and AllowAuthorizerOverride ("AuthorizerConfig",
https://docs.aws.amazon.com/iot/latest/apireference/API_AuthorizerConfig.html;
"Connecting to AWS IoT Core by using custom authentication",
https://docs.aws.amazon.com/iot/latest/developerguide/custom-auth.html)."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.iot.auth import Authorizers, AuthRefused, CustomAuthorizer
from emulator.mqtt.hooks import ConnectRequest, Peer


async def _never(event: dict[str, Any]) -> Any:
    raise AssertionError("not invoked here")


A, B = CustomAuthorizer("devices", _never), CustomAuthorizer("admins", _never)


def _request(*, username: str | None = None, query: str | None = None, header: str | None = None):
    headers = (("X-Amz-CustomAuthorizer-Name", header),) if header else ()
    transport = "ws" if query is not None or header else "tcp"
    peer = Peer("127.0.0.1", 5000, transport, headers, query)
    return ConnectRequest(peer, 4, "c1", False, True, 60, username, None, None)


def test_without_a_default_the_client_must_name_an_existing_authorizer() -> None:
    chooser = Authorizers([A, B])
    with pytest.raises(AuthRefused, match="no default authorizer"):
        chooser.select(_request())
    with pytest.raises(AuthRefused, match="unknown authorizer 'other'"):
        chooser.select(_request(username="u?x-amz-customauthorizer-name=other"))
    assert chooser.select(_request(username="u?x-amz-customauthorizer-name=admins")) is B
    assert chooser.select(_request(query="x-amz-customauthorizer-name=devices")) is A
    assert chooser.select(_request(header="admins")) is B


def test_the_default_serves_clients_that_name_none() -> None:
    chooser = Authorizers([A, B], default="devices", allow_override=True)
    assert chooser.select(_request()) is A
    assert chooser.select(_request(username="plain-user")) is A


def test_override_allowed_lets_a_client_name_another() -> None:
    chooser = Authorizers([A, B], default="devices", allow_override=True)
    assert chooser.select(_request(username="u?x-amz-customauthorizer-name=admins")) is B
    with pytest.raises(AuthRefused, match="unknown authorizer"):
        chooser.select(_request(query="x-amz-customauthorizer-name=nope"))


def test_override_not_allowed_uses_the_default_whatever_is_named() -> None:
    chooser = Authorizers([A, B], default="devices", allow_override=False)
    assert chooser.select(_request(username="u?x-amz-customauthorizer-name=admins")) is A
    assert chooser.select(_request(header="nope")) is A


def test_a_default_that_is_not_an_authorizer_is_an_error() -> None:
    with pytest.raises(ValueError, match="'missing' is not one of"):
        Authorizers([A], default="missing")
