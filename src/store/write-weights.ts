/**
 * What a write weighs against a connection's quotas (docs/storage-limits.md), and how group members are
 * stored: the bytes a resource and its members count, an index value held by too many resources, a member
 * past its groups cap, and a member's display and type as one stored string.
 */
import { joinPassesCap } from './read-budgets.js';
import type { ResourceWrite, StoredMember, StoreQuota } from './store.js';

/** Whether a group's members (by value) hold exactly `next` (without repeated values), with the same display and type, in any order. */
export function sameMembers(current: ReadonlyMap<string, StoredMember>, next: Iterable<StoredMember>, nextSize: number): boolean {
  if (current.size !== nextSize) return false;
  for (const m of next) {
    const had = current.get(m.value);
    if (had === undefined || had.display !== m.display || had.type !== m.type) return false;
  }
  return true;
}

/**
 * The metadata the stores keep per group member: `[display, type]` as JSON with trailing nulls cut, or ''
 * when the member has neither (most members: Entra sends only `value`). The order is kept apart (a sorted
 * set score on Redis), so it does not count.
 */
export function memberMeta(member: StoredMember): string {
  if (member.display === undefined && member.type === undefined) return '';
  const meta: (string | null)[] = [member.display ?? null, member.type ?? null];
  while (meta[meta.length - 1] === null) meta.pop();
  return JSON.stringify(meta);
}

/** Reads {@link memberMeta} back into a member. */
export function parseMemberMeta(value: string, meta: string): StoredMember {
  const member: StoredMember = { value };
  if (meta === '') return member;
  const [display, type] = JSON.parse(meta) as [(string | null)?, (string | null)?];
  if (typeof display === 'string') member.display = display;
  if (typeof type === 'string') member.type = type;
  return member;
}

const utf8 = (s: string): number => Buffer.byteLength(s, 'utf8');

/**
 * What one membership counts for beyond its value and metadata: on Redis it is an entry of the group's
 * ordered list (value and position), its member's reverse-index entry (the group's id, GROUP_ID_BYTES) and a
 * user version's share, about 290 bytes of `used_memory` in all (docs/groups.md). Counted as the value's
 * bytes alone, 40 groups of 5,000 one-character members used 55 times what they counted for (a hostile-tenant
 * audit, 2026-12-07); with this, a membership counts for about as much against `maxBytes` as a user's JSON
 * does against the memory it takes (docs/storage-limits.md).
 */
export const MEMBERSHIP_BYTES = 80;

/** The bytes one group member counts for: its value, its stored metadata ({@link memberMeta}) and MEMBERSHIP_BYTES. */
export function memberBytes(member: StoredMember): number {
  return utf8(member.value) + utf8(memberMeta(member)) + MEMBERSHIP_BYTES;
}

/**
 * The bytes a (normalised) write counts for against the `maxBytes` quota: the UTF-8 bytes of its JSON, of
 * each index entry's attribute and value, and of each group member's value and metadata (display, type). Both stores keep
 * this exact sum per connection (Redis adds its own per-key overhead on top, roughly the same again).
 */
export function resourceBytes(write: ResourceWrite): number {
  let bytes = utf8(write.json);
  for (const e of write.indexes) bytes += utf8(e.attribute) + utf8(e.value);
  for (const m of write.members ?? []) bytes += memberBytes(m);
  return bytes;
}

/**
 * The first member a group write adds whom joining would take past `quota.maxGroupsPerMember`
 * ({@link joinPassesCap}), or null. `entryBytes(value)` is the groupIdsBytes of a value's groups;
 * `isMember(value)` says whether the group already lists it (then the write adds no membership). Both
 * stores answer the same; Redis checks in its script.
 */
export function memberOverCap(
  write: ResourceWrite,
  quota: StoreQuota | undefined,
  entryBytes: (value: string) => number,
  isMember: (value: string) => boolean,
): string | null {
  const cap = quota?.maxGroupsPerMember;
  if (cap === undefined || write.kind !== 'Group') return null;
  for (const m of write.members ?? write.memberChanges?.add ?? []) {
    // Only a member that joins can pass its cap; asking that first spares a long list of kept members
    // their entries' byte counts.
    if (!isMember(m.value) && joinPassesCap(entryBytes(m.value), write.id, cap)) return m.value;
  }
  return null;
}
