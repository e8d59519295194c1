/**
 * The in-memory store: plain Maps in one process, for development, demos and tests. Every method runs
 * synchronously inside its promise, so each operation is atomic, mirroring the Redis store's Lua scripts.
 */
import {
  assertIndexAttribute,
  assertPaging,
  assertResourceKind,
  assertStoreId,
  isValidStoreId,
  normalizeResourceWrite,
  type IndexEntry,
  type LoginLookup,
  type Page,
  type ResourceKind,
  type ResourceWrite,
  type Store,
  type StoredConnection,
  type StoredMember,
  type StoredResource,
  type WriteOutcome,
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
  members: StoredMember[];
  displayName: string;
}

interface Space {
  seq: number;
  resources: Record<ResourceKind, Map<string, Entry>>;
  /** `${kind}\0${attribute}` → value → ids in insertion order. */
  indexes: Map<string, Map<string, string[]>>;
  /** member id → ids of the groups listing it. */
  memberOf: Map<string, Set<string>>;
  /** Tombstones of deleted users: attribute → index value → deletion time (epoch ms). */
  gone: Map<string, Map<string, number>>;
}

const indexKey = (kind: ResourceKind, attribute: string): string => `${kind}\u0000${attribute}`;

/** A store that keeps everything in this process's memory (lost on restart, not shared). */
export function memoryStore(): Store {
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

  function setMembers(s: Space, groupId: string, before: StoredMember[], after: StoredMember[]): void {
    const keep = new Set(after.map((m) => m.value));
    for (const m of before) if (!keep.has(m.value)) s.memberOf.get(m.value)?.delete(groupId);
    for (const m of after) {
      let groups = s.memberOf.get(m.value);
      if (!groups) s.memberOf.set(m.value, (groups = new Set()));
      groups.add(groupId);
    }
    for (const m of before) if (s.memberOf.get(m.value)?.size === 0) s.memberOf.delete(m.value);
  }

  function found(s: Space, kind: ResourceKind, attribute: string, value: string): StoredResource[] {
    return idsAt(s, kind, attribute, value)
      .map((id) => s.resources[kind].get(id))
      .filter((e): e is Entry => e !== undefined)
      .sort((a, b) => a.seq - b.seq)
      .map((e) => output(s, e));
  }

  function output(s: Space, entry: Entry): StoredResource {
    const out: StoredResource = { id: entry.id, kind: entry.kind, json: entry.json, version: entry.version };
    if (entry.kind === 'Group') {
      out.members = entry.members.map((m) => ({ ...m }));
    } else {
      const groups = [...(s.memberOf.get(entry.id) ?? [])]
        .map((gid) => s.resources.Group.get(gid))
        .filter((g): g is Entry => g !== undefined)
        .sort((a, b) => a.seq - b.seq);
      out.groups = groups.map((g) => ({ value: g.id, display: g.displayName }));
    }
    return out;
  }

  return {
    kind: 'memory',

    async createConnection(connection) {
      assertStoreId('connectionId', connection.connectionId);
      assertStoreId('customerId', connection.customerId);
      checkTokens(connection);
      if (byCustomer.has(connection.customerId)) return 'exists';
      if (connections.has(connection.connectionId)) throw new Error('connectionId is already in use');
      connections.set(connection.connectionId, copyConnection(connection));
      byCustomer.set(connection.customerId, connection.connectionId);
      spaces.set(connection.connectionId, {
        seq: 0,
        resources: { User: new Map(), Group: new Map() },
        indexes: new Map(),
        memberOf: new Map(),
        gone: new Map(),
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
      // A linear scan is fine for a development store; the Redis store does one GET.
      for (const c of connections.values()) {
        if (c.tokenHash === tokenHash) return copyConnection(c);
        if (
          c.previousTokenHash === tokenHash &&
          c.previousTokenExpiresAt !== null &&
          c.previousTokenExpiresAt > Date.now()
        ) {
          return copyConnection(c);
        }
      }
      return null;
    },

    async updateConnectionTokens(connectionId, tokens) {
      assertStoreId('connectionId', connectionId);
      checkTokens(tokens);
      const current = connections.get(connectionId);
      if (!current) return null;
      const next: StoredConnection = {
        ...current,
        tokenHash: tokens.tokenHash,
        previousTokenHash: tokens.previousTokenHash,
        previousTokenExpiresAt: tokens.previousTokenExpiresAt,
      };
      connections.set(connectionId, next);
      return copyConnection(next);
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

    async createResource(connectionId, input) {
      assertStoreId('connectionId', connectionId);
      const write = normalizeResourceWrite(input);
      const s = space(connectionId);
      if (!s) return { ok: false, reason: 'not_found' };
      const existing = s.resources[write.kind];
      if (existing.has(write.id)) return { ok: false, reason: 'uniqueness', attribute: 'id' };
      const taken = conflict(s, write);
      if (taken !== null) return { ok: false, reason: 'uniqueness', attribute: taken };
      const entry: Entry = {
        id: write.id,
        kind: write.kind,
        json: write.json,
        version: 1,
        seq: ++s.seq,
        indexes: write.indexes,
        members: write.members ?? [],
        displayName: write.displayName ?? '',
      };
      existing.set(write.id, entry);
      addIndexes(s, write.kind, write.id, write.indexes);
      if (write.kind === 'Group') setMembers(s, write.id, [], entry.members);
      return { ok: true, version: 1 };
    },

    async replaceResource(connectionId, input, expectedVersion): Promise<WriteOutcome> {
      assertStoreId('connectionId', connectionId);
      const write = normalizeResourceWrite(input);
      const s = space(connectionId);
      const entry = s?.resources[write.kind].get(write.id);
      if (!s || !entry) return { ok: false, reason: 'not_found' };
      if (entry.version !== expectedVersion) {
        return { ok: false, reason: 'version_mismatch', currentVersion: entry.version };
      }
      const taken = conflict(s, write);
      if (taken !== null) return { ok: false, reason: 'uniqueness', attribute: taken };
      removeIndexes(s, write.kind, write.id, entry.indexes);
      addIndexes(s, write.kind, write.id, write.indexes);
      if (write.kind === 'Group') {
        setMembers(s, write.id, entry.members, write.members ?? []);
        entry.members = write.members ?? [];
        entry.displayName = write.displayName ?? '';
      }
      entry.json = write.json;
      entry.indexes = write.indexes;
      entry.version += 1;
      return { ok: true, version: entry.version };
    },

    async deleteResource(connectionId, kind, id) {
      assertStoreId('connectionId', connectionId);
      assertResourceKind(kind);
      const s = space(connectionId);
      const entry = s?.resources[kind].get(id);
      if (!s || !entry) return false;
      s.resources[kind].delete(id);
      removeIndexes(s, kind, id, entry.indexes);
      if (kind === 'User') {
        const now = Date.now();
        for (const { attribute, value } of entry.indexes) {
          let values = s.gone.get(attribute);
          if (!values) s.gone.set(attribute, (values = new Map()));
          values.set(value, now);
        }
      }
      // Leave every group that lists it; those groups changed, so their versions move on.
      for (const gid of s.memberOf.get(id) ?? []) {
        const group = s.resources.Group.get(gid);
        if (!group || gid === id) continue;
        group.members = group.members.filter((m) => m.value !== id);
        group.version += 1;
      }
      s.memberOf.delete(id);
      if (kind === 'Group') setMembers(s, id, entry.members, []);
      return true;
    },

    async getResource(connectionId, kind, id) {
      assertStoreId('connectionId', connectionId);
      assertResourceKind(kind);
      const s = space(connectionId);
      const entry = s?.resources[kind].get(id);
      return s && entry ? output(s, entry) : null;
    },

    async findByIndex(connectionId, kind, attribute, value) {
      assertStoreId('connectionId', connectionId);
      assertResourceKind(kind);
      assertIndexAttribute(attribute);
      if (typeof value !== 'string') throw new TypeError('index value must be a string');
      const s = space(connectionId);
      return s ? found(s, kind, attribute, value) : [];
    },

    async findDeletedUsers(connectionId, lookups) {
      assertStoreId('connectionId', connectionId);
      const s = space(connectionId);
      return lookups.map(({ attribute, value }) => {
        assertIndexAttribute(attribute);
        return s?.gone.get(attribute)?.has(value) === true;
      });
    },

    async findUsersForLogin(connectionId, attribute, value): Promise<LoginLookup> {
      assertStoreId('connectionId', connectionId);
      assertIndexAttribute(attribute);
      if (typeof value !== 'string') throw new TypeError('index value must be a string');
      const s = space(connectionId);
      if (!s) return { users: [], deletedMatch: false };
      return { users: found(s, 'User', attribute, value), deletedMatch: s.gone.get(attribute)?.has(value) === true };
    },

    async listPage(connectionId, kind, offset, count): Promise<Page> {
      assertStoreId('connectionId', connectionId);
      assertResourceKind(kind);
      assertPaging(offset, count);
      const s = space(connectionId);
      if (!s) return { total: 0, resources: [] };
      const all = [...s.resources[kind].values()]; // Map order is insertion order = creation order
      return { total: all.length, resources: all.slice(offset, offset + count).map((e) => output(s, e)) };
    },

    ...memoryOidcMethods(() => byCustomer.keys()),

    async close() {},
  };
}

/** The token checks both stores apply (the Redis store writes these values into keys and PEXPIREAT). */
function checkTokens(tokens: Pick<StoredConnection, 'tokenHash' | 'previousTokenHash' | 'previousTokenExpiresAt'>): void {
  assertStoreId('tokenHash', tokens.tokenHash);
  if (tokens.previousTokenHash !== null) assertStoreId('previousTokenHash', tokens.previousTokenHash);
  if (tokens.previousTokenExpiresAt !== null && !Number.isFinite(tokens.previousTokenExpiresAt)) {
    throw new TypeError('previousTokenExpiresAt must be epoch milliseconds or null');
  }
}
