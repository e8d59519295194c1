/**
 * The SAML assertion cache of the Redis store (Store.rememberSamlAssertion; docs/saml.md §What the store
 * caches). One sorted set per customer (`<p>` = prefix), one script per call:
 *
 *   <p>samlseen:{<customerId>}   ZSET  assertion ID → when it may be forgotten (Redis's clock, ms)
 *
 * The set has no time to live, and its expired IDs are dropped by the calls themselves (at most
 * SWEEP_PER_CALL each, more than one call adds): until 2026-12-07 each ID was a key of its own expiring by
 * `PX`, which a `volatile-*` eviction policy (ElastiCache's default) drops first when memory is full, and a
 * replayed assertion was then taken again (an audit of Redis deployments). As the memory store, a customer's
 * set holds at most MAX_SAML_ENTRIES_PER_CUSTOMER live IDs: past them that customer's logins are refused
 * (503) rather than an ID forgotten that could still be replayed.
 */
import type { Cluster, Redis } from 'ioredis';
import { MAX_MEMORY_SAML_ENTRIES_PER_CUSTOMER, type SamlCacheMethods } from './memory-saml-cache.js';
import { defineScripts } from './redis-commands.js';
import { assertSamlCacheArgs } from './store-checks.js';
import { StoreUnavailableError } from './unavailable.js';

/** The most live assertion IDs one customer's set keeps (the memory store's bound). */
export const MAX_SAML_ENTRIES_PER_CUSTOMER = MAX_MEMORY_SAML_ENTRIES_PER_CUSTOMER;

/** Expired IDs one call drops at most: each call adds one, so the set never grows by what has expired. */
const SWEEP_PER_CALL = 100;

/**
 * KEYS[1] = the customer's set; ARGV: assertion ID, time to live ms, the most live IDs, the ID's key of the
 * earlier layout (an instance of an earlier version may still be writing those). Reply 1 (first time), 0
 * (a replay) or -1 (the set is full).
 */
const REMEMBER = `
local key, id, ttl, max = KEYS[1], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', key, '-inf', now, 'LIMIT', 0, ${SWEEP_PER_CALL})
if #expired > 0 then redis.call('ZREM', key, unpack(expired)) end
if redis.call('ZSCORE', key, id) or redis.call('EXISTS', ARGV[4]) == 1 then return 0 end
if redis.call('ZCARD', key) >= max then return -1 end
redis.call('ZADD', key, now + ttl, id)
return 1
`;

export function redisSamlCache(client: Redis | Cluster, prefix: string): SamlCacheMethods {
  const run = defineScripts(client, { samlRemember: { lua: REMEMBER, keys: 1, readOnly: false } });
  return {
    async rememberSamlAssertion(customerId, assertionId, ttlMs) {
      assertSamlCacheArgs(customerId, assertionId, ttlMs);
      const set = `${prefix}samlseen:{${customerId}}`;
      const reply = Number(await run('samlRemember', set, assertionId, ttlMs, MAX_SAML_ENTRIES_PER_CUSTOMER, `${set}:${assertionId}`));
      if (reply === -1) throw new StoreUnavailableError(`the SAML assertion cache of customer ${customerId} is full; retry later`);
      return reply === 1;
    },
  };
}
