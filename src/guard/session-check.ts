/**
 * Whether a logged-in person is still active in SCIM, and their groups and roles now: one store round trip
 * per request (the SCIM user and the customer's role mapping are read side by side), a second only for a
 * person in more groups than the session keeps whose customer maps roles by group name. Used by
 * `requireActiveUser` and `requireRole` on Express and Koa, so a deprovisioned person's live session ends at
 * their next request, and a person removed from a group loses its roles at their next request. What one
 * check reads is bounded whatever the person's groups and JSON weigh (Store.readSessionUser).
 */
import type { Store } from '../store/store.js';
import type { Emit } from '../events.js';
import { SESSION_GROUPS_BYTES, sessionGroupsOf, type SessionUser } from './guard.js';
import { isActiveUser } from '../scim/users.js';
import { GROUP_INDEX } from '../scim/groups.js';
import { fold } from '../fold.js';
import { CACHE_LIMITS, Lru } from '../lru.js';
import { roleMappingOf, rolesFor, type RoleMapping, type SessionGroup } from '../roles/role-mapping.js';

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
  const versions = knownVersionsOf(store);
  const key = `${connectionId}\n${ref.scimUserId}`;
  const known = versions.get(key);
  const [read, stored] = await Promise.all([
    store.readSessionUser(connectionId, ref.scimUserId, { knownVersion: known?.version ?? null, namedBytes: SESSION_GROUPS_BYTES }),
    store.getRoleMapping(ref.customerId),
  ]);
  if (!read) {
    versions.delete(key);
    return { active: false, reason: 'deleted' };
  }
  // No JSON: the version is the one remembered (a store answering otherwise fails closed).
  const active = read.json !== null ? isActiveUser(read.json) : known?.version === read.version && known.active;
  versions.set(key, { version: read.version, active });
  if (!active) return { active: false, reason: 'deactivated' };
  const groups = sessionGroupsOf(read);
  const mapping = roleMappingOf(stored);
  const roles = rolesFor(mapping, [...groups, ...(await otherGroupsForRoles(store, connectionId, mapping, groups, read.moreGroupIds))]);
  return { active: true, groups, groupsTruncated: read.moreGroupIds.length > 0, roles };
}

/**
 * Each session user's last version read, and whether it was active: the next check of the same version
 * reads no JSON (a user's JSON may be 1 MB). A version moves with every write of the user, its groups
 * included. Per store (two instances of the library in one process may use the same ids), bounded.
 */
const knownVersions = new WeakMap<Store, Lru<string, { version: number; active: boolean }>>();

function knownVersionsOf(store: Store): Lru<string, { version: number; active: boolean }> {
  let versions = knownVersions.get(store);
  if (!versions) knownVersions.set(store, (versions = new Lru(CACHE_LIMITS.sessionVersions)));
  return versions;
}

/**
 * What roles need of the groups whose names the session read left out (`moreGroupIds`): their ids, for rules
 * by id, and for each rule by name that the named groups do not satisfy, whether one of them bears that name,
 * found through the groups' displayName index. O(rules) lookups, in one round trip, instead of reading every
 * name of a person in 1,000 groups; none at all for a person whose groups were all named.
 */
async function otherGroupsForRoles(
  store: Store,
  connectionId: string,
  mapping: RoleMapping | null,
  named: readonly SessionGroup[],
  moreGroupIds: readonly string[],
): Promise<SessionGroup[]> {
  if (!mapping || moreGroupIds.length === 0) return [];
  const others: SessionGroup[] = moreGroupIds.map((id) => ({ id, displayName: '' }));
  const namedNames = new Set(named.map((g) => fold(g.displayName)));
  const wanted = new Set<string>();
  for (const rule of mapping.rules) if ('groupDisplayName' in rule && !namedNames.has(fold(rule.groupDisplayName))) wanted.add(fold(rule.groupDisplayName));
  if (wanted.size === 0) return others;
  const ids = new Set(moreGroupIds);
  // Group names are unique per connection (folded): a group found by a rule's name bears that name.
  const names = [...wanted];
  const found = await Promise.all(names.map((name) => store.findByIndex(connectionId, 'Group', GROUP_INDEX.displayName, name, { members: false })));
  found.forEach((groups, i) => {
    for (const group of groups) if (ids.has(group.id)) others.push({ id: group.id, displayName: names[i]! });
  });
  return others;
}
