/**
 * The directory API's typed views of stored SCIM resources: the fields an app builds on (who, active, name,
 * emails, groups) read defensively (a field of the wrong type is null or left out, never a throw), plus the
 * raw SCIM resource for everything else. Pure.
 */
import type { StoredMember, StoredResource } from '../store/store.js';
import { isActiveUser } from '../scim/users.js';

type Raw = Record<string, unknown>;

export interface DirectoryUser {
  id: string;
  userName: string;
  externalId: string | null;
  /** False when the IdP deactivated the user (`active: false`); absent counts as active. */
  active: boolean;
  name: { formatted: string | null; givenName: string | null; familyName: string | null } | null;
  displayName: string | null;
  emails: { value: string; type: string | null; primary: boolean }[];
  /** The groups the user is a direct member of, in the groups' creation order. */
  groups: { id: string; displayName: string }[];
  /** Increases with every change (the SCIM ETag's number). */
  version: number;
  /** The SCIM resource as stored (without the derived `groups`). */
  resource: Raw;
}

export interface DirectoryGroup {
  id: string;
  displayName: string;
  externalId: string | null;
  memberCount: number;
  version: number;
  /** The SCIM resource as stored, without `members` (read them with listGroupMembers). */
  resource: Raw;
}

export interface DirectoryMember {
  /** The member's id (a user's or a group's id, as the IdP sent it). */
  id: string;
  display: string | null;
  type: string | null;
}

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const isRaw = (value: unknown): value is Raw => typeof value === 'object' && value !== null && !Array.isArray(value);

function nameOf(value: unknown): DirectoryUser['name'] {
  if (!isRaw(value)) return null;
  return { formatted: text(value.formatted), givenName: text(value.givenName), familyName: text(value.familyName) };
}

function emailsOf(value: unknown): DirectoryUser['emails'] {
  if (!Array.isArray(value)) return [];
  return value.filter(isRaw).flatMap((email) => {
    const address = text(email.value);
    return address === null ? [] : [{ value: address, type: text(email.type), primary: email.primary === true }];
  });
}

export function userView(stored: StoredResource): DirectoryUser {
  const resource = JSON.parse(stored.json) as Raw;
  return {
    id: stored.id,
    userName: text(resource.userName) ?? '',
    externalId: text(resource.externalId),
    active: isActiveUser(resource as never),
    name: nameOf(resource.name),
    displayName: text(resource.displayName),
    emails: emailsOf(resource.emails),
    groups: (stored.groups ?? []).map((g) => ({ id: g.value, displayName: g.display })),
    version: stored.version,
    resource,
  };
}

export function groupView(stored: StoredResource): DirectoryGroup {
  const resource = JSON.parse(stored.json) as Raw;
  return {
    id: stored.id,
    displayName: text(resource.displayName) ?? '',
    externalId: text(resource.externalId),
    memberCount: stored.memberCount ?? stored.members?.length ?? 0,
    version: stored.version,
    resource,
  };
}

export function memberView(member: StoredMember): DirectoryMember {
  return { id: member.value, display: member.display ?? null, type: member.type ?? null };
}
