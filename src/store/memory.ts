/**
 * The in-memory store: plain Maps in one process, for development, demos and tests. Every write is one
 * synchronous step inside its promise, so each operation is atomic, mirroring the Redis store's Lua scripts.
 * As on Redis, a long member list is prepared before that step and its members' reverse entries are
 * settled after it, a slice at a time (settleLinks; docs/groups.md "Memory store").
 */
import { MemoryActivityLog } from './activity-log.js';
import {
  assertCursorPaging,
  assertIndexAttribute,
  assertLookups,
  assertPaging,
  assertRowBytes,
  assertQuota,
  assertResourceKind,
  assertSortOrder,
  assertStoreId,
  checkRoleMapping,
  crowdedIndex,
  GROUP_IDS_PER_PAGE,
  LEASE_WAIT_MS,
  GROUP_IDS_PER_SCRIPT,
  groupIdsBytes,
  isValidStoreId,
  keptWithin,
  PAGE_READ_BYTES,
  memberBytes,
  memberOverCap,
  normalizeResourceWrite,
  PAGE_MEMBERS_BUDGET,
  recordLoginInSteps,
  resolveTombstoneOptions,
  resourceBytes,
  sameMembers,
  sortedRun,
  TOMBSTONE_TRIM_BUDGET,
  tombstoneDigest,
  type IndexEntry,
  type LoginLookup,
  type MemberChanges,
  type MemberPage,
  type NumberedLoginLookup,
  type NumberedResource,
  type PickedPage,
  type Page,
  type ReadOptions,
  type ResourceKind,
  type ResourceWrite,
  type SortEntry,
  type Store,
  type StoredConnection,
  type StoredMember,
  type StoredMembership,
  type StoredResource,
  type StoredRoleMapping,
  type StoreQuota,
  type TokenUpdate,
  type TombstoneOptions,
  type WriteOutcome,
  assertConnectionTokens,
  type ConnectionTokens,
} from './store.js';
import { memoryOidcMethods } from './memory-oidc.js';
import type { SsoRecordOptions } from './sso-records.js';
import { memorySamlCache } from './memory-saml-cache.js';
import { ShardedMap } from '../sharded-map.js';
import { OrderedIndex } from './ordered-index.js';
import { assertEventLimit, checkWriteEvents, resolveEventLogOptions, type EventLogOptions, type WriteEvents } from './event-log.js';
import { MemoryEventLog, type MemberDelta } from './memory-events.js';
import { memoryEventConsumers } from './memory-event-consumers.js';
import { memorySetupGrants } from './setup-grants.js';
import { OrderedMap } from '../ordered-map.js';
import { LAST_MODIFIED_SORT_ATTRIBUTE, lastModifiedSortValue, withLastModified } from './last-modified.js';
import { PHASED_MEMBERS, yieldToEventLoop } from '../event-loop.js';
import { inProcessLeases } from './group-lease.js';

interface Entry {
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
}

/**
 * A group's new member list, built from the write alone before the write takes its synchronous step: a long
 * list's maps are built on one side of a yield and swapped in on the other (src/event-loop.ts).
 */
interface PreparedMembers {
  members: Map<string, StoredMember>;
  /** Positions 1…n in list order (Entry.memberPos). */
  positions: Map<string, number>;
  bytes: number;
}

/**
 * The member maps every user entry shares (a user has no members): one pair that refuses writes, instead of
 * two empty Maps per user, which were 368 of the 3,000 bytes of heap each of a million users took, and two
 * million objects for every garbage collection to walk (audit 25).
 */
class NoMembers<V> extends Map<string, V> {
  override set(): this {
    throw new Error('the memory store: a user has no members');
  }
}
const USER_MEMBERS = new NoMembers<StoredMember>();
const USER_MEMBER_POSITIONS = new NoMembers<number>();

/** Pure: the maps and byte count of a member list (the first occurrence of a value wins). */
function prepareMembers(list: readonly StoredMember[]): PreparedMembers {
  const members = new Map<string, StoredMember>();
  const positions = new Map<string, number>();
  let bytes = 0;
  for (const m of list) {
    if (members.has(m.value)) continue;
    members.set(m.value, m);
    positions.set(m.value, members.size);
    bytes += memberBytes(m);
  }
  return { members, positions, bytes };
}

/** How many member values a write carries (a whole list, or the values it adds and removes). */
const membersIn = (write: ResourceWrite): number =>
  (write.members?.length ?? 0) + (write.memberChanges ? write.memberChanges.add.length + write.memberChanges.remove.length : 0);

/** One resource in a sort index: its value for the attribute (null: none) and the resource. */
interface Sorted {
  value: string | null;
  entry: Entry;
}

/** A sort index: entries by value then creation, nulls last. */
type SortIndex = OrderedIndex<Sorted>;

/** The index entries a write drops and those it adds (the ones it keeps stay where they are). */
function changedIndexes(before: IndexEntry[], after: IndexEntry[]): [gone: IndexEntry[], added: IndexEntry[]] {
  if (before.length * after.length <= 64) {
    // The usual handful of entries: pairwise costs less than building keys.
    const same = (a: IndexEntry, b: IndexEntry) => a.attribute === b.attribute && a.value === b.value;
    return [before.filter((e) => !after.some((f) => same(e, f))), after.filter((e) => !before.some((f) => same(e, f)))];
  }
  const key = (e: IndexEntry) => `${e.attribute}\0${e.value}`;
  const had = new Set(before.map(key));
  const has = new Set(after.map(key));
  return [before.filter((e) => !has.has(key(e))), after.filter((e) => !had.has(key(e)))];
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

interface Space {
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
  /** Per kind, attribute → value → ids in insertion order. */
  indexes: Record<ResourceKind, Map<string, ShardedMap<string[]>>>;
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

const NO_DELTA: MemberDelta = { removed: [], added: [] };

/** Members whose reverse-index entries one synchronous step moves (settleLinks): 2-10 ms of work at 100,000 users. */
export const SETTLE_SLICE = 1_000;

/** Options of {@link memoryStore}. */
export type MemoryStoreOptions = TombstoneOptions & EventLogOptions & SsoRecordOptions;

/** A store that keeps everything in this process's memory (lost on restart, not shared). */
export function memoryStore(options: MemoryStoreOptions = {}): Store {
  const { tombstoneRetentionMs: retention, maxTombstones, now } = resolveTombstoneOptions(options);
  const eventLog = resolveEventLogOptions(options);
  const connections = new Map<string, StoredConnection>();
  const byCustomer = new Map<string, string>();
  /** Token hash → the connection holding it, current or previous (checked on lookup: a previous one expires). */
  const byToken = new Map<string, string>();

  /** Stores `next` as its connection, moving the token index from `replaced`'s hashes to `next`'s. */
  function putConnection(next: StoredConnection, replaced?: StoredConnection): void {
    for (const hash of [replaced?.tokenHash, replaced?.previousTokenHash]) {
      if (hash != null && byToken.get(hash) === next.connectionId) byToken.delete(hash);
    }
    connections.set(next.connectionId, next);
    byToken.set(next.tokenHash, next.connectionId);
    if (next.previousTokenHash !== null) byToken.set(next.previousTokenHash, next.connectionId);
  }
  const roleMappings = new Map<string, StoredRoleMapping>();
  const activity = new MemoryActivityLog(now);
  const spaces = new Map<string, Space>();
  /** Groups' write leases (Store.leaseGroup), by connection and group id. */
  const leases = inProcessLeases();
  const leaseKey = (connectionId: string, groupId: string) => `${connectionId}\u0000${groupId}`;
  const consumers = memoryEventConsumers(now, (connectionId) => connections.get(connectionId));

  const space = (connectionId: string): Space | undefined => spaces.get(connectionId);

  function copyConnection(c: StoredConnection): StoredConnection {
    return { ...c };
  }

  function idsAt(s: Space, kind: ResourceKind, attribute: string, value: string): string[] {
    return s.indexes[kind].get(attribute)?.get(value) ?? [];
  }

  /** The attribute of the first unique entry of `entries` (the write's, or those a replace adds) held by another resource. */
  function conflict(s: Space, write: ResourceWrite, entries = write.indexes): string | null {
    for (const entry of entries) {
      if (!entry.unique) continue;
      if (idsAt(s, write.kind, entry.attribute, entry.value).some((other) => other !== write.id)) {
        return entry.attribute;
      }
    }
    return null;
  }

  function addIndexes(s: Space, kind: ResourceKind, id: string, entries: IndexEntry[]): void {
    for (const entry of entries) {
      let values = s.indexes[kind].get(entry.attribute);
      if (!values) s.indexes[kind].set(entry.attribute, (values = new ShardedMap()));
      const ids = values.get(entry.value) ?? [];
      if (!ids.includes(id)) values.set(entry.value, [...ids, id]);
    }
  }

  function addSortKeys(s: Space, entry: Entry, keys: SortEntry[] = entry.sortKeys): void {
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
  function replaceSortKeys(s: Space, entry: Entry, next: SortEntry[]): void {
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

  function removeSortKeys(s: Space, entry: Entry, keys: SortEntry[] = entry.sortKeys): void {
    if (!entry.sortIndexed) return;
    for (const { attribute, value } of keys) {
      const index = s.sorted[entry.kind].get(attribute);
      index?.delete({ value, entry });
    }
  }

  function removeIndexes(s: Space, kind: ResourceKind, id: string, entries: IndexEntry[]): void {
    for (const entry of entries) {
      const values = s.indexes[kind].get(entry.attribute);
      const rest = (values?.get(entry.value) ?? []).filter((other) => other !== id);
      if (rest.length > 0) values?.set(entry.value, rest);
      else values?.delete(entry.value);
    }
  }

  /** A resource changed by a cascade: version + 1 and `meta.lastModified` = iso (src/store/last-modified.ts). */
  function touch(s: Space, entry: Entry, iso: string): void {
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

  /** A live user's derived `groups` changed: its version moves on (RFC 7644 §3.14). */
  function bumpUser(s: Space, value: string): void {
    const user = s.resources.User.get(value);
    if (user) user.version += 1;
  }

  function link(s: Space, groupId: string, value: string): void {
    let groups = s.memberOf.get(value);
    if (!groups) s.memberOf.set(value, (groups = new Set()));
    groups.add(groupId);
    bumpUser(s, value);
  }

  function unlink(s: Space, groupId: string, value: string): void {
    const groups = s.memberOf.get(value);
    groups?.delete(groupId);
    if (groups?.size === 0) s.memberOf.delete(value);
    bumpUser(s, value);
  }

  /**
   * Who leaves and who joins when `group`'s list becomes `next`, into `delta`: O(old + new) lookups, one
   * per step, so that the same walk runs whole inside a write's synchronous step (setMembers) or in slices
   * before it (memberDelta).
   */
  function* deltaSteps(group: Entry, next: Map<string, StoredMember>, delta: MemberDelta): Generator<void> {
    for (const value of group.members.keys()) {
      if (!next.has(value)) delta.removed.push(value);
      yield;
    }
    for (const value of next.keys()) {
      if (!group.members.has(value)) delta.added.push(value);
      yield;
    }
  }

  /** deltaSteps before the write's synchronous step, with a yield every SETTLE_SLICE × 10 lookups (a list of 100,000 replaced is 10-30 ms of them). */
  async function memberDelta(group: Entry, next: Map<string, StoredMember>): Promise<MemberDelta> {
    const delta: MemberDelta = { removed: [], added: [] };
    let looked = 0;
    for (const _ of deltaSteps(group, next, delta)) if (++looked % (SETTLE_SLICE * 10) === 0) await yieldToEventLoop();
    return delta;
  }

  /**
   * Swaps in a group's prepared member list. Answers who left and joined (`planned`: computed before the
   * write's synchronous step, against this list at the version the write expects); their reverse-index
   * entries move with {@link settleLinks}.
   */
  function setMembers(group: Entry, after: PreparedMembers, planned?: MemberDelta): MemberDelta {
    const next = after.members;
    let delta = planned;
    if (!delta) {
      delta = { removed: [], added: [] };
      const steps = deltaSteps(group, next, delta);
      while (!steps.next().done);
    }
    group.members = next;
    group.memberList = null;
    group.memberPos = after.positions;
    group.memberBase = group.memberTop;
    group.memberTop += next.size;
    return delta;
  }

  /**
   * Moves the reverse-index entries (and versions) of the members a write of group `groupId` removed and
   * added. Up to SETTLE_SLICE of them in the write's synchronous step, as nearly every write; a longer delta
   * (a 100,000-member group deleted or replaced: 85-230 ms in one step) after it, SETTLE_SLICE at a time with
   * a yield between, before the write answers, as the Redis store settles its jobs (docs/groups.md "Long
   * lists"). Until a member's slice runs it shows its previous groups with its previous version; a deleted
   * group is skipped by every read at once. Each member is checked against the group as it is when its
   * slice runs, so a later write of the same group in between is never undone.
   */
  function settleLinks(s: Space, groupId: string, delta: MemberDelta): Promise<void> | undefined {
    const settleOne = (value: string, joined: boolean) => {
      const listed = s.resources.Group.get(groupId)?.members.has(value) ?? false;
      if (joined && listed) link(s, groupId, value);
      else if (!joined && !listed) unlink(s, groupId, value);
    };
    if (delta.removed.length + delta.added.length <= SETTLE_SLICE) {
      for (const value of delta.removed) settleOne(value, false);
      for (const value of delta.added) settleOne(value, true);
      return undefined;
    }
    s.settling.set(groupId, (s.settling.get(groupId) ?? 0) + 1);
    return (async () => {
      let done = 0;
      for (const [values, joined] of [
        [delta.removed, false],
        [delta.added, true],
      ] as const) {
        for (const value of values) {
          if (++done % SETTLE_SLICE === 0) {
            await yieldToEventLoop();
            // deleteConnection dropped the space meanwhile: nothing is left to settle.
            if (spaces.get(s.connectionId) !== s) return;
          }
          settleOne(value, joined);
        }
      }
    })().finally(() => {
      const left = (s.settling.get(groupId) ?? 1) - 1;
      if (left > 0) s.settling.set(groupId, left);
      else s.settling.delete(groupId);
    });
  }

  /** The bytes member changes would add (negative: free), without applying them. */
  function changeBytes(group: Entry, changes: MemberChanges): number {
    let delta = 0;
    const removed = new Set<string>();
    for (const value of changes.remove) {
      const m = group.members.get(value);
      if (m) {
        removed.add(value);
        delta -= memberBytes(m);
      }
    }
    for (const m of changes.add) if (removed.has(m.value) || !group.members.has(m.value)) delta += memberBytes(m);
    return delta;
  }

  /**
   * Whether a write's members leave the group's as they are (ResourceWrite.keepIfMembersUnchanged): O(k)
   * for changes, O(list) for a full list.
   */
  function membersUnchanged(group: Entry, write: ResourceWrite, list: PreparedMembers | null): boolean {
    if (write.memberChanges) {
      const { add, remove } = write.memberChanges;
      return remove.every((value) => !group.members.has(value)) && add.every((m) => group.members.has(m.value));
    }
    return list !== null && sameMembers(group.members, list.members.values(), list.members.size);
  }

  /** Applies member changes: O(k). Answers the members actually removed and added. */
  function applyChanges(group: Entry, changes: MemberChanges): MemberDelta {
    const delta: MemberDelta = { removed: [], added: [] };
    for (const value of changes.remove) {
      if (!group.members.delete(value)) continue;
      group.memberPos.delete(value);
      group.memberList = null;
      delta.removed.push(value);
    }
    for (const m of changes.add) {
      if (group.members.has(m.value)) continue;
      group.members.set(m.value, m);
      group.memberPos.set(m.value, ++group.memberTop - group.memberBase);
      group.memberList = null;
      delta.added.push(m.value);
    }
    return delta;
  }

  /** Appends a write's events to the connection's log, in the write's synchronous step (docs/events.md). */
  function appendEvents(s: Space, kind: ResourceKind, id: string, json: string | null, events: WriteEvents | undefined, delta: MemberDelta = NO_DELTA): void {
    // Member events are asked for by every write that sends members; one whose list changed nothing logs no
    // entry, which would hold no event and still take a seq (as on Redis, logsEvents).
    if (!events || (events.resource === null && (events.members === undefined || delta.removed.length + delta.added.length === 0))) {
      s.events.replaced(kind, id); // a write that logs nothing still replaces what the last entry shared
      return;
    }
    s.events.append(kind, id, json, events, delta);
    consumers.announce(s.connectionId);
  }

  function listOf(group: Entry): StoredMember[] {
    if (group.memberList === null) group.memberList = [...group.members.values()];
    return group.memberList;
  }

  /** The connection whose current or unexpired previous token has this hash, if any. */
  function tokenOwner(tokenHash: string): StoredConnection | undefined {
    const id = byToken.get(tokenHash);
    const c = id === undefined ? undefined : connections.get(id);
    if (c?.tokenHash === tokenHash) return c;
    if (c?.previousTokenHash === tokenHash && c.previousTokenExpiresAt !== null && c.previousTokenExpiresAt > now()) return c;
    return undefined;
  }

  /** True when a hash `tokens` would make work is another connection's live token. */
  function tokensTaken(connectionId: string, tokens: ConnectionTokens): boolean {
    const live = [tokens.tokenHash];
    if (tokens.previousTokenHash !== null && tokens.previousTokenExpiresAt !== null && tokens.previousTokenExpiresAt > now()) {
      live.push(tokens.previousTokenHash);
    }
    return live.some((hash) => {
      const owner = tokenOwner(hash);
      return owner !== undefined && owner.connectionId !== connectionId;
    });
  }

  /** Adds tombstones for `entries` and trims: expired ones (at most the trim budget), then over the cap. */
  function bury(s: Space, entries: IndexEntry[]): void {
    const at = now();
    for (const { attribute, value } of entries) s.gone.set(tombstoneDigest(attribute, value), at);
    let oldest = s.gone.oldest();
    for (let budget = TOMBSTONE_TRIM_BUDGET; budget > 0 && oldest !== undefined && oldest[1] <= at - retention; budget--) {
      s.gone.delete(oldest[0]);
      oldest = s.gone.oldest();
    }
    let over = Math.min(s.gone.size - maxTombstones, entries.length + TOMBSTONE_TRIM_BUDGET);
    for (; over > 0 && oldest !== undefined; over--) {
      s.gone.delete(oldest[0]);
      oldest = s.gone.oldest();
    }
  }

  function buried(s: Space | undefined, attribute: string, value: string): boolean {
    const deletedAt = s?.gone.get(tombstoneDigest(attribute, value));
    return deletedAt !== undefined && deletedAt > now() - retention;
  }

  /**
   * The quota a write would exceed, checked in the same order as the Redis scripts, or null. `entries`: the
   * write's index entries that are new to the resource (all of a creation's).
   */
  function overQuota(
    s: Space,
    write: ResourceWrite,
    current: Entry | null,
    delta: number,
    quota: StoreQuota | undefined,
    entries = write.indexes,
  ): WriteOutcome | null {
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
    const attribute = crowdedIndex(write.id, entries, quota, (name, value) => idsAt(s, write.kind, name, value));
    if (attribute !== null) return { ok: false, reason: 'quota', quota: 'resourcesPerValue', limit: quota.maxResourcesPerValue!, attribute };
    return null;
  }

  /** The entries index value (attribute, value) points at, in creation order. */
  function entriesAt(s: Space, kind: ResourceKind, attribute: string, value: string): Entry[] {
    return idsAt(s, kind, attribute, value)
      .map((id) => s.resources[kind].get(id))
      .filter((e): e is Entry => e !== undefined)
      .sort((a, b) => a.seq - b.seq);
  }

  function found(s: Space, kind: ResourceKind, attribute: string, value: string, options?: ReadOptions): StoredResource[] {
    return entriesAt(s, kind, attribute, value).map((e) => output(s, e, options));
  }

  function output(s: Space, entry: Entry, options?: ReadOptions): StoredResource {
    const out: StoredResource = { id: entry.id, kind: entry.kind, json: entry.json, version: entry.version };
    if (entry.kind === 'Group') {
      if (options?.members !== false) out.members = listOf(entry).map((m) => ({ ...m }));
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
  function withinPageBudget(s: Space, page: Entry[], options: ReadOptions | undefined, rowBytes?: number): Entry[] {
    let kept = keptWithin(page, (e) => e.json.length, Math.min(rowBytes ?? PAGE_READ_BYTES, PAGE_READ_BYTES));
    if (kept < page.length) page = page.slice(0, kept);
    if (page[0]?.kind === 'Group' && options?.members !== false) kept = keptWithin(page, (e) => e.members.size, PAGE_MEMBERS_BUDGET);
    if (page[0]?.kind === 'User' && options?.groups !== false && s.memberOf.size > 0)
      kept = keptWithin(page, (e) => groupIdsBytes(s.memberOf.get(e.id) ?? []), GROUP_IDS_PER_PAGE);
    return kept === page.length ? page : page.slice(0, kept);
  }

  /** Up to `count` resources of a kind created after position `after`, in creation order: O(log n + count). */
  function createdAfter(s: Space, kind: ResourceKind, after: number, count: number): Entry[] {
    const order = s.order[kind];
    const from = order.countUpTo({ seq: after } as Entry);
    return order.slice(from, from + count);
  }

  /** The groups listing member `value`, in group creation order. */
  function groupsListing(s: Space, value: string): Entry[] {
    return [...(s.memberOf.get(value) ?? [])]
      .map((gid) => s.resources.Group.get(gid))
      .filter((g): g is Entry => g !== undefined)
      .sort((a, b) => a.seq - b.seq);
  }

  /** A user's groups as reads derive them: in group creation order, with their current displayName. */
  function groupsOf(s: Space, userId: string): StoredMembership[] {
    return groupsListing(s, userId).map((g) => ({ value: g.id, display: g.displayName }));
  }

  const store: Store = {
    kind: 'memory',

    async createConnection(connection) {
      assertStoreId('connectionId', connection.connectionId);
      assertStoreId('customerId', connection.customerId);
      assertConnectionTokens(connection);
      if (byCustomer.has(connection.customerId)) return 'exists';
      if (connections.has(connection.connectionId)) throw new Error('connectionId is already in use');
      if (tokensTaken(connection.connectionId, connection)) return 'token_in_use';
      putConnection(copyConnection(connection));
      byCustomer.set(connection.customerId, connection.connectionId);
      spaces.set(connection.connectionId, {
        connectionId: connection.connectionId,
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
      });
      return 'created';
    },

    async getCustomer(customerId) {
      const [connection, client, saml, roleMapping] = await Promise.all([
        this.getConnectionByCustomer(customerId),
        this.getOidcClient(customerId),
        this.getSamlConnection(customerId),
        this.getRoleMapping(customerId),
      ]);
      return { connection, client, saml, roleMapping };
    },

    async getRoleMapping(customerId) {
      assertStoreId('customerId', customerId);
      const mapping = roleMappings.get(customerId);
      return mapping ? { ...mapping } : null;
    },

    async setRoleMapping(customerId, mapping) {
      assertStoreId('customerId', customerId);
      if (mapping === null) roleMappings.delete(customerId);
      else roleMappings.set(customerId, checkRoleMapping(mapping));
    },

    async appendActivity(appends, ttlMs) {
      for (const { customerId } of appends) assertStoreId('customerId', customerId);
      activity.append(appends, ttlMs);
    },

    async readActivity(customerId, log, limit) {
      assertStoreId('customerId', customerId);
      return activity.read(customerId, log, limit);
    },

    async getConnectionByCustomer(customerId) {
      assertStoreId('customerId', customerId);
      const id = byCustomer.get(customerId);
      const c = id === undefined ? undefined : connections.get(id);
      return c ? copyConnection(c) : null;
    },

    async findConnectionByTokenHash(tokenHash) {
      if (!isValidStoreId(tokenHash)) return null;
      const owner = tokenOwner(tokenHash);
      return owner ? copyConnection(owner) : null;
    },

    async updateConnectionTokens(connectionId, tokens, expectedTokenHash): Promise<TokenUpdate> {
      assertStoreId('connectionId', connectionId);
      assertConnectionTokens(tokens);
      if (expectedTokenHash !== undefined) assertStoreId('expectedTokenHash', expectedTokenHash);
      const current = connections.get(connectionId);
      if (!current) return { ok: false, reason: 'not_found' };
      if (expectedTokenHash !== undefined && current.tokenHash !== expectedTokenHash) return { ok: false, reason: 'token_changed' };
      if (tokensTaken(connectionId, tokens)) return { ok: false, reason: 'token_in_use' };
      const next: StoredConnection = {
        ...current,
        tokenHash: tokens.tokenHash,
        previousTokenHash: tokens.previousTokenHash,
        previousTokenExpiresAt: tokens.previousTokenExpiresAt,
      };
      putConnection(next, current);
      return { ok: true, connection: copyConnection(next) };
    },

    async deleteConnection(connectionId) {
      assertStoreId('connectionId', connectionId);
      const c = connections.get(connectionId);
      if (!c) return false;
      connections.delete(connectionId);
      for (const hash of [c.tokenHash, c.previousTokenHash]) if (hash !== null && byToken.get(hash) === connectionId) byToken.delete(hash);
      byCustomer.delete(c.customerId);
      spaces.delete(connectionId);
      consumers.forget(connectionId);
      return true;
    },

    async createResource(connectionId, input, quota) {
      assertStoreId('connectionId', connectionId);
      assertQuota(quota);
      const write = normalizeResourceWrite(input);
      if (write.memberChanges !== undefined) throw new TypeError('memberChanges are for replaceResource only');
      // What depends on the write alone is computed first, in phases of its own for a long member list.
      const phased = membersIn(write) > PHASED_MEMBERS;
      if (phased) await yieldToEventLoop();
      const ownBytes = resourceBytes({ ...write, members: [] });
      const members = write.kind === 'Group' ? prepareMembers(write.members ?? []) : null;
      if (phased) await yieldToEventLoop();
      const s = space(connectionId);
      if (!s) return { ok: false, reason: 'not_found' };
      const existing = s.resources[write.kind];
      if (existing.has(write.id)) return { ok: false, reason: 'uniqueness', attribute: 'id' };
      const taken = conflict(s, write);
      if (taken !== null) return { ok: false, reason: 'uniqueness', attribute: taken };
      const bytes = ownBytes + (members?.bytes ?? 0);
      const refused = overQuota(s, write, null, bytes, quota);
      if (refused) return refused;
      s.bytes += bytes;
      const entry: Entry = {
        id: write.id,
        kind: write.kind,
        json: write.json,
        version: 1,
        seq: ++s.seq,
        indexes: write.indexes,
        sortKeys: write.sortKeys ?? [],
        sortIndexed: false,
        members: write.kind === 'Group' ? new Map() : USER_MEMBERS,
        memberList: null,
        memberPos: write.kind === 'Group' ? new Map() : USER_MEMBER_POSITIONS,
        memberBase: 0,
        memberTop: 0,
        displayName: write.displayName ?? '',
        bytes,
        ownBytes,
      };
      existing.set(write.id, entry);
      s.order[write.kind].insert(entry);
      addIndexes(s, write.kind, write.id, write.indexes);
      if (s.sorting[write.kind] !== 'off') addSortKeys(s, entry);
      const delta = members ? setMembers(entry, members) : NO_DELTA;
      appendEvents(s, write.kind, write.id, write.json, write.events, delta);
      await settleLinks(s, write.id, delta);
      return { ok: true, version: 1 };
    },

    async replaceResource(connectionId, input, expectedVersion, quota): Promise<WriteOutcome> {
      assertStoreId('connectionId', connectionId);
      assertQuota(quota);
      const write = normalizeResourceWrite(input);
      // As in createResource: what depends on the write alone first, then the write's synchronous step.
      const phased = membersIn(write) > PHASED_MEMBERS;
      if (phased) await yieldToEventLoop();
      const ownBytes = resourceBytes({ ...write, members: [] });
      const members = write.members !== undefined ? prepareMembers(write.members) : null;
      if (phased) await yieldToEventLoop();
      // Who leaves and joins a long list, worked out before the synchronous step: still right there if the
      // group is the same entry at the version the write expects (every change of its list moves that).
      const before = members ? space(connectionId)?.resources[write.kind].get(write.id) : undefined;
      const long = before !== undefined && before.members.size + members!.members.size > SETTLE_SLICE;
      const planned = long && before.version === expectedVersion ? { entry: before, delta: await memberDelta(before, members!.members) } : null;
      // A group another write holds the lease of is written once that write is done (its version then tells).
      // The last look is in the same turn as the synchronous step, so no lease is taken between the two.
      if (write.kind === 'Group') {
        const lease = leaseKey(connectionId, write.id);
        const until = Date.now() + LEASE_WAIT_MS;
        while (leases.blocks(lease, write.lease)) {
          if (await leases.clear(lease, write.lease, until)) continue;
          const current = space(connectionId)?.resources.Group.get(write.id);
          return current ? { ok: false, reason: 'version_mismatch', currentVersion: current.version } : { ok: false, reason: 'not_found' };
        }
      }
      const s = space(connectionId);
      const entry = s?.resources[write.kind].get(write.id);
      if (!s || !entry) return { ok: false, reason: 'not_found' };
      if (entry.version !== expectedVersion) {
        return { ok: false, reason: 'version_mismatch', currentVersion: entry.version };
      }
      if (write.keepIfMembersUnchanged && membersUnchanged(entry, write, members)) return { ok: true, version: entry.version, unchanged: true };
      // Only the index entries that change move (a PUT or PATCH usually changes one or two), and only those
      // it adds can collide or crowd: the ones it keeps are this resource's already (as on Redis).
      const [gone, added] = changedIndexes(entry.indexes, write.indexes);
      const taken = conflict(s, write, added);
      if (taken !== null) return { ok: false, reason: 'uniqueness', attribute: taken };
      // The bytes of everything but the members, then the members' (old, and after this write).
      const oldMembers = entry.bytes - entry.ownBytes;
      let newMembers = oldMembers;
      if (members) newMembers = members.bytes;
      else if (write.memberChanges !== undefined) newMembers = oldMembers + changeBytes(entry, write.memberChanges);
      const bytes = ownBytes + newMembers;
      const refused = overQuota(s, write, entry, bytes - entry.bytes, quota, added);
      if (refused) return refused;
      s.bytes += bytes - entry.bytes;
      entry.bytes = bytes;
      entry.ownBytes = ownBytes;
      removeIndexes(s, write.kind, write.id, gone);
      addIndexes(s, write.kind, write.id, added);
      let delta = NO_DELTA;
      if (write.kind === 'Group') {
        if (members) delta = setMembers(entry, members, planned?.entry === entry ? planned.delta : undefined);
        else if (write.memberChanges !== undefined) delta = applyChanges(entry, write.memberChanges);
        entry.displayName = write.displayName ?? '';
      }
      entry.json = write.json;
      entry.indexes = write.indexes;
      replaceSortKeys(s, entry, write.sortKeys ?? []);
      entry.version += 1;
      appendEvents(s, write.kind, write.id, write.json, write.events, delta);
      const outcome: WriteOutcome =
        write.kind === 'User' ? { ok: true, version: entry.version, groups: groupsOf(s, write.id) } : { ok: true, version: entry.version };
      await settleLinks(s, write.id, delta);
      return outcome;
    },

    async deleteResource(connectionId, kind, id, expectedVersion, events) {
      assertStoreId('connectionId', connectionId);
      assertResourceKind(kind);
      const logged = events === undefined ? undefined : { resource: checkWriteEvents(events).resource };
      if (expectedVersion !== undefined && !Number.isSafeInteger(expectedVersion)) {
        throw new TypeError('expectedVersion must be an integer');
      }
      const s = space(connectionId);
      const entry = s?.resources[kind].get(id);
      if (!s || !entry) return false;
      if (expectedVersion !== undefined && entry.version !== expectedVersion) {
        return { ok: false, reason: 'version_mismatch', currentVersion: entry.version };
      }
      const modifiedAt = new Date(now()).toISOString();
      s.resources[kind].delete(id);
      s.order[kind].delete(entry);
      s.bytes -= entry.bytes;
      removeIndexes(s, kind, id, entry.indexes);
      removeSortKeys(s, entry);
      if (kind === 'User') bury(s, entry.indexes);
      // Leave every group that lists it, also one whose new list is still settling (its reverse entry may not
      // name this member yet); those groups changed, so their versions move on.
      const listing = new Set(s.memberOf.get(id));
      for (const gid of s.settling.keys()) listing.add(gid);
      for (const gid of listing) {
        const group = s.resources.Group.get(gid);
        if (!group || gid === id) continue;
        const member = group.members.get(id);
        if (!member) continue;
        group.members.delete(id);
        group.memberPos.delete(id);
        group.memberList = null;
        const cost = memberBytes(member);
        group.bytes -= cost;
        s.bytes -= cost;
        touch(s, group, modifiedAt);
      }
      s.memberOf.delete(id);
      const left = kind === 'Group' ? setMembers(entry, prepareMembers([])) : NO_DELTA;
      appendEvents(s, kind, id, null, logged);
      await settleLinks(s, id, left);
      return true;
    },

    async readEvents(connectionId, after, limit) {
      assertStoreId('connectionId', connectionId);
      assertEventLimit(limit);
      const s = space(connectionId);
      return s ? s.events.read(after, limit) : { events: [], next: after };
    },

    async lastEventCursor(connectionId) {
      assertStoreId('connectionId', connectionId);
      return space(connectionId)?.events.lastCursor() ?? null;
    },

    async getResource(connectionId, kind, id, options) {
      assertStoreId('connectionId', connectionId);
      assertResourceKind(kind);
      const s = space(connectionId);
      const entry = s?.resources[kind].get(id);
      return s && entry ? output(s, entry, options) : null;
    },

    async leaseGroup(connectionId, groupId) {
      assertStoreId('connectionId', connectionId);
      return leases.take(leaseKey(connectionId, groupId));
    },

    async listGroupMembers(connectionId, groupId, offset, count): Promise<MemberPage | null> {
      assertStoreId('connectionId', connectionId);
      assertPaging(offset, count);
      const group = space(connectionId)?.resources.Group.get(groupId);
      if (!group) return null;
      const members = listOf(group)
        .slice(offset, offset + count)
        .map((m) => ({ ...m }));
      return { version: group.version, total: group.members.size, members };
    },

    async listAfter(connectionId, kind, after, count, options) {
      assertStoreId('connectionId', connectionId);
      assertResourceKind(kind);
      assertCursorPaging(after, count);
      const s = space(connectionId);
      if (!s) return { resources: [], next: null };
      const taken = createdAfter(s, kind, after, count + 1);
      const page = withinPageBudget(s, taken.slice(0, count), options);
      const more = taken.length > page.length;
      return { resources: page.map((e) => ({ ...output(s, e, options), seq: e.seq })), next: more ? page.at(-1)!.seq : null };
    },

    async pickUsersAfter(connectionId, after, count, wanted, options) {
      assertStoreId('connectionId', connectionId);
      assertCursorPaging(after, count);
      const s = space(connectionId);
      if (!s) return { seqs: [], users: [], next: null };
      const taken = createdAfter(s, 'User', after, count + 1);
      let page = taken.slice(0, count);
      const picked = page.filter((e) => wanted(e.seq));
      const read = withinPageBudget(s, picked, options);
      // The budget ended the page at the last picked user it held.
      if (read.length < picked.length) page = page.slice(0, page.indexOf(read.at(-1)!) + 1);
      const more = taken.length > page.length;
      const out: PickedPage = {
        seqs: page.map((e) => e.seq),
        users: read.map((e) => ({ ...output(s, e, options), seq: e.seq })),
        next: more ? page.at(-1)!.seq : null,
      };
      if (options?.userNames) out.userNames = page.map((e) => e.indexes.find((i) => i.attribute === 'userName')?.value ?? '');
      return out;
    },

    // Walks the group's position map from its start (O(members) to the cursor), like its other member reads.

    async listGroupMembersAfter(connectionId, groupId, after, count) {
      assertStoreId('connectionId', connectionId);
      assertCursorPaging(after, count);
      const group = space(connectionId)?.resources.Group.get(groupId);
      if (!group) return null;
      const members: StoredMember[] = [];
      let last = after;
      for (const [value, relative] of group.memberPos) {
        const position = group.memberBase + relative;
        if (position <= after) continue;
        if (members.length === count) return { version: group.version, total: group.members.size, members, next: last };
        members.push({ ...group.members.get(value)! });
        last = position;
      }
      return { version: group.version, total: group.members.size, members, next: null };
    },

    async findByIndex(connectionId, kind, attribute, value, options) {
      assertStoreId('connectionId', connectionId);
      assertResourceKind(kind);
      assertIndexAttribute(attribute);
      if (typeof value !== 'string') throw new TypeError('index value must be a string');
      const s = space(connectionId);
      return s ? found(s, kind, attribute, value, options) : [];
    },

    async findGroupsWithMember(connectionId, value, options) {
      assertStoreId('connectionId', connectionId);
      if (typeof value !== 'string') throw new TypeError('member value must be a string');
      const s = space(connectionId);
      return s ? groupsListing(s, value).map((g) => output(s, g, options)) : [];
    },

    async findUsersForLoginBatch(connectionId, lookups) {
      assertStoreId('connectionId', connectionId);
      assertLookups(lookups);
      const s = space(connectionId);
      if (!s) return lookups.map(() => ({ users: [], deletedMatch: false }));
      const byId = new Map<string, NumberedResource>(); // one object per user, whichever lookups find it
      const numbered = (e: Entry): NumberedResource => {
        const user = byId.get(e.id) ?? { ...output(s, e), seq: e.seq };
        byId.set(e.id, user);
        return user;
      };
      // A batch may find many users in many groups: yield whenever a script's worth of groups
      // (GROUP_IDS_PER_SCRIPT) was derived since the last yield, as the Redis store splits that work.
      const answers: NumberedLoginLookup[] = [];
      let work = 0;
      for (const { attribute, value } of lookups) {
        const entries = entriesAt(s, 'User', attribute, value);
        for (const e of entries) work += 1 + groupIdsBytes(s.memberOf.get(e.id) ?? []);
        if (work > GROUP_IDS_PER_SCRIPT) {
          work = 0;
          await yieldToEventLoop();
        }
        const users = entries.map(numbered);
        answers.push({ users, deletedMatch: users.length === 0 && buried(s, attribute, value) });
      }
      return answers;
    },

    async findUsersForLogin(connectionId, attribute, value): Promise<LoginLookup> {
      assertStoreId('connectionId', connectionId);
      assertIndexAttribute(attribute);
      if (typeof value !== 'string') throw new TypeError('index value must be a string');
      const s = space(connectionId);
      if (!s) return { users: [], deletedMatch: false };
      return { users: found(s, 'User', attribute, value), deletedMatch: buried(s, attribute, value) };
    },

    async getUsage(connectionId) {
      assertStoreId('connectionId', connectionId);
      const s = space(connectionId);
      return s ? { users: s.resources.User.size, groups: s.resources.Group.size, bytes: s.bytes } : { users: 0, groups: 0, bytes: 0 };
    },

    async listPage(connectionId, kind, offset, count, options): Promise<Page> {
      assertStoreId('connectionId', connectionId);
      assertResourceKind(kind);
      assertPaging(offset, count);
      assertRowBytes(options);
      const s = space(connectionId);
      if (!s) return { total: 0, resources: [] };
      const order = s.order[kind];
      const page = withinPageBudget(s, order.slice(offset, offset + count), options, options?.rowBytes);
      return { total: order.size, resources: page.map((e) => output(s, e, options)) };
    },

    async listSorted(connectionId, kind, sortOrder, offset, count, options): Promise<Page | null> {
      assertStoreId('connectionId', connectionId);
      assertResourceKind(kind);
      assertSortOrder(sortOrder);
      assertPaging(offset, count);
      assertRowBytes(options);
      const s = space(connectionId);
      if (!s) return { total: 0, resources: [] };
      /** The page of an index, as resources. */
      const pageOf = <T>(entries: OrderedIndex<T>, entryOf: (item: T) => Entry): Page => {
        const page: Entry[] = [];
        const run = sortedRun(entries.size, sortOrder.descending, offset, count);
        if (run) {
          const items = entries.slice(run.from, run.to);
          if (run.reverse) items.reverse();
          for (const item of items) page.push(entryOf(item));
        }
        return { total: entries.size, resources: withinPageBudget(s, page, options, options?.rowBytes).map((e) => output(s, e, options)) };
      };
      if (sortOrder.attribute === null) return pageOf(s.order[kind], (entry) => entry);
      if (s.sorting[kind] !== 'done' && s.order[kind].size > 0) return null;
      const index = s.sorted[kind].get(sortOrder.attribute);
      return index ? pageOf(index, (item) => item.entry) : { total: 0, resources: [] };
    },

    // As on Redis, the first read switches the kind's sort indexes on. The entries already carry their sort
    // entries, so a read indexes its slice itself and hands back nothing to compute.
    async sortBacklog(connectionId, kind, count) {
      assertStoreId('connectionId', connectionId);
      assertResourceKind(kind);
      assertPaging(0, count);
      const s = space(connectionId);
      if (!s) return { done: true, resources: [], through: 0 };
      if (s.sorting[kind] === 'off') s.sorting[kind] = 0;
      const marker = s.sorting[kind];
      if (marker === 'done') return { done: true, resources: [], through: 0 };
      const order = s.order[kind];
      const from = order.countUpTo({ seq: marker } as Entry);
      const slice = order.slice(from, from + count);
      for (const entry of slice) if (!entry.sortIndexed) addSortKeys(s, entry);
      const through = slice.at(-1)?.seq ?? marker;
      const done = from + slice.length >= order.size;
      s.sorting[kind] = done ? 'done' : through;
      return { done, resources: [], through };
    },

    async fillSortIndex(connectionId, kind, through, fills) {
      assertStoreId('connectionId', connectionId);
      assertResourceKind(kind);
      if (!Number.isSafeInteger(through) || through < 0) throw new TypeError('through must be a non-negative integer');
      for (const fill of fills) assertStoreId('resource id', fill.id);
      // Every entry here carries its sort entries (Redis fills only rows without any): fills change nothing.
      const s = space(connectionId);
      return !s || s.sorting[kind] === 'done' ? 'done' : 'more';
    },

    ...memoryOidcMethods(() => byCustomer.keys(), options),
    ...memorySamlCache({ now }),
    ...consumers.methods,
    ...memorySetupGrants(now),

    recordLogin(customerId, attempt) {
      return recordLoginInSteps(store, customerId, attempt);
    },

    async close() {},
  };
  return store;
}
