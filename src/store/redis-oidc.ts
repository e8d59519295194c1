/**
 * The OIDC half of the Redis store. Keys (`<p>` = prefix):
 *
 *   <p>oidc:{<customerId>}           STRING  the customer's OIDC client (JSON); SET NX makes creation atomic
 *   <p>sso:{s:<customerId>}:users    HASH    subject -> `<firstSeenAt>\n<JSON of the other fields>`
 *   <p>customers                     SET     customer ids with a SCIM connection or an OIDC client
 *
 * Every command here touches one key, so these keys may live in any Cluster slot. The SSO hash carries the
 * tag `{s:<customerId>}` so that per-customer SSO keys added later share one slot (multi-key scripts stay
 * legal on a Cluster).
 */
import type { Cluster, Redis } from 'ioredis';
import { defineScripts } from './redis-commands.js';
import { bySeenDescending, checkOidcClient, checkSsoUser, parseOidcClient, parseSsoUser, type OidcMethods } from './sso-records.js';
import { assertStoreId, type StoredSsoUser } from './store.js';

/**
 * Upserts one SSO user (KEYS[1] = the customer's SSO hash; ARGV: subject, firstSeenAt, JSON of the other
 * fields), keeping the earlier of the stored and the new firstSeenAt. The stored JSON is never decoded:
 * firstSeenAt sits before the first newline (timestamps hold no control characters). Strings are compared
 * byte by byte, because Lua's `<` follows the server's locale. Reply 1.
 */
/**
 * Replaces an OIDC client (KEYS[1]; ARGV: new JSON, expected updatedAt or '') only if it exists and, when
 * an expected updatedAt is given, the stored one equals it. Reply 1 or 0. The JSON is our own flat record.
 */
export const REPLACE_OIDC_CLIENT = `
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
if ARGV[2] ~= '' and cjson.decode(current).updatedAt ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
return 1
`;

/**
 * The Lua function behind RECORD_SSO_USER, shared with LOGIN_AND_RECORD (src/store/redis-scripts.ts):
 * recordSso(hash key, subject, firstSeenAt, JSON of the other fields).
 */
export const RECORD_SSO_FUNCTION = `
local function before(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end
local function recordSso(key, subject, first, json)
  local old = redis.call('HGET', key, subject)
  if old then
    local nl = string.find(old, '\\n', 1, true)
    if nl and before(string.sub(old, 1, nl - 1), first) then first = string.sub(old, 1, nl - 1) end
  end
  redis.call('HSET', key, subject, first .. '\\n' .. json)
  return 1
end
`;

export const RECORD_SSO_USER = `${RECORD_SSO_FUNCTION}
return recordSso(KEYS[1], ARGV[1], ARGV[2], ARGV[3])
`;

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
 * The OIDC methods of the Redis store, and the customer set the connection methods keep up to date.
 * `customerKey` names the connection's customer copy (its existence means "has a SCIM connection").
 */
export function redisOidcMethods(options: { client: Redis | Cluster; prefix: string; customerKey: (customerId: string) => string }): {
  methods: OidcMethods;
  customers: CustomerSet;
  oidcKey: (customerId: string) => string;
  ssoKey: (customerId: string) => string;
} {
  const { client, prefix, customerKey } = options;
  const redis = client as Redis; // Redis and Cluster share these signatures; the cast only picks one.
  const run = defineScripts(client, {
    recordSso: { lua: RECORD_SSO_USER, keys: 1, readOnly: false },
    replaceOidc: { lua: REPLACE_OIDC_CLIENT, keys: 1, readOnly: false },
  });
  const customersKey = `${prefix}customers`;
  // Same hash tag as the customer key (redis.ts): one MGET reads both, even on a cluster.
  const oidcKey = (customerId: string): string => `${prefix}oidc:{${customerId}}`;
  const ssoKey = (customerId: string): string => `${prefix}sso:{s:${customerId}}:users`;

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
      const [conn, oidc] = await Promise.all([redis.exists(customerKey(customerId)), redis.exists(oidcKey(customerId))]);
      if (conn + oidc > 0) await redis.sadd(customersKey, customerId);
    },
  };

  /** Every member of a hash (flat field/value pairs) or set, scanned in batches; duplicates removed. */
  async function scanAll(kind: 'hscan' | 'sscan', key: string): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    let cursor = '0';
    do {
      const [next, batch] = await redis[kind](key, cursor, 'COUNT', SCAN_COUNT);
      cursor = next;
      if (kind === 'sscan') for (const member of batch) out.set(member, member);
      else for (let i = 0; i + 1 < batch.length; i += 2) out.set(batch[i]!, batch[i + 1]!);
    } while (cursor !== '0');
    return out;
  }

  const methods: OidcMethods = {
    async createOidcClient(input) {
      const client = checkOidcClient(input);
      if ((await redis.set(oidcKey(client.customerId), JSON.stringify(client), 'NX')) === null) return 'exists';
      await customers.add(client.customerId);
      return 'created';
    },

    async getOidcClient(customerId) {
      assertStoreId('customerId', customerId);
      const raw = await redis.get(oidcKey(customerId));
      return raw === null ? null : parseOidcClient(raw);
    },

    async replaceOidcClient(input, expectedUpdatedAt) {
      const client = checkOidcClient(input);
      return Number(await run('replaceOidc', oidcKey(client.customerId), JSON.stringify(client), expectedUpdatedAt ?? '')) === 1;
    },

    async deleteOidcClient(customerId) {
      assertStoreId('customerId', customerId);
      // Two keys in two slots: not atomic. A login recorded meanwhile may leave SSO users behind; the
      // next createOidcClient then finds them, which is harmless (they are that customer's people).
      const [removed] = await Promise.all([redis.del(oidcKey(customerId)), redis.unlink(ssoKey(customerId))]);
      await customers.release(customerId);
      return removed === 1;
    },

    async listCustomers() {
      return [...(await scanAll('sscan', customersKey)).keys()].sort();
    },

    async recordSsoUser(customerId, user) {
      assertStoreId('customerId', customerId);
      const record = checkSsoUser(user);
      await run('recordSso', ssoKey(customerId), record.subject, record.firstSeenAt, record.json);
    },

    async listSsoUsers(customerId) {
      assertStoreId('customerId', customerId);
      const users: StoredSsoUser[] = [];
      for (const raw of (await scanAll('hscan', ssoKey(customerId))).values()) {
        const nl = raw.indexOf('\n');
        users.push(parseSsoUser(raw.slice(0, nl), raw.slice(nl + 1)));
      }
      return users.sort(bySeenDescending);
    },
  };
  return { methods, customers, oidcKey, ssoKey };
}
