/**
 * Like `makeStore` (test/support/app.ts), but for Redis it also hands out the raw client and key prefix, so
 * that a checker can read the store's keys directly (test/support/consistency.ts).
 */
import { memoryStore } from '../../src/store/memory.js';
import { redisStore } from '../../src/store/redis.js';
import type { Store } from '../../src/store/store.js';
import type { StoreKind } from './app.js';
import type { RedisInspection } from './consistency.js';
import { testRedis } from './redis.js';

export interface InspectableStore {
  store: Store;
  /** Set for the Redis store only. */
  redis?: RedisInspection;
  cleanup(): Promise<void>;
}

export async function makeInspectableStore(kind: StoreKind, hint: string): Promise<InspectableStore> {
  if (kind === 'memory') return { store: memoryStore(), cleanup: async () => {} };
  const redis = await testRedis(hint);
  return {
    store: redisStore({ client: redis.client, prefix: redis.prefix }),
    redis: { client: redis.client, prefix: redis.prefix },
    cleanup: redis.cleanup,
  };
}
