/** A Redis client for one test file, with a key prefix of its own so files can run in parallel. */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { inject } from 'vitest';

export interface TestRedis {
  client: Redis;
  /** Unique per call: `t:<hint>:<random>:`. */
  prefix: string;
  /** Deletes every key under the prefix and quits the client. */
  cleanup(): Promise<void>;
}

/** Connects to the Redis provided by test/support/global-setup.ts. */
export async function testRedis(prefixHint: string): Promise<TestRedis> {
  const client = new Redis(inject('redisUrl'), { lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  const prefix = `t:${prefixHint}:${randomBytes(6).toString('hex')}:`;
  return {
    client,
    prefix,
    async cleanup() {
      // SCAN is fine in tests (never on a request path).
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
        cursor = next;
        if (keys.length > 0) await client.unlink(...keys);
      } while (cursor !== '0');
      await client.quit();
    },
  };
}
