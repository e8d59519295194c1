/**
 * The memory store's connections: each record, its customer and its tokens (current, and previous until it
 * expires), and the customers' role mappings.
 */
import { isValidStoreId, type Store, type StoredConnection, type StoredRoleMapping, type TokenUpdate } from './store.js';
import { assertConnectionTokens, assertStoreId, checkRoleMapping } from './store-checks.js';
import type { ConnectionTokens } from './store.js';

export interface MemoryConnections {
  methods: Pick<
    Store,
    | 'createConnection'
    | 'getRoleMapping'
    | 'setRoleMapping'
    | 'getConnectionByCustomer'
    | 'findConnectionByTokenHash'
    | 'updateConnectionTokens'
    | 'deleteConnection'
  >;
  /** The connection with this id (the stored record itself: not for callers outside the store). */
  get(connectionId: string): StoredConnection | undefined;
  /** The customers that have a connection. */
  customerIds(): IterableIterator<string>;
}

/** `hooks`: what the rest of the store does when a connection is created, and when it is deleted. */
export function memoryConnections(now: () => number, hooks: { created(connectionId: string): void; deleted(connectionId: string): void }): MemoryConnections {
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

  function copyConnection(c: StoredConnection): StoredConnection {
    return { ...c };
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

  return {
    methods: {
      async createConnection(connection) {
        assertStoreId('connectionId', connection.connectionId);
        assertStoreId('customerId', connection.customerId);
        assertConnectionTokens(connection);
        if (byCustomer.has(connection.customerId)) return 'exists';
        if (connections.has(connection.connectionId)) throw new Error('connectionId is already in use');
        if (tokensTaken(connection.connectionId, connection)) return 'token_in_use';
        putConnection(copyConnection(connection));
        byCustomer.set(connection.customerId, connection.connectionId);
        hooks.created(connection.connectionId);
        return 'created';
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
        hooks.deleted(connectionId);
        return true;
      },
    },
    get: (connectionId) => connections.get(connectionId),
    customerIds: () => byCustomer.keys(),
  };
}
