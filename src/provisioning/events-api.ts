/**
 * `sso.events.read` and `sso.events.end`: the customer's durable provisioning events (docs/events.md),
 * pulled with a cursor, typed. The store keeps one log per SCIM connection; a customer has one connection,
 * so a cursor belongs to the customer's current connection (a new connection starts a new log).
 */
import { z } from 'zod';
import { checkCustomerId } from '../connections.js';
import { parseArgument, ScimSsoConfigError } from '../errors.js';
import { mapInChunks } from '../event-loop.js';
import { sortInSlices } from '../sliced-sort.js';
import { byUtf8 } from '../seen-order.js';
import { MAX_EVENT_PAGE, parseCursor } from '../store/event-log.js';
import type { Store } from '../store/store.js';
import { startConsumer, type ConsumeOptions, type ConsumerHandle } from './consumer.js';
import { parseDeadLetter, type DeadLetter } from './dead-letters.js';
import { logTag, PUBLIC_CURSOR, publicCursor, storeCursorOf } from './public-cursor.js';
import { toProvisioningEvents, type ProvisioningEvent } from './event.js';

export type { ProvisioningEvent } from './event.js';

export interface ProvisioningEventPage {
  events: ProvisioningEvent[];
  /** The cursor to pass as `after` next time (unchanged when nothing new was logged). */
  next: string | null;
}

export interface ReadEventsOptions {
  /** A cursor from an earlier read (an event's `cursor` or a page's `next`); absent: from the oldest event kept. */
  after?: string;
  /** Most events returned, 1 to 1000. Default: 100. */
  limit?: number;
}

/** The durable provisioning events API (`sso.events`). */
export interface ProvisioningEventsApi {
  /**
   * The customer's events after `after`, oldest first. Throws EventsExpiredError (code `events_expired`)
   * when events after that cursor were dropped by the retention: resync from the directory API.
   */
  read(customerId: string, options?: ReadEventsOptions): Promise<ProvisioningEventPage>;
  /** The cursor after the customer's last event (null: none yet): take it BEFORE a resync, then read after it. */
  end(customerId: string): Promise<string | null>;
  /**
   * Delivers every event to the consumer group `group`, at least once, in order per customer, sharing the
   * work with the group's consumers in other app instances (src/provisioning/consumer.ts). Runs until the
   * returned handle's `stop()`.
   */
  consume(options: ConsumeOptions): ConsumerHandle;
  /** The group's dead letters, oldest first; only one customer's with `customerId`. */
  deadLetters(group: string, options?: { customerId?: string }): Promise<DeadLetter[]>;
  /**
   * Hands a dead letter's event to `handler` again; once it succeeds, the letter is removed (true). False
   * when the group has no such letter; a handler that throws leaves it parked and rethrows.
   */
  replayDeadLetter(group: string, id: string, handler: (event: ProvisioningEvent) => void | Promise<void>): Promise<boolean>;
}

/** Dead letters parsed between two yields: a letter is at most about 70 KB (MAX_LETTER_RESOURCE_CHARS). */
const LETTERS_AT_ONCE = 100;

/**
 * How far past both this instance's clock and the log's last write a cursor's time may be (the log's times are
 * the store's clock, Redis's on Redis, which may run ahead of an instance, never by a day). A cursor further
 * ahead was made by nothing (a corrupted or hand-written one), and reading after it would answer no event,
 * ever, without a word.
 */
const CURSOR_CLOCK_SLACK_MS = 24 * 60 * 60 * 1000;

/**
 * Refuses a cursor no log can have written (see CURSOR_CLOCK_SLACK_MS). The log's last cursor is read only for
 * a cursor past this instance's clock and the slack, so a read with a sound cursor costs no round trip more.
 */
async function checkNotFromTheFuture(after: string, lastCursor: () => Promise<string | null>): Promise<void> {
  // `after` is a store cursor here (its log's tag taken off); the log's last one is a store cursor too.
  const at = parseCursor(after).at;
  if (at <= Date.now() + CURSOR_CLOCK_SLACK_MS) return;
  const end = await lastCursor();
  if (end === null || at > parseCursor(end).at + CURSOR_CLOCK_SLACK_MS) {
    throw new ScimSsoConfigError('invalid_argument', 'events.read: after: a cursor from the future, which no event log wrote');
  }
}

const readOptionsSchema = z.strictObject({
  after: z.string().regex(PUBLIC_CURSOR, 'not an event cursor').optional(),
  limit: z.number().int().min(1).max(MAX_EVENT_PAGE).default(100),
});

const groupSchema = z.string().regex(/^[^{}\s\p{Cc}]{1,200}$/u, 'a group name is 1-200 characters without braces, whitespace or control characters');

/** A dead letter's resource as it is now (its letter left it out: dead-letters.ts), null when it is gone. */
async function resourceNow(store: Store, event: ProvisioningEvent): Promise<Record<string, unknown> | null> {
  const stored = await store.getResource(event.connectionId, event.resourceType, event.resourceId, { members: false, groups: false });
  return stored ? (JSON.parse(stored.json) as Record<string, unknown>) : null;
}

export function provisioningEventsApi(store: Store, onError: (error: unknown) => void): ProvisioningEventsApi {
  /** The group's letters, parsed a batch at a time and sorted in slices: 100,000 held the loop 1.3-1.6 s at once. */
  const letters = async (group: string) =>
    mapInChunks(await store.listDeadLetters(parseArgument(groupSchema, group, 'group')), LETTERS_AT_ONCE, async (stored) => parseDeadLetter(stored));
  return {
    async read(customerId, options = {}) {
      checkCustomerId(customerId);
      const { after, limit } = parseArgument(readOptionsSchema, options, 'events.read');
      const connection = await store.getConnectionByCustomer(customerId);
      if (!connection) return { events: [], next: after ?? null };
      const { connectionId } = connection;
      const tag = logTag(connectionId);
      // A cursor of an earlier connection's log stands before this log's first write.
      const from = after === undefined ? null : storeCursorOf(after, tag)!;
      if (from && !from.foreign) await checkNotFromTheFuture(from.storeCursor, () => store.lastEventCursor(connectionId));
      const page = await store.readEvents(connectionId, from?.storeCursor ?? null, limit);
      return { events: await toProvisioningEvents(page.events, customerId, connectionId), next: page.next === null ? null : publicCursor(page.next, tag) };
    },
    async end(customerId) {
      checkCustomerId(customerId);
      const connection = await store.getConnectionByCustomer(customerId);
      const last = connection ? await store.lastEventCursor(connection.connectionId) : null;
      return last === null ? null : publicCursor(last, logTag(connection!.connectionId));
    },
    consume: (options) => startConsumer(store, options, onError),
    async deadLetters(group, options = {}) {
      const all = await letters(group);
      const mine = options.customerId === undefined ? all : all.filter((l) => l.event.customerId === checkCustomerId(options.customerId));
      return sortInSlices(mine, (a, b) => byUtf8(a.failedAt, b.failedAt) || byUtf8(a.id, b.id));
    },
    async replayDeadLetter(group, id, handler) {
      if (typeof id !== 'string') return false;
      const stored = await store.getDeadLetter(parseArgument(groupSchema, group, 'group'), id);
      if (!stored) return false;
      const letter = parseDeadLetter(stored);
      await handler(letter.resourceLeftOut ? { ...letter.event, resource: await resourceNow(store, letter.event) } : letter.event);
      await store.removeDeadLetter(group, id);
      return true;
    },
  };
}
