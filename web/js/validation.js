// Input limits and checks of the page. Pure: no DOM, no network.
// The limits and character classes come from contract.js, generated from the contract
// the republish rule and the functions are built from (lambdas/chatlib/contract.json);
// the page checks them first so the user sees why. Classes are read with the u flag, so
// they work on code points as Java and Python do.

import { CONTRACT } from "./contract.js";

export const ROOM_PATTERN = new RegExp(`^[${CONTRACT.room.chars}]{1,${CONTRACT.room.max}}$`);
export const NAME_MAX = CONTRACT.name.max;
export const TEXT_MAX = CONTRACT.text.max;
export const DEFAULT_ROOM = "lobby";
const NAME_NOT_BLANK = new RegExp(`[^${CONTRACT.name.blank}]`, "u");
const NAME_FORBIDDEN = new RegExp(`[${CONTRACT.name.forbidden}]`, "u");
const TEXT_FORBIDDEN = new RegExp(`[${CONTRACT.text.forbidden}]`, "u");
const TEXT_NOT_BLANK = new RegExp(`[^${CONTRACT.text.blank}]`, "u");

/** Length in Unicode code points, the way the server's Python counts. */
export function charCount(value) {
  let n = 0;
  for (const _ of String(value ?? "")) n += 1;
  return n;
}

export function isValidRoom(room) {
  return typeof room === "string" && ROOM_PATTERN.test(room);
}

/**
 * The room named by a page path: "/" -> "lobby", "/dev-team" -> "dev-team".
 * Returns {room} or {error} with a sentence for the user.
 */
export function roomFromPath(pathname) {
  let path = String(pathname ?? "/");
  if (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1);
  if (path === "/" || path === "" || path === "/index.html") return { room: DEFAULT_ROOM };
  let raw = path.slice(1);
  try {
    raw = decodeURIComponent(raw);
  } catch {
    return { error: "This address is not a valid room name." };
  }
  if (!isValidRoom(raw)) {
    return {
      error:
        "Room names use 1 to 64 letters, digits, '-' or '_' (for example /lobby). " +
        "This address is not a valid room.",
    };
  }
  return { room: raw };
}

/** Result of a check: {ok, length, max, message}. */
function check(label, value, max, { empty, forbidden, forbiddenWhat }) {
  const text = typeof value === "string" ? value : "";
  const length = charCount(text);
  const result = (message) => ({ ok: message === "", length, max, message });
  if (empty(text)) return result(`${label} is empty.`);
  if (length > max) return result(`${label} is ${length - max} characters too long (max ${max}).`);
  if (forbidden.test(text)) return result(`${label} contains ${forbiddenWhat}.`);
  return result("");
}

/** A name exactly as it will be sent (the page trims what was typed before checking). */
export function validateName(name) {
  return check("Name", name, NAME_MAX, {
    empty: (text) => !NAME_NOT_BLANK.test(text),
    forbidden: NAME_FORBIDDEN,
    forbiddenWhat: "control characters",
  });
}

export function validateText(text) {
  return check("Message", text, TEXT_MAX, {
    empty: (value) => !TEXT_NOT_BLANK.test(value),
    forbidden: TEXT_FORBIDDEN,
    forbiddenWhat: "invalid characters",
  });
}
