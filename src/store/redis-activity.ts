/** The customers' activity logs on Redis: one capped LIST per customer and log, newest first (activity-log.ts). */
import { checkActivityAppend, type ActivityAppend, type ActivityLogName } from './activity-log.js';
import type { RedisContext } from './redis-context.js';
import { type Store } from './store.js';
import { assertStoreId } from './store-checks.js';

export function redisActivityLog(ctx: RedisContext): Pick<Store, 'appendActivity' | 'readActivity'> {
  const { redis, prefix } = ctx;
  const activityKey = (customerId: string, log: ActivityLogName): string => `${prefix}activity:{${customerId}}:${log}`;
  return {
    async appendActivity(appends, ttlMs) {
      // One MULTI per customer (its two lists share the hash tag, so one Cluster slot), all sent together.
      const byCustomer = new Map<string, ActivityAppend[]>();
      for (const append of appends) {
        assertStoreId('customerId', append.customerId);
        checkActivityAppend(append, ttlMs);
        byCustomer.set(append.customerId, [...(byCustomer.get(append.customerId) ?? []), append]);
      }
      await Promise.all(
        [...byCustomer.values()].map((lists) => {
          const multi = redis.multi();
          for (const { customerId, log, entries, maxEntries } of lists) {
            if (entries.length === 0) continue;
            const key = activityKey(customerId, log);
            multi
              .lpush(key, ...entries)
              .ltrim(key, 0, maxEntries - 1)
              .pexpire(key, ttlMs);
          }
          return multi.exec();
        }),
      ).then((answers) => {
        for (const [error] of answers.flatMap((answer) => answer ?? [])) if (error) throw error;
      });
    },

    async readActivity(customerId, log, limit) {
      assertStoreId('customerId', customerId);
      if (!Number.isSafeInteger(limit) || limit < 1) return [];
      return redis.lrange(activityKey(customerId, log), 0, limit - 1);
    },
  };
}
