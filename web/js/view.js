// DOM rendering of messages, members and status. Every piece of received or typed text
// goes in through textContent; links are built element by element (http/https only).

import { splitLinks } from "./links.js";

const STATE_TEXT = {
  connecting: "Connecting…",
  online: "Online",
  reconnecting: "Reconnecting…",
  offline: "Offline",
};

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Message text as text nodes and safe <a> elements. */
export function renderText(container, text) {
  for (const part of splitLinks(text)) {
    if (part.type === "link") {
      const a = document.createElement("a");
      a.href = part.href;
      a.textContent = part.text;
      a.rel = "noopener noreferrer";
      a.target = "_blank";
      container.append(a);
    } else {
      container.append(document.createTextNode(part.text));
    }
  }
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dateFormat = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

/** Two letters for an avatar, a stable hue per sender. */
function initials(name) {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? [...words[0]][0] + [...words[1]][0] : [...(words[0] ?? "?")].slice(0, 2).join("");
  return letters.toUpperCase();
}

function hue(key) {
  let h = 0;
  for (const ch of key) h = (h * 31 + ch.codePointAt(0)) % 360;
  return h;
}

/**
 * One message. A deleted one shows a "deleted" mark and nothing of what it said; an
 * edited one an "edited" mark; the page's own messages get Edit and Delete buttons when
 * `editable` (room and private-room messages; DMs are not edited).
 */
export function messageNode(msg, own, editable = false) {
  const li = el("li", own ? "message own" : "message");
  li.dataset.id = msg.id;
  li.dataset.ts = String(msg.ts);
  if (msg.deleted) {
    li.classList.add("deleted");
    const body = el("div", "bubble");
    body.append(el("p", "text deleted-mark", "This message was deleted."));
    li.append(el("span", "avatar placeholder"), body);
    return li;
  }
  const avatar = el("span", `avatar hue-${Math.floor(hue(msg.sender || msg.name) / 30)}`, initials(msg.name));
  avatar.setAttribute("aria-hidden", "true");
  const body = el("div", "bubble");
  const meta = el("div", "meta");
  meta.append(el("span", "author", msg.name));
  const time = el("time", "time", timeFormat.format(msg.ts));
  time.dateTime = new Date(msg.ts).toISOString();
  time.title = dateFormat.format(msg.ts);
  meta.append(time);
  if (msg.editedAt) meta.append(el("span", "edited-mark", "(edited)"));
  const text = el("p", "text");
  renderText(text, msg.text);
  body.append(meta, text);
  if (own && editable) {
    const actions = el("div", "actions");
    for (const [action, label] of [["edit", "Edit"], ["delete", "Delete"]]) {
      const button = el("button", `action ${action}`, label);
      button.type = "button";
      button.dataset.action = action;
      actions.append(button);
    }
    body.append(actions);
  }
  li.append(avatar, body);
  return li;
}

export function setStatus(statusEl, textEl, state, detail) {
  statusEl.dataset.state = state;
  let text = STATE_TEXT[state] ?? state;
  if (state === "reconnecting" && detail?.delay) {
    text = `Reconnecting… (retry in ${Math.max(1, Math.round(detail.delay / 1000))} s)`;
  }
  textEl.textContent = text;
}

/** The roster; `actions(member)` gives the buttons next to someone else (DM, invite). */
export function renderMembers(listEl, members, ownSenders, more = 0, actions = () => []) {
  listEl.replaceChildren();
  for (const m of members) {
    const li = el("li", "member");
    const dot = el("span", "presence-dot");
    dot.setAttribute("aria-hidden", "true");
    li.append(dot, el("span", "member-name", m.name));
    if (ownSenders.has(m.sender)) li.append(el("span", "you", "(you)"));
    else li.append(...actions(m));
    listEl.append(li);
  }
  if (more > 0) listEl.append(el("li", "member more", `and ${more} more`));
}

/** The conversation list: title, kind mark and unread count; the current one marked. */
export function renderConversations(listEl, conversations, currentKey) {
  listEl.replaceChildren();
  const marks = { room: "#", private: "🔒", dm: "@" };
  for (const conv of conversations) {
    const li = el("li", "conversation-item");
    const button = el("button", "conversation-button");
    button.type = "button";
    button.dataset.key = conv.key;
    if (conv.key === currentKey) button.setAttribute("aria-current", "true");
    const mark = el("span", "conversation-mark", marks[conv.kind] ?? "");
    mark.setAttribute("aria-hidden", "true");
    button.append(mark, el("span", "conversation-title", conv.title));
    if (conv.unread > 0) {
      const badge = el("span", "unread", String(conv.unread));
      badge.setAttribute("aria-label", `${conv.unread} unread`);
      button.append(badge);
    }
    li.append(button);
    listEl.append(li);
  }
}

/** "Alice is typing…", "Alice and Bob are typing…", or nothing. */
export function typingText(names) {
  if (names.length === 0) return "";
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return `${names.length} people are typing…`;
}
