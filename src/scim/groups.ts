/** The Group resource: validation, indexes, members and storage shape (RFC 7643 §4.2). */
import { fail, ok, scimErrors, type Result } from '../errors.js';
import { fold } from '../fold.js';
import type { IndexEntry, StoredMember } from '../store/store.js';
import { isObject, type Json, type JsonObject } from './normalize.js';
import { insertBeforeMeta, requireString, withCommon, type ResourceSpec } from './resource-spec.js';
import { RESOURCE_TYPES } from './schemas.js';
import { sortEntries } from './sort.js';

/** Store index names for groups. */
export const GROUP_INDEX = { displayName: 'displayName', externalId: 'externalId' } as const;

/**
 * Reads the member list. A member needs a string `value` (the member's id, kept as sent even when no such
 * user exists: Microsoft's test suite adds "string id 1" and expects success). Microsoft's suite sends the
 * member's name as `displayName`; it is read as `display`. Repeated values are kept once.
 */
export function membersOf(group: JsonObject): Result<StoredMember[]> {
  const list: Json[] | undefined = Array.isArray(group.members) ? group.members : undefined;
  if (!list) return ok([]);
  // Validation and the write both read the list of one built resource: read a long list once.
  let read = readMembers.get(list);
  if (!read) readMembers.set(list, (read = readMemberList(list)));
  return read;
}

/** What membersOf read from a built resource's member array (arrays are not changed once built). */
const readMembers = new WeakMap<Json[], Result<StoredMember[]>>();

function readMemberList(list: Json[]): Result<StoredMember[]> {
  const members: StoredMember[] = [];
  const seen = new Set<string>();
  for (const member of list) {
    if (!isObject(member) || typeof member.value !== 'string' || member.value === '') {
      return fail(scimErrors.badRequest('invalidValue', 'every member needs a non-empty string "value"'));
    }
    if (seen.has(member.value)) continue;
    seen.add(member.value);
    const stored: StoredMember = { value: member.value };
    const display = member.display ?? member.displayName;
    if (typeof display === 'string') stored.display = display;
    if (typeof member.type === 'string') stored.type = member.type;
    members.push(stored);
  }
  return ok(members);
}

export const groupSpec: ResourceSpec = {
  kind: 'Group',
  type: RESOURCE_TYPES.Group,
  coreDefs: withCommon(RESOURCE_TYPES.Group),
  equalityIndexes: {
    displayname: { index: GROUP_INDEX.displayName, folded: true, unique: true },
    externalid: { index: GROUP_INDEX.externalId, folded: false },
  },
  sortIndexes: [
    { path: 'displayName', attribute: 'displayName' },
    { path: 'externalId', attribute: 'externalId' },
    { path: 'meta.created', attribute: null },
    { path: 'meta.lastModified', attribute: 'meta.lastModified' },
  ],
  ignoredInput: [],
  validate(group) {
    const named = requireString(group, 'displayName');
    if (!named.ok) return named;
    const members = membersOf(group);
    return members.ok ? ok(undefined) : members;
  },
  indexes(group) {
    const entries: IndexEntry[] = [{ attribute: GROUP_INDEX.displayName, value: fold(group.displayName as string), unique: true }];
    if (typeof group.externalId === 'string') {
      entries.push({ attribute: GROUP_INDEX.externalId, value: group.externalId, unique: false });
    }
    return entries;
  },
  toWrite(group) {
    const { members: _members, ...rest } = group;
    const members = membersOf(group);
    return {
      id: group.id as string,
      kind: 'Group',
      json: JSON.stringify(rest),
      indexes: groupSpec.indexes(group),
      sortKeys: sortEntries(groupSpec, group),
      members: members.ok ? members.value : [],
      displayName: group.displayName as string,
    };
  },
  fromStored(stored) {
    const group = JSON.parse(stored.json) as JsonObject;
    const members = (stored.members ?? []).map((m) => ({ ...m }) as JsonObject);
    return insertBeforeMeta(group, 'members', members);
  },
};
