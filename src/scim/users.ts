/** The User resource: validation, indexes and storage shape (RFC 7643 §4.1). */
import { fold, localPart } from '../fold.js';
import type { IndexEntry } from '../store/store.js';
import { isObject, type JsonObject } from './normalize.js';
import { insertBeforeMeta, requireString, withCommon, type ResourceSpec } from './resource-spec.js';
import { RESOURCE_TYPES } from './schemas.js';
import { sortEntries } from './sort.js';

/** Store index names for users. */
export const USER_INDEX = {
  userName: 'userName',
  userNameLocal: 'userNameLocal',
  externalId: 'externalId',
  email: 'email',
} as const;

/**
 * Whether a user is active. RFC 7643 §4.1.1 makes `active` optional: a user provisioned without it counts
 * as active. The guard, the session check and the audit trail all use this rule.
 */
export function isActiveUser(user: string | JsonObject): boolean {
  return (typeof user === 'string' ? (JSON.parse(user) as JsonObject) : user).active !== false;
}

/**
 * `active` as every write leaves it: given, or else what the user counts as. A user created without it is
 * stored `active: true`, so that reads show what filters and the login guard treat it as (Okta's checks and
 * Entra's comparisons read it back). A deactivated user stays deactivated until a client sends `active`
 * again: a PUT that omits it, or a PATCH that removes or clears it (Entra's `replace active ""`), would
 * otherwise make a missing `active` count as active (the rule above) and silently let a deprovisioned person
 * log in. `previous` is null for a creation.
 */
export function settleActive(previous: JsonObject | null, next: JsonObject): JsonObject {
  if (next.active !== undefined) return next;
  return insertBeforeMeta(next, 'active', previous?.active !== false);
}

export const userSpec: ResourceSpec = {
  kind: 'User',
  type: RESOURCE_TYPES.User,
  coreDefs: withCommon(RESOURCE_TYPES.User),
  equalityIndexes: {
    username: { index: USER_INDEX.userName, folded: true, unique: true },
    externalid: { index: USER_INDEX.externalId, folded: false },
    'emails.value': { index: USER_INDEX.email, folded: true },
    emails: { index: USER_INDEX.email, folded: true },
  },
  sortIndexes: [
    { path: 'userName', attribute: 'userName' },
    { path: 'displayName', attribute: 'displayName' },
    { path: 'externalId', attribute: 'externalId' },
    { path: 'meta.created', attribute: null },
    { path: 'meta.lastModified', attribute: 'meta.lastModified' },
  ],
  // `groups` is readOnly (RFC 7643 §4.1.2; Okta sends `groups: []`); `password` is never stored.
  ignoredInput: ['groups', 'password'],
  validate: (user) => requireString(user, 'userName'),
  indexes(user) {
    const entries: IndexEntry[] = [];
    const userName = user.userName as string;
    entries.push({ attribute: USER_INDEX.userName, value: fold(userName), unique: true });
    entries.push({ attribute: USER_INDEX.userNameLocal, value: fold(localPart(userName)), unique: false });
    if (typeof user.externalId === 'string') {
      entries.push({ attribute: USER_INDEX.externalId, value: user.externalId, unique: false });
    }
    const seen = new Set<string>();
    for (const email of Array.isArray(user.emails) ? user.emails : []) {
      if (!isObject(email) || typeof email.value !== 'string') continue;
      const value = fold(email.value);
      if (value === '' || seen.has(value)) continue;
      seen.add(value);
      entries.push({ attribute: USER_INDEX.email, value, unique: false });
    }
    return entries;
  },
  toWrite(user) {
    return { id: user.id as string, kind: 'User', json: JSON.stringify(user), indexes: userSpec.indexes(user), sortKeys: sortEntries(userSpec, user) };
  },
  fromStored: (stored) => JSON.parse(stored.json) as JsonObject,
};
