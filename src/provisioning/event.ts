/** A provisioning event as the app receives it (from `sso.events.read`, `consume` and dead letters). */
import type { ProvisioningEventType } from '../scim/provisioning-events.js';
import type { StoredEvent } from '../store/event-log.js';

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
