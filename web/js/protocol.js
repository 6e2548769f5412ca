// Payloads of the chat, as README.md's "The contract: topics and payloads" lists them.
// Pure: no DOM, no network.
// Incoming data is only ever parsed as JSON and checked for shape; nothing received
// is evaluated or treated as markup.

const decoder = typeof TextDecoder === "function" ? new TextDecoder("utf-8") : null;

/** Decodes an MQTT payload (Uint8Array or string) into an object with a string `type`, or null. */
export function parsePayload(payload) {
  let text = payload;
  if (typeof payload !== "string") {
    if (!decoder || payload == null) return null;
    try {
      text = decoder.decode(payload);
    } catch {
      return null;
    }
  }
  let data;
  try {
    data = JSON.parse(text);
  } catch {
    return null;
  }
  if (!data || typeof data !== "object" || Array.isArray(data)) return null;
  if (typeof data.type !== "string") return null;
  return data;
}

/** Presence members as [{name, sender}], unique by sender+name, sorted by name. */
export function presenceMembers(data) {
  const seen = new Set();
  const out = [];
  for (const m of Array.isArray(data?.members) ? data.members : []) {
    if (!m || typeof m.name !== "string" || m.name === "") continue;
    const sender = typeof m.sender === "string" ? m.sender : "";
    const key = `${sender}\u0000${m.name}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ name: m.name, sender });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** Members a roster left out because they did not fit in one message (0 if none). */
export function presenceMore(data) {
  const more = data?.more;
  return Number.isSafeInteger(more) && more > 0 ? more : 0;
}

/**
 * When a roster was read (`at`, ms), as far as the page believes it: null when it is
 * missing or not a time, and never later than `now`. A roster claiming to come from the
 * future would otherwise outrank every real one and freeze the member list.
 */
export function rosterTime(data, now) {
  const at = data?.at;
  if (typeof at !== "number" || !Number.isFinite(at) || at < 0) return null;
  return Math.min(at, now);
}

/**
 * Whether a roster read at `at` (rosterTime) should replace the one shown, read at
 * `shownAt`. Two functions publish rosters, so an older one can arrive after a newer
 * one. A roster without a time is taken as it comes.
 */
export function isNewerRoster(at, shownAt) {
  return at === null || shownAt === null || at >= shownAt;
}

export const commands = {
  join: (room, name) => JSON.stringify({ type: "join", room, name }),
  // seq: the page's own counter; the store's sort key keeps one sender's messages of the
  // same millisecond in this order.
  message: (room, name, text, seq) => JSON.stringify({ type: "message", room, name, text, seq }),
  history: (room, before) => JSON.stringify({ type: "history", room, before }),
  leave: (room) => JSON.stringify({ type: "leave", room }),
};

/** A user-facing sentence for an error reply; the server's text is shown as text only. */
export function errorText(data) {
  const message = typeof data?.message === "string" ? data.message.slice(0, 500) : "";
  const code = typeof data?.code === "string" ? data.code.slice(0, 60) : "error";
  return message ? `${message} (${code})` : `The server refused a request (${code}).`;
}
