/**
 * The event log of one connection in the memory store: the writes' events in an array, appended in the
 * same synchronous step as the write (so atomically with it), trimmed by retention and count as writes
 * arrive, read by cursor in O(page) (sequence numbers are consecutive, so a cursor's write is found by
 * arithmetic; a cursor from elsewhere in O(log n)). A write's member lists are kept as the arrays the write
 * computed.
 */
import { ShardedMap } from '../sharded-map.js';
import {
  changedText,
  cursorExpired,
  cursorInLog,
  entryOwnBytes,
  eventOf,
  EventsExpiredError,
  formatCursor,
  parseCursor,
  type EventCursor,
  type EventLogOptions,
  type EventPage,
  type LoggedWrite,
  type StoredEvent,
  type WriteEvents,
} from './event-log.js';

/** Most old entries one append drops (retention, count and bytes alike); what is left goes with later appends. */
export const DROPS_PER_APPEND = 4_096;

interface Entry extends LoggedWrite {
  memberTypes: { added: string; removed: string } | null;
  removed: string[];
  added: string[];
  /**
   * What this entry holds on its own, counted against maxEventBytes: what it lists (entryOwnBytes: its
   * member values and changed names, when they reach COUNTED_ENTRY_BYTES), and its JSON once a later write
   * replaced its resource (the Redis store's copy, src/store/redis-event-scripts.ts).
   */
  ownBytes: number;
}

/** The members a write removed and added, in the order both stores log them. */
export interface MemberDelta {
  removed: string[];
  added: string[];
}

const total = (e: Entry): number => (e.type === null ? 0 : 1) + (e.memberTypes ? e.removed.length + e.added.length : 0);

export class MemoryEventLog {
  private entries: Entry[] = [];
  /** Index of the oldest kept entry (the array is compacted now and then). */
  private head = 0;
  private lastSeq = 0;
  private lastAt = 0;
  /** The time of the log's first write (cursorInLog). */
  private startedAt: number | null = null;
  /** The latest kept entry of each resource that has one (kind and id), whose JSON the resource shares. */
  private latest = new ShardedMap<Entry>();
  /** The sum of the kept entries' ownBytes. */
  private ownBytes = 0;

  constructor(
    private readonly options: Required<EventLogOptions>,
    private readonly now: () => number,
  ) {}

  /** Appends a write's events (`json` null for a deletion), then drops what is past retention or count. */
  append(kind: 'User' | 'Group', id: string, json: string | null, events: WriteEvents, delta: MemberDelta): void {
    const at = Math.max(this.now(), this.lastAt);
    this.lastAt = at;
    this.startedAt ??= at;
    const resource = events.resource;
    const memberTypes = events.members ?? null;
    // Member lists are kept only when member events are asked for, as the Redis store logs them.
    const removed = memberTypes ? delta.removed : [];
    const added = memberTypes ? delta.added : [];
    const ownBytes = entryOwnBytes(changedText(resource?.changed), removed, added);
    const entry: Entry = {
      at,
      seq: ++this.lastSeq,
      kind,
      id,
      json,
      type: resource?.type ?? null,
      changed: resource?.changed ?? [],
      memberTypes,
      removed,
      added,
      ownBytes,
    };
    this.entries.push(entry);
    this.ownBytes += ownBytes;
    const key = this.replaced(kind, id);
    if (json !== null) this.latest.set(key, entry);
    const expiredBefore = this.now() - this.options.eventRetentionMs;
    const { maxEventWrites, maxEventBytes } = this.options;
    // At most DROPS_PER_APPEND entries go per write: a million-entry sync ageing out at once held the event
    // loop 1.7 s in one write. Entries past the retention still held are never read (firstKept).
    for (let dropped = 0; dropped < DROPS_PER_APPEND; dropped++) {
      const oldest = this.entries[this.head];
      if (oldest === undefined || oldest === entry) break;
      if (oldest.at >= expiredBefore && this.size() <= maxEventWrites && this.ownBytes <= maxEventBytes) break;
      this.ownBytes -= oldest.ownBytes;
      const oldestKey = `${oldest.kind}\u0000${oldest.id}`;
      if (this.latest.get(oldestKey) === oldest) this.latest.delete(oldestKey);
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }

  /**
   * Resource (kind, id) is rewritten or deleted: its latest entry now holds its version on its own (the Redis
   * store copies it then, keepShared), and counts against maxEventBytes. Answers the resource's key.
   */
  replaced(kind: 'User' | 'Group', id: string): string {
    const key = `${kind}\u0000${id}`;
    const previous = this.latest.get(key);
    if (previous?.json != null) {
      // Counted as Redis counts its copy: the UTF-8 bytes of `<id> <JSON>`.
      const copy = Buffer.byteLength(previous.id) + 1 + Buffer.byteLength(previous.json);
      previous.ownBytes += copy;
      this.ownBytes += copy;
    }
    this.latest.delete(key);
    return key;
  }

  read(after: string | null, limit: number): EventPage {
    const cursor = after === null ? null : cursorInLog(parseCursor(after), this.startedAt);
    const head = this.firstKept();
    const first = this.entries[head];
    let at = head;
    let index = 0;
    if (cursor) {
      if (cursorExpired(cursor, first?.seq ?? this.lastSeq + 1)) throw new EventsExpiredError();
      // The cursor's own entry, found by arithmetic (seqs are consecutive); a cursor whose entry this log does
      // not hold reads what came after its time and seq, as the Redis stream's ids order them (one of an
      // earlier connection of the customer stands before this log's first write: cursorInLog).
      const own = first ? head + cursor.seq - first.seq : -1;
      const entry = own >= head && own < this.entries.length ? this.entries[own]! : undefined;
      if (entry && entry.at === cursor.at && entry.seq === cursor.seq) {
        at = own;
        if (cursor.index === null) at++;
        else index = cursor.index + 1;
      } else {
        at = this.firstAfter(cursor, head);
      }
    }
    const events: StoredEvent[] = [];
    let next = after;
    for (; at < this.entries.length && events.length < limit; at++, index = 0) {
      const entry = this.entries[at]!;
      const n = total(entry);
      for (; index < n && events.length < limit; index++) events.push(this.eventAt(entry, index, n));
      next = index >= n ? formatCursor({ at: entry.at, seq: entry.seq, index: null }) : events[events.length - 1]!.cursor;
      if (index < n) break;
    }
    return { events, next };
  }

  /**
   * The index of the oldest entry a read may return: the first within the retention (O(log n)), as the Redis
   * store trims by time exactly, whatever appends have not dropped yet (DROPS_PER_APPEND).
   */
  private firstKept(): number {
    const expiredBefore = this.now() - this.options.eventRetentionMs;
    let [low, high] = [this.head, this.entries.length];
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.entries[mid]!.at < expiredBefore) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** The index of the first kept entry (from `head`) after (at, seq) in the log's order: O(log n). */
  private firstAfter(cursor: EventCursor, head: number): number {
    let [low, high] = [head, this.entries.length];
    while (low < high) {
      const mid = (low + high) >>> 1;
      const e = this.entries[mid]!;
      if (e.at < cursor.at || (e.at === cursor.at && e.seq <= cursor.seq)) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  lastCursor(): string | null {
    return this.lastSeq === 0 ? null : formatCursor({ at: this.lastAt, seq: this.lastSeq, index: null });
  }

  private size(): number {
    return this.entries.length - this.head;
  }

  private eventAt(entry: Entry, index: number, n: number): StoredEvent {
    let i = index - (entry.type === null ? 0 : 1);
    if (i < 0) return eventOf(entry, index, n);
    const types = entry.memberTypes!;
    if (i < entry.removed.length) return eventOf(entry, index, n, { type: types.removed, value: entry.removed[i]! });
    i -= entry.removed.length;
    return eventOf(entry, index, n, { type: types.added, value: entry.added[i]! });
  }
}
