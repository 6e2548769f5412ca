"""HTTP endpoints: static site, config.json, token function URL, data-plane publish."""

from __future__ import annotations

import base64
import json
import socket
import time
import urllib.error
import urllib.request
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.emulator.iot.harness import Client, Harness, wait_for


def get(h: Harness, path: str, **kw: Any) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{h.http_port}{path}", **kw)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


# As CloudFront's rewrite: any path without a dot in its last segment is the page (which
# itself refuses a bad room name).
@pytest.mark.parametrize(
    "path", ["/", "/lobby", "/room_2-b", "/bad%20room", "/a/b", "/" + "x" * 65]
)
def test_rooms_and_root_serve_index_with_security_headers(harness: Harness, path: str) -> None:
    status, headers, body = get(harness, path)
    assert status == 200 and b"<title>chat</title>" in body
    assert headers["X-Content-Type-Options"] == "nosniff"
    csp = headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    assert f"ws://127.0.0.1:{harness.http_port}" in csp


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/app.js", 200),
        ("/vendor/mqtt.min.js", 200),
        ("/missing.js", 404),
        ("/.env", 404),
        ("/../outside.txt", 404),
        ("/%2e%2e/outside.txt", 404),
    ],
)
def test_static_files(harness: Harness, path: str, status: int) -> None:
    assert get(harness, path.replace(" ", "%20"))[0] == status


def test_javascript_content_type(harness: Harness) -> None:
    _, headers, _ = get(harness, "/app.js")
    assert headers["Content-Type"].startswith(("text/javascript", "application/javascript"))


def test_config_json_follows_the_host(harness: Harness) -> None:
    status, _, body = get(harness, "/config.json", headers={"Host": "chat.local:9999"})
    assert status == 200
    assert json.loads(body) == {
        "mqttUrl": "ws://chat.local:9999/mqtt",
        "authorizer": "ChatAuthorizer",
        "tokenUrl": "http://chat.local:9999/api/token",
        "topicRoot": "chat",
    }
    assert get(harness, "/config.json", headers={"Host": "evil\"'; x"})[0] == 400


def test_token_endpoint_passes_a_function_url_event(harness: Harness) -> None:
    harness.token_result = {
        "statusCode": 201,
        "headers": {"Content-Type": "application/json", "X-Test": "1"},
        "body": json.dumps({"token": "abc"}),
        "isBase64Encoded": False,
    }
    status, headers, body = get(
        harness,
        "/api/token?x=1",
        data=b'{"name": "Alice"}',
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "ua/1"},
    )
    assert (status, headers["X-Test"], json.loads(body)) == (201, "1", {"token": "abc"})
    event = harness.token_events[-1]
    assert event["version"] == "2.0" and event["routeKey"] == "$default"
    assert event["rawPath"] == "/api/token" and event["rawQueryString"] == "x=1"
    assert event["headers"]["content-type"] == "application/json"
    http = event["requestContext"]["http"]
    assert http == {
        "method": "POST",
        "path": "/api/token",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "ua/1",
    }
    assert event["requestContext"]["requestId"] and event["requestContext"]["timeEpoch"] > 0
    assert json.loads(event["body"]) == {"name": "Alice"} and event["isBase64Encoded"] is False


def test_token_endpoint_bare_object_and_binary_and_errors(harness: Harness) -> None:
    harness.token_result = {"token": "t"}
    status, headers, body = get(
        harness,
        "/api/token",
        data=b"\x00\x01",
        method="POST",
        headers={"Content-Type": "application/octet-stream"},
    )
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    assert json.loads(body) == {"token": "t"}
    event = harness.token_events[-1]
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == b"\x00\x01"
    harness.token_result = {
        "statusCode": 200,
        "body": base64.b64encode(b"bin").decode(),
        "isBase64Encoded": True,
    }
    assert get(harness, "/api/token", data=b"", method="POST")[2] == b"bin"
    harness.token_result = RuntimeError("crash")
    assert get(harness, "/api/token", data=b"{}", method="POST")[0] == 502
    harness.token_result = {"statusCode": 204}
    assert get(harness, "/api/token", method="OPTIONS")[0] == 204


def _iot_data(h: Harness) -> Any:
    return boto3.client(
        "iot-data",
        region_name="us-east-1",
        endpoint_url=f"http://127.0.0.1:{h.http_port}",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(retries={"max_attempts": 1}),
    )


def test_boto3_iot_data_publish_reaches_subscriber_and_rules(harness: Harness) -> None:
    sub = Client(harness, "alice-1", "alice", transport="ws").connect()
    sub.subscribe("chat/in/alice-1")
    response = _iot_data(harness).publish(
        topic="chat/in/alice-1", qos=1, payload=b'{"type":"backlog"}'
    )
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    wait_for(lambda: sub.messages)
    assert sub.received() == [("chat/in/alice-1", b'{"type":"backlog"}')]
    (ctx,) = [c for t, _, c in harness.published if t == "chat/in/alice-1"]
    assert ctx.client_id is None and ctx.principal == "AKIDEXAMPLE" and ctx.qos == 1
    sub.close()


def test_boto3_publish_via_environment_variable(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_IOT_DATA_PLANE", f"http://127.0.0.1:{harness.http_port}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    boto3.client("iot-data", region_name="us-east-1").publish(topic="a/b c/d", payload=b"x")
    assert "a/b c/d" in harness.published_topics()


def test_a_large_publish_arriving_in_pieces_is_published_whole(harness: Harness) -> None:
    """A 128 KB body whose bytes arrive a few at a time (a loaded machine) is read to
    its end: one read used to return what had come so far, and published it cut."""
    body = b'{"pad":"' + b"x" * (128 * 1024 - 10) + b'"}'
    head = (
        "POST /topics/big%2Fone?qos=1 HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{harness.http_port}\r\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/x, Signature=x\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", harness.http_port), timeout=10) as sock:
        sock.sendall(head.encode())
        for start in range(0, len(body), 16 * 1024):
            sock.sendall(body[start : start + 16 * 1024])
            time.sleep(0.02)
        assert sock.recv(100).startswith(b"HTTP/1.1 200")
    wait_for(lambda: "big/one" in harness.published_topics())
    ((_, payload, _),) = [p for p in harness.published if p[0] == "big/one"]
    assert payload == body


def test_data_plane_errors_like_aws(harness: Harness) -> None:
    client = _iot_data(harness)
    with pytest.raises(client.exceptions.InvalidRequestException):
        client.publish(topic="chat/+/x", payload=b"x")
    with pytest.raises(client.exceptions.InvalidRequestException):
        client.publish(topic="/".join("a" * 9), payload=b"x")
    with pytest.raises(client.exceptions.RequestEntityTooLargeException):
        client.publish(topic="chat/in/a", payload=b"x" * (128 * 1024 + 1))
    assert get(harness, "/topics/chat%2Fin%2Fa", data=b"x", method="POST")[0] == 403


def test_boto3_delete_connection_closes_the_client_like_aws(harness: Harness) -> None:
    """DeleteConnection: the client is closed (lifecycle reason API_INITIATED_DISCONNECT);
    a client id with no connection is ResourceNotFoundException; bad input is refused."""
    sub = Client(harness, "alice-1", "alice", transport="ws").connect()
    client = _iot_data(harness)
    response = client.delete_connection(clientId="alice-1", preventWillMessage=True)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert sub.disconnected.wait(5)
    wait_for(lambda: harness.events("disconnected"))
    (event,) = harness.events("disconnected")
    assert event["clientId"] == "alice-1"
    assert event["disconnectReason"] == "API_INITIATED_DISCONNECT"
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.delete_connection(clientId="alice-1")
    with pytest.raises(client.exceptions.InvalidRequestException):
        client.delete_connection(clientId="$aws-thing")
    signed = {"Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/x, Signature=x"}
    path = "/connections/alice-1?cleanSession=maybe"
    assert get(harness, path, method="DELETE", headers=signed)[0] == 400
    assert get(harness, "/connections/alice-1", method="DELETE")[0] == 403  # unsigned


def test_mqtt_route_requires_the_mqtt_subprotocol(harness: Harness) -> None:
    status, _, _ = get(
        harness,
        "/mqtt",
        headers={
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        },
    )
    assert status == 400
