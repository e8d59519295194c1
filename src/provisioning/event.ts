/** A provisioning event as the app receives it (from `sso.events.read`, `consume` and dead letters). */
import type { ProvisioningEventType } from '../scim/provisioning-events.js';
import type { StoredEvent } from '../store/event-log.js';
import { yieldToEventLoop } from '../event-loop.js';
import { logTag, publicCursor } from './public-cursor.js';

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
  /**
   * The resource after the write, as stored (a group without `members`, a user without `groups`); null for a
   * deletion. Frozen: the events of one write share it.
   */
  resource: Record<string, unknown> | null;
  /** The top-level attributes the write changed (none for member events and deletions). */
  changed: string[];
  /** Member events: the member (a user's or group's id, as the IdP sent it). */
  member?: { value: string };
}

/**
 * The parsed resources of one page of events, by their JSON text: a write of 1,000 member changes logs its
 * group's JSON with each of its 1,000 events, and parsing an 800 KB group once per event held the event loop
 * for seconds and took hundreds of MB. Each text is parsed once and its object shared, frozen.
 */
export type ParsedResources = Map<string, Record<string, unknown>>;

/**
 * A stored event as the app sees it; `parsed`: the page's resources parsed so far (see ParsedResources);
 * `tag`: the log's (src/provisioning/public-cursor.ts), which the event's cursor names.
 */
export function toProvisioningEvent(
  event: StoredEvent,
  customerId: string,
  connectionId: string,
  parsed: ParsedResources = new Map(),
  tag = logTag(connectionId),
): ProvisioningEvent {
  const out: ProvisioningEvent = {
    type: event.type as ProvisioningEventType,
    cursor: publicCursor(event.cursor, tag),
    seq: event.seq,
    index: event.index,
    at: new Date(event.at).toISOString(),
    customerId,
    connectionId,
    resourceType: event.kind,
    resourceId: event.id,
    resource: event.json === null ? null : resourceOf(event.json, parsed),
    changed: event.changed,
  };
  if (event.member !== undefined) out.member = { value: event.member };
  return out;
}

/** JSON characters parsed between two yields to the event loop when a page is converted (about 5 ms of parsing). */
const PARSED_CHARS_PER_SLICE = 1_000_000;

/**
 * A page of stored events as the app sees them: each distinct resource parsed once (ParsedResources), with
 * a yield to the event loop after each PARSED_CHARS_PER_SLICE of JSON (the memory store's pages have no byte
 * budget: 100 events of 900 KB users are 90 MB to parse).
 */
export async function toProvisioningEvents(events: readonly StoredEvent[], customerId: string, connectionId: string): Promise<ProvisioningEvent[]> {
  const parsed: ParsedResources = new Map();
  const tag = logTag(connectionId);
  const out: ProvisioningEvent[] = [];
  let chars = 0;
  for (const event of events) {
    if (event.json !== null && !parsed.has(event.json)) {
      if (chars > 0 && chars + event.json.length > PARSED_CHARS_PER_SLICE) {
        await yieldToEventLoop();
        chars = 0;
      }
      chars += event.json.length;
    }
    out.push(toProvisioningEvent(event, customerId, connectionId, parsed, tag));
  }
  return out;
}

function resourceOf(json: string, parsed: ParsedResources): Record<string, unknown> {
  let resource = parsed.get(json);
  if (resource === undefined) {
    resource = deepFreeze(JSON.parse(json) as Record<string, unknown>);
    parsed.set(json, resource);
  }
  return resource;
}

/** Freezes a parsed JSON value and everything in it: one object may be shared by many events. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
