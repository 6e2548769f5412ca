// Splits message text into plain-text and link parts. Pure: no DOM.
// Only http: and https: URLs become links; everything else stays text, and the
// caller renders every part with textContent (never as HTML).

const CANDIDATE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRAILING_PUNCTUATION = ".,;:!?'\"]}>";

/** The http(s) URL a candidate denotes, or null. */
export function safeHref(candidate) {
  let url;
  try {
    url = new URL(candidate);
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  if (!url.hostname) return null;
  return url.href;
}

/** Trims punctuation that usually ends a sentence; keeps a ")" that closes a "(" in the URL. */
function trimTrailing(raw) {
  let text = raw;
  while (text.length > 0) {
    const last = text[text.length - 1];
    if (TRAILING_PUNCTUATION.includes(last)) {
      text = text.slice(0, -1);
    } else if (last === ")") {
      const opens = text.split("(").length - 1;
      const closes = text.split(")").length - 1;
      if (opens >= closes) break;
      text = text.slice(0, -1);
    } else {
      break;
    }
  }
  return text;
}

/**
 * @returns {Array<{type: "text", text: string} | {type: "link", text: string, href: string}>}
 * Concatenating every part's `text` gives back the input exactly.
 */
export function splitLinks(input) {
  const text = String(input ?? "");
  const parts = [];
  let last = 0;
  CANDIDATE.lastIndex = 0;
  for (let m = CANDIDATE.exec(text); m !== null; m = CANDIDATE.exec(text)) {
    const raw = trimTrailing(m[0]);
    const href = safeHref(raw);
    if (!href || raw.length === 0) continue;
    if (m.index > last) parts.push({ type: "text", text: text.slice(last, m.index) });
    parts.push({ type: "link", text: raw, href });
    last = m.index + raw.length;
    CANDIDATE.lastIndex = last;
  }
  if (last < text.length) parts.push({ type: "text", text: text.slice(last) });
  return parts;
}
