/**
 * One connection's resources in the memory store (its Space): the entries, their creation order, indexes,
 * sort indexes and reverse member entries, and the pure steps that keep them in line and read them. The
 * store (memory.ts) runs these steps inside each write's synchronous step.
 */
import { MemoryEventLog } from './memory-events.js';
import { LAST_MODIFIED_SORT_ATTRIBUTE, lastModifiedSortValue, withLastModified } from './last-modified.js';
import { OrderedIndex } from './ordered-index.js';
import { OrderedMap } from '../ordered-map.js';
import { ShardedMap } from '../sharded-map.js';
import type { EventLogOptions } from './event-log.js';
import {
  type IndexEntry,
  type LoginLookup,
  type ReadOptions,
  type ResourceKind,
  type ResourceWrite,
  type SortEntry,
  type StoredMember,
  type StoredMembership,
  type StoredResource,
  type StoreQuota,
  type WriteOutcome,
} from './store.js';
import { memberOverCap } from './write-weights.js';
import { CrowdedValueError, withHolder, withoutHolder, type IndexHolders } from './crowded-values.js';
import { GROUP_IDS_PER_PAGE, groupIdsBytes, keptWithin, PAGE_MEMBERS_BUDGET, PAGE_READ_BYTES } from './read-budgets.js';

export interface Entry {
  id: string;
  kind: ResourceKind;
  json: string;
  version: number;
  /** Creation order within the connection (shared by users and groups, like the Redis counter). */
  seq: number;
  indexes: IndexEntry[];
  /** The sort entries of its last write, in the sort indexes only once `sortIndexed` (see Space.sorting). */
  sortKeys: SortEntry[];
  sortIndexed: boolean;
  /** Groups: member value -> member, in the order added (a Map keeps insertion order). */
  members: Map<string, StoredMember>;
  /** Groups: the members as an array for paging, rebuilt lazily after a change (null = stale). */
  memberList: StoredMember[] | null;
  /**
   * Groups: each member's position, increasing in list order (cursor paging, listGroupMembersAfter), as the
   * Redis store's member scores, less `memberBase`: a full list numbers its members memberBase + 1…n, above
   * every position given before it, and an added member gets the highest + 1.
   */
  memberPos: Map<string, number>;
  /** Groups: what memberPos values are counted from (the highest position before the last full list). */
  memberBase: number;
  /**
   * Groups: the highest position given so far. Never reused, and a full list starts above it, so a walk in
   * progress misses no member that is in the group for the whole walk (it may see one twice).
   */
  memberTop: number;
  displayName: string;
  /** What this resource counts against maxBytes (resourceBytes), kept current as members come and go. */
  bytes: number;
  /** The part of `bytes` that is not members (JSON and index entries), so a write needs no pass over the old members. */
  ownBytes: number;
  /** Users of at least LOGIN_PROJECTION_CHARS: their login projection (loginProjectionOf), which logins read; else null. */
  loginProjection: string | null;
}

/** One resource in a sort index: its value for the attribute (null: none) and the resource. */
interface Sorted {
  value: string | null;
  entry: Entry;
}

/** A sort index: entries by value then creation, nulls last. */
type SortIndex = OrderedIndex<Sorted>;

/** Whether two lists of index entries are the same, in the same order (the Redis store compares them packed). */
export function sameIndexes(a: readonly IndexEntry[], b: readonly IndexEntry[]): boolean {
  return a.length === b.length && a.every((e, i) => e.attribute === b[i]!.attribute && e.value === b[i]!.value);
}

/** The index entries of `after` that `before` does not have (a write's new values, the ones that can collide). */
export function addedIndexes(before: IndexEntry[], after: IndexEntry[]): IndexEntry[] {
  if (before.length * after.length <= 64) {
    // The usual handful of entries: pairwise costs less than building keys.
    return after.filter((e) => !before.some((f) => e.attribute === f.attribute && e.value === f.value));
  }
  const key = (e: IndexEntry) => `${e.attribute}\0${e.value}`;
  const had = new Set(before.map(key));
  return after.filter((e) => !had.has(key(e)));
}

/** listSorted's ascending order: by value, null after every value, then by creation. */
function bySortValue(a: Sorted, b: Sorted): number {
  if (a.value !== b.value) {
    if (a.value === null) return 1;
    if (b.value === null) return -1;
    return a.value < b.value ? -1 : 1;
  }
  return a.entry.seq - b.entry.seq;
}

const byCreation = (a: Entry, b: Entry): number => a.seq - b.seq;

export interface Space {
  connectionId: string;
  seq: number;
  resources: Record<ResourceKind, ShardedMap<Entry>>;
  /** The resources of each kind in creation order (with ranks, for pages). */
  order: Record<ResourceKind, OrderedIndex<Entry>>;
  /** Per kind, attribute → the sort index of that attribute. */
  sorted: Record<ResourceKind, Map<string, SortIndex>>;
  /**
   * Per kind, as the Redis store's `<k>:sorted` marker: 'off' until a client first sorts (no write pays for
   * sort indexes before), then the seq through which sortBacklog has indexed what was stored before, then
   * 'done' (listSorted answers by a sort attribute only then).
   */
  sorting: Record<ResourceKind, 'off' | number | 'done'>;
  /** Per kind, attribute → value → the ids holding it in insertion order (at most the cap of a crowded value: src/store/crowded-values.ts). */
  indexes: Record<ResourceKind, Map<string, ShardedMap<IndexHolders>>>;
  /** member id → ids of the groups listing it. */
  memberOf: ShardedMap<Set<string>>;
  /**
   * Groups whose member links a write is still settling after its synchronous step (settleLinks), with how
   * many such writes: they may list a member its reverse entry does not name yet.
   */
  settling: Map<string, number>;
  /**
   * Tombstones of deleted users: tombstoneDigest(attribute, value) → deletion time (epoch ms), oldest
   * first (a re-deleted value moves to the end), like the Redis store's sorted set; trimmed from the oldest
   * in O(1) per tombstone (src/ordered-map.ts).
   */
  gone: OrderedMap<string, number>;
  /** Sum of the live resources' `bytes`. */
  bytes: number;
  /** The connection's durable event log (src/store/memory-events.ts). */
  events: MemoryEventLog;
}

/** An empty space for a new connection. */
export function newSpace(connectionId: string, eventLog: Required<EventLogOptions>, now: () => number): Space {
  return {
    connectionId,
    seq: 0,
    resources: { User: new ShardedMap(), Group: new ShardedMap() },
    order: { User: new OrderedIndex(byCreation), Group: new OrderedIndex(byCreation) },
    sorted: { User: new Map(), Group: new Map() },
    sorting: { User: 'off', Group: 'off' },
    indexes: { User: new Map(), Group: new Map() },
    memberOf: new ShardedMap(),
    settling: new Map(),
    gone: new OrderedMap(),
    bytes: 0,
    events: new MemoryEventLog(eventLog, now),
  };
}

function holdersAt(s: Space, kind: ResourceKind, attribute: string, value: string): IndexHolders | null {
  return s.indexes[kind].get(attribute)?.get(value) ?? null;
}

/** The ids holding an index value (a crowded one's: CrowdedValueError). */
function idsAt(s: Space, kind: ResourceKind, attribute: string, value: string): string[] {
  const holders = holdersAt(s, kind, attribute, value);
  if (holders && holders.unlisted > 0) throw new CrowdedValueError(attribute);
  return holders?.ids ?? [];
}

/** The attribute of the first unique entry of `entries` (the write's, or those a replace adds) held by another resource. */
export function conflict(s: Space, write: ResourceWrite, entries = write.indexes): string | null {
  for (const entry of entries) {
    if (!entry.unique) continue;
    if ((holdersAt(s, write.kind, entry.attribute, entry.value)?.ids ?? []).some((other) => other !== write.id)) {
      return entry.attribute;
    }
  }
  return null;
}

/** Adds `id` to its index values; a non-unique one lists at most `perValue` holders (crowded past them). */
export function addIndexes(s: Space, kind: ResourceKind, id: string, entries: IndexEntry[], perValue: number | undefined): void {
  for (const entry of entries) {
    let values = s.indexes[kind].get(entry.attribute);
    if (!values) s.indexes[kind].set(entry.attribute, (values = new ShardedMap()));
    values.set(entry.value, withHolder(values.get(entry.value) ?? null, id, entry.unique ? undefined : perValue));
  }
}

export function addSortKeys(s: Space, entry: Entry, keys: SortEntry[] = entry.sortKeys): void {
  entry.sortIndexed = true;
  for (const { attribute, value } of keys) {
    let index = s.sorted[entry.kind].get(attribute);
    if (!index) s.sorted[entry.kind].set(attribute, (index = new OrderedIndex(bySortValue)));
    index.insert({ value, entry });
  }
}

/**
 * A write's new sort entries: kept on the entry, and moved in the sort indexes (only the keys whose value
 * changed; the others keep their place) once the kind's indexes are on.
 */
export function replaceSortKeys(s: Space, entry: Entry, next: SortEntry[]): void {
  if (!entry.sortIndexed) {
    entry.sortKeys = next;
    if (s.sorting[entry.kind] !== 'off') addSortKeys(s, entry);
    return;
  }
  const same = (a: SortEntry, b: SortEntry) => a.attribute === b.attribute && a.value === b.value;
  removeSortKeys(
    s,
    entry,
    entry.sortKeys.filter((old) => !next.some((key) => same(key, old))),
  );
  addSortKeys(
    s,
    entry,
    next.filter((key) => !entry.sortKeys.some((old) => same(key, old))),
  );
  entry.sortKeys = next;
}

export function removeSortKeys(s: Space, entry: Entry, keys: SortEntry[] = entry.sortKeys): void {
  if (!entry.sortIndexed) return;
  for (const { attribute, value } of keys) {
    const index = s.sorted[entry.kind].get(attribute);
    index?.delete({ value, entry });
  }
}

export function removeIndexes(s: Space, kind: ResourceKind, id: string, entries: IndexEntry[]): void {
  for (const entry of entries) {
    const values = s.indexes[kind].get(entry.attribute);
    const holders = values?.get(entry.value);
    if (!values || !holders) continue;
    const rest = withoutHolder(holders, id);
    if (rest) values.set(entry.value, rest);
    else values.delete(entry.value);
  }
}

/** A resource changed by a cascade: version + 1 and `meta.lastModified` = iso (src/store/last-modified.ts). */
export function touch(s: Space, entry: Entry, iso: string): void {
  entry.version += 1;
  s.events.replaced(entry.kind, entry.id);
  const json = withLastModified(entry.json, iso);
  const grown = json.length - entry.json.length;
  entry.json = json;
  entry.ownBytes += grown;
  entry.bytes += grown;
  s.bytes += grown;
  const value = lastModifiedSortValue(iso);
  const keys = entry.sortKeys.map((key) => (key.attribute === LAST_MODIFIED_SORT_ATTRIBUTE && key.value !== null ? { ...key, value } : key));
  replaceSortKeys(s, entry, keys);
}

export function listOf(group: Entry): StoredMember[] {
  if (group.memberList === null) group.memberList = [...group.members.values()];
  return group.memberList;
}

/** The quota a write would exceed, checked in the same order as the Redis scripts, or null. */
export function overQuota(s: Space, write: ResourceWrite, current: Entry | null, delta: number, quota: StoreQuota | undefined): WriteOutcome | null {
  if (!quota) return null;
  const creating = current === null;
  if (creating && write.kind === 'User' && s.resources.User.size >= quota.maxUsers) {
    return { ok: false, reason: 'quota', quota: 'users', limit: quota.maxUsers };
  }
  if (creating && write.kind === 'Group' && s.resources.Group.size >= quota.maxGroups) {
    return { ok: false, reason: 'quota', quota: 'groups', limit: quota.maxGroups };
  }
  // A write that does not grow the connection is never refused, even when it is already over.
  if (delta > 0 && s.bytes + delta > quota.maxBytes) return { ok: false, reason: 'quota', quota: 'bytes', limit: quota.maxBytes };
  const member = memberOverCap(
    write,
    quota,
    (value) => groupIdsBytes(s.memberOf.get(value) ?? []),
    (value) => current?.members.has(value) ?? false,
  );
  if (member !== null) return { ok: false, reason: 'quota', quota: 'groupsPerMember', limit: quota.maxGroupsPerMember!, member };
  return null;
}

/** The entries index value (attribute, value) points at, in creation order (a crowded value: CrowdedValueError). */
export function entriesAt(s: Space, kind: ResourceKind, attribute: string, value: string): Entry[] {
  return idsAt(s, kind, attribute, value)
    .map((id) => s.resources[kind].get(id))
    .filter((e): e is Entry => e !== undefined)
    .sort((a, b) => a.seq - b.seq);
}

export function found(s: Space, kind: ResourceKind, attribute: string, value: string, options?: ReadOptions): StoredResource[] {
  return entriesAt(s, kind, attribute, value).map((e) => output(s, e, options));
}

/** Whether more users hold the value than its index entry lists (src/store/crowded-values.ts). */
export function crowded(s: Space, kind: ResourceKind, attribute: string, value: string): boolean {
  return (holdersAt(s, kind, attribute, value)?.unlisted ?? 0) > 0;
}

/**
 * What a login's lookup finds (Store.findUsersForLogin): the users holding the value, those with a login
 * projection as it (LoginLookup.projected), so that a login parses a few members of each large holder
 * instead of all of it; the guard reads whole the one it admits. A crowded value: nobody read, `crowded`.
 */
export function foundForLogin(s: Space, attribute: string, value: string): Pick<LoginLookup, 'users' | 'projected' | 'crowded'> {
  if (crowded(s, 'User', attribute, value)) return { users: [], crowded: true };
  const projected = new Set<string>();
  const users = entriesAt(s, 'User', attribute, value).map((e) => {
    if (e.loginProjection === null) return output(s, e);
    projected.add(e.id);
    return { ...output(s, e), json: e.loginProjection };
  });
  return projected.size > 0 ? { users, projected } : { users };
}

export function output(s: Space, entry: Entry, options?: ReadOptions): StoredResource {
  const out: StoredResource = { id: entry.id, kind: entry.kind, json: entry.json, version: entry.version };
  if (entry.kind === 'Group') {
    if (options?.members !== false && entry.members.size <= (options?.membersUpTo ?? Infinity)) out.members = listOf(entry).map((m) => ({ ...m }));
    out.memberCount = entry.members.size;
  } else if (options?.groups !== false) {
    out.groups = groupsOf(s, entry.id);
  }
  return out;
}

/**
 * The first entries of a page within its budget, as on Redis: rows within `rowBytes` (listPage's
 * ReadOptions.rowBytes, at most PAGE_READ_BYTES), users whose groups stay within GROUP_IDS_PER_PAGE, groups read with members whose
 * members stay within PAGE_MEMBERS_BUDGET.
 */
export function withinPageBudget(s: Space, page: Entry[], options: ReadOptions | undefined, rowBytes?: number): Entry[] {
  let kept = keptWithin(page, (e) => e.json.length, Math.min(rowBytes ?? PAGE_READ_BYTES, PAGE_READ_BYTES));
  if (kept < page.length) page = page.slice(0, kept);
  if (page[0]?.kind === 'Group' && options?.members !== false) {
    const upTo = options?.membersUpTo ?? Infinity;
    kept = keptWithin(page, (e) => (e.members.size > upTo ? 0 : e.members.size), PAGE_MEMBERS_BUDGET);
  }
  if (page[0]?.kind === 'User' && options?.groups !== false && s.memberOf.size > 0)
    kept = keptWithin(page, (e) => groupIdsBytes(s.memberOf.get(e.id) ?? []), GROUP_IDS_PER_PAGE);
  return kept === page.length ? page : page.slice(0, kept);
}

/** Up to `count` resources of a kind created after position `after`, in creation order: O(log n + count). */
export function createdAfter(s: Space, kind: ResourceKind, after: number, count: number): Entry[] {
  const order = s.order[kind];
  const from = order.countUpTo({ seq: after } as Entry);
  return order.slice(from, from + count);
}

/** The groups listing member `value`, in group creation order. */
export function groupsListing(s: Space, value: string): Entry[] {
  return [...(s.memberOf.get(value) ?? [])]
    .map((gid) => s.resources.Group.get(gid))
    .filter((g): g is Entry => g !== undefined)
    .sort((a, b) => a.seq - b.seq);
}

/** A user's groups as reads derive them: in group creation order, with their current displayName. */
export function groupsOf(s: Space, userId: string): StoredMembership[] {
  return groupsListing(s, userId).map((g) => ({ value: g.id, display: g.displayName }));
}
