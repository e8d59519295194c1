/**
 * The Redis store's setup grants (src/store/setup-grants.ts). In a file of its own so that the store
 * contract's declarations (src/store/store.ts) never name ioredis: a core-only app compiles without it.
 */
import type { Cluster, Redis } from 'ioredis';
import { checkSetupGrant, HASH, SETUP_GRANT_RETENTION_MS, setupGrantStatus, STORE_ID, type SetupGrantStore, type StoredSetupGrant } from './setup-grants.js';

/**
 * The Redis store's grants. Keys (`<p>` = prefix):
 *   <p>setup:<hash>                 STRING  the grant's JSON, PEXPIREAT its expiry + retention
 *   <p>setup-revoked:{<customerId>} STRING  epoch ms of the customer's last revocation
 * Single-key commands only (no Cluster slot constraint). A grant put while a revocation of its customer
 * runs is revoked or not, never half of it; a revocation never un-revokes (the time only moves forward).
 */
export function redisSetupGrants(client: Redis | Cluster, prefix: string, now: () => number): SetupGrantStore {
  const redis = client as Redis;
  const grantKey = (hash: string) => `${prefix}setup:${hash}`;
  const revokedKey = (customerId: string) => `${prefix}setup-revoked:{${customerId}}`;
  return {
    async putSetupGrant(grant) {
      const checked = checkSetupGrant(grant);
      await redis.set(grantKey(checked.hash), JSON.stringify(checked), 'PXAT', checked.expiresAt + SETUP_GRANT_RETENTION_MS);
    },
    async getSetupGrant(hash) {
      if (typeof hash !== 'string' || !HASH.test(hash)) return null;
      const raw = await redis.get(grantKey(hash));
      if (raw === null) return null;
      const grant = checkSetupGrant(JSON.parse(raw) as StoredSetupGrant);
      if (grant.expiresAt <= now() - SETUP_GRANT_RETENTION_MS) return null;
      const revokedAt = await redis.get(revokedKey(grant.customerId));
      return { grant, status: setupGrantStatus(grant, revokedAt === null ? null : Number(revokedAt), now()) };
    },
    async revokeSetupGrants(customerId) {
      if (typeof customerId !== 'string' || !STORE_ID.test(customerId)) throw new TypeError('customerId is not a valid id');
      // Only forward: a later revocation through an instance with a slower clock cannot shorten the revoked range.
      await redis.eval(
        "local c = tonumber(redis.call('GET', KEYS[1]) or '-1') if tonumber(ARGV[1]) > c then redis.call('SET', KEYS[1], ARGV[1]) end return 1",
        1,
        revokedKey(customerId),
        String(now()),
      );
    },
  };
}
