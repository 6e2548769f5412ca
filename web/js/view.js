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

export function messageNode(msg, own) {
  const li = el("li", own ? "message own" : "message");
  li.dataset.id = msg.id;
  li.dataset.ts = String(msg.ts);
  const avatar = el("span", `avatar hue-${Math.floor(hue(msg.sender || msg.name) / 30)}`, initials(msg.name));
  avatar.setAttribute("aria-hidden", "true");
  const body = el("div", "bubble");
  const meta = el("div", "meta");
  meta.append(el("span", "author", msg.name));
  const time = el("time", "time", timeFormat.format(msg.ts));
  time.dateTime = new Date(msg.ts).toISOString();
  time.title = dateFormat.format(msg.ts);
  meta.append(time);
  const text = el("p", "text");
  renderText(text, msg.text);
  body.append(meta, text);
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

export function renderMembers(listEl, members, ownSenders, more = 0) {
  listEl.replaceChildren();
  for (const m of members) {
    const li = el("li", "member");
    const dot = el("span", "presence-dot");
    dot.setAttribute("aria-hidden", "true");
    li.append(dot, el("span", "member-name", m.name));
    if (ownSenders.has(m.sender)) li.append(el("span", "you", "(you)"));
    listEl.append(li);
  }
  if (more > 0) listEl.append(el("li", "member more", `and ${more} more`));
}
