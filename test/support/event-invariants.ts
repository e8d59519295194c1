/**
 * The durable event log's invariant for the fuzz suite (docs/events.md), checked against the store after
 * every request on one connection: an acknowledged SCIM write has exactly its events, all of ONE write,
 * agreeing with what the store now holds; anything else (a refused write, a read) has none.
 *
 * - POST 201: `<noun>.created` with the stored JSON, then (groups) one `group.member_added` per member, in order;
 * - DELETE 204: exactly `<noun>.deleted`, without a resource;
 * - PUT/PATCH 2xx: the own event (if any) carries the stored JSON, the changed attributes between the
 *   resource before and after, and the type the `active` flip gives; no own event only when nothing but
 *   `meta` changed; member events, applied to the members before (each removal of a member, each
 *   addition of a non-member), give the members after.
 */
import { changedAttributes } from '../../src/scim/provisioning-events.js';
import { isActiveUser } from '../../src/scim/users.js';
import type { JsonObject } from '../../src/scim/normalize.js';
import type { StoredEvent } from '../../src/store/event-log.js';
import type { ResourceKind, Store } from '../../src/store/store.js';

/** A resource as it was before a request. */
export interface Snapshot {
  json: string;
  members: string[];
}

/** What the fuzz suite knows of a request once answered. */
export interface ObservedWrite {
  method: string;
  kind: ResourceKind | null;
  /** The path's resource id (PUT, PATCH, DELETE), or the created resource's id (POST 201). */
  id: string | undefined;
  /** Path segments after the base path. */
  segments: number;
  status: number;
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export class EventLogChecker {
  private cursor: string | null = null;

  constructor(
    private readonly store: Store,
    private readonly connectionId: string,
  ) {}

  /** The resource a PUT, PATCH or DELETE names, read before the request (null for anything else). */
  async before(method: string, kind: ResourceKind | null, id: string | undefined, segments: number): Promise<Snapshot | null> {
    if (!kind || id === undefined || segments !== 2 || !['PUT', 'PATCH', 'DELETE'].includes(method)) return null;
    const stored = await this.store.getResource(this.connectionId, kind, id, { members: false }).catch(() => null);
    if (!stored) return null;
    return { json: stored.json, members: kind === 'Group' ? await this.memberValues(id) : [] };
  }

  /** The problems of the events logged since the last call, for the request just answered. */
  async after(request: ObservedWrite, before: Snapshot | null): Promise<string[]> {
    const events = await this.readNew();
    const method = request.method.toUpperCase();
    const acknowledged =
      request.kind !== null &&
      request.id !== undefined &&
      WRITES.has(method) &&
      request.status >= 200 &&
      request.status < 300 &&
      (method === 'POST' ? request.segments === 1 && request.status === 201 : request.segments === 2);
    if (!acknowledged) return events.length === 0 ? [] : [`a request that wrote nothing logged ${events.length} events (${types(events)})`];
    const { kind, id } = request as { kind: ResourceKind; id: string };
    const noun = kind === 'User' ? 'user' : 'group';
    const problems: string[] = [];
    // A store may apply a long list of member changes as several writes (Redis: one per INLINE_MEMBERS
    // changes), each logging its own member events; anything else is one write.
    const later = events.filter((e) => e.seq !== events[0]!.seq);
    const chunked = kind === 'Group' && later.every((e) => e.member !== undefined) && later.every((e, i) => i === 0 || e.seq >= later[i - 1]!.seq);
    if (later.length > 0 && !chunked) problems.push(`one write logged several writes' events (${types(events)})`);
    if (events.some((e) => e.id !== id || e.kind !== kind)) problems.push(`a write to ${kind} ${id} logged events of another resource`);
    if (method === 'DELETE') {
      if (events.length !== 1 || events[0]!.type !== `${noun}.deleted` || events[0]!.json !== null) {
        problems.push(`a DELETE logged ${types(events) || 'nothing'} instead of ${noun}.deleted`);
      }
      return problems;
    }
    const stored = await this.store.getResource(this.connectionId, kind, id, { members: false });
    if (!stored) return [...problems, `${kind} ${id} is gone after an acknowledged ${method}`];
    const members = kind === 'Group' ? await this.memberValues(id) : [];
    const own = events[0]?.member === undefined ? events[0] : undefined;
    const memberEvents = events.filter((e) => e.member !== undefined);
    if (own && own.json !== stored.json) problems.push(`the ${own.type} event's resource differs from the stored one`);
    if (method === 'POST') {
      if (own?.type !== `${noun}.created`) problems.push(`a create logged ${types(events) || 'nothing'} first`);
      const all = changedAttributes({}, JSON.parse(stored.json) as JsonObject);
      if (own && JSON.stringify(own.changed) !== JSON.stringify(all))
        problems.push(`${own.type} names ${own.changed.join(', ')} as changed, not ${all.join(', ')}`);
      const added = memberEvents.map((e) => (e.type === 'group.member_added' ? e.member : `!${e.type}`));
      if (JSON.stringify(added) !== JSON.stringify(members)) problems.push(`a created group's member events do not list its members in order`);
      return problems;
    }
    const previous = JSON.parse(before?.json ?? '{}') as JsonObject;
    const current = JSON.parse(stored.json) as JsonObject;
    const changed = changedAttributes(previous, current);
    if (before === null) problems.push(`an acknowledged ${method} of a resource that did not exist before`);
    else if (changed.length === 0 && own) problems.push(`${own.type} logged for a write that changed no attribute`);
    else if (changed.length > 0 && !own) problems.push(`a ${method} changed ${changed.join(', ')} without logging it`);
    else if (own) {
      if (JSON.stringify([...own.changed].sort()) !== JSON.stringify([...changed].sort())) {
        problems.push(`${own.type} names ${own.changed.join(', ')} as changed, the store shows ${changed.join(', ')}`);
      }
      const flip = kind === 'User' ? [isActiveUser(previous), isActiveUser(current)] : [true, true];
      const expected = flip[0] && !flip[1] ? 'user.deactivated' : !flip[0] && flip[1] ? 'user.reactivated' : `${noun}.updated`;
      if (own.type !== expected) problems.push(`logged ${own.type} where ${expected} was due`);
    }
    if (kind === 'Group' && before) problems.push(...replay(before.members, memberEvents, members));
    return problems;
  }

  private async readNew(): Promise<StoredEvent[]> {
    const out: StoredEvent[] = [];
    for (;;) {
      const page = await this.store.readEvents(this.connectionId, this.cursor, 1000);
      out.push(...page.events);
      this.cursor = page.next;
      // A page may end early (past EVENT_READ_BYTES of resource JSON): only an empty one says caught up.
      if (page.events.length === 0) return out;
    }
  }

  private async memberValues(groupId: string): Promise<string[]> {
    const values: string[] = [];
    for (let offset = 0; ; offset += 1000) {
      const page = await this.store.listGroupMembers(this.connectionId, groupId, offset, 1000);
      if (!page) return values;
      values.push(...page.members.map((m) => m.value));
      if (offset + 1000 >= page.total) return values;
    }
  }
}

/** Problems of member events that do not turn the members before into the members after. */
function replay(before: string[], events: StoredEvent[], after: string[]): string[] {
  const members = new Set(before);
  for (const e of events) {
    const present = members.has(e.member!);
    if (e.type === 'group.member_removed' && present) members.delete(e.member!);
    else if (e.type === 'group.member_added' && !present) members.add(e.member!);
    else return [`${e.type} of ${present ? 'a member' : 'a non-member'}`];
  }
  const expected = new Set(after);
  if (members.size !== expected.size || [...members].some((v) => !expected.has(v))) {
    return [`member events do not account for the change of members (${before.length} → ${after.length})`];
  }
  return [];
}

const types = (events: StoredEvent[]) => [...new Set(events.map((e) => e.type))].join(', ');
