/**
 * How much one store call reads, derives or returns (docs/limits.md): the bytes of rows a page reads, the
 * group memberships a script derives and a page carries, the members a page of groups carries, the rows and
 * lookups one script takes, and the groups a session names. Both stores end a read early by the same rules,
 * so that no call holds Redis, or the event loop, for long whatever the tenant stored.
 */
import type { SessionUserRead, StoredMembership } from './store.js';

/**
 * The bytes a group takes of a session's budget of groups (SESSION_GROUPS_BYTES in src/guard/guard.ts): its id
 * and name in UTF-8, and 32 for the JSON around them. Stores count with it what they name in a
 * {@link SessionUserRead}, so what a store names a session keeps whole.
 */
export function sessionGroupBytes(id: string, displayName: string): number {
  return Buffer.byteLength(id) + Buffer.byteLength(displayName) + 32;
}

/** How many of `groups`, in order, fit in `budget` bytes as {@link sessionGroupBytes} counts them (maybe none). */
export function sessionGroupsFitting<T>(groups: readonly T[], idAndName: (group: T) => [string, string], budget: number): number {
  let spent = 0;
  for (let i = 0; i < groups.length; i++) {
    spent += sessionGroupBytes(...idAndName(groups[i]!));
    if (spent > budget) return i;
  }
  return groups.length;
}

/** A user's groups as a {@link SessionUserRead} gives them: named while within `namedBytes`, then ids only. */
export function sessionGroupsWithin(groups: readonly StoredMembership[], namedBytes: number): Pick<SessionUserRead, 'groups' | 'moreGroupIds'> {
  const named = sessionGroupsFitting(groups, (g) => [g.value, g.display], namedBytes);
  return { groups: groups.slice(0, named), moreGroupIds: groups.slice(named).map((g) => g.value) };
}

/**
 * The most bytes of stored rows one page read (listPage, listSorted, listAfter) returns, whatever its
 * `count` and rowBytes: past them the page ends early, after at least one resource. On Redis the rows are
 * read within it (readRows in src/store/redis-lua-prelude.ts), so one script copies at most about twice this: a
 * page of 100 users of 920 KB each, within every resource limit, held Redis for about a second in one HMGET.
 * The memory store counts the JSON's characters and Redis the stored row's bytes, so their pages can end
 * one row apart.
 */
export const PAGE_READ_BYTES = 1_000_000;

/**
 * The bytes a server-issued group id (a UUID: 36 characters) takes in a user's reverse-index entry, with its
 * separator. The group bounds below are counted in these bytes, so that a write checks the per-member
 * limit with one `HSTRLEN` instead of reading the entry: for ids the SCIM layer issues, bytes ÷ 37 is the
 * exact count.
 */
export const GROUP_ID_BYTES = 37;

/**
 * How much of the group reverse index (the ids of the groups listing each user, space-separated: what
 * {@link groupIdsBytes} counts) one Redis script derives groups for: 37,000 bytes, 1,000 memberships. A
 * read derives each user's groups (5-10 µs of Lua per membership: 2,000 held Redis 10-25 ms in an audit
 * at enterprise sizes, 2026-12-05); the users of a page or lookup past this budget have theirs read by
 * further scripts of the same budget, so no script holds Redis for long.
 */
export const GROUP_IDS_PER_SCRIPT = 1_000 * GROUP_ID_BYTES;

/**
 * How much of the reverse index the users of one page read (listPage, listSorted, listAfter) may carry in
 * all: 1,850,000 bytes, 50,000 memberships (about 4 MB of SCIM JSON). Past it the page ends early, after at
 * least one user; a page of 100 users in 500 groups each is whole.
 */
export const GROUP_IDS_PER_PAGE = 50_000 * GROUP_ID_BYTES;

/** The bytes of a user's reverse-index entry: its groups' ids joined by single spaces. */
export function groupIdsBytes(groupIds: Iterable<string>): number {
  let bytes = -1;
  for (const id of groupIds) bytes += Buffer.byteLength(id) + 1;
  return Math.max(0, bytes);
}

/**
 * Whether joining group `groupId` takes a member whose reverse-index entry holds `entryBytes` past
 * `maxGroupsPerMember` (counted in GROUP_ID_BYTES: the member's groups for server-issued ids).
 */
export function joinPassesCap(entryBytes: number, groupId: string, maxGroupsPerMember: number): boolean {
  const after = entryBytes === 0 ? Buffer.byteLength(groupId) : entryBytes + 1 + Buffer.byteLength(groupId);
  return after > maxGroupsPerMember * GROUP_ID_BYTES - 1;
}

/**
 * How many members the groups of one page read *with their members* (listPage, listSorted, listAfter
 * without `members: false`) may carry in all: 100,000, about 10 MB of SCIM JSON. Past it the page ends
 * early, after at least one group (whose members the 250,000 a group may hold bound). Without it, a page of
 * 100 groups of 100,000 members would be read, held and answered whole: a gigabyte.
 */
export const PAGE_MEMBERS_BUDGET = 100_000;

/**
 * How many items of a page (in page order; `costOf`: a user's groupIdsBytes, a group's member count, added up
 * lazily) one page read keeps so that their costs stay within `budget`: always at least one.
 */
export function keptWithin<T>(items: readonly T[], costOf: (item: T) => number, budget: number): number {
  let spent = 0;
  for (let i = 0; i < items.length; i++) {
    spent += costOf(items[i]!);
    if (spent > budget && i > 0) return i;
  }
  return items.length;
}

/**
 * Most lookups one Redis script of findUsersForLoginBatch takes (longer batches are split, sent together):
 * 500 held Redis 25-42 ms per script at enterprise sizes (an audit, 2026-12-05), 125 about a quarter, and
 * up to 51 ms on a machine loaded by one tenant's heavy requests (audit 24, at 1,000,000 users); 64 half that.
 */
export const LOGIN_BATCH = 64;

/**
 * Most rows one Redis script of a cursor read (listAfter) or a client page's read returns: each row costs the
 * script 12-30 µs with its groups, so 1,000 held Redis 12-36 ms (the same audit); longer pages take several.
 */
export const ROWS_PER_SCRIPT = 250;
