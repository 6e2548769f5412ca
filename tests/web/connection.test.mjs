// ChatConnection against a scripted stand-in for mqtt.js: the reconnect, token and
// subscription logic, without a browser or a broker.
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { test } from "node:test";

import { Backoff } from "../../web/js/backoff.js";
import { ChatConnection } from "../../web/js/connection.js";

class FakeClient extends EventEmitter {
  constructor(url, opts) {
    super();
    this.url = url;
    this.opts = opts;
    this.connected = false;
    this.subscribed = null;
    this.published = [];
    this.inflight = [];
    this.ended = false;
  }
  subscribe(subs, cb) {
    this.subscribed = subs;
    const refused = this.refusedTopics ?? new Set();
    queueMicrotask(() => cb(null, Object.keys(subs).map((topic) => ({ topic, qos: refused.has(topic) ? 128 : 1 }))));
  }
  publish(topic, payload, opts, cb) {
    this.published.push({ topic, payload: JSON.parse(payload), opts });
    if (cb) this.inflight.push(cb);
  }
  ackAll() {
    for (const cb of this.inflight.splice(0)) cb();
  }
  end(force) {
    this.ended = true;
    this.connected = false;
    for (const cb of this.inflight.splice(0)) cb(new Error("Connection closed"));
    this.emit("close");
  }
  // broker side
  accept() {
    this.connected = true;
    this.emit("connect", { returnCode: 0 });
  }
  refuse(code) {
    const err = new Error("Connection refused: Not authorized");
    err.code = code;
    this.emit("error", err);
    this.drop();
  }
  drop() {
    this.connected = false;
    this.emit("close");
  }
}

function harness({ tokenStore } = {}) {
  const clients = [];
  const tokens = [];
  const timers = [];
  const fakeTimers = {
    setTimeout(fn, ms) {
      const t = { fn, ms, done: false };
      timers.push(t);
      return t;
    },
    clearTimeout(t) {
      if (t) t.done = true;
    },
  };
  let n = 0;
  const fetchImpl = async (url, init) => {
    n += 1;
    tokens.push({ url, body: JSON.parse(init.body) });
    return {
      ok: true,
      status: 200,
      json: async () => ({ token: `tok${n}`, clientIdPrefix: "pfx", expiresAt: Math.floor(Date.now() / 1000) + 3600 }),
    };
  };
  const states = [];
  const conn = new ChatConnection({
    config: { mqttUrl: "ws://h/mqtt", authorizer: "Auth", tokenUrl: "/api/token", topicRoot: "chat" },
    room: "lobby",
    name: "Alice",
    mqttLib: { connect: (url, opts) => clients.push(new FakeClient(url, opts)) && clients.at(-1) },
    pageUrl: "http://h/lobby",
    fetchImpl,
    backoff: new Backoff({ base: 500, cap: 30000, random: () => 1 }),
    timers: fakeTimers,
    tokenStore,
  });
  conn.addEventListener("state", (e) => states.push(e.detail));
  const runTimers = async () => {
    for (const t of timers.splice(0)) if (!t.done) t.fn();
    for (let i = 0; i < 5; i += 1) await new Promise((r) => setImmediate(r));
  };
  const settle = async () => {
    for (let i = 0; i < 5; i += 1) await new Promise((r) => setImmediate(r));
  };
  const goOnline = async (client) => {
    client.accept();
    await settle();
    client.ackAll(); // PUBACK for the join
    await settle();
  };
  return { conn, clients, tokens, timers, states, runTimers, settle, goOnline };
}

test("connects with the authorizer in the URL, subscribes, joins, goes online", async () => {
  const h = harness();
  h.conn.start();
  await h.runTimers();
  assert.equal(h.tokens.length, 1);
  assert.equal(h.tokens[0].url, "http://h/api/token");
  assert.deepEqual(h.tokens[0].body, { name: "Alice" });
  const [c] = h.clients;
  assert.equal(c.url, "ws://h/mqtt?x-amz-customauthorizer-name=Auth&token=tok1");
  assert.equal(c.opts.protocolVersion, 4);
  assert.equal(c.opts.clean, true);
  assert.equal(c.opts.reconnectPeriod, 0);
  assert.match(c.opts.clientId, /^pfx-[a-z0-9]+$/);
  assert.equal(h.states.at(-1).state, "connecting");
  await h.goOnline(c);
  assert.deepEqual(Object.keys(c.subscribed).sort(), [
    `chat/in/${c.opts.clientId}`,
    "chat/pub/lobby",
    "chat/user/pfx",
  ]);
  assert.deepEqual(c.published[0], {
    topic: "chat/out",
    payload: { type: "join", room: "lobby", name: "Alice" },
    opts: { qos: 1 },
  });
  assert.equal(h.conn.state, "online");
});

test("a dropped connection reconnects with growing delays, same token, and rejoins", async () => {
  const h = harness();
  h.conn.start();
  await h.runTimers();
  await h.goOnline(h.clients[0]);
  h.clients[0].drop();
  await h.settle();
  assert.equal(h.conn.state, "reconnecting");
  assert.equal(h.states.at(-1).delay, 500);
  await h.runTimers();
  h.clients[1].drop(); // the server is still down
  await h.settle();
  assert.equal(h.states.at(-1).delay, 1000);
  assert.equal(h.tokens.length, 1, "the token of an established session is reused");
  await h.runTimers();
  assert.equal(h.tokens.length, 2, "a connection that never got its CONNACK asks for a new token");
  await h.goOnline(h.clients[2]);
  assert.equal(h.conn.state, "online");
  assert.equal(h.clients[2].published[0].payload.type, "join");
  // the backoff starts again from the base after a success
  h.clients[2].drop();
  await h.settle();
  assert.equal(h.states.at(-1).delay, 500);
});

test("an auth refusal gets a new token before the next attempt", async () => {
  const h = harness();
  h.conn.start();
  await h.runTimers();
  await h.goOnline(h.clients[0]);
  h.clients[0].drop();
  await h.settle();
  await h.runTimers();
  assert.equal(h.clients[1].url.endsWith("token=tok1"), true, "an established session's token is reused");
  h.clients[1].refuse(5);
  await h.settle();
  await h.runTimers();
  assert.equal(h.clients.length, 3);
  assert.ok(h.clients[2].url.endsWith("token=tok2"));
});

test("send: resolves on PUBACK, rejects when the connection drops first, refuses offline", async () => {
  const h = harness();
  h.conn.start();
  await h.runTimers();
  await h.goOnline(h.clients[0]);
  const ok = h.conn.send("one");
  h.clients[0].ackAll();
  await ok;
  assert.deepEqual(h.clients[0].published.at(-1).payload, { type: "message", room: "lobby", name: "Alice", text: "one", seq: 0 });
  const lost = h.conn.send("two");
  h.clients[0].drop();
  await assert.rejects(lost, /Connection closed/);
  await assert.rejects(h.conn.send("three"), /not connected/);
  await h.runTimers();
  await h.goOnline(h.clients[1]);
  const sentAgain = h.clients.flatMap((c) => c.published).filter((p) => p.payload.text === "two");
  assert.equal(sentAgain.length, 1, "nothing is resent by itself");
});

test("offline pauses retries until the network is back", async () => {
  const h = harness();
  h.conn.start();
  await h.runTimers();
  await h.goOnline(h.clients[0]);
  h.conn.setNetwork(false);
  await h.settle();
  assert.equal(h.conn.state, "offline");
  await h.runTimers();
  assert.equal(h.clients.length, 1);
  h.conn.setNetwork(true);
  await h.runTimers();
  assert.equal(h.clients.length, 2);
});

test("a rate-limited token request waits as long as Retry-After says, and says why", async () => {
  const h = harness();
  const problems = [];
  h.conn.addEventListener("problem", (e) => problems.push(e.detail.message));
  h.conn.fetch = async () => ({ ok: false, status: 429, headers: new Map([["retry-after", "42"]]) });
  h.conn.start();
  await h.runTimers();
  assert.match(problems.at(-1), /busy .*in 42 s/);
  assert.equal(h.timers.filter((t) => !t.done).at(-1).ms, 42_000);
  assert.equal(h.states.at(-1).delay, 42_000);
});

test("a kept token is presented when a new one is asked for, and the new one is kept", async () => {
  const saved = [];
  const kept = { token: "old", clientIdPrefix: "pfx", issuedAt: 0, expiresAt: 1 };
  const h = harness({ tokenStore: { load: () => kept, save: (t) => saved.push(t) } });
  assert.equal(h.conn.principal, "pfx");
  h.conn.start();
  await h.runTimers();
  // The kept token is stale: a new one is asked for with it, to stay the same principal.
  assert.deepEqual(h.tokens[0].body, { name: "Alice", token: "old" });
  assert.equal(saved.at(-1).token, "tok1");
});

test("private rooms are subscribed on connect; one the policy refuses is revoked, not fatal", async () => {
  const h = harness();
  const revoked = [];
  const got = [];
  h.conn.addEventListener("revoked", (e) => revoked.push(e.detail.room));
  h.conn.addEventListener("private", (e) => got.push(e.detail.data));
  h.conn.addEventListener("user", (e) => got.push(e.detail.data));
  h.conn.privateRooms.add("p-1");
  h.conn.privateRooms.add("p-2");
  h.conn.start();
  await h.runTimers();
  const [c] = h.clients;
  c.refusedTopics = new Set(["chat/priv/p-2"]);
  await h.goOnline(c);
  assert.ok("chat/priv/p-1" in c.subscribed && "chat/priv/p-2" in c.subscribed);
  assert.deepEqual(revoked, ["p-2"]);
  assert.deepEqual([...h.conn.privateRooms], ["p-1"]);
  assert.equal(h.states.at(-1).state, "online");
  c.emit("message", "chat/priv/p-1", JSON.stringify({ type: "typing", name: "Bob" }));
  c.emit("message", "chat/priv/p-2", JSON.stringify({ type: "typing", name: "Eve" }));
  c.emit("message", "chat/user/pfx", JSON.stringify({ type: "dm", text: "hi" }));
  assert.deepEqual(got, [
    { type: "typing", name: "Bob", room: "p-1" },
    { type: "dm", text: "hi" },
  ]);
});

test("command publishes any contract command; reconnect drops and connects at once", async () => {
  const h = harness();
  h.conn.start();
  await h.runTimers();
  await h.goOnline(h.clients[0]);
  const sent = h.conn.command({ type: "typing", room: "lobby", name: "Alice" }, 0);
  assert.deepEqual(h.clients[0].published.at(-1), {
    topic: "chat/out",
    payload: { type: "typing", room: "lobby", name: "Alice" },
    opts: { qos: 0 },
  });
  h.clients[0].ackAll();
  await sent;
  h.conn.reconnect();
  await h.runTimers();
  assert.equal(h.clients.length, 2);
  assert.ok(h.clients[0].ended);
});
