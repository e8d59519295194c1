/**
 * The Redis store's side of the event log (Lua and key layout: redis-event-scripts.ts): the arguments a
 * write script takes for its events, and reads that expand log entries into events.
 */
import {
  assertEventLimit,
  EVENT_READ_BYTES,
  eventOf,
  EventsExpiredError,
  formatCursor,
  parseCursor,
  type EventLogOptions,
  type EventPage,
  type LoggedWrite,
  type StoredEvent,
  type WriteEvents,
  changedText,
} from './event-log.js';
import type { RedisContext } from './redis-context.js';
import { type Store } from './store.js';
import { assertStoreId } from './store-checks.js';

/** How many times a read settles an unfinished staged list before giving up (each settle finishes one). */
const MAX_SETTLES_PER_READ = 8;

/** The trailing ARGV of a write script for its events (see EVENT_LOG_LUA): a single 0 when it logs none. */
export function eventArgs(events: WriteEvents | undefined, now: number, options: Required<EventLogOptions>): (string | number)[] {
  if (events === undefined) return [0];
  const { resource, members } = events;
  const args = [
    now,
    options.eventRetentionMs,
    options.maxEventWrites,
    resource?.type ?? '',
    // '' stands for 'all' (a creation): the names are listed from the JSON when the event is read.
    changedText(resource?.changed),
    members?.added ?? '',
    members?.removed ?? '',
    options.maxEventBytes,
  ];
  return [...args, args.length];
}

/** One entry of READ_EVENTS' reply. */
type Entry = [string, string, string, string, number, string, string, string, string, number, number, string[], string[]];

export interface EventReader {
  /** Runs READ_EVENTS on the connection's tag, with the bytes of resource JSON the page may still copy. */
  read(connectionId: string, after: string, limit: number, budget: number): Promise<unknown[]>;
  /** Finishes the settling of a staged member list (SETTLE_JOB until done). */
  settle(connectionId: string, token: string): Promise<void>;
}

/**
 * Events one READ_EVENTS script reads at most: about 250 entries cost Redis 3-8 ms, 1,000 up to 31 ms (an
 * audit at enterprise sizes, 2026-12-05); a longer page is read by several scripts.
 */
export const EVENTS_PER_SCRIPT = 250;

/**
 * Store.readEvents on Redis: READ_EVENTS calls of at most EVENTS_PER_SCRIPT events until `limit` are read,
 * the log ends, or the page's EVENT_READ_BYTES of resource JSON are copied (each call is given what is left,
 * and ends its part after the entry that passes it).
 */
export async function readEventPage(reader: EventReader, connectionId: string, after: string | null, limit: number): Promise<EventPage> {
  assertEventLimit(limit);
  if (after !== null) parseCursor(after);
  const events: StoredEvent[] = [];
  let next = after;
  let bytes = 0;
  while (events.length < limit && bytes <= EVENT_READ_BYTES) {
    const asked = Math.min(limit - events.length, EVENTS_PER_SCRIPT);
    let page: EventPage & { bytes: number; more: boolean };
    try {
      page = await readOnce(reader, connectionId, next, asked, EVENT_READ_BYTES - bytes);
    } catch (error) {
      // The log was trimmed past this page's middle: what was read is answered; the next read says expired.
      if (error instanceof EventsExpiredError && events.length > 0) break;
      throw error;
    }
    events.push(...page.events);
    next = page.next;
    bytes += page.bytes;
    if (page.events.length < asked && !page.more) break;
  }
  return { events, next };
}

/** One READ_EVENTS call, after settling any staged list it meets (rare), with the JSON bytes it copied. */
async function readOnce(
  reader: EventReader,
  connectionId: string,
  after: string | null,
  limit: number,
  budget: number,
): Promise<EventPage & { bytes: number; more: boolean }> {
  for (let attempt = 0; attempt < MAX_SETTLES_PER_READ; attempt++) {
    const reply = await reader.read(connectionId, after ?? '', limit, budget);
    if (reply[0] === 'expired') throw new EventsExpiredError();
    if (reply[0] === 'unsettled') {
      await reader.settle(connectionId, String(reply[1]));
      continue;
    }
    // 'more': the script stopped after EVENT_SCAN_ENTRIES entries, whatever it found in them.
    return { ...expand(reply[1] as Entry[], after), more: reply[2] === 1 };
  }
  throw new Error('the event log kept meeting unsettled member lists');
}

function expand(entries: Entry[], after: string | null): EventPage & { bytes: number } {
  const events: StoredEvent[] = [];
  let next = after;
  let bytes = 0;
  for (const [id, k, rid, json, hasJson, type, changed, addedType, removedType, total, from, removed, added] of entries) {
    const cursor = parseCursor(id);
    const write: LoggedWrite = {
      at: cursor.at,
      seq: cursor.seq,
      kind: k === 'u' ? 'User' : 'Group',
      id: rid,
      json: Number(hasJson) === 1 ? json : null,
      type: type === '' ? null : type,
      changed: changed === '' ? 'all' : (JSON.parse(changed) as string[]),
    };
    // As READ_EVENTS counts: an entry's JSON once, where its events begin.
    if (Number(from) === 0) bytes += write.json?.length ?? 0;
    const own = write.type === null ? 0 : 1;
    const n = Number(total);
    let index = Number(from);
    if (own === 1 && index === 0) events.push(eventOf(write, index++, n));
    for (const value of removed) events.push(eventOf(write, index++, n, { type: removedType, value }));
    for (const value of added) events.push(eventOf(write, index++, n, { type: addedType, value }));
    next = index >= n ? formatCursor({ at: cursor.at, seq: cursor.seq, index: null }) : (events[events.length - 1]?.cursor ?? next);
  }
  return { events, next, bytes };
}

/** The store's event reads: pages of events (settling what a read finds unfinished with `settle`) and the last cursor. */
export function redisEventReads(ctx: RedisContext, settle: EventReader['settle']): Pick<Store, 'readEvents' | 'lastEventCursor'> {
  const { redis, run, tag } = ctx;
  return {
    async readEvents(connectionId, after, limit) {
      assertStoreId('connectionId', connectionId);
      const reader = {
        read: async (cid: string, from: string, n: number, budget: number) => (await run('events', tag(cid), from, n, budget)) as unknown[],
        settle,
      };
      return readEventPage(reader, connectionId, after, limit);
    },

    async lastEventCursor(connectionId) {
      assertStoreId('connectionId', connectionId);
      const last = await redis.get(`${tag(connectionId)}ev:last`);
      return last;
    },
  };
}
