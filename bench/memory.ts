/**
 * Section 5: Redis bytes per stored user. Sums `MEMORY USAGE <key> SAMPLES 0` (exact, every field) over every
 * key of the connection (SCAN of its key prefix / hash tag), divides by the users it holds, and sets that
 * beside the size of a user's JSON as GET /Users/{id} returns it (averaged over up to 100 users). scim-sso's
 * provisioning event log (the `ev` keys under the tag, docs/events.md) is counted in the total and also
 * given apart: right after the users were provisioned it holds one entry per creation (7 days or 1,000,000
 * writes), which shares the user's JSON with its row instead of copying it.
 */
import type { Redis } from 'ioredis';
import type { Server } from './servers.js';
import type { KnownUser } from './users.js';

export interface MemoryRow {
  server: string;
  users: number;
  keys: number;
  redisBytes: number;
  bytesPerUser: number;
  jsonBytesPerUser: number;
  ratio: number;
  /** Bytes of the event log's keys (0 for the limit, which has none). */
  eventLogBytes: number;
  /** bytesPerUser without the event log, over the JSON size. */
  ratioWithoutEventLog: number;
  [key: string]: unknown;
}

/** Keys matching a literal prefix (glob characters escaped). */
async function keysUnder(client: Redis, prefix: string): Promise<string[]> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}*`;
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

export async function measureMemory(client: Redis, server: Server, users: KnownUser[]): Promise<MemoryRow> {
  const prefix = await server.child.call<string>('connectionTag');
  const keys = await keysUnder(client, prefix);
  const pipeline = client.pipeline();
  for (const key of keys) pipeline.call('MEMORY', 'USAGE', key, 'SAMPLES', '0');
  const sizes = ((await pipeline.exec()) ?? []).map(([, n]) => Number(n ?? 0));
  const redisBytes = sizes.reduce((a, b) => a + b, 0);
  const isEventLogKey = (key: string) => /^ev(:|$)/.test(key.slice(prefix.length));
  const eventLogBytes = keys.reduce((sum, key, i) => sum + (isEventLogKey(key) ? sizes[i]! : 0), 0);
  const sample = users.filter((_, i) => i % Math.max(1, Math.floor(users.length / 100)) === 0).slice(0, 100);
  let jsonBytes = 0;
  for (const u of sample) {
    const response = await fetch(`${server.baseUrl}/Users/${u.id}`, { headers: { authorization: `Bearer ${server.token}` } });
    jsonBytes += Buffer.byteLength(await response.text());
  }
  const bytesPerUser = redisBytes / users.length;
  const jsonBytesPerUser = jsonBytes / sample.length;
  return {
    server: server.name,
    users: users.length,
    keys: keys.length,
    redisBytes,
    bytesPerUser,
    jsonBytesPerUser,
    ratio: bytesPerUser / jsonBytesPerUser,
    eventLogBytes,
    ratioWithoutEventLog: (redisBytes - eventLogBytes) / users.length / jsonBytesPerUser,
  };
}
