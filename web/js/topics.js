// Topic names of the chat (<root>/out, <root>/pub/<room>, <root>/in/<clientId>,
// <root>/user/<principal>, <root>/priv/<roomId>), from
// the contract (contract.js, generated from lambdas/chatlib/contract.json).
// Pure: no DOM, no network.

import { CONTRACT } from "./contract.js";

const ROOT_PATTERN = new RegExp(CONTRACT.topics.rootPattern);

/** A topic of the contract with its placeholders ({root}, {room}, {clientId}) filled. */
function topic(kind, values) {
  return CONTRACT.topics[kind].replace(/\{(\w+)\}/g, (_, key) => values[key]);
}

export function topicsFor(root) {
  if (!ROOT_PATTERN.test(String(root ?? ""))) {
    throw new Error(`invalid topic root: ${JSON.stringify(root)}`);
  }
  return {
    out: topic("out", { root }),
    stream: topic("stream", { root }),
    room: (room) => topic("room", { root, room }),
    inbox: (clientId) => topic("inbox", { root, clientId }),
    user: (principal) => topic("user", { root, principal }),
    private: (room) => topic("private", { root, room }),
  };
}

/** A client id the authorizer's policy allows: `${prefix}-${suffix}`. */
export function clientIdFor(prefix, suffix) {
  return `${prefix}-${suffix}`;
}

/** A short random suffix (letters and digits only, as the policy's client-id match expects). */
export function randomSuffix(random = Math.random, length = 10) {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  let out = "";
  for (let i = 0; i < length; i += 1) out += alphabet[Math.floor(random() * alphabet.length)];
  return out;
}

/** The MQTT-over-WebSocket URL with the custom authorizer's query string. */
export function mqttUrlWithAuth(mqttUrl, authorizer, token, pageUrl) {
  let base = String(mqttUrl);
  if (pageUrl && base.startsWith("/")) {
    const page = new URL(pageUrl);
    base = `${page.protocol === "https:" ? "wss:" : "ws:"}//${page.host}${base}`;
  }
  const sep = base.includes("?") ? "&" : "?";
  return (
    `${base}${sep}x-amz-customauthorizer-name=${encodeURIComponent(authorizer)}` +
    `&token=${encodeURIComponent(token)}`
  );
}
