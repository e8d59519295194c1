/**
 * Whether a logged-in person is still active in SCIM, and their groups and roles now: one store round trip
 * per request (the SCIM user and the customer's role mapping are read side by side). Used by
 * `requireActiveUser` and `requireRole` on Express and Koa, so a deprovisioned person's live session ends at
 * their next request, and a person removed from a group loses its roles at their next request.
 */
import type { Store } from '../store/store.js';
import type { Emit } from '../events.js';
import { sessionGroupsKept, sessionGroupsOf, type SessionUser } from './guard.js';
import { isActiveUser } from '../scim/users.js';
import { roleMappingOf, rolesFor, type SessionGroup } from '../roles/role-mapping.js';

export type SessionStatus =
  | { active: true; groups: SessionGroup[]; groupsTruncated: boolean; roles: string[] }
  | { active: false; reason: 'deactivated' | 'deleted' | 'not_provisioned' | 'not_logged_in' };

/** The fields of the session user the check reads (the default session user has them all). */
export type SessionRef = Pick<SessionUser, 'customerId' | 'connectionId' | 'scimUserId'>;

export function sessionRefOf(user: unknown): SessionRef | null {
  if (!user || typeof user !== 'object') return null;
  const u = user as Record<string, unknown>;
  if (typeof u.customerId !== 'string') return null;
  return {
    customerId: u.customerId,
    connectionId: typeof u.connectionId === 'string' ? u.connectionId : null,
    scimUserId: typeof u.scimUserId === 'string' ? u.scimUserId : null,
  };
}

/**
 * Checks the session and reports an ended one to the audit trail. Throws when the store is unreachable
 * (callers fail closed).
 */
export async function checkAndAuditSession(store: Store, user: unknown, emit: Emit): Promise<SessionStatus> {
  const ref = sessionRefOf(user);
  const status = await checkSession(store, ref);
  if (!status.active && status.reason !== 'not_logged_in' && ref) {
    emit({
      type: 'session.ended',
      actor: 'session',
      outcome: 'success',
      customerId: ref.customerId,
      connectionId: ref.connectionId,
      reason: status.reason,
      ...(ref.scimUserId ? { resourceType: 'User' as const, resourceId: ref.scimUserId } : {}),
    });
  }
  return status;
}

/** Throws when the store is unreachable (callers fail closed). */
export async function checkSession(store: Store, ref: SessionRef | null): Promise<SessionStatus> {
  if (!ref) return { active: false, reason: 'not_logged_in' };
  // Admitted without a SCIM user: the customer had no SCIM connection at login. If it has one now (SCIM is
  // usually switched on after SSO), the session's person was never matched to a SCIM user: end it.
  if (!ref.scimUserId) {
    const [connection, mapping] = await Promise.all([store.getConnectionByCustomer(ref.customerId), store.getRoleMapping(ref.customerId)]);
    return connection
      ? { active: false, reason: 'not_provisioned' }
      : { active: true, groups: [], groupsTruncated: false, roles: rolesFor(roleMappingOf(mapping), []) };
  }
  const connectionId = ref.connectionId ?? (await store.getConnectionByCustomer(ref.customerId))?.connectionId;
  if (!connectionId) return { active: false, reason: 'deleted' };
  const [stored, mapping] = await Promise.all([store.getResource(connectionId, 'User', ref.scimUserId), store.getRoleMapping(ref.customerId)]);
  if (!stored) return { active: false, reason: 'deleted' };
  if (!isActiveUser(stored.json)) return { active: false, reason: 'deactivated' };
  const groups = sessionGroupsOf(stored);
  const kept = sessionGroupsKept(groups);
  return { active: true, groups: kept.groups, groupsTruncated: kept.truncated, roles: rolesFor(roleMappingOf(mapping), groups) };
}
