/**
 * `sso.events.read` and `sso.events.end`: the customer's durable provisioning events (docs/events.md),
 * pulled with a cursor, typed. The store keeps one log per SCIM connection; a customer has one connection,
 * so a cursor belongs to the customer's current connection (a new connection starts a new log).
 */
import { z } from 'zod';
import { checkCustomerId } from '../connections.js';
import { parseArgument } from '../errors.js';
import type { ProvisioningEventType } from '../scim/provisioning-events.js';
import { MAX_EVENT_PAGE, type StoredEvent } from '../store/event-log.js';
import type { Store } from '../store/store.js';

/** One provisioning event: a SCIM write, or one group member it removed or added. */
export interface ProvisioningEvent {
  type: ProvisioningEventType;
  /** This event's place in the customer's log: read `after` it to get what follows. */
  cursor: string;
  /** The write's sequence number in its connection: increases with every write that logged events. */
  seq: number;
  /** The event's position among its write's events (a write of many member changes has many). */
  index: number;
  /** When the write happened (ISO 8601). */
  at: string;
  customerId: string;
  connectionId: string;
  resourceType: 'User' | 'Group';
  resourceId: string;
  /** The resource after the write, as stored (a group without `members`, a user without `groups`); null for a deletion. */
  resource: Record<string, unknown> | null;
  /** The top-level attributes the write changed (none for member events and deletions). */
  changed: string[];
  /** Member events: the member (a user's or group's id, as the IdP sent it). */
  member?: { value: string };
}

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
}

const readOptionsSchema = z.strictObject({
  after: z
    .string()
    .regex(/^\d{1,15}-\d{1,15}(\.\d{1,9})?$/, 'not an event cursor')
    .optional(),
  limit: z.number().int().min(1).max(MAX_EVENT_PAGE).default(100),
});

/** A stored event as the app sees it. */
export function toProvisioningEvent(event: StoredEvent, customerId: string, connectionId: string): ProvisioningEvent {
  const out: ProvisioningEvent = {
    type: event.type as ProvisioningEventType,
    cursor: event.cursor,
    seq: event.seq,
    index: event.index,
    at: new Date(event.at).toISOString(),
    customerId,
    connectionId,
    resourceType: event.kind,
    resourceId: event.id,
    resource: event.json === null ? null : (JSON.parse(event.json) as Record<string, unknown>),
    changed: event.changed,
  };
  if (event.member !== undefined) out.member = { value: event.member };
  return out;
}

export function provisioningEventsApi(store: Store): ProvisioningEventsApi {
  return {
    async read(customerId, options = {}) {
      checkCustomerId(customerId);
      const { after, limit } = parseArgument(readOptionsSchema, options, 'events.read');
      const connection = await store.getConnectionByCustomer(customerId);
      if (!connection) return { events: [], next: after ?? null };
      const page = await store.readEvents(connection.connectionId, after ?? null, limit);
      return { events: page.events.map((e) => toProvisioningEvent(e, customerId, connection.connectionId)), next: page.next };
    },
    async end(customerId) {
      checkCustomerId(customerId);
      const connection = await store.getConnectionByCustomer(customerId);
      return connection ? store.lastEventCursor(connection.connectionId) : null;
    },
  };
}
