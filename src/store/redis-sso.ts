/**
 * The SSO half of the Redis store: SSO connections (OIDC clients and SAML connections), SSO users and the
 * customer set. Keys (`<p>` = prefix):
 *
 *   <p>oidc:{<customerId>}           STRING  the customer's OIDC client (JSON); SET NX makes creation atomic
 *   <p>sso:{s:<customerId>}:users    HASH    subject -> `<firstSeenAt>\n<JSON of the other fields>`
 *   <p>sso:{s:<customerId>}:seen     ZSET    subject, scored by seenScore(lastSeenAt) (src/seen-order.ts):
 *                                           the order of SSO user pages, kept by every write of the hash
 *   <p>saml:{<customerId>}           STRING  the customer's SAML connection (JSON); a customer has this or
 *                                           an OIDC client, never both: one script checks the other key
 *   <p>customers                     SET     customer ids with a SCIM connection, an OIDC client or a SAML connection
 *
 * The two SSO keys carry the tag `{s:<customerId>}` (one Cluster slot): the scripts that write both are
 * legal on a Cluster. Every other command here touches one key. SSO users recorded before `seen` existed
 * (or by an older version still running) are added to it by the first page read that finds it short: an
 * HSCAN in batches and `ZADD NX` (docs/matching-report.md).
 */
import type { Cluster, Redis } from 'ioredis';
import { defineScripts } from './redis-commands.js';
import { sortInSlices } from '../sliced-sort.js';
import { byUtf8, seenScore } from '../seen-order.js';
import {
  checkSsoUser,
  isSsoSubject,
  namedSsoConnectionMethods,
  OIDC_CLIENT_RECORDS,
  parseSsoUser,
  SAML_CONNECTION_RECORDS,
  SSO_DROPS_PER_RECORD,
  type SsoConnectionKind,
  type SsoConnectionRecords,
  type SsoMethods,
} from './sso-records.js';
import { type StoredSsoUser } from './store.js';
import { assertCursor, assertPaging, assertStoreId } from './store-checks.js';

/**
 * Creates an SSO connection record (KEYS[1]) unless it exists (reply 0) or the customer's record of the
 * other protocol (KEYS[2], same hash tag) exists (reply 2); reply 1 when created. ARGV[1]: the JSON.
 */
export const CREATE_SSO_RECORD = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if redis.call('EXISTS', KEYS[2]) == 1 then return 2 end
redis.call('SET', KEYS[1], ARGV[1])
return 1
`;

/**
 * Replaces an SSO connection record, an OIDC client's or a SAML connection's (KEYS[1]; ARGV: new JSON,
 * expected updatedAt or '') only if it exists and, when an expected updatedAt is given, the stored one
 * equals it. Reply 1 or 0. The JSON is our own flat record.
 */
export const REPLACE_SSO_RECORD = `
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
if ARGV[2] ~= '' and cjson.decode(current).updatedAt ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
return 1
`;

/**
 * The Lua function behind RECORD_SSO_USER, shared with LOGIN_AND_RECORD (src/store/redis-login-scripts.ts):
 * recordSso(hash key, seen key, bytes key, subject, firstSeenAt, JSON of the other fields, seen score, most
 * users kept, most bytes kept). It upserts the SSO user, keeping the earlier of the stored and the new
 * firstSeenAt, moves it in the page order and counts its bytes; past either cap the least recently seen go
 * (dropLeastSeen). The stored JSON is never decoded: firstSeenAt sits before the first newline (timestamps
 * hold no control characters). Strings are compared byte by byte, because Lua's `<` follows the server's
 * locale.
 */
export const RECORD_SSO_FUNCTION = `
local function before(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end
-- Past max users or maxBytes bytes (bytes: the count after this record), drops the least recently seen, the
-- end of the seen order, never the subject just recorded (should it be the least recently seen, the one
-- before it goes); at most ${SSO_DROPS_PER_RECORD}, so a lowered cap is reached over the next logins. Only while
-- the order holds every user: users an older version recorded join it at the first page read (fillSeen),
-- and until then nothing is dropped.
local function dropLeastSeen(key, seenKey, bytesKey, subject, max, maxBytes, bytes)
  local n = redis.call('HLEN', key)
  local function over() return n > max or (bytes ~= nil and bytes > maxBytes) end
  if not over() or redis.call('ZCARD', seenKey) < n then return end
  local dropped = 0
  while dropped < ${SSO_DROPS_PER_RECORD} and n > 1 and over() do
    local ends = redis.call('ZRANGE', seenKey, -2, -1)
    local last = ends[#ends] == subject and ends[#ends - 1] or ends[#ends]
    if not last or last == subject then break end
    if bytes ~= nil then bytes = bytes - redis.call('HSTRLEN', key, last) end
    redis.call('HDEL', key, last)
    redis.call('ZREM', seenKey, last)
    n, dropped = n - 1, dropped + 1
  end
  if bytes ~= nil then redis.call('SET', bytesKey, bytes) end
end
local function recordSso(key, seenKey, bytesKey, subject, first, json, score, max, maxBytes)
  local old = redis.call('HGET', key, subject)
  if old then
    local nl = string.find(old, '\\n', 1, true)
    if nl and before(string.sub(old, 1, nl - 1), first) then first = string.sub(old, 1, nl - 1) end
  end
  local value = first .. '\\n' .. json
  redis.call('HSET', key, subject, value)
  redis.call('ZADD', seenKey, score, subject)
  -- The bytes count holds every record or does not exist: it starts with a customer's first record, and
  -- records an older version wrote are summed into it by the first page read (catchUp). Until then only the
  -- count cap applies.
  local bytes = nil
  if redis.call('EXISTS', bytesKey) == 1 or (not old and redis.call('HLEN', key) == 1) then
    bytes = redis.call('INCRBY', bytesKey, #value - (old and #old or 0))
  end
  dropLeastSeen(key, seenKey, bytesKey, subject, tonumber(max), tonumber(maxBytes), bytes)
  return 1
end
`;

/**
 * Upserts one SSO user (KEYS: the SSO hash, the seen set, the bytes count; ARGV: subject, firstSeenAt, JSON,
 * score, most users kept, most bytes kept). Reply 1.
 */
export const RECORD_SSO_USER = `${RECORD_SSO_FUNCTION}
return recordSso(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
`;

/**
 * Adds to the seen set (KEYS[2]) the subjects of ARGV pairs (score, subject) that the SSO hash (KEYS[1])
 * holds and the set lacks: a subject dropped between fillSeen's HSCAN and this is not put back.
 */
export const FILL_SEEN = `
for i = 1, #ARGV, 2 do
  if redis.call('HEXISTS', KEYS[1], ARGV[i + 1]) == 1 then redis.call('ZADD', KEYS[2], 'NX', ARGV[i], ARGV[i + 1]) end
end
return 1
`;

/**
 * One page of SSO users (KEYS: the SSO hash, the seen set, the bytes count; ARGV: offset, count): {users in
 * the hash, users in the order, subjects of the page, their stored values ('' for one missing from the
 * hash), 1 if the bytes count exists (or there is nothing to count) else 0}. The caller fills the order and
 * the count in first when the order holds fewer users than the hash or the count is missing (catchUp).
 */
export const SSO_PAGE = `
local total, ordered = redis.call('HLEN', KEYS[1]), redis.call('ZCARD', KEYS[2])
local counted = total == 0 and 1 or redis.call('EXISTS', KEYS[3])
local offset, count = tonumber(ARGV[1]), tonumber(ARGV[2])
local subjects, values = {}, {}
if count > 0 and offset < ordered then
  subjects = redis.call('ZRANGE', KEYS[2], offset, math.min(offset + count, ordered) - 1)
  values = redis.call('HMGET', KEYS[1], unpack(subjects))
  for i = 1, #subjects do values[i] = values[i] or '' end
end
return { total, ordered, subjects, values, counted }
`;

/**
 * Most SSO users one SSO_PAGE call reads (Lua's `unpack` has a limit; longer pages take several calls): at most
 * 200 × MAX_SSO_RECORD_BYTES (6.4 MB) copied by one script, a few hundred bytes a record in practice.
 */
const PAGE_CHUNK = 200;

/** The score of an SSO user in the `seen` set, as the argument Redis parses. */
const scoreArg = (lastSeenAt: string): string => String(seenScore(lastSeenAt));

/** An SSO user from the hash value `<firstSeenAt>\n<JSON>`. */
function parseStored(raw: string): StoredSsoUser {
  const nl = raw.indexOf('\n');
  return parseSsoUser(raw.slice(0, nl), raw.slice(nl + 1));
}

/** Keeps `<p>customers` in step with connections and OIDC clients. */
export interface CustomerSet {
  /** Lists `customerId`; call after creating its connection or OIDC client. */
  add(customerId: string): Promise<void>;
  /** Unlists `customerId` unless it still has a connection or an OIDC client; call after deleting one. */
  release(customerId: string): Promise<void>;
}

/** Entries read per HSCAN/SSCAN call by the admin listings. */
const SCAN_COUNT = 500;

/**
 * The SSO methods of the Redis store (SSO connections and users), and the customer set the connection
 * methods keep up to date.
 * `customerKey` names the connection's customer copy (its existence means "has a SCIM connection").
 */
export function redisSsoMethods(options: {
  client: Redis | Cluster;
  prefix: string;
  customerKey: (customerId: string) => string;
  maxSsoUsersPerCustomer: number;
  maxSsoUserBytesPerCustomer: number;
}): {
  methods: SsoMethods;
  customers: CustomerSet;
  oidcKey: (customerId: string) => string;
  samlKey: (customerId: string) => string;
  ssoKey: (customerId: string) => string;
  seenKey: (customerId: string) => string;
  ssoBytesKey: (customerId: string) => string;
} {
  const { client, prefix, customerKey, maxSsoUsersPerCustomer, maxSsoUserBytesPerCustomer } = options;
  const redis = client as Redis; // Redis and Cluster share these signatures; the cast only picks one.
  const run = defineScripts(client, {
    recordSso: { lua: RECORD_SSO_USER, keys: 3, readOnly: false },
    fillSeen: { lua: FILL_SEEN, keys: 2, readOnly: false },
    replaceSso: { lua: REPLACE_SSO_RECORD, keys: 1, readOnly: false },
    createSso: { lua: CREATE_SSO_RECORD, keys: 2, readOnly: false },
    ssoPage: { lua: SSO_PAGE, keys: 3, readOnly: true },
  });
  const customersKey = `${prefix}customers`;
  // Same hash tag as the customer key (redis-context.ts): one MGET reads both, even on a cluster.
  const oidcKey = (customerId: string): string => `${prefix}oidc:{${customerId}}`;
  const samlKey = (customerId: string): string => `${prefix}saml:{${customerId}}`;
  const ssoKey = (customerId: string): string => `${prefix}sso:{s:${customerId}}:users`;
  const seenKey = (customerId: string): string => `${prefix}sso:{s:${customerId}}:seen`;
  const ssoBytesKey = (customerId: string): string => `${prefix}sso:{s:${customerId}}:bytes`;

  // Creators write their key, then SADD; release SREMs, then checks both keys and SADDs back if either
  // exists. So a customer that has a connection or client is always listed (a creator that stops between
  // its two steps aside). Two deletes racing (connection and client of one customer) can leave a customer
  // listed with neither, until its next create or delete: callers of listCustomers must tolerate that.
  const customers: CustomerSet = {
    async add(customerId) {
      await redis.sadd(customersKey, customerId);
    },
    async release(customerId) {
      await redis.srem(customersKey, customerId);
      const [conn, oidc, saml] = await Promise.all([
        redis.exists(customerKey(customerId)),
        redis.exists(oidcKey(customerId)),
        redis.exists(samlKey(customerId)),
      ]);
      if (conn + oidc + saml > 0) await redis.sadd(customersKey, customerId);
    },
  };

  /** Every member of a set, scanned in batches; duplicates removed. */
  async function scanSet(key: string): Promise<Set<string>> {
    const out = new Set<string>();
    let cursor = '0';
    do {
      const [next, batch] = await redis.sscan(key, cursor, 'COUNT', SCAN_COUNT);
      cursor = next;
      for (const member of batch) out.add(member);
    } while (cursor !== '0');
    return out;
  }

  /** One HSCAN batch of the customer's SSO hash: [next cursor, subject/value pairs]. */
  async function scanBatch(customerId: string, cursor: string, count: number): Promise<[string, string[]]> {
    return redis.hscan(ssoKey(customerId), cursor, 'COUNT', Math.max(1, count));
  }

  /**
   * Brings records an older version wrote into what this one keeps of them, in HSCAN batches: `order` adds
   * to `seen` the SSO users it lacks (NX keeps the score of any user a login moved meanwhile); `count` sums
   * their bytes into the bytes count, which logins leave alone while it is missing (RECORD_SSO_FUNCTION), so
   * the byte cap applies from then on (logins recorded during the scan are not in the sum: a few records).
   */
  async function catchUp(customerId: string, work: { order: boolean; count: boolean }): Promise<void> {
    let cursor = '0';
    let bytes = 0;
    do {
      const [next, flat] = await scanBatch(customerId, cursor, SCAN_COUNT);
      cursor = next;
      const args: string[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        if (work.order) args.push(scoreArg(parseStored(flat[i + 1]!).lastSeenAt), flat[i]!);
        bytes += Buffer.byteLength(flat[i + 1]!);
      }
      if (args.length) await run('fillSeen', ssoKey(customerId), seenKey(customerId), ...args);
    } while (cursor !== '0');
    if (work.count) await redis.set(ssoBytesKey(customerId), bytes, 'NX');
  }

  /** SSO_PAGE's reply, its values parsed; `counted`: the customer's records are all in its bytes count. */
  async function ssoPage(
    customerId: string,
    offset: number,
    count: number,
  ): Promise<{ total: number; ordered: number; counted: boolean; users: StoredSsoUser[] }> {
    const [total, ordered, , values, counted] = (await run('ssoPage', ssoKey(customerId), seenKey(customerId), ssoBytesKey(customerId), offset, count)) as [
      number,
      number,
      string[],
      string[],
      number,
    ];
    return { total: Number(total), ordered: Number(ordered), counted: Number(counted) === 1, users: values.filter((v) => v !== '').map(parseStored) };
  }

  /** One protocol's records under `keyOf`, beside the other protocol's under `otherKeyOf` (same hash tag). */
  function connectionRecords<R extends { customerId: string; updatedAt: string }>(
    kind: SsoConnectionKind<R>,
    keyOf: (customerId: string) => string,
    otherKeyOf: (customerId: string) => string,
  ): SsoConnectionRecords<R> {
    return {
      async create(input) {
        const record = kind.check(input);
        const created = Number(await run('createSso', keyOf(record.customerId), otherKeyOf(record.customerId), JSON.stringify(record)));
        if (created !== 1) return created === 2 ? 'other_protocol' : 'exists';
        await customers.add(record.customerId);
        return 'created';
      },
      async get(customerId) {
        assertStoreId('customerId', customerId);
        const raw = await redis.get(keyOf(customerId));
        return raw === null ? null : kind.parse(raw);
      },
      async replace(input, expectedUpdatedAt) {
        const record = kind.check(input);
        return Number(await run('replaceSso', keyOf(record.customerId), JSON.stringify(record), expectedUpdatedAt ?? '')) === 1;
      },
      async delete(customerId) {
        assertStoreId('customerId', customerId);
        // The record and the SSO users are in two slots: not atomic. A login recorded meanwhile may leave SSO
        // users behind; the next record created for the customer then finds them, which is harmless (they
        // are that customer's people).
        const [removed] = await Promise.all([redis.del(keyOf(customerId)), redis.unlink(ssoKey(customerId), seenKey(customerId), ssoBytesKey(customerId))]);
        await customers.release(customerId);
        return removed === 1;
      },
    };
  }

  const methods: SsoMethods = {
    ...namedSsoConnectionMethods(connectionRecords(OIDC_CLIENT_RECORDS, oidcKey, samlKey), connectionRecords(SAML_CONNECTION_RECORDS, samlKey, oidcKey)),

    async listCustomers() {
      return sortInSlices([...(await scanSet(customersKey))]);
    },

    async recordSsoUser(customerId, user) {
      assertStoreId('customerId', customerId);
      const record = checkSsoUser(user);
      await run(
        'recordSso',
        ssoKey(customerId),
        seenKey(customerId),
        ssoBytesKey(customerId),
        record.subject,
        record.firstSeenAt,
        record.json,
        scoreArg(record.lastSeenAt),
        maxSsoUsersPerCustomer,
        maxSsoUserBytesPerCustomer,
      );
    },

    async listSsoUsers(customerId) {
      assertStoreId('customerId', customerId);
      // Each user keyed once (seenScore parses its timestamp), then sorted in slices: one sort with
      // bySeenDescending, which parses both timestamps per comparison, held the loop 2.1 s at 100,000 users.
      const keyed: { user: StoredSsoUser; score: number }[] = [];
      let cursor = '0';
      do {
        const batch = await methods.scanSsoUsers(customerId, cursor, SCAN_COUNT);
        cursor = batch.cursor;
        for (const user of batch.users) keyed.push({ user, score: seenScore(user.lastSeenAt) });
      } while (cursor !== '0');
      const sorted = await sortInSlices(keyed, (a, b) => a.score - b.score || byUtf8(a.user.subject, b.user.subject));
      return sorted.map((entry) => entry.user);
    },

    async listSsoUserPage(customerId, offset, count) {
      assertStoreId('customerId', customerId);
      assertPaging(offset, count);
      let page = await ssoPage(customerId, offset, Math.min(count, PAGE_CHUNK));
      if (page.ordered < page.total || !page.counted) {
        await catchUp(customerId, { order: page.ordered < page.total, count: !page.counted });
        page = await ssoPage(customerId, offset, Math.min(count, PAGE_CHUNK));
      }
      const users = page.users;
      for (let at = offset + PAGE_CHUNK; users.length < count && at < page.ordered; at += PAGE_CHUNK) {
        users.push(...(await ssoPage(customerId, at, Math.min(PAGE_CHUNK, count - users.length))).users);
      }
      return { total: page.ordered, users };
    },

    async scanSsoUsers(customerId, cursor, count) {
      assertStoreId('customerId', customerId);
      assertCursor(cursor);
      assertPaging(0, count);
      const [next, flat] = await scanBatch(customerId, cursor, count);
      const users: StoredSsoUser[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) users.push(parseStored(flat[i + 1]!));
      return { cursor: next, users };
    },

    async getSsoUser(customerId, subject) {
      assertStoreId('customerId', customerId);
      if (!isSsoSubject(subject)) return null;
      const raw = await redis.hget(ssoKey(customerId), subject);
      return raw === null ? null : parseStored(raw);
    },
  };
  return { methods, customers, oidcKey, samlKey, ssoKey, seenKey, ssoBytesKey };
}

/** The SSO part of the Redis store, as the connection and login parts use it. */
export type RedisSso = ReturnType<typeof redisSsoMethods>;
