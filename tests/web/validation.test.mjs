import assert from "node:assert/strict";
import { test } from "node:test";

import { charCount, isValidRoom, roomFromPath, validateName, validateText } from "../../web/js/validation.js";
import { clientIdFor, mqttUrlWithAuth, randomSuffix, topicsFor } from "../../web/js/topics.js";
import {
  commands,
  errorText,
  isNewerRoster,
  parsePayload,
  presenceMembers,
  presenceMore,
  rosterTime,
} from "../../web/js/protocol.js";

test("room from the page path", () => {
  assert.deepEqual(roomFromPath("/"), { room: "lobby" });
  assert.deepEqual(roomFromPath(""), { room: "lobby" });
  assert.deepEqual(roomFromPath("/lobby"), { room: "lobby" });
  assert.deepEqual(roomFromPath("/dev_team-2/"), { room: "dev_team-2" });
  assert.deepEqual(roomFromPath(`/${"a".repeat(64)}`), { room: "a".repeat(64) });
  for (const bad of [`/${"a".repeat(65)}`, "/a b", "/a%20b", "/a/b", "/%E0%A4%A", "/caf%C3%A9", "/<script>", "/..", "/a.b"]) {
    assert.ok(roomFromPath(bad).error, bad);
  }
});

test("room pattern", () => {
  assert.ok(isValidRoom("Lobby_1-x"));
  assert.ok(!isValidRoom(""));
  assert.ok(!isValidRoom("a+b"));
  assert.ok(!isValidRoom("a#"));
});

test("name: 1 to 40 characters after trimming", () => {
  assert.ok(validateName("Alice").ok);
  assert.ok(validateName(" Alice ").ok);
  assert.ok(validateName("x".repeat(40)).ok);
  assert.ok(!validateName("x".repeat(41)).ok);
  assert.ok(!validateName("").ok);
  assert.ok(!validateName("   ").ok);
  assert.match(validateName("x".repeat(45)).message, /5 characters too long/);
});

test("text: 1 to 2000 characters, counted in code points", () => {
  assert.ok(validateText("hi").ok);
  assert.ok(validateText("x".repeat(2000)).ok);
  assert.ok(!validateText("x".repeat(2001)).ok);
  assert.ok(!validateText("").ok);
  assert.ok(!validateText(" \n ").ok);
  assert.equal(charCount("😀😀"), 2);
  assert.ok(validateText("😀".repeat(2000)).ok);
  assert.equal(validateText("x".repeat(2001)).length, 2001);
});

test("topics follow the root", () => {
  const t = topicsFor("chat");
  assert.equal(t.out, "chat/out");
  assert.equal(t.room("lobby"), "chat/pub/lobby");
  assert.equal(t.inbox("abc-1"), "chat/in/abc-1");
  assert.equal(topicsFor("stack2").out, "stack2/out");
  assert.throws(() => topicsFor("a/b"));
  assert.throws(() => topicsFor("#"));
  assert.equal(clientIdFor("p1", "xyz"), "p1-xyz");
  assert.match(randomSuffix(), /^[a-z0-9]{10}$/);
});

test("the MQTT URL carries the authorizer and an encoded token", () => {
  assert.equal(
    mqttUrlWithAuth("wss://e.example/mqtt", "Chat Auth", "a.b+c/="),
    "wss://e.example/mqtt?x-amz-customauthorizer-name=Chat%20Auth&token=a.b%2Bc%2F%3D",
  );
  assert.equal(
    mqttUrlWithAuth("/mqtt", "A", "t", "http://127.0.0.1:8080/lobby"),
    "ws://127.0.0.1:8080/mqtt?x-amz-customauthorizer-name=A&token=t",
  );
  assert.equal(mqttUrlWithAuth("wss://e/mqtt?x=1", "A", "t"), "wss://e/mqtt?x=1&x-amz-customauthorizer-name=A&token=t");
});

test("payloads: only JSON objects with a type are accepted", () => {
  assert.deepEqual(parsePayload('{"type":"message","text":"hi"}'), { type: "message", text: "hi" });
  assert.deepEqual(parsePayload(new TextEncoder().encode('{"type":"x"}')), { type: "x" });
  for (const bad of ["alert(1)", "[1]", "null", '"x"', "{}", '{"type":1}', "", null]) {
    assert.equal(parsePayload(bad), null, String(bad));
  }
});

test("commands are the design's JSON", () => {
  assert.deepEqual(JSON.parse(commands.join("lobby", "Al")), { type: "join", room: "lobby", name: "Al" });
  assert.deepEqual(JSON.parse(commands.message("lobby", "Al", "hi", 3)), {
    type: "message",
    room: "lobby",
    name: "Al",
    text: "hi",
    seq: 3,
  });
  assert.deepEqual(JSON.parse(commands.history("lobby", null)), { type: "history", room: "lobby", before: null });
});

test("a roster cut to fit one message says how many more there are", () => {
  assert.equal(presenceMore({ more: 12 }), 12);
  for (const bad of [undefined, -3, 1.5, "7", 1e300, null]) assert.equal(presenceMore({ more: bad }), 0);
});

test("presence members are unique and sorted; errors become sentences", () => {
  const members = presenceMembers({
    members: [{ name: "Bob", sender: "b" }, { name: "al", sender: "a" }, { name: "Bob", sender: "b" }, { name: "" }, null],
  });
  assert.deepEqual(members, [{ name: "al", sender: "a" }, { name: "Bob", sender: "b" }]);
  assert.deepEqual(presenceMembers({}), []);
  assert.equal(errorText({ code: "bad_request", message: "text too long" }), "text too long (bad_request)");
  assert.match(errorText({}), /refused/);
});

test("a roster read earlier never replaces a newer one", () => {
  const now = 1_000;
  const newer = (data, shownAt) => isNewerRoster(rosterTime(data, now), shownAt);
  assert.equal(newer({ at: 200 }, null), true);
  assert.equal(newer({ at: 200 }, 100), true);
  assert.equal(newer({ at: 200 }, 200), true);
  assert.equal(newer({ at: 100 }, 200), false);
  assert.equal(newer({}, 200), true); // no stamp: taken as it comes
  assert.equal(newer({ at: "300" }, 200), true);
});

test("a roster from the future counts as now, so it cannot freeze the member list", () => {
  const shown = rosterTime({ at: 1e300 }, 1_000);
  assert.equal(shown, 1_000);
  assert.equal(isNewerRoster(rosterTime({ at: 1_500 }, 2_000), shown), true);
  for (const bad of [Infinity, -1, NaN, "1e300", null, true]) {
    assert.equal(rosterTime({ at: bad }, 1_000), null, String(bad));
  }
});
