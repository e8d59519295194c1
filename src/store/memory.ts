/**
 * The in-memory store: plain Maps in one process, for development, demos and tests. Every method runs
 * synchronously inside its promise, so each operation is atomic, mirroring the Redis store's Lua scripts.
 */
import {
  assertIndexAttribute,
  assertLookups,
  assertPaging,
  assertQuota,
  assertResourceKind,
  assertStoreId,
  isValidStoreId,
  memberBytes,
  normalizeResourceWrite,
  resolveTombstoneOptions,
  resourceBytes,
  TOMBSTONE_TRIM_BUDGET,
  tombstoneDigest,
  type IndexEntry,
  type LoginLookup,
  type MemberChanges,
  type MemberPage,
  type NumberedUser,
  type Page,
  type ReadOptions,
  type ResourceKind,
  type ResourceWrite,
  type Store,
  type StoredConnection,
  type StoredMember,
  type StoredResource,
  type StoreQuota,
  type TombstoneOptions,
  type TokenUpdate,
  type WriteOutcome,
  recordLoginInSteps,
} from './store.js';
import { memoryOidcMethods } from './memory-oidc.js';

interface Entry {
  id: string;
  kind: ResourceKind;
  json: string;
  version: number;
  /** Creation order within the connection (shared by users and groups, like the Redis counter). */
  seq: number;
  indexes: IndexEntry[];
  /** Groups: member value -> member, in the order added (a Map keeps insertion order). */
  members: Map<string, StoredMember>;
  /** Groups: the members as an array for paging, rebuilt lazily after a change (null = stale). */
  memberList: StoredMember[] | null;
  displayName: string;
  /** What this resource counts against maxBytes (resourceBytes), kept current as members come and go. */
  bytes: number;
}

interface Space {
  seq: number;
  resources: Record<ResourceKind, Map<string, Entry>>;
  /** `${kind}\0${attribute}` → value → ids in insertion order. */
  indexes: Map<string, Map<string, string[]>>;
  /** member id → ids of the groups listing it. */
  memberOf: Map<string, Set<string>>;
  /**
   * Tombstones of deleted users: tombstoneDigest(attribute, value) → deletion time (epoch ms), oldest
   * first (a re-deleted value moves to the end), like the Redis store's sorted set.
   */
  gone: Map<string, number>;
  /** Sum of the live resources' `bytes`. */
  bytes: number;
}

const indexKey = (kind: ResourceKind, attribute: string): string => `${kind}\u0000${attribute}`;

/** Options of {@link memoryStore}. */
export type MemoryStoreOptions = TombstoneOptions;

/** A store that keeps everything in this process's memory (lost on restart, not shared). */
export function memoryStore(options: MemoryStoreOptions = {}): Store {
  const { tombstoneRetentionMs: retention, maxTombstones, now } = resolveTombstoneOptions(options);
  const connections = new Map<string, StoredConnection>();
  const byCustomer = new Map<string, string>();
  const spaces = new Map<string, Space>();

  const space = (connectionId: string): Space | undefined => spaces.get(connectionId);

  function copyConnection(c: StoredConnection): StoredConnection {
    return { ...c };
  }

  function idsAt(s: Space, kind: ResourceKind, attribute: string, value: string): string[] {
    return s.indexes.get(indexKey(kind, attribute))?.get(value) ?? [];
  }

  function conflict(s: Space, write: ResourceWrite): string | null {
    for (const entry of write.indexes) {
      if (!entry.unique) continue;
      if (idsAt(s, write.kind, entry.attribute, entry.value).some((other) => other !== write.id)) {
        return entry.attribute;
      }
    }
    return null;
  }

  function addIndexes(s: Space, kind: ResourceKind, id: string, entries: IndexEntry[]): void {
    for (const entry of entries) {
      const key = indexKey(kind, entry.attribute);
      let values = s.indexes.get(key);
      if (!values) s.indexes.set(key, (values = new Map()));
      const ids = values.get(entry.value) ?? [];
      if (!ids.includes(id)) values.set(entry.value, [...ids, id]);
    }
  }

  function removeIndexes(s: Space, kind: ResourceKind, id: string, entries: IndexEntry[]): void {
    for (const entry of entries) {
      const values = s.indexes.get(indexKey(kind, entry.attribute));
      const rest = (values?.get(entry.value) ?? []).filter((other) => other !== id);
      if (rest.length > 0) values?.set(entry.value, rest);
      else values?.delete(entry.value);
    }
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

  /** Replaces a group's member list: O(old + new); users that join or leave are bumped. */
  function setMembers(s: Space, group: Entry, after: StoredMember[]): void {
    const next = new Map(after.map((m) => [m.value, m]));
    for (const value of group.members.keys()) if (!next.has(value)) unlink(s, group.id, value);
    for (const value of next.keys()) if (!group.members.has(value)) link(s, group.id, value);
    group.members = next;
    group.memberList = null;
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

  /** Applies member changes: O(k). */
  function applyChanges(s: Space, group: Entry, changes: MemberChanges): void {
    for (const value of changes.remove) {
      if (!group.members.delete(value)) continue;
      unlink(s, group.id, value);
      group.memberList = null;
    }
    for (const m of changes.add) {
      if (group.members.has(m.value)) continue;
      group.members.set(m.value, m);
      link(s, group.id, m.value);
      group.memberList = null;
    }
  }

  function memberBytesOf(members: Iterable<StoredMember>): number {
    let n = 0;
    for (const m of members) n += memberBytes(m);
    return n;
  }

  function listOf(group: Entry): StoredMember[] {
    if (group.memberList === null) group.memberList = [...group.members.values()];
    return group.memberList;
  }

  /** The connection whose current or unexpired previous token has this hash, if any. */
  function tokenOwner(tokenHash: string): StoredConnection | undefined {
    // A linear scan is fine for a development store; the Redis store does one GET.
    for (const c of connections.values()) {
      if (c.tokenHash === tokenHash) return c;
      if (c.previousTokenHash === tokenHash && c.previousTokenExpiresAt !== null && c.previousTokenExpiresAt > now()) {
        return c;
      }
    }
    return undefined;
  }

  /** True when a hash `tokens` would make work is another connection's live token. */
  function tokensTaken(connectionId: string, tokens: Pick<StoredConnection, 'tokenHash' | 'previousTokenHash' | 'previousTokenExpiresAt'>): boolean {
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
    for (const { attribute, value } of entries) {
      const digest = tombstoneDigest(attribute, value);
      s.gone.delete(digest);
      s.gone.set(digest, at);
    }
    let budget = TOMBSTONE_TRIM_BUDGET;
    for (const [digest, deletedAt] of s.gone) {
      if (budget-- <= 0 || deletedAt > at - retention) break;
      s.gone.delete(digest);
    }
    let over = Math.min(s.gone.size - maxTombstones, entries.length + TOMBSTONE_TRIM_BUDGET);
    for (const digest of s.gone.keys()) {
      if (over-- <= 0) break;
      s.gone.delete(digest);
    }
  }

  function buried(s: Space | undefined, attribute: string, value: string): boolean {
    const deletedAt = s?.gone.get(tombstoneDigest(attribute, value));
    return deletedAt !== undefined && deletedAt > now() - retention;
  }

  /** The quota a write would exceed, checked in the same order as the Redis scripts, or null. */
  function overQuota(s: Space, write: ResourceWrite, creating: boolean, delta: number, quota: StoreQuota | undefined): WriteOutcome | null {
    if (!quota) return null;
    if (creating && write.kind === 'User' && s.resources.User.size >= quota.maxUsers) {
      return { ok: false, reason: 'quota', quota: 'users', limit: quota.maxUsers };
    }
    if (creating && write.kind === 'Group' && s.resources.Group.size >= quota.maxGroups) {
      return { ok: false, reason: 'quota', quota: 'groups', limit: quota.maxGroups };
    }
    // A write that does not grow the connection is never refused, even when it is already over.
    if (delta > 0 && s.bytes + delta > quota.maxBytes) return { ok: false, reason: 'quota', quota: 'bytes', limit: quota.maxBytes };
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
    } else {
      const groups = [...(s.memberOf.get(entry.id) ?? [])]
        .map((gid) => s.resources.Group.get(gid))
        .filter((g): g is Entry => g !== undefined)
        .sort((a, b) => a.seq - b.seq);
      out.groups = groups.map((g) => ({ value: g.id, display: g.displayName }));
    }
    return out;
  }

  const store: Store = {
    kind: 'memory',

    async createConnection(connection) {
      assertStoreId('connectionId', connection.connectionId);
      assertStoreId('customerId', connection.customerId);
      checkTokens(connection);
      if (byCustomer.has(connection.customerId)) return 'exists';
      if (connections.has(connection.connectionId)) throw new Error('connectionId is already in use');
      if (tokensTaken(connection.connectionId, connection)) return 'token_in_use';
      connections.set(connection.connectionId, copyConnection(connection));
      byCustomer.set(connection.customerId, connection.connectionId);
      spaces.set(connection.connectionId, {
        seq: 0,
        resources: { User: new Map(), Group: new Map() },
        indexes: new Map(),
        memberOf: new Map(),
        gone: new Map(),
        bytes: 0,
      });
      return 'created';
    },

    async getCustomer(customerId) {
      const [connection, client] = await Promise.all([this.getConnectionByCustomer(customerId), this.getOidcClient(customerId)]);
      return { connection, client };
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
      checkTokens(tokens);
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
      connections.set(connectionId, next);
      return { ok: true, connection: copyConnection(next) };
    },

    async deleteConnection(connectionId) {
      assertStoreId('connectionId', connectionId);
      const c = connections.get(connectionId);
      if (!c) return false;
      connections.delete(connectionId);
      byCustomer.delete(c.customerId);
      spaces.delete(connectionId);
      return true;
    },

    async createResource(connectionId, input, quota) {
      assertStoreId('connectionId', connectionId);
      assertQuota(quota);
      const write = normalizeResourceWrite(input);
      const s = space(connectionId);
      if (!s) return { ok: false, reason: 'not_found' };
      const existing = s.resources[write.kind];
      if (existing.has(write.id)) return { ok: false, reason: 'uniqueness', attribute: 'id' };
      const taken = conflict(s, write);
      if (taken !== null) return { ok: false, reason: 'uniqueness', attribute: taken };
      if (write.memberChanges !== undefined) throw new TypeError('memberChanges are for replaceResource only');
      const bytes = resourceBytes(write);
      const refused = overQuota(s, write, true, bytes, quota);
      if (refused) return refused;
      s.bytes += bytes;
      const entry: Entry = {
        id: write.id,
        kind: write.kind,
        json: write.json,
        version: 1,
        seq: ++s.seq,
        indexes: write.indexes,
        members: new Map(),
        memberList: null,
        displayName: write.displayName ?? '',
        bytes,
      };
      existing.set(write.id, entry);
      addIndexes(s, write.kind, write.id, write.indexes);
      if (write.kind === 'Group') setMembers(s, entry, write.members ?? []);
      return { ok: true, version: 1 };
    },

    async replaceResource(connectionId, input, expectedVersion, quota): Promise<WriteOutcome> {
      assertStoreId('connectionId', connectionId);
      assertQuota(quota);
      const write = normalizeResourceWrite(input);
      const s = space(connectionId);
      const entry = s?.resources[write.kind].get(write.id);
      if (!s || !entry) return { ok: false, reason: 'not_found' };
      if (entry.version !== expectedVersion) {
        return { ok: false, reason: 'version_mismatch', currentVersion: entry.version };
      }
      const taken = conflict(s, write);
      if (taken !== null) return { ok: false, reason: 'uniqueness', attribute: taken };
      // The bytes of everything but the members, then the members' (old, and after this write).
      const ownBytes = resourceBytes({ ...write, members: [] });
      const oldMembers = memberBytesOf(entry.members.values());
      let newMembers = oldMembers;
      if (write.members !== undefined) newMembers = memberBytesOf(write.members);
      else if (write.memberChanges !== undefined) newMembers = oldMembers + changeBytes(entry, write.memberChanges);
      const bytes = ownBytes + newMembers;
      const refused = overQuota(s, write, false, bytes - entry.bytes, quota);
      if (refused) return refused;
      s.bytes += bytes - entry.bytes;
      entry.bytes = bytes;
      removeIndexes(s, write.kind, write.id, entry.indexes);
      addIndexes(s, write.kind, write.id, write.indexes);
      if (write.kind === 'Group') {
        if (write.members !== undefined) setMembers(s, entry, write.members);
        else if (write.memberChanges !== undefined) applyChanges(s, entry, write.memberChanges);
        entry.displayName = write.displayName ?? '';
      }
      entry.json = write.json;
      entry.indexes = write.indexes;
      entry.version += 1;
      return { ok: true, version: entry.version };
    },

    async deleteResource(connectionId, kind, id, expectedVersion) {
      assertStoreId('connectionId', connectionId);
      assertResourceKind(kind);
      if (expectedVersion !== undefined && !Number.isSafeInteger(expectedVersion)) {
        throw new TypeError('expectedVersion must be an integer');
      }
      const s = space(connectionId);
      const entry = s?.resources[kind].get(id);
      if (!s || !entry) return false;
      if (expectedVersion !== undefined && entry.version !== expectedVersion) {
        return { ok: false, reason: 'version_mismatch', currentVersion: entry.version };
      }
      s.resources[kind].delete(id);
      s.bytes -= entry.bytes;
      removeIndexes(s, kind, id, entry.indexes);
      if (kind === 'User') bury(s, entry.indexes);
      // Leave every group that lists it; those groups changed, so their versions move on.
      for (const gid of s.memberOf.get(id) ?? []) {
        const group = s.resources.Group.get(gid);
        if (!group || gid === id) continue;
        const member = group.members.get(id);
        if (!member) continue;
        group.members.delete(id);
        group.memberList = null;
        const cost = memberBytes(member);
        group.bytes -= cost;
        s.bytes -= cost;
        group.version += 1;
      }
      s.memberOf.delete(id);
      if (kind === 'Group') setMembers(s, entry, []);
      return true;
    },

    async getResource(connectionId, kind, id, options) {
      assertStoreId('connectionId', connectionId);
      assertResourceKind(kind);
      const s = space(connectionId);
      const entry = s?.resources[kind].get(id);
      return s && entry ? output(s, entry, options) : null;
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

    async findByIndex(connectionId, kind, attribute, value, options) {
      assertStoreId('connectionId', connectionId);
      assertResourceKind(kind);
      assertIndexAttribute(attribute);
      if (typeof value !== 'string') throw new TypeError('index value must be a string');
      const s = space(connectionId);
      return s ? found(s, kind, attribute, value, options) : [];
    },

    async findUsersForLoginBatch(connectionId, lookups) {
      assertStoreId('connectionId', connectionId);
      assertLookups(lookups);
      const s = space(connectionId);
      if (!s) return lookups.map(() => ({ users: [], deletedMatch: false }));
      const byId = new Map<string, NumberedUser>(); // one object per user, whichever lookups find it
      const numbered = (e: Entry): NumberedUser => {
        const user = byId.get(e.id) ?? { ...output(s, e), seq: e.seq };
        byId.set(e.id, user);
        return user;
      };
      return lookups.map(({ attribute, value }) => {
        const users = entriesAt(s, 'User', attribute, value).map(numbered);
        return { users, deletedMatch: users.length === 0 && buried(s, attribute, value) };
      });
    },

    async scanUsers(connectionId, afterSeq, count) {
      assertStoreId('connectionId', connectionId);
      assertPaging(afterSeq, count);
      const s = space(connectionId);
      const users: NumberedUser[] = [];
      if (!s || count === 0) return users;
      for (const e of s.resources.User.values()) {
        // Map order is insertion order = creation order, so seqs only grow along it.
        if (e.seq <= afterSeq) continue;
        users.push({ ...output(s, e), seq: e.seq });
        if (users.length === count) break;
      }
      return users;
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
      const s = space(connectionId);
      if (!s) return { total: 0, resources: [] };
      const all = [...s.resources[kind].values()]; // Map order is insertion order = creation order
      return { total: all.length, resources: all.slice(offset, offset + count).map((e) => output(s, e, options)) };
    },

    ...memoryOidcMethods(() => byCustomer.keys()),

    recordLogin(customerId, attempt) {
      return recordLoginInSteps(store, customerId, attempt);
    },

    async close() {},
  };
  return store;
}

/** The token checks both stores apply (the Redis store writes these values into keys and PEXPIREAT). */
function checkTokens(tokens: Pick<StoredConnection, 'tokenHash' | 'previousTokenHash' | 'previousTokenExpiresAt'>): void {
  assertStoreId('tokenHash', tokens.tokenHash);
  if (tokens.previousTokenHash !== null) assertStoreId('previousTokenHash', tokens.previousTokenHash);
  if (tokens.previousTokenExpiresAt !== null && !Number.isFinite(tokens.previousTokenExpiresAt)) {
    throw new TypeError('previousTokenExpiresAt must be epoch milliseconds or null');
  }
}
