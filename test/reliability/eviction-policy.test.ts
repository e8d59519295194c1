/**
 * Redis's eviction policy (src/store/redis-eviction.ts), on a private redis-server whose policy the test
 * sets (the shared test Redis is left alone). Under `allkeys-*` with a `maxmemory`, Redis may drop any key,
 * and a deactivated user could then be admitted: the store refuses every call (SCIM 503, logins refused) and
 * warns; a `volatile-*` policy only warns; `noeviction`, or no `maxmemory`, is served as ever.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVICTION_CHECK_MS, evictionGuard, evictionOf, unsafeEviction } from '../../src/store/redis-eviction.js';
import { redisStore } from '../../src/store/redis.js';
import { StoreUnavailableError } from '../../src/store/unavailable.js';
import { RedisProcess } from '../support/redis-process.js';
import { scimRequest, scimSso } from '../support/sso.js';

describe('the Redis eviction policy', () => {
  let server: RedisProcess;
  let admin: Redis;
  const warnings: string[] = [];
  const onWarning = (warning: Error & { code?: string }) => {
    if (warning.code === 'SCIM_SSO_REDIS_EVICTION') warnings.push(warning.message);
  };

  beforeAll(async () => {
    server = await RedisProcess.start({ persistence: 'none' });
    admin = new Redis(server.url);
    process.on('warning', onWarning);
  });
  afterAll(async () => {
    process.off('warning', onWarning);
    admin?.disconnect();
    await server?.close();
  });

  /** A fresh store and app on the private server, with the policy set first. */
  async function appUnder(policy: string, maxmemory: string) {
    await admin.config('SET', 'maxmemory-policy', policy);
    await admin.config('SET', 'maxmemory', maxmemory);
    const client = new Redis(server.url, { maxRetriesPerRequest: 1 });
    const sso = scimSso({ rateLimit: false, store: redisStore({ client, prefix: `evict:${policy}:` }) });
    return { sso, client };
  }

  it('refuses every call under allkeys-lru with a maxmemory, the first one included, saying why', async () => {
    const { sso, client } = await appUnder('allkeys-lru', '100mb');
    try {
      // Found by a review (2026-12-07): calls went on until a first check had answered.
      const refused = await sso.createScimConnection({ customerId: 'evicting' }).catch((error: unknown) => error);
      expect(refused, String(refused)).toBeInstanceOf(StoreUnavailableError);
      expect(String((refused as Error).message)).toContain('maxmemory-policy noeviction');
      await new Promise((resolve) => setImmediate(resolve)); // a process warning is emitted on the next tick
      expect(warnings.some((w) => w.includes('allkeys-lru'))).toBe(true);
      // A SCIM request is a 503 with Retry-After, never a 500.
      const answer = await sso.handleScim(scimRequest('any-token', 'GET', '/Users'));
      expect([answer.status, answer.headers['Retry-After'] ?? answer.headers['retry-after']]).toEqual([503, expect.any(String)]);
    } finally {
      client.disconnect();
    }
  });

  it('serves under noeviction, and under allkeys-lru without a maxmemory (nothing is evicted then)', async () => {
    for (const [policy, maxmemory] of [
      ['noeviction', '100mb'],
      ['allkeys-lru', '0'],
    ] as const) {
      const { sso, client } = await appUnder(policy, maxmemory);
      try {
        expect((await sso.createScimConnection({ customerId: `served-${policy}` })).token).toEqual(expect.any(String));
      } finally {
        client.disconnect();
      }
    }
  });

  it('serves under volatile-lru, with a warning: only keys with a time to live are evicted', async () => {
    const { sso, client } = await appUnder('volatile-lru', '100mb');
    try {
      expect((await sso.createScimConnection({ customerId: 'volatile' })).token).toEqual(expect.any(String));
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.some((w) => w.includes('volatile-lru') && w.includes('group write leases'))).toBe(true);
    } finally {
      client.disconnect();
    }
  });

  it('checks again while calls come, and refuses from the first check that finds the policy changed', async () => {
    const now = { ms: Date.now() };
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    await admin.config('SET', 'maxmemory', '100mb');
    const client = new Redis(server.url, { maxRetriesPerRequest: 1 });
    const guard = evictionGuard(client, () => now.ms);
    try {
      await guard.gate();
      expect(guard.gate()).toBeNull();
      await admin.config('SET', 'maxmemory-policy', 'allkeys-lfu');
      expect(guard.gate()).toBeNull(); // the last answer stands until the next check
      now.ms += EVICTION_CHECK_MS;
      expect(guard.gate()).toBeNull(); // starts the check, in the background
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(guard.gate()).toBeInstanceOf(StoreUnavailableError);
    } finally {
      client.disconnect();
    }
  });

  it('reads the policy from INFO memory', () => {
    expect(evictionOf('# Memory\r\nmaxmemory:104857600\r\nmaxmemory_policy:allkeys-lfu\r\n')).toEqual({ policy: 'allkeys-lfu', maxmemory: 104857600 });
    expect(evictionOf('# Memory\r\nused_memory:1\r\n')).toBeNull();
    expect(unsafeEviction({ policy: 'allkeys-random', maxmemory: 1 })).toContain('allkeys-random');
    expect(unsafeEviction({ policy: 'volatile-ttl', maxmemory: 1 })).toBeNull();
  });
});
