// The page: reads the room from the path, the name from localStorage, wires the
// connection (connection.js) to the view (view.js) through the message store.

import { ChatConnection } from "./connection.js";
import { errorText, isNewerRoster, presenceMembers, presenceMore, rosterTime } from "./protocol.js";
import { MessageStore, normalizeMessage } from "./store.js";
import { NAME_MAX, TEXT_MAX, roomFromPath, validateName, validateText } from "./validation.js";
import { el, messageNode, renderMembers, setStatus } from "./view.js";

const NAME_KEY = "chat.name";
const $ = (id) => document.getElementById(id);

const ui = {
  app: $("app"),
  title: $("room-title"),
  status: $("status"),
  statusText: $("status-text"),
  fatal: $("fatal"),
  scroller: $("scroller"),
  messages: $("messages"),
  pending: $("pending"),
  empty: $("empty"),
  loadOlder: $("load-older"),
  historyStart: $("history-start"),
  newHint: $("new-hint"),
  members: $("members"),
  membersList: $("members-list"),
  membersCount: $("members-count"),
  membersToggle: $("members-toggle"),
  announcer: $("announcer"),
  notice: $("notice"),
  noticeText: $("notice-text"),
  noticeClose: $("notice-close"),
  form: $("composer"),
  name: $("name"),
  nameHelp: $("name-help"),
  message: $("message"),
  counter: $("counter"),
  send: $("send"),
};

const app = {
  room: null,
  config: null,
  store: null,
  conn: null,
  nodes: new Map(), // message id -> <li>
  olderCursor: undefined, // undefined: unknown yet; null: reached the beginning
  history: null, // {purpose: "older" | "gap", timer}
  gapFill: false,
  backlogSeen: false,
  pendingSends: [], // {text, node, timer}
  restored: [], // texts put back in the box after a failed send
  members: [],
  membersMore: 0, // members the roster had no room for
  membersAt: null, // when the shown roster was read (ms), to drop late older ones
  stick: true, // keep the newest message in view (until the reader scrolls up)
};

function storedName() {
  try {
    return localStorage.getItem(NAME_KEY) ?? "";
  } catch {
    return "";
  }
}

function saveName(name) {
  try {
    localStorage.setItem(NAME_KEY, name);
  } catch {
    /* private mode: the name lasts for this page only */
  }
}

let noticeTimer = null;
function notice(text, { sticky = false } = {}) {
  ui.noticeText.textContent = text;
  ui.notice.hidden = false;
  clearTimeout(noticeTimer);
  if (!sticky) noticeTimer = setTimeout(() => (ui.notice.hidden = true), 8000);
}

function fatal(text) {
  ui.fatal.textContent = text;
  ui.fatal.hidden = false;
  ui.app.classList.add("broken");
  ui.name.disabled = true;
  ui.message.disabled = true;
  ui.send.disabled = true;
  setStatus(ui.status, ui.statusText, "offline");
}

// ---- composer -------------------------------------------------------------------

function nameCheck() {
  return validateName(ui.name.value.trim());
}

function refreshComposer() {
  const name = nameCheck();
  const text = validateText(ui.message.value);
  const online = app.conn?.online ?? false;
  ui.counter.textContent = `${text.length} / ${TEXT_MAX}`;
  ui.counter.classList.toggle("over", text.length > TEXT_MAX);
  ui.counter.classList.toggle("near", text.length > TEXT_MAX * 0.9 && text.length <= TEXT_MAX);
  if (text.length > TEXT_MAX) ui.counter.textContent += ` — ${text.length - TEXT_MAX} too many`;
  ui.nameHelp.textContent = ui.name.value === "" || name.ok ? "" : name.message;
  ui.name.setAttribute("aria-invalid", String(ui.name.value !== "" && !name.ok));
  ui.message.setAttribute("aria-invalid", String(text.length > TEXT_MAX));
  ui.send.disabled = !(online && name.ok && text.ok);
  ui.loadOlder.disabled = !online || app.history !== null;
  ui.form.classList.toggle("offline", !online);
  if (!app.conn) ui.message.placeholder = "Enter your name first…";
  else if (!online) ui.message.placeholder = "Waiting for the connection… (your text stays here)";
  else ui.message.placeholder = "Write a message…";
}

function commitName() {
  const check = nameCheck();
  refreshComposer();
  if (!check.ok) return false;
  const name = ui.name.value.trim();
  saveName(name);
  if (!app.conn) startConnection(name);
  else if (app.conn.name !== name) app.conn.setName(name);
  return true;
}

function removePending(entry) {
  clearTimeout(entry.timer);
  entry.node.remove();
  app.pendingSends = app.pendingSends.filter((e) => e !== entry);
}

async function sendMessage() {
  if (!commitName()) {
    ui.name.focus();
    return;
  }
  const text = ui.message.value;
  if (!validateText(text).ok || !app.conn?.online) return;
  ui.message.value = "";
  refreshComposer();
  const node = el("li", "message own sending");
  const bubble = el("div", "bubble");
  const p = el("p", "text", text);
  bubble.append(el("div", "meta", "Sending…"), p);
  node.append(el("span", "avatar placeholder"), bubble);
  ui.pending.append(node);
  scrollToBottom();
  const entry = { text, node, timer: null };
  app.pendingSends.push(entry);
  try {
    await app.conn.send(text);
    node.querySelector(".meta").textContent = "Sent";
    // The message normally comes back on the room topic at once; if not, drop the placeholder.
    entry.timer = setTimeout(() => removePending(entry), 15000);
  } catch {
    removePending(entry);
    // Not acknowledged: give the text back rather than lose it (never resend it by ourselves).
    const current = ui.message.value;
    ui.message.value = current ? `${text} ${current}` : text;
    app.restored.push(text);
    notice("The connection dropped before your message was confirmed. It is back in the box: press Send again when online.");
    refreshComposer();
  }
}

// ---- messages -------------------------------------------------------------------

function nearBottom() {
  const s = ui.scroller;
  return s.scrollHeight - s.scrollTop - s.clientHeight < 80;
}

function scrollToBottom() {
  ui.scroller.scrollTop = ui.scroller.scrollHeight;
  app.stick = true;
  ui.newHint.hidden = true;
}

/** Adds messages to the store and the list; `live` ones may be announced. */
function addMessages(raw, { live = false } = {}) {
  const before = app.store.newest();
  const wasNear = app.stick;
  const oldHeight = ui.scroller.scrollHeight;
  const oldTop = ui.scroller.scrollTop;
  const added = app.store.add(raw);
  for (const id of added.evicted ?? []) {
    app.nodes.get(id)?.remove();
    app.nodes.delete(id);
  }
  let newAtEnd = false;
  for (const { message, beforeId } of added) {
    const own = app.conn?.isOwn(message) ?? false;
    const node = messageNode(message, own);
    app.nodes.set(message.id, node);
    const next = beforeId ? app.nodes.get(beforeId) : null;
    if (next) ui.messages.insertBefore(node, next);
    else ui.messages.append(node);
    if (!before || message.ts >= before.ts) newAtEnd = true;
    if (own) settleOwn(message);
    if (live && !own) ui.announcer.textContent = `${message.name}: ${message.text.slice(0, 300)}`;
  }
  ui.empty.hidden = app.store.size > 0 || !app.backlogSeen;
  if (added.length === 0) return added;
  if (wasNear && newAtEnd) {
    scrollToBottom();
  } else if (!newAtEnd) {
    // older messages went in above: keep what the reader was looking at in place
    ui.scroller.scrollTop = oldTop + (ui.scroller.scrollHeight - oldHeight);
  } else {
    ui.newHint.hidden = false;
  }
  return added;
}

/** Our own message arrived: drop its "sending" placeholder, or a restored copy of it. */
function settleOwn(message) {
  const entry = app.pendingSends.find((e) => e.text === message.text);
  if (entry) {
    removePending(entry);
    return;
  }
  const i = app.restored.indexOf(message.text);
  if (i >= 0) {
    app.restored.splice(i, 1);
    if (ui.message.value === message.text) {
      ui.message.value = "";
      refreshComposer();
      notice("Your message had reached the room after all, so it was taken out of the box.");
    }
  }
}

function updateOlder() {
  ui.loadOlder.hidden = typeof app.olderCursor !== "string";
  ui.historyStart.hidden = !(app.olderCursor === null && app.store.size > 0);
  refreshComposer();
}

function requestHistory(purpose, cursor) {
  if (app.history || !app.conn?.online) return;
  const timer = setTimeout(() => {
    app.history = null;
    refreshComposer();
  }, 10000);
  app.history = { purpose, timer };
  app.conn.requestHistory(cursor).catch(() => {
    clearTimeout(timer);
    app.history = null;
    refreshComposer();
  });
  refreshComposer();
}

function onBacklog(data) {
  const knownNewest = app.store.newest();
  const messages = Array.isArray(data.messages) ? data.messages : [];
  const overlaps = messages.some((m) => m && app.store.has(m.id));
  const first = !app.backlogSeen;
  app.backlogSeen = true;
  addMessages(messages);
  if (first && app.olderCursor === undefined) {
    app.olderCursor = typeof data.cursor === "string" ? data.cursor : null;
    scrollToBottom();
  }
  updateOlder();
  // After a reconnect: if the backlog does not reach back to what we had, page back
  // through history until it does, so no message of the outage goes missing.
  const valid = messages.map((m) => normalizeMessage(m, app.room)).filter(Boolean);
  if (app.gapFill && knownNewest && valid.length && !overlaps && typeof data.cursor === "string") {
    const oldestTs = Math.min(...valid.map((m) => m.ts));
    if (oldestTs > knownNewest.ts) requestHistory("gap", data.cursor);
  }
  app.gapFill = false;
}

function onHistory(data) {
  const job = app.history;
  if (job) clearTimeout(job.timer);
  app.history = null;
  const messages = Array.isArray(data.messages) ? data.messages : [];
  const overlaps = messages.some((m) => m && app.store.has(m.id));
  addMessages(messages);
  const cursor = typeof data.cursor === "string" ? data.cursor : null;
  if (job?.purpose === "gap") {
    if (!overlaps && cursor) requestHistory("gap", cursor);
  } else {
    app.olderCursor = cursor;
  }
  updateOlder();
}

function onInbox({ detail: { data } }) {
  if (data.room !== undefined && data.room !== app.room) return;
  if (data.type === "backlog") onBacklog(data);
  else if (data.type === "history") onHistory(data);
  else if (data.type === "error") notice(errorText(data));
}

function onRoom({ detail: { data } }) {
  if (data.room !== undefined && data.room !== app.room) return;
  if (data.type === "message") {
    addMessages([data], { live: true });
  } else if (data.type === "presence") {
    const at = rosterTime(data, Date.now());
    if (!isNewerRoster(at, app.membersAt)) return;
    app.membersAt = at ?? app.membersAt;
    app.members = presenceMembers(data);
    app.membersMore = presenceMore(data);
    renderMembers(ui.membersList, app.members, app.conn.ownSenders, app.membersMore);
    ui.membersCount.textContent = String(app.members.length + app.membersMore);
  }
}

// ---- connection -----------------------------------------------------------------

function startConnection(name) {
  const conn = new ChatConnection({
    config: app.config,
    room: app.room,
    name,
    mqttLib: globalThis.mqtt,
    pageUrl: location.href,
  });
  app.conn = conn;
  conn.addEventListener("state", ({ detail }) => {
    setStatus(ui.status, ui.statusText, detail.state, detail);
    ui.app.dataset.state = detail.state;
    if (detail.state !== "online" && app.history) {
      clearTimeout(app.history.timer);
      app.history = null;
    }
    refreshComposer();
  });
  conn.addEventListener("online", ({ detail }) => {
    // The join makes the server send a backlog: on a reconnect it fills the gap.
    app.gapFill = !detail.firstTime;
    renderMembers(ui.membersList, app.members, conn.ownSenders, app.membersMore);
    refreshComposer();
  });
  conn.addEventListener("inbox", onInbox);
  conn.addEventListener("room", onRoom);
  conn.addEventListener("problem", ({ detail }) => notice(detail.message));
  conn.setNetwork(navigator.onLine !== false);
  conn.start();
}

async function loadConfig() {
  const resp = await fetch("/config.json", { cache: "no-store", credentials: "same-origin" });
  if (!resp.ok) throw new Error(`/config.json answered HTTP ${resp.status}`);
  const config = await resp.json();
  for (const key of ["mqttUrl", "authorizer", "tokenUrl", "topicRoot"]) {
    if (typeof config?.[key] !== "string" || config[key] === "") {
      throw new Error(`/config.json has no ${key}`);
    }
  }
  return config;
}

async function main() {
  const where = roomFromPath(location.pathname);
  if (where.error) {
    ui.title.textContent = "no room";
    document.title = "Not a room · Chat";
    fatal(where.error);
    return;
  }
  app.room = where.room;
  app.store = new MessageStore(app.room);
  ui.title.textContent = app.room;
  document.title = `#${app.room} · Chat`;
  ui.name.maxLength = NAME_MAX * 2;

  ui.name.value = storedName();
  ui.name.addEventListener("input", refreshComposer);
  ui.name.addEventListener("change", commitName);
  ui.name.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      if (commitName()) ui.message.focus();
    }
  });
  ui.message.addEventListener("input", refreshComposer);
  ui.form.addEventListener("submit", (e) => {
    e.preventDefault();
    sendMessage();
  });
  ui.loadOlder.addEventListener("click", () => {
    if (typeof app.olderCursor === "string") requestHistory("older", app.olderCursor);
  });
  ui.newHint.addEventListener("click", scrollToBottom);
  ui.scroller.addEventListener("scroll", () => {
    app.stick = nearBottom();
    if (app.stick) ui.newHint.hidden = true;
  });
  // Content or window size changed (fonts, wrapping, notices): stay at the bottom if there.
  const keepPinned = new ResizeObserver(() => {
    if (app.stick) ui.scroller.scrollTop = ui.scroller.scrollHeight;
  });
  keepPinned.observe(ui.scroller);
  keepPinned.observe(ui.messages);
  keepPinned.observe(ui.pending);
  ui.noticeClose.addEventListener("click", () => (ui.notice.hidden = true));
  ui.membersToggle.addEventListener("click", () => {
    const open = ui.members.classList.toggle("open");
    ui.membersToggle.setAttribute("aria-expanded", String(open));
  });
  addEventListener("online", () => app.conn?.setNetwork(true));
  addEventListener("offline", () => app.conn?.setNetwork(false));
  addEventListener("pagehide", () => app.conn?.stop());
  addEventListener("pageshow", (e) => {
    if (e.persisted) app.conn?.start(); // back from the back/forward cache
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") app.conn?.retryNow();
  });

  refreshComposer();
  if (typeof globalThis.mqtt?.connect !== "function") {
    fatal("The MQTT library (/vendor/mqtt.min.js) did not load. Run `make setup` and reload.");
    return;
  }
  try {
    app.config = await loadConfig();
  } catch (err) {
    fatal(`Cannot load the chat's settings: ${err.message}. Reload the page to try again.`);
    return;
  }
  if (nameCheck().ok) {
    commitName();
  } else {
    ui.statusText.textContent = "Offline — enter your name to join";
    ui.name.focus();
  }
}

main();
