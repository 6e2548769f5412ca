// The page: reads the room from the path, the name from localStorage, wires the
// connection (connection.js) to the view (view.js) through the message stores, one per
// conversation (the page's public room, private rooms, direct messages).

import { ChatConnection } from "./connection.js";
import { CONTRACT } from "./contract.js";
import { errorText, isNewerRoster, presenceMembers, presenceMore, rosterTime } from "./protocol.js";
import { MessageStore, normalizeMessage } from "./store.js";
import { NAME_MAX, TEXT_MAX, roomFromPath, validateName, validateText } from "./validation.js";
import { el, messageNode, renderConversations, renderMembers, setStatus, typingText } from "./view.js";

const NAME_KEY = "chat.name";
const TOKEN_KEY = "chat.token";
const CONVERSATIONS_KEY = "chat.conversations";
const TYPING_EVERY_MS = CONTRACT.typing.everySeconds * 1000;
const TYPING_SHOW_MS = CONTRACT.typing.showSeconds * 1000;
const $ = (id) => document.getElementById(id);

const ui = {
  app: $("app"),
  title: $("room-title"),
  mark: $("room-mark"),
  conversations: $("conversations"),
  newRoom: $("new-room"),
  newRoomTitle: $("new-room-title"),
  roomAdmin: $("room-admin"),
  invitedList: $("invited-list"),
  typing: $("typing"),
  editing: $("editing"),
  cancelEdit: $("cancel-edit"),
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
  convs: new Map(), // key -> conversation (see conversation())
  current: null, // key of the conversation shown
  editing: null, // id of the own message the composer is editing
  lastTyping: 0, // when this page last said it was typing (ms)
  typingTimer: null,
};

// ---- conversations ----------------------------------------------------------------

/**
 * One conversation: `room` (the page's public room), `private` (a private room, by id)
 * or `dm` (with one principal). Each has its own store, unread count, typing names.
 */
function conversation(kind, id, title, extra = {}) {
  const key = `${kind}:${id}`;
  let conv = app.convs.get(key);
  if (!conv) {
    conv = {
      key,
      kind,
      id,
      title,
      owner: null,
      invited: new Map(), // principal -> name (rooms this page owns)
      store: new MessageStore(kind === "dm" ? undefined : id),
      olderCursor: undefined,
      backlogSeen: false,
      unread: 0,
      typing: new Map(), // name -> until (ms)
    };
    app.convs.set(key, conv);
  }
  Object.assign(conv, extra);
  if (title && conv.title !== title && kind !== "room") conv.title = title;
  return conv;
}

function current() {
  return app.convs.get(app.current);
}

function savedConversations() {
  try {
    const list = JSON.parse(localStorage.getItem(CONVERSATIONS_KEY) ?? "[]");
    return Array.isArray(list) ? list : [];
  } catch {
    return [];
  }
}

function saveConversations() {
  const list = [...app.convs.values()]
    .filter((c) => c.kind !== "room")
    .map((c) => ({ kind: c.kind, id: c.id, title: c.title, owner: c.owner, invited: [...c.invited] }));
  try {
    localStorage.setItem(CONVERSATIONS_KEY, JSON.stringify(list));
  } catch {
    /* private mode: the list lasts for this page only */
  }
}

const tokenStore = {
  load() {
    try {
      const t = JSON.parse(localStorage.getItem(TOKEN_KEY) ?? "null");
      return t && typeof t.token === "string" && typeof t.clientIdPrefix === "string" ? t : null;
    } catch {
      return null;
    }
  },
  save(token) {
    try {
      localStorage.setItem(TOKEN_KEY, JSON.stringify(token));
    } catch {
      /* private mode: a reload is a new guest */
    }
  },
};

function refreshConversations() {
  renderConversations(ui.conversations, [...app.convs.values()], app.current);
  const conv = current();
  const owned = conv?.kind === "private" && conv.owner === app.conn?.principal;
  ui.roomAdmin.hidden = !owned;
  if (owned) {
    ui.invitedList.replaceChildren();
    for (const [principal, name] of conv.invited) {
      const li = el("li", "member");
      li.append(el("span", "member-name", name));
      li.append(actionButton("Remove", `Remove ${name}`, () => removeMember(conv, principal)));
      ui.invitedList.append(li);
    }
  }
  renderMembers(ui.membersList, app.members, app.conn?.ownSenders ?? new Set(), app.membersMore, memberActions);
}

function actionButton(label, ariaLabel, onClick) {
  const button = el("button", "member-action", label);
  button.type = "button";
  button.setAttribute("aria-label", ariaLabel);
  button.addEventListener("click", onClick);
  return button;
}

/** Next to someone in the roster: message them; invite them to the private room shown. */
function memberActions(member) {
  if (!member.sender) return [];
  const buttons = [actionButton("Message", `Message ${member.name}`, () => openDm(member.sender, member.name))];
  const conv = current();
  if (conv?.kind === "private" && conv.owner === app.conn?.principal && !conv.invited.has(member.sender)) {
    buttons.push(actionButton("Invite", `Invite ${member.name}`, () => inviteMember(conv, member)));
  }
  return buttons;
}

function openDm(principal, name) {
  const conv = conversation("dm", principal, name);
  saveConversations();
  selectConversation(conv.key);
  app.conn?.command({ type: "history", with: principal }).catch(() => {});
  ui.message.focus();
}

function inviteMember(conv, member) {
  app.conn
    ?.command({ type: "invite", room: conv.id, member: member.sender })
    .then(() => {
      conv.invited.set(member.sender, member.name);
      saveConversations();
      refreshConversations();
    })
    .catch(() => notice("Not connected: the invitation was not sent."));
}

function removeMember(conv, principal) {
  app.conn
    ?.command({ type: "remove", room: conv.id, member: principal })
    .then(() => {
      conv.invited.delete(principal);
      saveConversations();
      refreshConversations();
    })
    .catch(() => notice("Not connected: the member was not removed."));
}

/** Show another conversation: its messages, title, typing line; its unread count goes. */
function selectConversation(key) {
  const conv = app.convs.get(key);
  if (!conv) return;
  const was = current();
  if (was) was.olderCursor = app.olderCursor;
  app.current = key;
  app.store = conv.store;
  app.olderCursor = conv.olderCursor;
  app.backlogSeen = conv.backlogSeen;
  conv.unread = 0;
  cancelEdit();
  ui.messages.replaceChildren();
  app.nodes.clear();
  for (const message of conv.store.list) {
    const node = messageNode(message, app.conn?.isOwn(message) ?? false, conv.kind !== "dm");
    app.nodes.set(message.id, node);
    ui.messages.append(node);
  }
  ui.title.textContent = conv.title;
  ui.mark.textContent = { room: "#", private: "🔒", dm: "@" }[conv.kind];
  document.title = `${ui.mark.textContent}${conv.title} · Chat`;
  ui.empty.hidden = conv.store.size > 0 || !app.backlogSeen;
  ui.members.classList.remove("open");
  ui.membersToggle.setAttribute("aria-expanded", "false");
  renderTyping();
  updateOlder();
  refreshConversations();
  scrollToBottom();
}

/** Where a reply or a delivery belongs, or null. */
function conversationOf(data) {
  if (typeof data.with === "string") return app.convs.get(`dm:${data.with}`) ?? null;
  if (data.private === true) return app.convs.get(`private:${data.room}`) ?? null;
  if (data.room === undefined || data.room === app.room) return app.convs.get(`room:${app.room}`);
  return null;
}

/** Messages for a conversation: shown if it is the current one, counted unread if not. */
function deliver(conv, raw, { live = false } = {}) {
  if (conv.key === app.current) return addMessages(raw, { live });
  const added = conv.store.add(raw);
  if (live) {
    const others = added.filter(({ message }) => !(app.conn?.isOwn(message) ?? false));
    conv.unread += others.length;
  }
  refreshConversations();
  return added;
}

function onChange(conv, data) {
  const msg = conv.store.change(data);
  if (!msg || conv.key !== app.current) return;
  const old = app.nodes.get(msg.id);
  const node = messageNode(msg, app.conn?.isOwn(msg) ?? false, conv.kind !== "dm");
  app.nodes.set(msg.id, node);
  old?.replaceWith(node);
  if (app.editing === msg.id && msg.deleted) cancelEdit();
}

function onTyping(conv, data) {
  if (typeof data.name !== "string" || app.conn?.ownSenders.has(data.sender)) return;
  conv.typing.set(data.name, Date.now() + TYPING_SHOW_MS);
  if (conv.key === app.current) renderTyping();
}

function renderTyping() {
  clearTimeout(app.typingTimer);
  const conv = current();
  if (!conv) return;
  const now = Date.now();
  for (const [name, until] of conv.typing) if (until <= now) conv.typing.delete(name);
  ui.typing.textContent = typingText([...conv.typing.keys()]);
  if (conv.typing.size) {
    const next = Math.min(...conv.typing.values()) - now;
    app.typingTimer = setTimeout(renderTyping, Math.max(50, next));
  }
}

/** Say we are typing, at most every few seconds, in a room (not in a DM). */
function typed() {
  const conv = current();
  if (!conv || conv.kind === "dm" || !app.conn?.online || ui.message.value === "") return;
  const now = Date.now();
  if (now - app.lastTyping < TYPING_EVERY_MS) return;
  app.lastTyping = now;
  const body = { type: "typing", room: conv.id, name: app.conn.name };
  if (conv.kind === "private") body.private = true;
  app.conn.command(body, 0).catch(() => {});
}

function startEdit(id) {
  const msg = app.store.byId.get(id);
  if (!msg || msg.deleted) return;
  app.editing = id;
  ui.message.value = msg.text;
  ui.editing.hidden = false;
  ui.send.textContent = "Save";
  refreshComposer();
  ui.message.focus();
}

function cancelEdit() {
  if (app.editing === null) return;
  app.editing = null;
  ui.editing.hidden = true;
  ui.send.textContent = "Send";
  ui.message.value = "";
  refreshComposer();
}

function onMessageAction(event) {
  const button = event.target.closest("button[data-action]");
  const id = button?.closest("li.message")?.dataset.id;
  const conv = current();
  if (!id || !conv || conv.kind === "dm") return;
  if (button.dataset.action === "edit") {
    startEdit(id);
    return;
  }
  const body = { type: "delete", room: conv.id, id };
  if (conv.kind === "private") body.private = true;
  app.conn?.command(body).catch(() => notice("Not connected: the message was not deleted."));
}

function onUser({ detail: { data } }) {
  const me = app.conn?.principal;
  if (data.type === "dm") {
    const other = data.sender === me ? data.to : data.sender;
    if (typeof other !== "string" || other === "") return;
    const conv = conversation("dm", other, data.sender === me ? undefined : data.name);
    if (!conv.title) conv.title = other.slice(0, 8);
    saveConversations();
    deliver(conv, [data], { live: true });
  } else if (data.type === "created" || data.type === "invited") {
    if (typeof data.room !== "string" || typeof data.title !== "string") return;
    const conv = conversation("private", data.room, data.title);
    if (data.type === "created") conv.owner = me;
    else notice(`You were invited to the private room “${data.title}”.`);
    saveConversations();
    app.conn.privateRooms.add(data.room);
    app.conn.reconnect(); // the authorizer's new policy has the room
    if (data.type === "created") selectConversation(conv.key);
    else refreshConversations();
  } else if (data.type === "removed") {
    forgetPrivate(data.room, "You were removed from a private room.");
  }
}

function forgetPrivate(room, message) {
  const conv = app.convs.get(`private:${room}`);
  app.conn?.privateRooms.delete(room);
  if (!conv) return;
  app.convs.delete(conv.key);
  saveConversations();
  notice(`${message} (${conv.title})`);
  if (app.current === conv.key) selectConversation(`room:${app.room}`);
  else refreshConversations();
}

function onPrivate({ detail: { data } }) {
  const conv = app.convs.get(`private:${data.room}`);
  if (conv) onTraffic(conv, data);
}

function onTraffic(conv, data) {
  if (data.type === "message") {
    conv.typing.delete(data.name);
    deliver(conv, [data], { live: true });
    if (conv.key === app.current) renderTyping();
  } else if (data.type === "typing") {
    onTyping(conv, data);
  } else if (data.type === "edit" || data.type === "delete") {
    onChange(conv, data);
  }
}

/** After (re)connecting: the private rooms' backlogs and the DMs' latest pages. */
function loadConversations() {
  for (const conv of app.convs.values()) {
    if (conv.kind === "private" && app.conn.privateRooms.has(conv.id)) {
      app.conn.command({ type: "join", room: conv.id, private: true, name: app.conn.name }).catch(() => {});
    } else if (conv.kind === "dm") {
      app.conn.command({ type: "history", with: conv.id }).catch(() => {});
    }
  }
}

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
  const conv = current();
  if (app.editing !== null) {
    const body = { type: "edit", room: conv.id, id: app.editing, text };
    if (conv.kind === "private") body.private = true;
    app.conn.command(body).catch(() => notice("Not connected: the edit was not saved."));
    cancelEdit();
    return;
  }
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
    if (conv.kind === "room") await app.conn.send(text);
    else if (conv.kind === "private") {
      await app.conn.command({ type: "message", room: conv.id, private: true, name: app.conn.name, text });
    } else await app.conn.command({ type: "dm", to: conv.id, name: app.conn.name, text });
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
    const node = messageNode(message, own, current()?.kind !== "dm");
    app.nodes.set(message.id, node);
    const next = beforeId ? app.nodes.get(beforeId) : null;
    if (next) ui.messages.insertBefore(node, next);
    else ui.messages.append(node);
    if (!before || message.ts >= before.ts) newAtEnd = true;
    if (own) settleOwn(message);
    if (live && !own && !message.deleted) {
      ui.announcer.textContent = `${message.name}: ${message.text.slice(0, 300)}`;
    }
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
  const conv = current();
  let asked;
  if (conv.kind === "room") asked = app.conn.requestHistory(cursor);
  else if (conv.kind === "private") asked = app.conn.command({ type: "history", room: conv.id, private: true, before: cursor });
  else asked = app.conn.command({ type: "history", with: conv.id, before: cursor });
  asked.catch(() => {
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
  const valid = messages.map((m) => normalizeMessage(m, app.store.room)).filter(Boolean);
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
  if (data.type === "error") {
    notice(errorText(data));
    return;
  }
  const conv = conversationOf(data);
  if (!conv || (data.type !== "backlog" && data.type !== "history")) return;
  if (conv.key !== app.current) {
    conv.store.add(Array.isArray(data.messages) ? data.messages : []);
    if (conv.olderCursor === undefined) conv.olderCursor = typeof data.cursor === "string" ? data.cursor : null;
    conv.backlogSeen = true;
    refreshConversations();
    return;
  }
  if (data.type === "backlog" || (conv.kind === "dm" && app.olderCursor === undefined)) onBacklog(data);
  else onHistory(data);
  conv.backlogSeen = true;
  conv.olderCursor = app.olderCursor;
}

function onRoom({ detail: { data } }) {
  if (data.room !== undefined && data.room !== app.room) return;
  const conv = app.convs.get(`room:${app.room}`);
  if (data.type === "message" || data.type === "typing" || data.type === "edit" || data.type === "delete") {
    onTraffic(conv, data);
  } else if (data.type === "presence") {
    const at = rosterTime(data, Date.now());
    if (!isNewerRoster(at, app.membersAt)) return;
    app.membersAt = at ?? app.membersAt;
    app.members = presenceMembers(data);
    app.membersMore = presenceMore(data);
    refreshConversations();
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
    tokenStore,
  });
  app.conn = conn;
  for (const conv of app.convs.values()) if (conv.kind === "private") conn.privateRooms.add(conv.id);
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
    app.gapFill = !detail.firstTime && current()?.kind === "room";
    loadConversations();
    refreshConversations();
    refreshComposer();
  });
  conn.addEventListener("inbox", onInbox);
  conn.addEventListener("room", onRoom);
  conn.addEventListener("user", onUser);
  conn.addEventListener("private", onPrivate);
  conn.addEventListener("revoked", ({ detail }) => forgetPrivate(detail.room, "You are no longer in a private room."));
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
  const home = conversation("room", app.room, app.room);
  for (const saved of savedConversations()) {
    if ((saved?.kind !== "private" && saved?.kind !== "dm") || typeof saved.id !== "string") continue;
    if (typeof saved.title !== "string") continue;
    const conv = conversation(saved.kind, saved.id, saved.title, { owner: saved.owner ?? null });
    for (const pair of Array.isArray(saved.invited) ? saved.invited : []) {
      if (Array.isArray(pair) && typeof pair[0] === "string") conv.invited.set(pair[0], String(pair[1]));
    }
  }
  app.current = home.key;
  app.store = home.store;
  ui.title.textContent = app.room;
  document.title = `#${app.room} · Chat`;
  refreshConversations();
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
  ui.message.addEventListener("input", () => {
    refreshComposer();
    typed();
  });
  ui.messages.addEventListener("click", onMessageAction);
  ui.cancelEdit.addEventListener("click", cancelEdit);
  ui.conversations.addEventListener("click", (e) => {
    const key = e.target.closest("button[data-key]")?.dataset.key;
    if (key) selectConversation(key);
  });
  ui.newRoom.addEventListener("submit", (e) => {
    e.preventDefault();
    const title = ui.newRoomTitle.value.trim();
    if (!title || !app.conn?.online) {
      notice(app.conn?.online ? "Give the room a title." : "Not connected yet.");
      return;
    }
    app.conn
      .command({ type: "create", title: title.slice(0, 64), private: true, name: app.conn.name })
      .then(() => (ui.newRoomTitle.value = ""))
      .catch(() => notice("Not connected: the room was not created."));
  });
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
