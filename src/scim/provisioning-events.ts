/**
 * The durable provisioning events of a SCIM write, computed from the resource before and after it (pure; no
 * I/O). The SCIM layer hands them to the store inside the write (`ResourceWrite.events`, the `events`
 * argument of deleteResource), so the store appends them in the same atomic step (docs/events.md).
 *
 * Rules:
 * - a user whose `active` flips gets ONE event, `user.deactivated` or `user.reactivated`, whose `changed`
 *   lists every attribute the write changed (`active` and any other): one event per write, never two;
 * - an update that changes no attribute (only `meta`) logs no resource event;
 * - group member changes are logged by the store, one `group.member_removed` / `group.member_added` per
 *   member actually removed / added, and never as `members` in a `group.updated`: a write that changes
 *   only members logs member events only. A new group's initial members are `group.member_added` events.
 */
import { UNREPORTED_ATTRIBUTES, type WriteEvents } from '../store/event-log.js';
import type { AuditEventType } from '../events.js';
import type { ResourceKind } from '../store/store.js';
import type { JsonObject } from './normalize.js';
import { jsonEqual } from './patch-apply.js';
import { isActiveUser } from './users.js';

/** Every type of provisioning event: the audit trail's SCIM write types, plus one per member change. */
export type ProvisioningEventType = Extract<AuditEventType, `user.${string}` | `group.${string}`> | 'group.member_added' | 'group.member_removed';

const MEMBER_EVENTS = { added: 'group.member_added', removed: 'group.member_removed' } as const satisfies Record<string, ProvisioningEventType>;

/** Equal as JSON values (objects compared by their JSON text, as stored). */

const noun = (kind: ResourceKind) => (kind === 'User' ? 'user' : 'group');

/**
 * The top-level attributes whose values differ between two stored forms (added and removed ones too), in any
 * key order: a PUT of the same user with `name`'s keys in another order changes nothing.
 */
export function changedAttributes(before: JsonObject, after: JsonObject): string[] {
  const changed = Object.keys(after).filter((name) => !UNREPORTED_ATTRIBUTES.has(name) && !jsonEqual(before[name], after[name]));
  for (const name of Object.keys(before)) if (!Object.hasOwn(after, name) && !UNREPORTED_ATTRIBUTES.has(name)) changed.push(name);
  return changed;
}

/**
 * A created resource's events: every attribute counts as changed (`'all'`: the store lists them from the
 * JSON when the event is read); a group's members are member events.
 */
export function createdEvents(kind: ResourceKind): WriteEvents {
  const events: WriteEvents = { resource: { type: `${noun(kind)}.created`, changed: 'all' } };
  if (kind === 'Group') events.members = { ...MEMBER_EVENTS };
  return events;
}

/**
 * An update's events (stored forms without `members`), or undefined when it logs none: no attribute
 * changed and `touchesMembers` (the write carries members or member changes) is false.
 */
export function updatedEvents(kind: ResourceKind, before: JsonObject, after: JsonObject, touchesMembers: boolean): WriteEvents | undefined {
  const changed = changedAttributes(before, after);
  let type: ProvisioningEventType = kind === 'User' ? 'user.updated' : 'group.updated';
  if (kind === 'User') {
    const [was, is] = [isActiveUser(before), isActiveUser(after)];
    if (was && !is) type = 'user.deactivated';
    if (!was && is) type = 'user.reactivated';
  }
  const events: WriteEvents = { resource: changed.length > 0 ? { type, changed } : null };
  if (kind === 'Group' && touchesMembers) events.members = { ...MEMBER_EVENTS };
  return events.resource !== null || events.members !== undefined ? events : undefined;
}

/** A deletion's event: the id only (a deleted group's members and a deleted user's groups are implied). */
export function deletedEvents(kind: ResourceKind): WriteEvents {
  return { resource: { type: `${noun(kind)}.deleted`, changed: [] } };
}
