// Reconnect delays (exponential backoff with jitter) and token renewal timing.
// Pure: no DOM, no network; `random` and `now` are injectable for tests.

export class Backoff {
  /**
   * @param {{base?: number, cap?: number, factor?: number, random?: () => number}} opts
   * Delay n (0-based) is drawn uniformly from [d/2, d] where d = min(cap, base * factor^n):
   * it grows exponentially, never exceeds the cap, and never collapses to zero
   * (so many clients dropped at once do not all come back in the same instant).
   */
  constructor({ base = 750, cap = 30000, factor = 2, random = Math.random } = {}) {
    if (!(base > 0) || !(cap >= base) || !(factor >= 1)) throw new Error("bad backoff settings");
    this.base = base;
    this.cap = cap;
    this.factor = factor;
    this.random = random;
    this.attempt = 0;
  }

  /** The ceiling for attempt n, before jitter. */
  ceiling(n = this.attempt) {
    return Math.min(this.cap, this.base * this.factor ** n);
  }

  /** The next delay in ms; each call moves one step up. */
  next() {
    const d = this.ceiling(this.attempt);
    if (this.ceiling(this.attempt) < this.cap) this.attempt += 1;
    const r = Math.min(Math.max(this.random(), 0), 1);
    return Math.round(d / 2 + (d / 2) * r);
  }

  reset() {
    this.attempt = 0;
  }
}

/** expiresAt in ms since the epoch, from seconds, ms or an ISO date; NaN if unknown. */
export function expiryMs(expiresAt) {
  if (typeof expiresAt === "number" && Number.isFinite(expiresAt)) {
    return expiresAt < 1e12 ? expiresAt * 1000 : expiresAt;
  }
  if (typeof expiresAt === "string" && expiresAt.trim() !== "") {
    const asNumber = Number(expiresAt);
    if (Number.isFinite(asNumber)) return expiryMs(asNumber);
    return Date.parse(expiresAt);
  }
  return Number.NaN;
}

/**
 * How long to wait before renewing a token obtained at issuedAtMs that expires at
 * expiresAtMs: at `fraction` of its lifetime (default 80%), never below minMs.
 * Without a usable expiry, returns null (renew only when refused).
 */
export function renewDelay(issuedAtMs, expiresAtMs, { fraction = 0.8, minMs = 1000 } = {}) {
  if (!Number.isFinite(expiresAtMs) || !Number.isFinite(issuedAtMs)) return null;
  const lifetime = expiresAtMs - issuedAtMs;
  return Math.max(minMs, Math.floor(lifetime * fraction));
}

/** True when a token should be renewed before using it again (past fraction of lifetime). */
export function tokenStale(issuedAtMs, expiresAtMs, nowMs, fraction = 0.8) {
  if (!Number.isFinite(expiresAtMs)) return false;
  return nowMs >= issuedAtMs + (expiresAtMs - issuedAtMs) * fraction;
}
