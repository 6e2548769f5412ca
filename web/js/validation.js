// Input limits and checks shared by the page. Pure: no DOM, no network.
// The same limits are enforced by the republish rule and the Lambda functions
// (lambdas/chatlib/limits.py); the page checks them first so the user sees why.

export const ROOM_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const NAME_MAX = 40;
export const TEXT_MAX = 2000;
export const DEFAULT_ROOM = "lobby";

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
function check(label, value, max) {
  const length = charCount(value);
  if (String(value ?? "").trim() === "") {
    return { ok: false, length, max, message: `${label} is empty.` };
  }
  if (length > max) {
    return { ok: false, length, max, message: `${label} is ${length - max} characters too long (max ${max}).` };
  }
  return { ok: true, length, max, message: "" };
}

export function validateName(name) {
  return check("Name", String(name ?? "").trim(), NAME_MAX);
}

export function validateText(text) {
  return check("Message", text, TEXT_MAX);
}
