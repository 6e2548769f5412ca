import assert from "node:assert/strict";
import { test } from "node:test";

import { MessageStore, compareMessages, normalizeMessage } from "../../web/js/store.js";

const msg = (id, ts, extra = {}) => ({ type: "message", id, ts, room: "lobby", name: "A", text: `t${id}`, ...extra });

test("orders by ts, then id, whatever the arrival order", () => {
  const store = new MessageStore("lobby");
  store.add([msg("c", 30), msg("a", 10)]);
  store.add([msg("b", 20), msg("z", 20), msg("y", 20)]);
  assert.deepEqual(store.ids(), ["a", "b", "y", "z", "c"]);
});

test("a sender's burst of one millisecond keeps its seq order, as the store's sort key does", () => {
  const store = new MessageStore("lobby");
  // Delivered out of order, with ids that sort the other way.
  store.add([msg("z2", 50, { seq: 2 }), msg("y10", 50, { seq: 10 })]);
  store.add([msg("x0", 50, { seq: 0 }), msg("w1", 50, { seq: 1 }), msg("old", 49, { seq: 99 })]);
  assert.deepEqual(store.ids(), ["old", "x0", "w1", "z2", "y10"]);
});

test("deduplicates by id across backlog, live and history", () => {
  const store = new MessageStore("lobby");
  assert.equal(store.add([msg("a", 1), msg("b", 2)]).length, 2);
  assert.equal(store.add([msg("b", 2), msg("a", 1)]).length, 0);
  const added = store.add([msg("a", 1), msg("c", 3)]);
  assert.deepEqual(added.map((x) => x.message.id), ["c"]);
  assert.equal(store.size, 3);
});

test("a duplicate with a different ts does not move or double the message", () => {
  const store = new MessageStore("lobby");
  store.add([msg("a", 5)]);
  store.add([msg("a", 1)]);
  assert.deepEqual(store.list.map((m) => m.ts), [5]);
});

test("reports where each new message goes, newest first", () => {
  const store = new MessageStore("lobby");
  store.add([msg("m2", 20)]);
  const added = store.add([msg("m1", 10), msg("m3", 30), msg("m15", 15)]);
  assert.deepEqual(
    added.map((x) => [x.message.id, x.beforeId]),
    [["m3", null], ["m15", "m2"], ["m1", "m15"]],
  );
});

test("ignores malformed messages and other rooms", () => {
  const store = new MessageStore("lobby");
  const added = store.add([
    null,
    "text",
    { id: "x", ts: 1, name: "A" },
    { id: "", ts: 1, name: "A", text: "t" },
    { id: "y", ts: "soon", name: "A", text: "t" },
    { id: "z", ts: 1, name: "A", text: "t", room: "other" },
    msg("ok", "7"),
  ]);
  assert.deepEqual(added.map((x) => x.message.id), ["ok"]);
  assert.equal(store.list[0].ts, 7);
});

test("messages with a time the page cannot show are dropped, not thrown at the view", () => {
  for (const ts of [1e300, -1, 1.5, Infinity, NaN, "soon", 10 ** 13, Number.MAX_SAFE_INTEGER + 2]) {
    assert.equal(normalizeMessage(msg("a", ts), "lobby"), null, String(ts));
  }
  assert.equal(normalizeMessage(msg("a", 9_999_999_999_999), "lobby").ts, 9_999_999_999_999);
  assert.equal(normalizeMessage(msg("a", "1700000000000"), "lobby").ts, 1_700_000_000_000);
  const store = new MessageStore("lobby");
  assert.equal(store.add([msg("bad", 1e300), msg("good", 5)]).length, 1);
});

test("normalizeMessage keeps only known fields", () => {
  const m = normalizeMessage({ ...msg("a", 1), sender: "s1", clientId: "s1-x", html: "<b>" }, "lobby");
  assert.deepEqual(Object.keys(m).sort(), [
    "clientId",
    "deleted",
    "editedAt",
    "id",
    "name",
    "room",
    "sender",
    "seq",
    "text",
    "ts",
  ]);
});

test("evicts the oldest past the limit", () => {
  const store = new MessageStore("lobby", { limit: 3 });
  const added = store.add([msg("a", 1), msg("b", 2), msg("c", 3), msg("d", 4)]);
  assert.deepEqual(store.ids(), ["b", "c", "d"]);
  assert.deepEqual(added.evicted, ["a"]);
  assert.ok(!added.some((x) => x.message.id === "a"));
});

test("compareMessages is a total order", () => {
  assert.ok(compareMessages(msg("a", 1), msg("b", 1)) < 0);
  assert.ok(compareMessages(msg("b", 1), msg("a", 2)) < 0);
  assert.equal(compareMessages(msg("a", 1), msg("a", 1)), 0);
});

test("edits and deletes change a stored message in place; a deleted one stays deleted", () => {
  const store = new MessageStore("lobby");
  store.add([msg("a", 1), msg("b", 2)]);
  assert.equal(store.change({ type: "edit", id: "a", text: "fixed", editedAt: 9 }).text, "fixed");
  assert.equal(store.byId.get("a").editedAt, 9);
  const gone = store.change({ type: "delete", id: "b", deletedAt: 10 });
  assert.deepEqual([gone.deleted, gone.text, gone.name], [true, "", ""]);
  assert.equal(store.change({ type: "edit", id: "b", text: "back" }), null);
  assert.equal(store.change({ type: "edit", id: "nope", text: "x" }), null);
  assert.equal(store.change({ type: "edit", id: "a", text: 5 }), null);
});

test("a history tombstone keeps its place and an edited message its mark", () => {
  const store = new MessageStore("lobby");
  store.add([{ id: "t", ts: 3, deleted: true }, { ...msg("e", 4), editedAt: 7 }]);
  assert.deepEqual(store.ids(), ["t", "e"]);
  assert.equal(store.byId.get("t").deleted, true);
  assert.equal(store.byId.get("e").editedAt, 7);
});
