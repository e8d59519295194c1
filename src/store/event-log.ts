/**
 * The durable event log of a connection, as both stores keep it (docs/events.md): what a write hands the
 * store, what a read returns, the cursor, the retention options and the error of a cursor older than what
 * is kept. The store treats event types and attribute names as opaque strings: the SCIM layer decides them
 * (src/scim/provisioning-events.ts).
 */

/**
 * The top-level attributes a write never reports as changed: the server owns them (`meta` moves on every
 * write), and `members` changes are member events.
 */
export const UNREPORTED_ATTRIBUTES: ReadonlySet<string> = new Set(['id', 'schemas', 'meta', 'members']);

/**
 * What a write changed: the names of the top-level attributes, or `'all'` for every attribute of the
 * resource JSON it wrote save {@link UNREPORTED_ATTRIBUTES} (a creation). `'all'` is kept as such and
 * expanded when read, so that a log of creations holds no list of names per resource.
 */
export type ChangedAttributes = string[] | 'all';

/** The names `changed` stands for, given the JSON the write logged. */
export function changedNames(changed: ChangedAttributes, json: string | null): string[] {
  if (changed !== 'all') return [...changed];
  const value: unknown = json === null ? null : JSON.parse(json);
  if (value === null || typeof value !== 'object') return [];
  return Object.keys(value).filter((name) => !UNREPORTED_ATTRIBUTES.has(name));
}

/**
 * The events a write appends in the same atomic step as the write. `resource` is the write's own event:
 * the store records it with the resource JSON it writes (none for a deletion). `members` asks the store to
 * log one event per member the write actually removes, then one per member it actually adds (only the
 * store knows which, without reading the list), with these types.
 */
export interface WriteEvents {
  /** The write's own event, or null when it has none (e.g. a group write that changed only members). */
  resource: { type: string; changed: ChangedAttributes } | null;
  /** Groups: the types of the events logged for each member removed and added. */
  members?: { added: string; removed: string };
}

/** One event as a store reads it back. */
export interface StoredEvent {
  /** Where the event is in its connection's log: reading `after` it returns what follows (see {@link formatCursor}). */
  cursor: string;
  /** The write's sequence number in its connection (increases by one per write that logged events). */
  seq: number;
  /** The event's position among its write's events (0-based). */
  index: number;
  /** When the write happened (epoch ms, the store's clock; never decreases within a connection). */
  at: number;
  type: string;
  kind: 'User' | 'Group';
  /** The resource's id. */
  id: string;
  /** The resource JSON after the write (groups without members); null for a deletion. */
  json: string | null;
  /** The top-level attributes the write changed (empty for member events and deletions). */
  changed: string[];
  /** Member events: the member's value. */
  member?: string;
}

/** A page of events in log order. */
export interface EventPage {
  events: StoredEvent[];
  /** The cursor to read on from: the last event's, or the `after` given when the page is empty. */
  next: string | null;
}

/** Options of both stores for the event log. */
export interface EventLogOptions {
  /** How long a write's events are kept at least (ms). Default: 7 days. */
  eventRetentionMs?: number;
  /** Most writes whose events one connection keeps; the oldest go first. Default: 1,000,000. */
  maxEventWrites?: number;
  /**
   * Most bytes the log of one connection holds on its own: the versions that later writes replaced while
   * their entries are kept (an entry shares the current version with its resource, which costs nothing),
   * and what an entry lists itself, its member values and changed attribute names, when that passes
   * {@link COUNTED_ENTRY_BYTES}. Past it the oldest writes go first, as for `maxEventWrites`. Default: 256 MiB.
   */
  maxEventBytes?: number;
}

export const DEFAULT_EVENT_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
export const DEFAULT_MAX_EVENT_WRITES = 1_000_000;
export const DEFAULT_MAX_EVENT_BYTES = 256 * 1024 * 1024;
/**
 * An entry that lists at least this many bytes of its own (member values and changed attribute names, UTF-8)
 * counts them against maxEventBytes. Smaller ones, nearly all (a PATCH of `active` lists 10), are not
 * counted: at most maxEventWrites × this many bytes, and no bookkeeping per ordinary write. Before entries
 * were counted, a client adding and removing 250 long member values write after write grew the log without
 * bound (257 KB a write, an audit of 2026-12-06) while its quota stayed put.
 */
export const COUNTED_ENTRY_BYTES = 256;

/** A resource event's changed attribute names as both stores log them: JSON text, '' for 'all' (a creation). */
export function changedText(changed: readonly string[] | 'all' | undefined): string {
  return changed === 'all' ? '' : JSON.stringify(changed ?? []);
}

/** The bytes an entry lists of its own (see {@link COUNTED_ENTRY_BYTES}), 0 when under that. */
export function entryOwnBytes(changed: string, removed: readonly string[], added: readonly string[]): number {
  let bytes = Buffer.byteLength(changed);
  for (const value of removed) bytes += Buffer.byteLength(value);
  for (const value of added) bytes += Buffer.byteLength(value);
  return bytes >= COUNTED_ENTRY_BYTES ? bytes : 0;
}

/** Most events one read returns. */
export const MAX_EVENT_PAGE = 1000;
/**
 * Most bytes of resource JSON one Redis event read copies: past them the page ends early, after the entry
 * that passed them (read on from `next`). Events carry their resource's JSON; 100 events of users of
 * 920 KB held Redis for about a second in one script.
 */
export const EVENT_READ_BYTES = 1_000_000;

/** Validates {@link EventLogOptions} and fills in the defaults. */
export function resolveEventLogOptions(options: EventLogOptions): Required<EventLogOptions> {
  const retention = options.eventRetentionMs ?? DEFAULT_EVENT_RETENTION_MS;
  const max = options.maxEventWrites ?? DEFAULT_MAX_EVENT_WRITES;
  const bytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
  if (!Number.isSafeInteger(retention) || retention < 1) throw new TypeError('eventRetentionMs must be a positive integer');
  if (!Number.isSafeInteger(max) || max < 1) throw new TypeError('maxEventWrites must be a positive integer');
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw new TypeError('maxEventBytes must be a positive integer');
  return { eventRetentionMs: retention, maxEventWrites: max, maxEventBytes: bytes };
}

/**
 * A position in a connection's log: the write's time and sequence number, and the index of an event
 * within it, or null when the position is after the write's last event. Text form: `<at>-<seq>` for the
 * end of a write, `<at>-<seq>.<index>` inside it (the Redis store's stream entry id, plus the index).
 */
export interface EventCursor {
  at: number;
  seq: number;
  index: number | null;
}

export function formatCursor(cursor: EventCursor): string {
  return `${cursor.at}-${cursor.seq}${cursor.index === null ? '' : `.${cursor.index}`}`;
}

/** Parses a cursor; throws a TypeError for anything {@link formatCursor} cannot have made. */
export function parseCursor(text: unknown): EventCursor {
  const match = typeof text === 'string' ? /^(\d{1,15})-(\d{1,15})(?:\.(\d{1,9}))?$/.exec(text) : null;
  if (!match) throw new TypeError('an event cursor looks like <time>-<seq> or <time>-<seq>.<index>');
  return { at: Number(match[1]), seq: Number(match[2]), index: match[3] === undefined ? null : Number(match[3]) };
}

/** Throws a TypeError unless `limit` is an integer from 1 to {@link MAX_EVENT_PAGE}. */
export function assertEventLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_EVENT_PAGE) throw new TypeError(`limit must be an integer from 1 to ${MAX_EVENT_PAGE}`);
}

/** Validates the events of a write and returns a clean copy. */
export function checkWriteEvents(events: WriteEvents): WriteEvents {
  const type = (value: unknown, what: string): string => {
    if (typeof value !== 'string' || value.length === 0 || value.length > 100) throw new TypeError(`${what} must be a string of 1-100 characters`);
    return value;
  };
  const out: WriteEvents = { resource: null };
  if (events.resource !== null) {
    const { changed } = events.resource;
    if (changed !== 'all' && (!Array.isArray(changed) || changed.some((name) => typeof name !== 'string'))) {
      throw new TypeError("changed must be an array of strings or 'all'");
    }
    out.resource = { type: type(events.resource.type, 'event type'), changed: changed === 'all' ? 'all' : [...changed] };
  }
  if (events.members !== undefined) {
    out.members = { added: type(events.members.added, 'member event type'), removed: type(events.members.removed, 'member event type') };
  }
  return out;
}

/**
 * A cursor older than what the log keeps: events after it were dropped by the retention, so reading on
 * would silently skip them. Resynchronise from the directory API (list users and groups), then read from
 * the log's current end.
 */
export class EventsExpiredError extends Error {
  readonly code = 'events_expired';
  constructor(message = 'the events after this cursor are past the retention and were dropped; resync from the directory API') {
    super(message);
    this.name = 'EventsExpiredError';
  }
}

/** What a log keeps of one write, beside its member lists. */
export interface LoggedWrite {
  at: number;
  seq: number;
  kind: 'User' | 'Group';
  id: string;
  json: string | null;
  /** The write's own event type, or null when it logged member events only. */
  type: string | null;
  changed: ChangedAttributes;
}

/**
 * Event `index` of a logged write with `total` events: index 0 is the write's own event when it has one,
 * the others are member events (`type`, `member`). The last event's cursor is the end of the write.
 */
export function eventOf(write: LoggedWrite, index: number, total: number, member?: { type: string; value: string }): StoredEvent {
  const cursor = formatCursor({ at: write.at, seq: write.seq, index: index === total - 1 ? null : index });
  const base = { cursor, seq: write.seq, index, at: write.at, kind: write.kind, id: write.id, json: write.json };
  if (member) return { ...base, type: member.type, changed: [], member: member.value };
  return { ...base, type: write.type ?? '', changed: changedNames(write.changed, write.json) };
}

/**
 * Whether reading after `cursor` would skip dropped events, given the sequence number of the oldest write
 * the log keeps (or, when it keeps none, the last sequence number plus one).
 */
export function cursorExpired(cursor: EventCursor, firstKept: number): boolean {
  return firstKept > cursor.seq + (cursor.index === null ? 1 : 0);
}

/**
 * A cursor as a log read takes it: one from before the log began (`startedAt`, the time of its first write),
 * which an earlier connection of the customer, deleted since, gave out, stands before the log's first write.
 * Its seq belongs to the other log, so compared with this one's it would hide a trim of this log's first
 * writes; so a reader behind a trim gets EventsExpiredError, never a silent gap.
 */
export function cursorInLog(cursor: EventCursor, startedAt: number | null): EventCursor {
  return startedAt !== null && cursor.at < startedAt ? { at: startedAt, seq: 0, index: null } : cursor;
}
