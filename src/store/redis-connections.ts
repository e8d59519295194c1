/**
 * The connection records of the Redis store: the authoritative record under the connection's tag, its copies
 * under the customer and under each live token (other Cluster slots, so written one key at a time and
 * ordered by a revision), token rotation, and deleting a connection with everything it holds.
 */
import type { RedisEventConsumers } from './redis-event-consumers.js';
import type { RedisContext } from './redis-context.js';
import type { RedisSso } from './redis-sso.js';
import { parseOidcClient, parseSamlConnection } from './sso-records.js';
import { isValidStoreId, type Store, type StoredConnection, type StoredRoleMapping, type TokenUpdate } from './store.js';
import { assertConnectionTokens, assertStoreId, checkRoleMapping } from './store-checks.js';
import type { ConnectionTokens } from './store.js';

/** Resources deleted per round trip by deleteConnection. */
const SWEEP_BATCH = 200;

/** A StoredConnection with the revision that orders its copies. */
export interface Revision {
  rev: number;
  record: StoredConnection;
}

export type RedisConnectionMethods = Pick<
  Store,
  | 'createConnection'
  | 'getConnectionByCustomer'
  | 'getCustomer'
  | 'getRoleMapping'
  | 'setRoleMapping'
  | 'findConnectionByTokenHash'
  | 'updateConnectionTokens'
  | 'deleteConnection'
  | 'unfinishedConnectionDeletes'
>;

export function redisConnections(ctx: RedisContext, ssoPart: RedisSso, consumers: Pick<RedisEventConsumers, 'forget'>): RedisConnectionMethods {
  const { redis, run, tag, customerKey, now, prefix } = ctx;
  const connKey = (connectionId: string): string => `${tag(connectionId)}conn`;
  const tokenKey = (hash: string): string => `${prefix}token:${hash}`;
  const rolesKey = (customerId: string): string => `${prefix}roles:{${customerId}}`;
  const deletingKey = (customerId: string): string => `${prefix}deleting:{${customerId}}`;

  /** The token keys that must work for `record`: its current token, and its previous one until expiry. */
  function liveTokens(record: StoredConnection): { key: string; hash: string; expiresAt: number | null }[] {
    const live: { key: string; hash: string; expiresAt: number | null }[] = [{ key: tokenKey(record.tokenHash), hash: record.tokenHash, expiresAt: null }];
    const { previousTokenHash: previous, previousTokenExpiresAt: expiresAt } = record;
    if (previous !== null && previous !== record.tokenHash && expiresAt !== null && expiresAt > now()) {
      live.push({ key: tokenKey(previous), hash: previous, expiresAt });
    }
    return live;
  }

  /** Runs CLAIM_TOKEN for each of `live` (copies of `record` at `rev`); answers the replies (1, 0 or -1). */
  async function claim(record: StoredConnection, live: ReturnType<typeof liveTokens>, rev: number, value: string): Promise<number[]> {
    const expiry = (at: number | null): string | number => (at === null ? '' : Math.ceil(at)); // PEXPIREAT wants an integer
    const replies = await Promise.all(live.map((t) => run('claimToken', t.key, record.connectionId, rev, value, expiry(t.expiresAt), now(), t.hash)));
    return replies.map(Number);
  }

  /**
   * Claims the token keys that must work for `record` and that `owned` (the connection's record before, if
   * any) did not already hold. On a refusal (another connection's live token), releases what it claimed
   * and answers false; else answers the keys written.
   */
  async function claimNewTokens(record: StoredConnection, rev: number, value: string, owned?: StoredConnection): Promise<string[] | false> {
    const held = owned ? liveTokens(owned).map((t) => t.key) : [];
    const live = liveTokens(record).filter((t) => !held.includes(t.key));
    const replies = await claim(record, live, rev, value);
    const written = live.filter((_, i) => replies[i] === 1).map((t) => t.key);
    if (replies.every((r) => r !== -1)) return written;
    await release(record.connectionId, written, rev + 1);
    return false;
  }

  /** Deletes the token keys among `keys` that hold a copy of the connection older than `belowRev`. */
  async function release(connectionId: string, keys: string[], belowRev: number | ''): Promise<void> {
    await Promise.all(keys.map((key) => run('deleteCopy', key, connectionId, belowRev)));
  }

  return {
    async createConnection(connection) {
      const record = checkConnection(connection);
      const value = serialize(1, record);
      // Order: claim the id-scoped record (NX), then the customer (NX: the atomic "one per customer"
      // decision), then claim the token (atomic set-if-absent in CLAIM_TOKEN: the token key lives in
      // another Cluster slot than the connection's, so it cannot share a script with the record; a refused
      // token undoes the first two steps). A crash in between leaves nothing half-usable: before the
      // customer key nothing finds the record; before the token keys no request authenticates, and the
      // app can still find the connection by customer to rotate its token or delete it. The customer set
      // (listCustomers) is added to after the customer key: see redis-sso.ts for why that order.
      if ((await redis.set(connKey(record.connectionId), value, 'NX')) === null) {
        if ((await redis.exists(customerKey(record.customerId))) === 1) return 'exists';
        throw new Error('connectionId is already in use');
      }
      if ((await redis.set(customerKey(record.customerId), value, 'NX')) === null) {
        await redis.del(connKey(record.connectionId));
        return 'exists';
      }
      if ((await claimNewTokens(record, 1, value)) === false) {
        await run('deleteCopy', customerKey(record.customerId), record.connectionId, '');
        await redis.del(connKey(record.connectionId));
        return 'token_in_use';
      }
      await ssoPart.customers.add(record.customerId);
      return 'created';
    },

    async getConnectionByCustomer(customerId) {
      assertStoreId('customerId', customerId);
      const raw = await redis.get(customerKey(customerId));
      return raw === null ? null : parseRevision(raw).record;
    },

    async getCustomer(customerId) {
      assertStoreId('customerId', customerId);
      const [connection, client, saml, roles] = await redis.mget(
        customerKey(customerId),
        ssoPart.oidcKey(customerId),
        ssoPart.samlKey(customerId),
        rolesKey(customerId),
      );
      return {
        connection: connection == null ? null : parseRevision(connection).record,
        client: client == null ? null : parseOidcClient(client),
        saml: saml == null ? null : parseSamlConnection(saml),
        roleMapping: roles == null ? null : parseRoleMapping(roles),
      };
    },

    async getRoleMapping(customerId) {
      assertStoreId('customerId', customerId);
      const raw = await redis.get(rolesKey(customerId));
      return raw === null ? null : parseRoleMapping(raw);
    },

    async setRoleMapping(customerId, mapping) {
      assertStoreId('customerId', customerId);
      if (mapping === null) await redis.del(rolesKey(customerId));
      else await redis.set(rolesKey(customerId), JSON.stringify(checkRoleMapping(mapping)));
    },

    async findConnectionByTokenHash(tokenHash) {
      if (!isValidStoreId(tokenHash)) return null;
      const raw = await redis.get(tokenKey(tokenHash));
      if (raw === null) return null;
      const { record } = parseRevision(raw);
      if (record.tokenHash === tokenHash) return record;
      // PEXPIREAT runs on Redis's clock; checking here too keeps the app's clock authoritative.
      const expiresAt = record.previousTokenExpiresAt;
      if (record.previousTokenHash === tokenHash && expiresAt !== null && expiresAt > now()) return record;
      return null;
    },

    async updateConnectionTokens(connectionId, tokens, expectedTokenHash): Promise<TokenUpdate> {
      assertStoreId('connectionId', connectionId);
      if (expectedTokenHash !== undefined) assertStoreId('expectedTokenHash', expectedTokenHash);
      // Order: (1) claim the token keys new to this connection (refused if another connection's live
      // token: then nothing changed); (2) compare-and-set the record, which serialises concurrent rotations
      // (if it lost, release what (1) claimed unless the winner keeps it); (3) rewrite the keys the
      // connection already held (e.g. the old token, now previous, with its expiry) and the customer copy;
      // (4) delete token keys that must stop working; (5) read the record again: if the connection is
      // gone, remove what (1) and (3) wrote; if a newer rotation won meanwhile, remove what they wrote that
      // the newer record does not keep. The new token is returned only after (2), so nobody can present it
      // before its key exists; copies carry `rev`, so an older rotation never overwrites or deletes a newer
      // one's keys. With `expectedTokenHash`, a rotation that finds another token current gives up.
      for (let attempt = 0; attempt < 16; attempt++) {
        const raw = await redis.get(connKey(connectionId));
        if (raw === null) return { ok: false, reason: 'not_found' };
        const { rev, record } = parseRevision(raw);
        if (expectedTokenHash !== undefined && record.tokenHash !== expectedTokenHash) return { ok: false, reason: 'token_changed' };
        const next = checkConnection({ ...record, ...pickTokens(tokens) });
        const mine = rev + 1;
        const value = serialize(mine, next);
        const claimed = await claimNewTokens(next, mine, value, record);
        if (claimed === false) return { ok: false, reason: 'token_in_use' };
        const swapped = Number(await run('cas', connKey(connectionId), rev, value));
        if (swapped !== 1) {
          const current = await redis.get(connKey(connectionId));
          const keep = current === null ? [] : liveTokens(parseRevision(current).record).map((t) => t.key);
          await release(
            connectionId,
            claimed.filter((key) => !keep.includes(key)),
            mine + 1,
          );
          if (swapped === -1) return { ok: false, reason: 'not_found' };
          continue;
        }
        const live = liveTokens(next);
        await claim(
          next,
          live.filter((t) => !claimed.includes(t.key)),
          mine,
          value,
        );
        const written = live.map((t) => t.key);
        await run('setIfNewer', customerKey(next.customerId), mine, value, '', 'xx');
        const stale = [record.tokenHash, record.previousTokenHash]
          .filter((h): h is string => h !== null)
          .map(tokenKey)
          .filter((key) => !written.includes(key));
        await Promise.all(stale.map((key) => run('deleteCopy', key, connectionId, mine)));
        const after = await redis.get(connKey(connectionId));
        const latest = after === null ? null : parseRevision(after);
        if (latest?.rev !== mine) {
          const keep = latest ? liveTokens(latest.record).map((t) => t.key) : [];
          const orphans = written.filter((key) => !keep.includes(key));
          await release(connectionId, orphans, mine + 1);
          if (latest === null) return { ok: false, reason: 'not_found' };
        }
        return { ok: true, connection: next };
      }
      throw new Error('token rotation kept losing to concurrent rotations');
    },

    async deleteConnection(connectionId) {
      assertStoreId('connectionId', connectionId);
      // Renaming conn away first makes every resource write fail (its script checks conn) and every
      // concurrent rotation give up; then the copies outside the tag go, then the tagged data in batches.
      // An interrupted delete leaves `dying`, and calling deleteConnection again finishes it.
      const raw = String(await run('beginDelete', connKey(connectionId), `${tag(connectionId)}dying`));
      const customerId = raw === '' ? null : parseRevision(raw).record.customerId;
      // Noted under the customer before its copies go, so that the customer's next delete or create can
      // finish a delete whose caller died (its copies were the only way from the customer to the id).
      if (customerId !== null) await redis.sadd(deletingKey(customerId), connectionId);
      if (raw !== '') {
        const { record } = parseRevision(raw);
        const keys = [record.tokenHash, record.previousTokenHash]
          .filter((h): h is string => h !== null)
          .map(tokenKey)
          .concat(customerKey(record.customerId));
        await Promise.all(keys.map((key) => run('deleteCopy', key, connectionId, '')));
        await ssoPart.customers.release(record.customerId);
      }
      while (Number(await run('sweep', tag(connectionId), SWEEP_BATCH)) > 0) {
        // each call deletes one batch
      }
      await consumers.forget(connectionId);
      if (customerId !== null) await redis.srem(deletingKey(customerId), connectionId);
      return raw !== '';
    },

    async unfinishedConnectionDeletes(customerId) {
      assertStoreId('customerId', customerId);
      const unfinished: string[] = [];
      for (const connectionId of await redis.smembers(deletingKey(customerId))) {
        // A delete whose caller died after its sweep's last batch left only this note: it is finished.
        if (await redis.exists(`${tag(connectionId)}dying`)) unfinished.push(connectionId);
        else await redis.srem(deletingKey(customerId), connectionId);
      }
      return unfinished;
    },
  };
}

function pickTokens(tokens: ConnectionTokens): ConnectionTokens {
  return {
    tokenHash: tokens.tokenHash,
    previousTokenHash: tokens.previousTokenHash,
    previousTokenExpiresAt: tokens.previousTokenExpiresAt,
  };
}

/** Validates a connection and returns it with exactly the contract's fields, in a fixed order. */
function checkConnection(c: StoredConnection): StoredConnection {
  assertStoreId('connectionId', c.connectionId);
  assertStoreId('customerId', c.customerId);
  assertConnectionTokens(c);
  return {
    connectionId: c.connectionId,
    customerId: c.customerId,
    displayName: c.displayName,
    tokenHash: c.tokenHash,
    previousTokenHash: c.previousTokenHash,
    previousTokenExpiresAt: c.previousTokenExpiresAt,
    createdAt: c.createdAt,
  };
}

/** A stored role mapping record, checked as the store writes it (written by hand otherwise: refused). */
function parseRoleMapping(raw: string): StoredRoleMapping {
  return checkRoleMapping(JSON.parse(raw) as StoredRoleMapping);
}

const serialize = (rev: number, record: StoredConnection): string => `${rev}:${JSON.stringify(record)}`;

export function parseRevision(raw: string): Revision {
  const colon = raw.indexOf(':');
  const rev = Number(raw.slice(0, colon));
  if (colon < 1 || !Number.isSafeInteger(rev)) throw new Error('malformed connection record in Redis');
  return { rev, record: JSON.parse(raw.slice(colon + 1)) as StoredConnection };
}
