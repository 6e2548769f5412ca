// The messages of one room, ordered as the store's sort key orders them, (ts, seq, id),
// and deduplicated by id. So live messages take the place history will give them, even
// when the broker delivers them out of order.
// Pure: no DOM. Backlog pages, history pages and live messages all go through add().

import { CONTRACT } from "./contract.js";

/**
 * A room message as the server stamps it, or null if the shape is wrong. The page does
 * not trust numbers it is sent: ts must be a whole number of milliseconds within the
 * store's 13-digit sort key (0 .. CONTRACT.ts.max), or the message is dropped.
 */
export function normalizeMessage(raw, room) {
  if (!raw || typeof raw !== "object") return null;
  const { id, ts, name, text } = raw;
  if (typeof id !== "string" || id === "") return null;
  const time = typeof ts === "string" && ts.trim() !== "" ? Number(ts) : ts;
  if (!Number.isSafeInteger(time) || time < 0 || time > CONTRACT.ts.max) return null;
  // A deleted message's tombstone keeps its place: {id, ts, deleted: true}.
  if (raw.deleted === true) {
    return { id, ts: time, seq: 0, room, name: "", text: "", sender: "", clientId: "", deleted: true };
  }
  if (typeof text !== "string" || typeof name !== "string") return null;
  if (room !== undefined && raw.room !== undefined && raw.room !== room) return null;
  const seq = Number.isSafeInteger(raw.seq) && raw.seq >= 0 ? raw.seq : 0;
  return {
    id,
    ts: time,
    seq,
    room: typeof raw.room === "string" ? raw.room : room,
    name,
    text,
    sender: typeof raw.sender === "string" ? raw.sender : "",
    clientId: typeof raw.clientId === "string" ? raw.clientId : "",
    editedAt: Number.isSafeInteger(raw.editedAt) ? raw.editedAt : null,
    deleted: false,
  };
}

export function compareMessages(a, b) {
  if (a.ts !== b.ts) return a.ts - b.ts;
  if (a.seq !== b.seq) return a.seq - b.seq;
  if (a.id < b.id) return -1;
  return a.id > b.id ? 1 : 0;
}

export class MessageStore {
  constructor(room, { limit = 5000 } = {}) {
    this.room = room;
    this.limit = limit;
    this.byId = new Map();
    this.list = [];
  }

  get size() {
    return this.list.length;
  }

  has(id) {
    return this.byId.has(id);
  }

  newest() {
    return this.list.length ? this.list[this.list.length - 1] : null;
  }

  oldest() {
    return this.list.length ? this.list[0] : null;
  }

  /** Index where msg belongs (binary search on (ts, seq, id)). */
  _position(msg) {
    let lo = 0;
    let hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareMessages(this.list[mid], msg) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Adds raw messages; ignores duplicates, malformed ones and other rooms.
   * @returns {Array<{message, beforeId: string|null}>} what was added, newest first, each
   *   with the id of the message it now precedes (null: it is the newest). A view that
   *   inserts the nodes in this order always finds the `beforeId` node already present.
   */
  add(rawMessages) {
    const added = [];
    for (const raw of rawMessages ?? []) {
      const msg = normalizeMessage(raw, this.room);
      if (!msg || this.byId.has(msg.id)) continue;
      const at = this._position(msg);
      this.list.splice(at, 0, msg);
      this.byId.set(msg.id, msg);
      added.push(msg);
    }
    const evicted = [];
    while (this.list.length > this.limit) {
      const gone = this.list.shift();
      this.byId.delete(gone.id);
      evicted.push(gone.id);
    }
    added.sort((a, b) => compareMessages(b, a));
    const result = [];
    for (const msg of added) {
      if (!this.byId.has(msg.id)) continue;
      const at = this._position(msg);
      const next = this.list[at + 1];
      result.push({ message: msg, beforeId: next ? next.id : null });
    }
    result.evicted = evicted;
    return result;
  }

  ids() {
    return this.list.map((m) => m.id);
  }

  /**
   * An edit or delete of a stored message (from the room topic): the message changed,
   * or null when it is not here. A delete empties it for good; an edit never revives one.
   */
  change(data) {
    const msg = typeof data?.id === "string" ? this.byId.get(data.id) : undefined;
    if (!msg || msg.deleted) return null;
    if (data.type === "delete") {
      Object.assign(msg, { deleted: true, text: "", name: "" });
    } else if (data.type === "edit" && typeof data.text === "string") {
      msg.text = data.text;
      msg.editedAt = Number.isSafeInteger(data.editedAt) ? data.editedAt : Date.now();
    } else {
      return null;
    }
    return msg;
  }
}
