/**
 * The Redis store, shared by every app instance. Key layout (`<p>` = prefix, `<k>` = `u` users / `g` groups):
 *
 *   <p>token:<tokenHash>            STRING  `<rev>:<connection JSON>`; previous tokens carry PEXPIREAT
 *   <p>customer:<customerId>        STRING  `<rev>:<connection JSON>`; SET NX makes creation atomic
 *   <p>{c:<id>}:conn                STRING  `<rev>:<connection JSON>`, the authoritative record
 *   <p>{c:<id>}:dying               STRING  the record while deleteConnection runs (renamed from conn)
 *   <p>{c:<id>}:seq                 STRING  creation counter shared by users and groups
 *   <p>{c:<id>}:<k>:order           ZSET    resource id, scored by its seq (the creation counter)
 *   <p>{c:<id>}:<k>:r               HASH    seq -> `<version>:<len(id)>:<len(x)>:<id><x><json>`,
 *                                           x = the resource's own index entries (msgpack)
 *   <p>{c:<id>}:<k>:i:<attribute>   HASH    index value -> space-separated seqs
 *   <p>{c:<id>}:g:dn                HASH    group id -> displayName (for users' derived `groups`)
 *   <p>{c:<id>}:g:m:<groupId>       HASH    member value -> `[position, display?, type?]` JSON
 *   <p>{c:<id>}:member              HASH    member value -> space-separated ids of groups listing it
 *   <p>{c:<id>}:attrs               SET     the `<k>:i:<attribute>` suffixes in use (for deleteConnection)
 *
 * Everything of one connection carries the hash tag `{c:<id>}` (one Cluster slot, so multi-key Lua is
 * legal); token and customer keys are reached with single-key commands only. Resources live in one hash
 * per kind, keyed by seq, and indexes hold seqs: measured, that is ~2.3× the JSON size per user with four
 * indexes, against ~2.8× for one STRING key per resource and ~3.2× for one HASH key per resource.
 */
import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import * as lua from './redis-scripts.js';
import {
  assertIndexAttribute,
  assertPaging,
  assertResourceKind,
  assertStoreId,
  isValidStoreId,
  normalizeResourceWrite,
  type ResourceKind,
  type ResourceWrite,
  type Store,
  type StoredConnection,
  type StoredMember,
  type StoredResource,
  type WriteOutcome,
} from './store.js';

/** Options of {@link redisStore}. */
export interface RedisStoreOptions {
  /** The app's ioredis client (standalone or Cluster); the store never closes it. */
  client: Redis | Cluster;
  /** Prepended to every key. Default: 'scim:'. Must not contain `{` or `}`. */
  prefix?: string;
}

const SCRIPTS = {
  create: { lua: lua.CREATE_RESOURCE, keys: 1, readOnly: false },
  replace: { lua: lua.REPLACE_RESOURCE, keys: 1, readOnly: false },
  delete: { lua: lua.DELETE_RESOURCE, keys: 1, readOnly: false },
  get: { lua: lua.GET_RESOURCE, keys: 1, readOnly: true },
  find: { lua: lua.FIND_BY_INDEX, keys: 1, readOnly: true },
  page: { lua: lua.LIST_PAGE, keys: 1, readOnly: true },
  sweep: { lua: lua.SWEEP_CONNECTION, keys: 1, readOnly: false },
  setIfNewer: { lua: lua.SET_IF_NEWER, keys: 1, readOnly: false },
  deleteCopy: { lua: lua.DELETE_COPY, keys: 1, readOnly: false },
  cas: { lua: lua.CAS_CONNECTION, keys: 1, readOnly: false },
  beginDelete: { lua: lua.BEGIN_DELETE, keys: 2, readOnly: false },
} as const;
type ScriptName = keyof typeof SCRIPTS;

/** Resources deleted per round trip by deleteConnection. */
const SWEEP_BATCH = 200;
const KIND_CODE: Record<ResourceKind, string> = { User: 'u', Group: 'g' };

/**
 * Command names carry a hash of their source, so two versions of this library sharing one client never
 * overwrite each other's scripts, and several stores on one client reuse one definition.
 */
const COMMAND_NAMES = Object.fromEntries(
  Object.entries(SCRIPTS).map(([name, s]) => [
    name,
    `scimSso_${name}_${createHash('sha1').update(s.lua).digest('hex').slice(0, 8)}`,
  ]),
) as Record<ScriptName, string>;

type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;

/** A StoredConnection with the revision that orders its copies. */
interface Revision {
  rev: number;
  record: StoredConnection;
}

/** A SCIM store on Redis (standalone or Cluster); see the key layout at the top of this file. */
export function redisStore(options: RedisStoreOptions): Store {
  const prefix = options.prefix ?? 'scim:';
  if (typeof prefix !== 'string' || /[{}]/.test(prefix)) {
    throw new TypeError('prefix must be a string without { or } (they would replace the hash tag)');
  }
  const client = options.client;
  // Plain commands: Redis and Cluster share these signatures; the cast only picks one for TypeScript.
  const redis = client as Redis;
  for (const [name, s] of Object.entries(SCRIPTS) as [ScriptName, (typeof SCRIPTS)[ScriptName]][]) {
    const command = COMMAND_NAMES[name];
    if (typeof (client as unknown as Record<string, unknown>)[command] !== 'function') {
      client.defineCommand(command, { lua: s.lua, numberOfKeys: s.keys, readOnly: s.readOnly });
    }
  }
  const run = (name: ScriptName, ...args: (string | number)[]): Promise<unknown> =>
    (client as unknown as Record<string, ScriptFn>)[COMMAND_NAMES[name]]!(...args);

  const tag = (connectionId: string): string => `${prefix}{c:${connectionId}}:`;
  const connKey = (connectionId: string): string => `${tag(connectionId)}conn`;
  const tokenKey = (hash: string): string => `${prefix}token:${hash}`;
  const customerKey = (customerId: string): string => `${prefix}customer:${customerId}`;

  /** The token keys that must work for `record`: its current token, and its previous one until expiry. */
  function liveTokens(record: StoredConnection): { key: string; expiresAt: number | null }[] {
    const live: { key: string; expiresAt: number | null }[] = [{ key: tokenKey(record.tokenHash), expiresAt: null }];
    const { previousTokenHash: previous, previousTokenExpiresAt: expiresAt } = record;
    if (previous !== null && previous !== record.tokenHash && expiresAt !== null && expiresAt > Date.now()) {
      live.push({ key: tokenKey(previous), expiresAt });
    }
    return live;
  }

  async function writeTokens(record: StoredConnection, rev: number, value: string): Promise<string[]> {
    const live = liveTokens(record);
    const expiry = (at: number | null): string | number => (at === null ? '' : Math.ceil(at)); // PEXPIREAT wants an integer
    await Promise.all(live.map((t) => run('setIfNewer', t.key, rev, value, expiry(t.expiresAt), '')));
    return live.map((t) => t.key);
  }

  return {
    kind: 'redis',

    async createConnection(connection) {
      const record = checkConnection(connection);
      const value = serialize(1, record);
      // Order: claim the id-scoped record (NX), then the customer (NX: the atomic "one per customer"
      // decision), then make tokens work. A crash in between leaves nothing half-usable: before the
      // customer key nothing finds the record; before the token keys no request authenticates, and the
      // app can still find the connection by customer to rotate its token or delete it.
      if ((await redis.set(connKey(record.connectionId), value, 'NX')) === null) {
        if ((await redis.exists(customerKey(record.customerId))) === 1) return 'exists';
        throw new Error('connectionId is already in use');
      }
      if ((await redis.set(customerKey(record.customerId), value, 'NX')) === null) {
        await redis.del(connKey(record.connectionId));
        return 'exists';
      }
      await writeTokens(record, 1, value);
      return 'created';
    },

    async getConnectionByCustomer(customerId) {
      assertStoreId('customerId', customerId);
      const raw = await redis.get(customerKey(customerId));
      return raw === null ? null : parseRevision(raw).record;
    },

    async findConnectionByTokenHash(tokenHash) {
      if (!isValidStoreId(tokenHash)) return null;
      const raw = await redis.get(tokenKey(tokenHash));
      if (raw === null) return null;
      const { record } = parseRevision(raw);
      if (record.tokenHash === tokenHash) return record;
      // PEXPIREAT runs on Redis's clock; checking here too keeps the app's clock authoritative.
      const expiresAt = record.previousTokenExpiresAt;
      if (record.previousTokenHash === tokenHash && expiresAt !== null && expiresAt > Date.now()) return record;
      return null;
    },

    async updateConnectionTokens(connectionId, tokens) {
      assertStoreId('connectionId', connectionId);
      // Order: (1) compare-and-set the record, which serialises concurrent rotations; (2) write the token
      // keys that must work; (3) refresh the customer copy; (4) delete token keys that must stop working;
      // (5) read the record again: if the connection is gone, remove what (2) wrote; if a newer rotation
      // won meanwhile, remove what (2) wrote that the newer record does not keep (the newer rotation may
      // have run its step 4 before our step 2). The new token is returned only after (2), so nobody can
      // present it before its key exists; copies carry `rev`, so an older rotation never overwrites or
      // deletes a newer one's keys.
      for (let attempt = 0; attempt < 16; attempt++) {
        const raw = await redis.get(connKey(connectionId));
        if (raw === null) return null;
        const { rev, record } = parseRevision(raw);
        const next = checkConnection({ ...record, ...pickTokens(tokens) });
        const mine = rev + 1;
        const value = serialize(mine, next);
        const swapped = Number(await run('cas', connKey(connectionId), rev, value));
        if (swapped === -1) return null;
        if (swapped === 0) continue;
        const written = await writeTokens(next, mine, value);
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
          await Promise.all(orphans.map((key) => run('deleteCopy', key, connectionId, mine + 1)));
          if (latest === null) return null;
        }
        return next;
      }
      throw new Error('token rotation kept losing to concurrent rotations');
    },

    async deleteConnection(connectionId) {
      assertStoreId('connectionId', connectionId);
      // Renaming conn away first makes every resource write fail (its script checks conn) and every
      // concurrent rotation give up; then the copies outside the tag go, then the tagged data in batches.
      // An interrupted delete leaves `dying`, and calling deleteConnection again finishes it.
      const raw = String(await run('beginDelete', connKey(connectionId), `${tag(connectionId)}dying`));
      if (raw !== '') {
        const { record } = parseRevision(raw);
        const keys = [record.tokenHash, record.previousTokenHash]
          .filter((h): h is string => h !== null)
          .map(tokenKey)
          .concat(customerKey(record.customerId));
        await Promise.all(keys.map((key) => run('deleteCopy', key, connectionId, '')));
      }
      while (Number(await run('sweep', tag(connectionId), SWEEP_BATCH)) > 0) {
        // each call deletes one batch
      }
      return raw !== '';
    },

    async createResource(connectionId, input) {
      assertStoreId('connectionId', connectionId);
      const write = normalizeResourceWrite(input);
      return outcome(await run('create', tag(connectionId), ...writeArgs(write, 0)));
    },

    async replaceResource(connectionId, input, expectedVersion) {
      assertStoreId('connectionId', connectionId);
      if (!Number.isSafeInteger(expectedVersion)) throw new TypeError('expectedVersion must be an integer');
      const write = normalizeResourceWrite(input);
      return outcome(await run('replace', tag(connectionId), ...writeArgs(write, expectedVersion)));
    },

    async deleteResource(connectionId, kind, id) {
      assertStoreId('connectionId', connectionId);
      assertResourceKind(kind);
      if (!isValidStoreId(id)) return false; // such an id can never have been written
      return Number(await run('delete', tag(connectionId), KIND_CODE[kind], id)) === 1;
    },

    async getResource(connectionId, kind, id) {
      assertStoreId('connectionId', connectionId);
      assertResourceKind(kind);
      if (!isValidStoreId(id)) return null;
      const reply = (await run('get', tag(connectionId), KIND_CODE[kind], id)) as unknown[];
      return reply.length === 0 ? null : parseResource(kind, reply);
    },

    async findByIndex(connectionId, kind, attribute, value) {
      assertStoreId('connectionId', connectionId);
      assertResourceKind(kind);
      assertIndexAttribute(attribute);
      if (typeof value !== 'string') throw new TypeError('index value must be a string');
      const reply = (await run('find', tag(connectionId), KIND_CODE[kind], attribute, value)) as unknown[][];
      return reply.map((r) => parseResource(kind, r));
    },

    async listPage(connectionId, kind, offset, count) {
      assertStoreId('connectionId', connectionId);
      assertResourceKind(kind);
      assertPaging(offset, count);
      const [total, rows] = (await run('page', tag(connectionId), KIND_CODE[kind], offset, count)) as [
        number,
        unknown[][],
      ];
      return { total: Number(total), resources: rows.map((r) => parseResource(kind, r)) };
    },

    async close() {
      // The client belongs to the app; the store holds nothing else.
    },
  };
}

function pickTokens(
  tokens: Pick<StoredConnection, 'tokenHash' | 'previousTokenHash' | 'previousTokenExpiresAt'>,
): Pick<StoredConnection, 'tokenHash' | 'previousTokenHash' | 'previousTokenExpiresAt'> {
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
  assertStoreId('tokenHash', c.tokenHash);
  if (c.previousTokenHash !== null) assertStoreId('previousTokenHash', c.previousTokenHash);
  if (c.previousTokenExpiresAt !== null && !Number.isFinite(c.previousTokenExpiresAt)) {
    throw new TypeError('previousTokenExpiresAt must be epoch milliseconds or null');
  }
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

const serialize = (rev: number, record: StoredConnection): string => `${rev}:${JSON.stringify(record)}`;

function parseRevision(raw: string): Revision {
  const colon = raw.indexOf(':');
  const rev = Number(raw.slice(0, colon));
  if (colon < 1 || !Number.isSafeInteger(rev)) throw new Error('malformed connection record in Redis');
  return { rev, record: JSON.parse(raw.slice(colon + 1)) as StoredConnection };
}

/** The ARGV of the create/replace scripts; see WRITE_PRELUDE in redis-scripts.ts. */
function writeArgs(write: ResourceWrite, expectedVersion: number): (string | number)[] {
  const args: (string | number)[] = [
    KIND_CODE[write.kind],
    write.id,
    write.json,
    expectedVersion,
    write.displayName ?? '',
    write.indexes.length,
  ];
  for (const e of write.indexes) args.push(e.attribute, e.value, e.unique ? '1' : '0');
  const members = write.members ?? [];
  args.push(members.length);
  members.forEach((m, position) => {
    // The position travels with the member because Redis hashes keep no order.
    const meta: (number | string | null)[] = [position, m.display ?? null, m.type ?? null];
    while (meta[meta.length - 1] === null) meta.pop();
    args.push(m.value, JSON.stringify(meta));
  });
  return args;
}

function outcome(reply: unknown): WriteOutcome {
  const [status, detail] = reply as [string, string | number | undefined];
  switch (status) {
    case 'ok':
      return { ok: true, version: Number(detail) };
    case 'uniqueness':
      return { ok: false, reason: 'uniqueness', attribute: String(detail) };
    case 'not_found':
      return { ok: false, reason: 'not_found' };
    case 'version_mismatch':
      return { ok: false, reason: 'version_mismatch', currentVersion: Number(detail) };
    default:
      throw new Error(`unexpected reply from the Redis store: ${String(status)}`);
  }
}

/** Turns a loaded {id, json, version, aux} reply (see READ_PRELUDE) into a StoredResource. */
function parseResource(kind: ResourceKind, row: unknown[]): StoredResource {
  const [id, json, version, aux] = row as [string, string, string, string[]];
  const out: StoredResource = { id, kind, json, version: Number(version) };
  if (kind === 'User') {
    out.groups = [];
    for (let i = 0; i + 1 < aux.length; i += 2) out.groups.push({ value: aux[i]!, display: aux[i + 1]! });
    return out;
  }
  const members: { position: number; member: StoredMember }[] = [];
  for (let i = 0; i + 1 < aux.length; i += 2) {
    const [position, display, type] = JSON.parse(aux[i + 1]!) as [number, (string | null)?, (string | null)?];
    const member: StoredMember = { value: aux[i]! };
    if (typeof display === 'string') member.display = display;
    if (typeof type === 'string') member.type = type;
    members.push({ position, member });
  }
  out.members = members.sort((a, b) => a.position - b.position).map((m) => m.member);
  return out;
}
