"""IAM on the emulator: every role of the chat template is needed where the chat uses it.

Each case writes a copy of templates/chat.json with one permission taken away, starts
the emulator on it, runs the flow that needs the permission with real MQTT clients,
and finds the denial where AWS raises it: the function's log (AccessDeniedException
from boto3, ForbiddenException from the IoT data plane), the rule's error action (AWS's
error payload in the rule-errors log group), the CONNACK. The rest of the chat keeps
working. That the template itself runs the whole integration suite with IAM on shows
its roles are enough.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import jwt
import pytest

from emulator.testing import ROOT, EmulatorProcess
from tests.support.chat import (
    chat_client,
    guest_claims,
    is_message,
    signing_key,
    unique_room,
    wait_roster,
    wait_stored,
)
from tests.support.mqtt_client import ChatClient, new_client_id

pytestmark = pytest.mark.integration

CHAT = ROOT / "templates" / "chat.json"
RULE_ERRORS = "/aws/iot/local/rule-errors"
DENIED = "AccessDeniedException"

Template = dict[str, Any]


# -- template copies ---------------------------------------------------------------------


def chat_template() -> Template:
    return json.loads(CHAT.read_text())


def _policies(template: Template, role: str) -> list[dict[str, Any]]:
    return template["Resources"][role]["Properties"]["Policies"]


def _statement(entry: dict[str, Any]) -> dict[str, Any]:
    """A statement, or the one inside ``Fn::If`` (the stream's, when EnableStream)."""
    return entry["Fn::If"][1] if "Fn::If" in entry else entry


def without_action(
    template: Template, role: str, action: str, resource: str | None = None
) -> Template:
    """Take ``action`` out of the one statement of ``role`` that grants it (on ``resource``).

    A statement left with no action goes, and so does a policy left with no statement,
    as IAM accepts neither.
    """
    changed = 0
    for policy in _policies(template, role):
        statements = policy["PolicyDocument"]["Statement"]
        for entry in list(statements):
            statement = _statement(entry)
            if resource is not None and resource not in json.dumps(statement["Resource"]):
                continue
            if action in statement["Action"]:
                statement["Action"].remove(action)
                changed += 1
                if not statement["Action"]:
                    statements.remove(entry)
    assert changed == 1, f"{action} is granted by {changed} statements of {role}"
    template["Resources"][role]["Properties"]["Policies"] = [
        p for p in _policies(template, role) if p["PolicyDocument"]["Statement"]
    ]
    return template


def without_resource(template: Template, logical_id: str) -> Template:
    del template["Resources"][logical_id]
    return template


# -- one emulator per case --------------------------------------------------------------


@pytest.fixture(scope="module")
def stopping() -> Iterator[ThreadPoolExecutor]:
    """Emulators stop in the background while the next case starts (stopping is waiting)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="stopping") as pool:
        yield pool


@pytest.fixture
def emulator_for(
    tmp_path: Path, stopping: ThreadPoolExecutor
) -> Callable[..., AbstractContextManager[EmulatorProcess]]:
    """``with emulator_for(template) as emulator``: the emulator on a copy of the template,
    without the Kinesis stream unless the case needs it (it costs a poller)."""

    @contextmanager
    def started(
        template: Template, *, stream: bool = False, iam: bool = True
    ) -> Iterator[EmulatorProcess]:
        path = tmp_path / "chat.json"
        path.write_text(json.dumps(template, indent=1))
        args = ["--template", str(path)]
        args += [] if stream else ["--parameter", "EnableStream=false"]
        args += [] if iam else ["--no-iam"]
        proc = EmulatorProcess(args).start()
        try:
            yield proc
        finally:
            stopping.submit(proc.stop)

    return started


# -- what the tests look at ----------------------------------------------------------------


def wait_until(check: Callable[[], Any], what: str, timeout: float = 15) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def log_line(emulator: EmulatorProcess, *parts: str, timeout: float = 15) -> str:
    """The first line of the emulator's output holding every part."""

    def find() -> str | None:
        return next((line for line in emulator.output if all(p in line for p in parts)), None)

    try:
        return wait_until(find, f"a log line with {parts}", timeout)
    except AssertionError:
        raise AssertionError(f"no log line with {parts}:\n{emulator.log_tail(60)}") from None


def error_payloads(emulator: EmulatorProcess, rule: str, timeout: float = 15) -> list[dict]:
    """The error action's messages for ``rule`` in the rule-errors log group."""
    logs = emulator.aws_client("logs")

    def read() -> list[dict]:
        try:
            events = logs.get_log_events(logGroupName=RULE_ERRORS, logStreamName=rule)["events"]
        except logs.exceptions.ResourceNotFoundException:
            return []
        return [json.loads(event["message"]) for event in events]

    return wait_until(read, f"the error action of {rule}", timeout)


def token_response(emulator: EmulatorProcess, name: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{emulator.base_url}/api/token",
        data=json.dumps({"name": name}).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def client(emulator: EmulatorProcess, name: str, room: str, *, minted: bool = False) -> ChatClient:
    """A connected client subscribed to its reply topic and the room (not joined)."""
    if minted:
        token, prefix = minted_token(emulator, name)
    else:
        issued = emulator.guest_token(name)
        token, prefix = issued["token"], issued["clientIdPrefix"]
    made = chat_client(emulator, token, prefix, room)
    # Joins wait for the presence function to record the connect: a connect recorded
    # after a join is the chat's own race, not what these tests are about.
    log_line(emulator, "[local-presence]", made.client_id, "connected")
    return made


def join(member: ChatClient, room: str, name: str) -> None:
    member.publish("chat/out", {"type": "join", "room": room, "name": name})
    member.wait_for(lambda t, b: b.get("type") == "backlog")


def say(member: ChatClient, room: str, text: str, topic: str = "chat/out") -> None:
    member.publish(topic, {"type": "message", "room": room, "name": "Alice", "text": text})


def assert_chat_works(emulator: EmulatorProcess, room: str, *, minted: bool = False) -> None:
    """The control: join, a message delivered to the room and stored."""
    alice = client(emulator, "Alice", room, minted=minted)
    try:
        join(alice, room, "Alice")
        say(alice, room, "still here")
        alice.wait_for(is_message("still here"))
        assert [m["text"] for m in wait_stored(emulator, room, 1)] == ["still here"]
    finally:
        alice.close()


def original(payload: dict) -> dict:
    return json.loads(base64.b64decode(payload["base64OriginalPayload"]))


def only_failure(payload: dict) -> dict:
    (failure,) = payload["failures"]
    return failure


def minted_token(emulator: EmulatorProcess, name: str) -> tuple[str, str]:
    """A valid guest token and its client id prefix, signed by the test with the
    template's key rather than issued by the token function."""
    claims = guest_claims(name=name)
    return jwt.encode(claims, signing_key(emulator), algorithm="HS256"), claims["sub"]


def connect_minted(emulator: EmulatorProcess) -> str:
    """The CONNACK a client gets with a valid token."""
    token, prefix = minted_token(emulator, "Alice")
    authorizer = emulator.config()["authorizer"]
    attempt = ChatClient("127.0.0.1", emulator.mqtt_port, token, authorizer, new_client_id(prefix))
    try:
        return attempt.connect()
    finally:
        attempt.close()


def assert_rooms_are_stored(emulator: EmulatorProcess) -> None:
    """A message reaching a room (through the data plane) is stored by the store rule."""
    room = unique_room()
    message = {"type": "message", "room": room, "name": "Bot", "text": "stored"}
    message |= {"id": "m-1", "ts": int(time.time() * 1000), "seq": 0}
    emulator.data_plane().publish(topic=f"chat/pub/{room}", qos=1, payload=json.dumps(message))
    assert [m["text"] for m in wait_stored(emulator, room, 1)] == ["stored"]


# -- template variants ------------------------------------------------------------------


def without_lambda_permissions() -> Template:
    """No permission for IoT to invoke the authorizer or the route rule's function, nor
    for anyone to call the token function's URL."""
    template = chat_template()
    for permission in (
        "AuthorizerInvokePermission",
        "RouteRuleInvokePermission",
        "TokenUrlInvokeUrlPermission",
    ):
        template = without_resource(template, permission)
    return template


def without_any_role_policy() -> Template:
    template = chat_template()
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::IAM::Role":
            resource["Properties"]["Policies"] = []
    return template


def removed(role: str, action: str, resource: str | None = None) -> Template:
    """The chat template without one permission of one role."""
    return without_action(chat_template(), role, action, resource)


# -- the template's own roles are enough -------------------------------------------------


def run_every_flow(emulator: EmulatorProcess) -> None:
    """Join, message, history, leave, the stream path and a disconnect, with two clients."""
    room = unique_room()
    alice, bob = client(emulator, "Alice", room), client(emulator, "Bob", room)
    try:
        join(alice, room, "Alice")
        join(bob, room, "Bob")
        say(alice, room, "direct")
        bob.wait_for(is_message("direct"))
        say(alice, room, "streamed", topic="chat/stream")
        bob.wait_for(is_message("streamed"), timeout=20)
        assert sorted(m["text"] for m in wait_stored(emulator, room, 2)) == ["direct", "streamed"]
        alice.publish("chat/out", {"type": "history", "room": room})
        alice.wait_for(lambda t, b: b.get("type") == "history")
        bob.publish("chat/out", {"type": "leave", "room": room})
        wait_roster(alice, ["Alice"])
        join(bob, room, "Bob")
        wait_roster(alice, ["Alice", "Bob"])
        bob.close()  # the presence function takes Bob out of the room
        wait_roster(alice, ["Alice"])
    finally:
        alice.close()
        bob.close()
    assert [line for line in emulator.output if "IAM denied" in line or DENIED in line] == []


def test_the_template_roles_are_enough(emulator: EmulatorProcess) -> None:
    """On the template itself (the session's emulator, IAM on): no call is ever denied."""
    assert "IAM: enforced" in "\n".join(emulator.output)
    run_every_flow(emulator)


# -- one permission removed per role -------------------------------------------------------


def test_authorizer_role_needs_the_token_secret(emulator_for: Any) -> None:
    with emulator_for(
        removed("AuthorizerFunctionRole", "secretsmanager:GetSecretValue")
    ) as emulator:
        status, _ = token_response(emulator, "Alice")
        assert status == 200  # the token function's own role still reads the key
        assert connect_minted(emulator) == "Not authorized"
        log_line(emulator, "[local-authorizer]", DENIED, "secretsmanager:GetSecretValue")
        assert_rooms_are_stored(emulator)  # nothing else: the rules and their roles work


def test_token_role_needs_the_token_secret(emulator_for: Any) -> None:
    with emulator_for(removed("TokenFunctionRole", "secretsmanager:GetSecretValue")) as emulator:
        status, body = token_response(emulator, "Alice")
        assert status == 500, body
        log_line(emulator, "[local-token]", DENIED, "secretsmanager:GetSecretValue")
        assert_chat_works(emulator, unique_room(), minted=True)


def test_chat_role_needs_query_on_the_messages_table(emulator_for: Any) -> None:
    table = '["MessagesTable", "Arn"]'  # the table itself, not its id-index
    with emulator_for(removed("ChatFunctionRole", "dynamodb:Query", table)) as emulator:
        room = unique_room()
        alice = client(emulator, "Alice", room)
        try:
            alice.publish("chat/out", {"type": "join", "room": room, "name": "Alice"})
            line = log_line(emulator, "[local-chat]", DENIED, "dynamodb:Query")
            assert "table/local-messages because no identity-based policy allows" in line
            assert alice.matching(lambda t, b: b.get("type") == "backlog") == []
            # Nothing else: messages are still republished and stored.
            say(alice, room, "hello")
            alice.wait_for(is_message("hello"))
            assert [m["text"] for m in wait_stored(emulator, room, 1)] == ["hello"]
        finally:
            alice.close()


def test_chat_role_needs_delete_connection_to_close_a_removed_member(emulator_for: Any) -> None:
    """Removing a member closes its connections with iot:DeleteConnection on client/*."""
    with emulator_for(removed("ChatFunctionRole", "iot:DeleteConnection")) as emulator:
        room = unique_room()
        alice, bob = client(emulator, "Alice", room), client(emulator, "Bob", room)
        try:
            join(alice, room, "Alice")
            join(bob, room, "Bob")
            owner = alice.client_id.rsplit("-", 1)[0]
            member = bob.client_id.rsplit("-", 1)[0]
            alice.subscribe(f"chat/user/{owner}")
            bob.subscribe(f"chat/user/{member}")
            create = {"type": "create", "title": "T", "private": True, "name": "Alice"}
            alice.publish("chat/out", create)
            _, created = alice.wait_for(lambda t, b: b.get("type") == "created")
            change = {"room": created["room"], "member": member}
            alice.publish("chat/out", {"type": "invite", **change})
            bob.wait_for(lambda t, b: b.get("type") == "invited")
            alice.publish("chat/out", {"type": "remove", **change})
            bob.wait_for(lambda t, b: b.get("type") == "removed")  # publishing is allowed
            log_line(emulator, "[local-chat]", "ForbiddenException", "DeleteConnection")
            denied = log_line(emulator, "IAM denied", "local-ChatFunctionRole")
            arn = f"arn:aws:iot:us-east-1:123456789012:client/{bob.client_id}"
            assert f"iot:DeleteConnection on resource: {arn}" in denied
        finally:
            alice.close()
            bob.close()


def test_chat_role_needs_get_records_for_its_stream_mapping(emulator_for: Any) -> None:
    """Lambda reads the stream with the function's role, not with a rule's."""
    with emulator_for(removed("ChatFunctionRole", "kinesis:GetRecords"), stream=True) as emulator:
        log_line(emulator, "mapping", "GetRecords", DENIED, "kinesis:GetRecords")
        assert_chat_works(emulator, unique_room())


def test_presence_role_needs_publish_to_rooms(emulator_for: Any) -> None:
    with emulator_for(removed("PresenceFunctionRole", "iot:Publish")) as emulator:
        room = unique_room()
        alice, bob = client(emulator, "Alice", room), client(emulator, "Bob", room)
        try:
            join(alice, room, "Alice")
            join(bob, room, "Bob")
            wait_roster(alice, ["Alice", "Bob"])  # the chat function's roster: it may publish
            bob.close()  # the presence function should publish the roster without Bob
            log_line(emulator, "[local-presence]", "ForbiddenException", "Publish")
            denied = log_line(emulator, "IAM denied", "local-PresenceFunctionRole")
            assert (
                f"iot:Publish on resource: arn:aws:iot:us-east-1:123456789012:topic/chat/pub/{room}"
                in denied
            )
            say(alice, room, "anyone?")
            alice.wait_for(is_message("anyone?"))
        finally:
            alice.close()


def test_republish_role_needs_iot_publish(emulator_for: Any) -> None:
    with emulator_for(removed("RepublishRuleRole", "iot:Publish")) as emulator:
        room = unique_room()
        alice = client(emulator, "Alice", room)
        try:
            join(alice, room, "Alice")  # the route rule and the chat function still work
            say(alice, room, "lost")
            (payload,) = error_payloads(emulator, "local_republish")
            failure = only_failure(payload)
            assert failure["failedAction"] == "RepublishAction"
            assert failure["failedResource"] == f"chat/pub/{room}"
            assert DENIED in failure["errorMessage"]
            assert "not authorized to perform: iot:Publish" in failure["errorMessage"]
            assert "assumed-role/local-RepublishRuleRole/local_republish" in failure["errorMessage"]
            assert payload["clientId"] == alice.client_id and original(payload)["text"] == "lost"
            assert alice.matching(is_message("lost")) == []
        finally:
            alice.close()


def test_store_role_needs_put_item(emulator_for: Any) -> None:
    with emulator_for(removed("StoreRuleRole", "dynamodb:PutItem")) as emulator:
        room = unique_room()
        alice = client(emulator, "Alice", room)
        try:
            join(alice, room, "Alice")
            say(alice, room, "unsaved")
            alice.wait_for(is_message("unsaved"))  # delivered: the republish role is intact
            (payload,) = error_payloads(emulator, "local_store")
            failure = only_failure(payload)
            assert failure["failedAction"] == "DynamoDBv2Action"
            assert failure["failedResource"] == "local-messages"
            assert "Error Code: AccessDeniedException" in failure["errorMessage"]
            assert "dynamodb:PutItem on resource" in failure["errorMessage"]
            assert payload["topic"] == f"chat/pub/{room}"
            assert wait_stored(emulator, room, 1, timeout=0) == []
        finally:
            alice.close()


def test_stream_role_needs_put_record(emulator_for: Any) -> None:
    with emulator_for(removed("StreamRuleRole", "kinesis:PutRecord"), stream=True) as emulator:
        room = unique_room()
        alice = client(emulator, "Alice", room)
        try:
            join(alice, room, "Alice")
            say(alice, room, "streamed", topic="chat/stream")
            (payload,) = error_payloads(emulator, "local_stream")
            failure = only_failure(payload)
            assert failure["failedAction"] == "KinesisAction"
            assert "kinesis:PutRecord on resource: arn:aws:kinesis:" in failure["errorMessage"]
            assert DENIED in failure["errorMessage"]
            say(alice, room, "direct")
            alice.wait_for(is_message("direct"))
            assert alice.matching(is_message("streamed")) == []
        finally:
            alice.close()


def test_rule_errors_role_needs_put_log_events(emulator_for: Any) -> None:
    with emulator_for(removed("RuleErrorsRole", "logs:PutLogEvents"), stream=True) as emulator:
        room = unique_room()
        alice = client(emulator, "Alice", room)
        try:
            join(alice, room, "Alice")
            # No room: an empty partition key, which Kinesis refuses, so the error action runs.
            alice.publish("chat/stream", {"type": "message", "name": "Alice", "text": "x"})
            line = log_line(emulator, "rule local_stream: the error action failed too")
            assert "logs:PutLogEvents on resource" in line and DENIED in line
            # Nothing else: the stream path works for a message with a room.
            say(alice, room, "streamed", topic="chat/stream")
            alice.wait_for(is_message("streamed"), timeout=20)
        finally:
            alice.close()


# -- resource-based policies ---------------------------------------------------------------


def test_lambda_permissions_are_checked(emulator_for: Any) -> None:
    """The functions' resource-based policies: without its permission the function URL
    answers 403, and IoT can invoke neither the authorizer (the CONNECT is refused) nor
    the route rule's function (the rule's error action runs)."""
    with emulator_for(without_lambda_permissions()) as emulator:
        assert token_response(emulator, "Alice") == (403, {"Message": "Forbidden"})
        assert connect_minted(emulator) == "Not authorized"
        denied = log_line(emulator, "IAM denied", "function:local-authorizer")
        assert "User: iot.amazonaws.com is not authorized to perform: lambda:InvokeFunction" in (
            denied
        )
        room = unique_room()  # no client can connect: the data plane feeds the route rule
        join = {"type": "join", "room": room, "name": "Alice"}
        emulator.data_plane().publish(topic="chat/out", qos=1, payload=json.dumps(join))
        (payload,) = error_payloads(emulator, "local_route")
        failure = only_failure(payload)
        assert failure["failedAction"] == "LambdaAction"
        assert failure["failedResource"].endswith(":function:local-chat")
        assert f"{DENIED}; Request ID" in failure["errorMessage"]
        assert (
            "because no resource-based policy allows the lambda:InvokeFunction action"
            in (failure["errorMessage"])
        )
        assert_rooms_are_stored(emulator)


def test_no_iam_runs_roles_without_permissions(emulator_for: Any) -> None:
    """``--no-iam``: every role stripped of its policies, and the chat still runs."""
    with emulator_for(without_any_role_policy(), iam=False) as emulator:
        output = "\n".join(emulator.output)
        assert "IAM: not enforced (--no-iam)" in output
        assert "(moto IAM, not enforced (--no-iam))" in output
        assert_chat_works(emulator, unique_room())
