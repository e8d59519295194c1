/**
 * The Redis store's setup grants (src/store/setup-grants.ts). In a file of its own so that the store
 * contract's declarations (src/store/store.ts) never name ioredis: a core-only app compiles without it.
 */
import type { Cluster, Redis } from 'ioredis';
import { isValidStoreId } from './store-id.js';
import { checkSetupGrant, HASH, keptUntil, setupGrantStatus, type SetupGrantStore, type StoredSetupGrant } from './setup-grants.js';

/**
 * The Redis store's grants. Keys (`<p>` = prefix):
 *   <p>setup:<hash>                     STRING  the grant's JSON with `revocations`, its customer's revocation count
 *                                               when put (a field an earlier version ignores), PEXPIREAT its expiry + retention
 *   <p>setup-revocations:{<customerId>} STRING  how many times the customer's grants were revoked (INCR)
 *   <p>setup-revoked:{<customerId>}     STRING  epoch ms of the last revocation, for grants an earlier version
 *                                               stored without `revocations` (compared with their createdAt)
 * Single-key commands only (no Cluster slot constraint). Revocation is counted, not timed (SetupGrantStore).
 */
export function redisSetupGrants(client: Redis | Cluster, prefix: string, now: () => number): SetupGrantStore {
  const redis = client as Redis;
  const grantKey = (hash: string) => `${prefix}setup:${hash}`;
  const countKey = (customerId: string) => `${prefix}setup-revocations:{${customerId}}`;
  const revokedKey = (customerId: string) => `${prefix}setup-revoked:{${customerId}}`;
  const countOf = async (customerId: string) => Number((await redis.get(countKey(customerId))) ?? 0);
  return {
    async putSetupGrant(grant) {
      const checked = checkSetupGrant(grant);
      const stamp = await countOf(checked.customerId);
      await redis.set(grantKey(checked.hash), JSON.stringify({ ...checked, revocations: stamp }), 'PXAT', keptUntil(checked));
    },
    async getSetupGrant(hash) {
      if (typeof hash !== 'string' || !HASH.test(hash)) return null;
      const raw = await redis.get(grantKey(hash));
      if (raw === null) return null;
      const stored = JSON.parse(raw) as StoredSetupGrant & { revocations?: unknown };
      const grant = checkSetupGrant(stored);
      if (keptUntil(grant) <= now()) return null;
      let revoked: boolean;
      if (Number.isSafeInteger(stored.revocations)) revoked = (await countOf(grant.customerId)) > (stored.revocations as number);
      else {
        const revokedAt = await redis.get(revokedKey(grant.customerId));
        revoked = revokedAt !== null && grant.createdAt <= Number(revokedAt);
      }
      return { grant, status: setupGrantStatus(grant, revoked, now()) };
    },
    async revokeSetupGrants(customerId) {
      if (!isValidStoreId(customerId)) throw new TypeError('customerId is not a valid id');
      await redis.incr(countKey(customerId));
      // Grants stored by an earlier version carry no count: their revocation time, only ever forward.
      await redis.eval(
        "local c = tonumber(redis.call('GET', KEYS[1]) or '-1') if tonumber(ARGV[1]) > c then redis.call('SET', KEYS[1], ARGV[1]) end return 1",
        1,
        revokedKey(customerId),
        String(now()),
      );
    },
  };
}
