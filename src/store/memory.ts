/**
 * The in-memory store: plain Maps in one process, for development, demos and tests. Every write is one
 * synchronous step inside its promise, so each operation is atomic, mirroring the Redis store's Lua scripts.
 * As on Redis, a long member list is prepared before that step and its members' reverse entries are
 * settled after it, a slice at a time (settleLinks; docs/groups.md "Memory store"). A connection's resources
 * and the steps that keep them are in memory-space.ts, member lists in memory-members.ts, connection
 * records in memory-connections.ts.
 */
import { MemoryActivityLog } from './activity-log.js';
import { assertEventLimit, checkWriteEvents, resolveEventLogOptions, type EventLogOptions, type WriteEvents } from './event-log.js';
import { PHASED_MEMBERS, yieldToEventLoop } from '../event-loop.js';
import { inProcessLeases } from './group-lease.js';
import { memoryConnections } from './memory-connections.js';
import { memoryEventConsumers } from './memory-event-consumers.js';
import type { MemberDelta } from './memory-events.js';
import {
  applyChanges,
  changeBytes,
  memberDelta,
  membersIn,
  membersUnchanged,
  NO_DELTA,
  prepareMembers,
  setMembers,
  settleLinks,
  SETTLE_SLICE,
  USER_MEMBER_POSITIONS,
  USER_MEMBERS,
} from './memory-members.js';
import { memorySsoMethods } from './memory-sso.js';
import { memorySamlCache } from './memory-saml-cache.js';
import {
  addIndexes,
  addSortKeys,
  addedIndexes,
  conflict,
  createdAfter,
  crowded,
  entriesAt,
  found,
  foundForLogin,
  groupsListing,
  groupsOf,
  listOf,
  newSpace,
  output,
  overQuota,
  removeIndexes,
  sameIndexes,
  removeSortKeys,
  replaceSortKeys,
  touch,
  withinPageBudget,
  type Entry,
  type Space,
} from './memory-space.js';
import type { OrderedIndex } from './ordered-index.js';
import { memorySetupGrants } from './setup-grants.js';
import type { SsoRecordOptions } from './sso-records.js';
import {
  LEASE_WAIT_MS,
  type IndexEntry,
  type LoginLookup,
  type MemberPage,
  type NumberedLoginLookup,
  type NumberedResource,
  type Page,
  type PickedPage,
  type ResourceKind,
  type Store,
  type StoredMember,
  type WriteOutcome,
} from './store.js';
import {
  assertCursorPaging,
  assertIndexAttribute,
  assertIndexValue,
  assertLookups,
  assertPaging,
  assertQuota,
  assertResourceKind,
  assertRowBytes,
  assertSortOrder,
  assertStoreId,
  normalizeResourceWrite,
} from './store-checks.js';
import { GROUP_IDS_PER_SCRIPT, groupIdsBytes, sessionGroupsWithin } from './read-budgets.js';
import { memberBytes, resourceBytes } from './write-weights.js';
import { loginProjectionOf, recordLoginInSteps } from './login-outcome.js';
import { resolveTombstoneOptions, TOMBSTONE_TRIM_BUDGET, tombstoneDigest, type TombstoneOptions } from './tombstones.js';
import { sortedRun } from './sort-runs.js';

/** Options of {@link memoryStore}. */
export type MemoryStoreOptions = TombstoneOptions & EventLogOptions & SsoRecordOptions;

/** A store that keeps everything in this process's memory (lost on restart, not shared). */
export function memoryStore(options: MemoryStoreOptions = {}): Store {
  const { tombstoneRetentionMs: retention, maxTombstones, now } = resolveTombstoneOptions(options);
  const eventLog = resolveEventLogOptions(options);
  const activity = new MemoryActivityLog(now);
  const spaces = new Map<string, Space>();
  /** Groups' write leases (Store.leaseGroup), by connection and group id. */
  const leases = inProcessLeases();
  const leaseKey = (connectionId: string, groupId: string) => `${connectionId}\u0000${groupId}`;
  const consumers = memoryEventConsumers(now, (connectionId) => connections.get(connectionId));
  const connections = memoryConnections(now, {
    created: (connectionId) => {
      spaces.set(connectionId, newSpace(connectionId, eventLog, now));
    },
    deleted: (connectionId) => {
      spaces.delete(connectionId);
      consumers.forget(connectionId);
    },
  });

  const space = (connectionId: string): Space | undefined => spaces.get(connectionId);
  /** Whether `s` is still its connection's space (settleLinks stops once deleteConnection dropped it). */
  const isOpen = (s: Space) => () => spaces.get(s.connectionId) === s;

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

  const store: Store = {
    kind: 'memory',
    ...connections.methods,

    async getCustomer(customerId) {
      const [connection, client, saml, roleMapping] = await Promise.all([
        this.getConnectionByCustomer(customerId),
        this.getOidcClient(customerId),
        this.getSamlConnection(customerId),
        this.getRoleMapping(customerId),
      ]);
      return { connection, client, saml, roleMapping };
    },

    async appendActivity(appends, ttlMs) {
      for (const { customerId } of appends) assertStoreId('customerId', customerId);
      activity.append(appends, ttlMs);
    },

    async readActivity(customerId, log, limit) {
      assertStoreId('customerId', customerId);
      return activity.read(customerId, log, limit);
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
      const projection = write.kind === 'User' ? loginProjectionOf(write.json) : null;
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
        loginProjection: projection,
      };
      existing.set(write.id, entry);
      s.order[write.kind].insert(entry);
      addIndexes(s, write.kind, write.id, write.indexes, quota?.maxResourcesPerValue);
      if (s.sorting[write.kind] !== 'off') addSortKeys(s, entry);
      const delta = members ? setMembers(entry, members) : NO_DELTA;
      appendEvents(s, write.kind, write.id, write.json, write.events, delta);
      await settleLinks(s, write.id, delta, isOpen(s));
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
      const projection = write.kind === 'User' ? loginProjectionOf(write.json) : null;
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
      // Only the index entries it adds can collide: the ones it keeps are this resource's already (as on Redis).
      const added = addedIndexes(entry.indexes, write.indexes);
      const taken = conflict(s, write, added);
      if (taken !== null) return { ok: false, reason: 'uniqueness', attribute: taken };
      // The bytes of everything but the members, then the members' (old, and after this write).
      const oldMembers = entry.bytes - entry.ownBytes;
      let newMembers = oldMembers;
      if (members) newMembers = members.bytes;
      else if (write.memberChanges !== undefined) newMembers = oldMembers + changeBytes(entry, write.memberChanges);
      const bytes = ownBytes + newMembers;
      const refused = overQuota(s, write, entry, bytes - entry.bytes, quota);
      if (refused) return refused;
      s.bytes += bytes - entry.bytes;
      entry.bytes = bytes;
      entry.ownBytes = ownBytes;
      // Most writes (active, names) leave every entry as it was; one that changes any re-enters them all, as
      // the Redis store does, so a holder a crowded value counted is listed again if there is room now.
      if (!sameIndexes(entry.indexes, write.indexes)) {
        removeIndexes(s, write.kind, write.id, entry.indexes);
        addIndexes(s, write.kind, write.id, write.indexes, quota?.maxResourcesPerValue);
      }
      let delta = NO_DELTA;
      if (write.kind === 'Group') {
        if (members) delta = setMembers(entry, members, planned?.entry === entry ? planned.delta : undefined);
        else if (write.memberChanges !== undefined) delta = applyChanges(entry, write.memberChanges);
        entry.displayName = write.displayName ?? '';
      }
      entry.json = write.json;
      if (write.kind === 'User') entry.loginProjection = projection;
      entry.indexes = write.indexes;
      replaceSortKeys(s, entry, write.sortKeys ?? []);
      entry.version += 1;
      appendEvents(s, write.kind, write.id, write.json, write.events, delta);
      const outcome: WriteOutcome =
        write.kind === 'User' ? { ok: true, version: entry.version, groups: groupsOf(s, write.id) } : { ok: true, version: entry.version };
      await settleLinks(s, write.id, delta, isOpen(s));
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
      await settleLinks(s, id, left, isOpen(s));
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

    async readSessionUser(connectionId, userId, { knownVersion, namedBytes }) {
      assertStoreId('connectionId', connectionId);
      const s = space(connectionId);
      const entry = s?.resources.User.get(userId);
      if (!s || !entry) return null;
      const json = entry.version === knownVersion ? null : entry.json;
      return { version: entry.version, json, ...sessionGroupsWithin(groupsOf(s, entry.id), namedBytes) };
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
      const names = options?.userNames;
      if (names) out.userNames = page.map((e) => (names === true || names(e.seq) ? (e.indexes.find((i) => i.attribute === 'userName')?.value ?? '') : ''));
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
      assertIndexValue(value);
      const s = space(connectionId);
      return s ? found(s, kind, attribute, value, options) : [];
    },

    async findGroupsWithMember(connectionId, value, options) {
      assertStoreId('connectionId', connectionId);
      if (typeof value !== 'string') throw new TypeError('member value must be a string');
      const s = space(connectionId);
      return s ? groupsListing(s, value).map((g) => output(s, g, options)) : [];
    },

    async findUsersForLoginBatch(connectionId, lookups, options) {
      assertStoreId('connectionId', connectionId);
      assertLookups(lookups);
      const s = space(connectionId);
      if (!s) return lookups.map(() => ({ users: [], deletedMatch: false }));
      const byId = new Map<string, NumberedResource>(); // one object per user, whichever lookups find it
      const projecting = options?.projections === true;
      const numbered = (e: Entry): NumberedResource => {
        const user = byId.get(e.id) ?? { ...output(s, e, options?.groups === false ? { groups: false } : undefined), seq: e.seq };
        if (projecting && e.loginProjection !== null) user.json = e.loginProjection;
        byId.set(e.id, user);
        return user;
      };
      // A batch may find many users in many groups: yield whenever a script's worth of groups
      // (GROUP_IDS_PER_SCRIPT) was derived since the last yield, as the Redis store splits that work.
      const answers: NumberedLoginLookup[] = [];
      let work = 0;
      for (const { attribute, value } of lookups) {
        if (crowded(s, 'User', attribute, value)) {
          answers.push({ users: [], deletedMatch: false, crowded: true });
          continue;
        }
        const entries = entriesAt(s, 'User', attribute, value);
        for (const e of entries) work += 1 + (options?.groups === false ? 0 : groupIdsBytes(s.memberOf.get(e.id) ?? []));
        if (work > GROUP_IDS_PER_SCRIPT) {
          work = 0;
          await yieldToEventLoop();
        }
        const users = entries.map(numbered);
        const answer: NumberedLoginLookup = { users, deletedMatch: users.length === 0 && buried(s, attribute, value) };
        const projected = projecting ? entries.filter((e) => e.loginProjection !== null).map((e) => e.id) : [];
        if (projected.length > 0) answer.projected = new Set(projected);
        answers.push(answer);
      }
      return answers;
    },

    async findUsersForLogin(connectionId, attribute, value): Promise<LoginLookup> {
      assertStoreId('connectionId', connectionId);
      assertIndexAttribute(attribute);
      assertIndexValue(value);
      const s = space(connectionId);
      if (!s) return { users: [], deletedMatch: false };
      const found = foundForLogin(s, attribute, value);
      // A crowded value reads no tombstone (LoginLookup.crowded), as on Redis.
      return { ...found, deletedMatch: !found.crowded && buried(s, attribute, value) };
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

    ...memorySsoMethods(() => connections.customerIds(), options),
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
