// The MQTT side of the page: token, connect, subscribe, join, reconnect with backoff,
// token renewal. No DOM: it reports through events, so app.js owns the page.
//
// Events (CustomEvent, detail in parentheses):
//   state    ({state, attempt, delay})  connecting | online | reconnecting | offline
//   inbox    ({data})   a reply on <root>/in/<clientId> (backlog, history, error)
//   room     ({data})   room traffic on <root>/pub/<room> (message, presence)
//   user     ({data})   on <root>/user/<principal>: DMs, invitations, removals
//   private  ({data})   a private room's traffic on <root>/priv/<roomId>
//   revoked  ({room})   a private room the server no longer lets this page subscribe to
//   online   ({clientId, firstTime})   subscribed and joined
//   problem  ({message})   something the user should know (token refused, ...)

import { Backoff, expiryMs, renewDelay, tokenStale } from "./backoff.js";
import { CONTRACT } from "./contract.js";
import { commands, parsePayload } from "./protocol.js";
import { clientIdFor, mqttUrlWithAuth, randomSuffix, topicsFor } from "./topics.js";

const AUTH_REFUSED = new Set([4, 5, 134, 135]);

export class ChatConnection extends EventTarget {
  /**
   * @param {object} o
   * @param {{mqttUrl: string, authorizer: string, tokenUrl: string, topicRoot: string}} o.config
   * @param {string} o.room
   * @param {string} o.name
   * @param {object} o.mqttLib  the mqtt.js global
   * @param {string} o.pageUrl  location.href, to resolve relative URLs
   */
  constructor({ config, room, name, mqttLib, pageUrl, fetchImpl, backoff, timers, tokenStore }) {
    super();
    this.config = config;
    this.room = room;
    this.name = name;
    this.mqtt = mqttLib;
    this.pageUrl = pageUrl;
    this.fetch = fetchImpl ?? ((...a) => globalThis.fetch(...a));
    this.backoff = backoff ?? new Backoff();
    this.timers = timers ?? globalThis;
    this.topics = topicsFor(config.topicRoot);
    this.state = "offline";
    // The guest token, kept (tokenStore, localStorage in the page) so that a reload or
    // another tab is the same principal: it is presented when a new one is asked for.
    this.tokenStore = tokenStore ?? null;
    this.token = this.tokenStore?.load() ?? null; // {token, clientIdPrefix, issuedAt, expiresAt}
    this.privateRooms = new Set(); // subscribed on every connect (the policy allows them)
    this.suffix = randomSuffix();
    this.client = null;
    this.clientId = null;
    this.ownClientIds = new Set();
    this.ownSenders = new Set();
    this.everOnline = false;
    this.stopped = true;
    this.networkUp = true;
    this.refreshToken = false;
    this.retryTimer = null;
    this.renewTimer = null;
    this.attempt = 0;
    this.seq = 0; // numbers our messages for the whole page, across reconnects
  }

  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  _setState(state, extra = {}) {
    this.state = state;
    this._emit("state", { state, ...extra });
  }

  get online() {
    return this.state === "online" && this.client !== null && this.client.connected;
  }

  isOwn(message) {
    return this.ownClientIds.has(message.clientId) || this.ownSenders.has(message.sender);
  }

  start() {
    this.stopped = false;
    this._connectSoon(0);
  }

  stop() {
    this.stopped = true;
    this.timers.clearTimeout(this.retryTimer);
    this.timers.clearTimeout(this.renewTimer);
    if (this.client && this.client.connected) {
      try {
        this.client.publish(this.topics.out, commands.leave(this.room), { qos: 0 });
      } catch {
        /* closing anyway */
      }
    }
    this._dropClient();
    this._setState("offline");
  }

  /** The browser lost or regained the network (window offline/online events). */
  setNetwork(up) {
    this.networkUp = up;
    if (this.stopped) return;
    if (!up) {
      this.timers.clearTimeout(this.retryTimer);
      this._dropClient();
      this._setState("offline");
    } else if (!this.client) {
      this.backoff.reset();
      this._connectSoon(0);
    }
  }

  /** Waiting for a retry (e.g. the tab became visible again): try now instead. */
  retryNow() {
    if (this.stopped || !this.networkUp || this.client || this.retryTimer === null) return;
    this._connectSoon(0);
  }

  /** A new display name: used for the next messages and announced with a new join. */
  setName(name) {
    this.name = name;
    if (this.online) {
      this.client.publish(this.topics.out, commands.join(this.room, name), { qos: 1 });
    }
  }

  /** Publishes a chat message; resolves on PUBACK, rejects if the connection drops first. */
  send(text) {
    const seq = this.seq;
    this.seq = (this.seq + 1) % (CONTRACT.seq.max + 1);
    return this._publish(commands.message(this.room, this.name, text, seq));
  }

  /** The principal this page is (its token's clientIdPrefix), or null before a token. */
  get principal() {
    return this.token?.clientIdPrefix ?? null;
  }

  /** Publishes any command of the contract (an object) to <root>/out. */
  command(body, qos = 1) {
    return this._publish(JSON.stringify(body), qos);
  }

  /**
   * Connects again at once: after an invitation or a new room the authorizer's new
   * policy has the room, and a removal has closed the connection anyway.
   */
  reconnect() {
    if (this.stopped) return;
    this._dropClient();
    this._setState("reconnecting");
    this.backoff.reset();
    this._connectSoon(0);
  }

  /** Asks for the page of messages older than `before`; the answer comes as an inbox event. */
  requestHistory(before) {
    return this._publish(commands.history(this.room, before));
  }

  _publish(payload, qos = 1) {
    return new Promise((resolve, reject) => {
      if (!this.online) {
        reject(new Error("not connected"));
        return;
      }
      this.client.publish(this.topics.out, payload, { qos }, (err) => {
        if (err) reject(err);
        else resolve();
      });
    });
  }

  _connectSoon(delay) {
    this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = null;
      this._connect().catch((err) => this._failed(err));
    }, delay);
  }

  async _fetchToken() {
    const url = new URL(this.config.tokenUrl, this.pageUrl).href;
    const resp = await this.fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(this.token ? { name: this.name, token: this.token.token } : { name: this.name }),
      cache: "no-store",
      credentials: "omit",
    });
    if (!resp.ok) {
      const err = new Error(`token request refused (HTTP ${resp.status})`);
      err.status = resp.status;
      // 429: too many tokens for this address (Retry-After says when) or the token
      // function is at its concurrency limit; either way, wait before asking again.
      const retryAfter = Number(resp.headers?.get?.("retry-after"));
      if (resp.status === 429) err.retryAfterMs = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : 0;
      throw err;
    }
    const body = await resp.json();
    if (!body || typeof body.token !== "string" || typeof body.clientIdPrefix !== "string") {
      throw new Error("token answer without token or clientIdPrefix");
    }
    this.token = {
      token: body.token,
      clientIdPrefix: body.clientIdPrefix,
      issuedAt: Date.now(),
      expiresAt: expiryMs(body.expiresAt),
    };
    this.tokenStore?.save(this.token);
    this.refreshToken = false;
  }

  async _connect() {
    if (this.stopped || !this.networkUp) return;
    this.attempt += 1;
    const attempt = this.attempt;
    this._setState(this.everOnline ? "reconnecting" : "connecting");
    const t = this.token;
    if (!t || this.refreshToken || tokenStale(t.issuedAt, t.expiresAt, Date.now())) {
      await this._fetchToken();
    }
    if (this.stopped || attempt !== this.attempt) return;
    const { token, clientIdPrefix } = this.token;
    const clientId = clientIdFor(clientIdPrefix, this.suffix);
    const url = mqttUrlWithAuth(this.config.mqttUrl, this.config.authorizer, token, this.pageUrl);
    const client = this.mqtt.connect(url, {
      protocolVersion: 4,
      clean: true,
      clientId,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      keepalive: 30,
      queueQoSZero: false,
      resubscribe: false,
      // mqtt.js's default keepalive timer runs in a Worker built from a blob: URL, which
      // the page's Content-Security-Policy (worker-src falls back to script-src 'self')
      // forbids; plain timers keep the CSP strict.
      timerVariant: "native",
    });
    this.client = client;
    this.clientId = clientId;
    let connacked = false;
    let closed = false;

    client.on("connect", () => {
      if (this.client !== client) return;
      connacked = true;
      this.ownClientIds.add(clientId);
      this.ownSenders.add(clientIdPrefix);
      this._subscribeAndJoin(client, clientId);
    });
    client.on("message", (topic, payload) => {
      if (this.client !== client) return;
      const data = parsePayload(payload);
      if (!data) return;
      if (topic === this.topics.inbox(clientId)) this._emit("inbox", { data });
      else if (topic === this.topics.room(this.room)) this._emit("room", { data });
      else if (topic === this.topics.user(clientIdPrefix)) this._emit("user", { data });
      else if (topic.startsWith(this.topics.private(""))) {
        const room = topic.slice(this.topics.private("").length);
        if (this.privateRooms.has(room)) this._emit("private", { data: { ...data, room } });
      }
    });
    client.on("error", (err) => {
      if (this.client !== client) return;
      if (AUTH_REFUSED.has(err?.code) || /not authori[sz]ed|bad user/i.test(String(err?.message))) {
        this.refreshToken = true;
        this._emit("problem", { message: "The server refused the sign-in; getting a new token." });
        this._failed(err);
      }
    });
    client.on("close", () => {
      if (closed || this.client !== client) return;
      closed = true;
      // Never connected: the token may be expired or refused; ask for a new one next time.
      if (!connacked) this.refreshToken = true;
      this._failed(new Error("connection closed"));
    });
  }

  _subscribeAndJoin(client, clientId) {
    const subs = {
      [this.topics.inbox(clientId)]: { qos: 1 },
      [this.topics.room(this.room)]: { qos: 1 },
      [this.topics.user(this.principal)]: { qos: 1 },
    };
    for (const room of this.privateRooms) subs[this.topics.private(room)] = { qos: 1 };
    client.subscribe(subs, (err, granted) => {
      if (this.client !== client) return;
      const privatePrefix = this.topics.private("");
      const refused = (granted ?? []).filter((g) => g.qos === 128);
      // A private room the policy no longer has (the member was removed): forget it.
      const revoked = refused.filter((g) => String(g.topic).startsWith(privatePrefix));
      for (const g of revoked) {
        const room = String(g.topic).slice(privatePrefix.length);
        this.privateRooms.delete(room);
        this._emit("revoked", { room });
      }
      if (err || refused.length > revoked.length) {
        this._emit("problem", { message: "The server refused the room's subscriptions." });
        this._failed(err ?? new Error("subscription refused"));
        return;
      }
      client.publish(this.topics.out, commands.join(this.room, this.name), { qos: 1 }, (perr) => {
        if (this.client !== client || perr) return;
        const firstTime = !this.everOnline;
        this.everOnline = true;
        this.backoff.reset();
        this._scheduleRenewal();
        this._setState("online");
        this._emit("online", { clientId, firstTime });
      });
    });
  }

  _scheduleRenewal() {
    this.timers.clearTimeout(this.renewTimer);
    const t = this.token;
    const delay = t ? renewDelay(t.issuedAt, t.expiresAt) : null;
    if (delay === null) return;
    const wait = Math.max(0, t.issuedAt + delay - Date.now());
    this.renewTimer = this.timers.setTimeout(() => this._renew(), Math.min(wait, 2 ** 31 - 1));
  }

  async _renew() {
    if (this.stopped || !this.online) return;
    try {
      await this._fetchToken();
    } catch {
      // Keep the current connection; the next reconnect will ask again.
      this.refreshToken = true;
      return;
    }
    // Reconnect at once with the new token; the backlog fills whatever passes meanwhile.
    // Not online from here on: the page must not offer to send on a dropped client.
    this._dropClient();
    this._setState("reconnecting");
    this.backoff.reset();
    this._connectSoon(0);
  }

  _dropClient() {
    const client = this.client;
    this.client = null;
    this.timers.clearTimeout(this.renewTimer);
    if (client) {
      try {
        client.end(true); // fails every unacknowledged publish with "Connection closed"
      } catch {
        /* already gone */
      }
    }
  }

  _failed(err) {
    if (err?.status === 429) {
      const wait = err.retryAfterMs ? ` in ${Math.ceil(err.retryAfterMs / 1000)} s` : "";
      this._emit("problem", { message: `The chat is busy (too many sign-ins); trying again${wait}.` });
    } else if (err && err.status >= 400 && err.status < 500) {
      this._emit("problem", { message: `Could not get a chat token: ${err.message}.` });
    }
    this._dropClient();
    if (this.stopped) return;
    if (!this.networkUp) {
      this._setState("offline");
      return;
    }
    const delay = Math.max(this.backoff.next(), err?.retryAfterMs ?? 0);
    this._setState(this.everOnline ? "reconnecting" : "connecting", { delay, error: String(err?.message ?? err) });
    this._connectSoon(delay);
  }
}
