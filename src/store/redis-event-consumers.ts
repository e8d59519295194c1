/**
 * The Redis store's consumer-group state (src/store/event-consumers.ts). Cursors and leases live under the
 * connection's hash tag (Lua in redis-event-scripts.ts); two keys are global, each one key so one slot:
 *
 *   <p>events:active            ZSET  connection id -> ms (Redis's clock) of its last announced write that
 *                                     logged events. Written after the write, by a separate fire-and-forget
 *                                     script (another Cluster slot than the write's script), at most once per
 *                                     ANNOUNCE_INTERVAL_MS per connection and app instance: best effort, and
 *                                     consumers rescan every connection now and then, so a lost one only delays.
 *   <p>events:dead:{<group>}    HASH  dead letter id -> JSON
 */
import type { Cluster, Redis } from 'ioredis';
import { ANNOUNCE_INTERVAL_MS, assertGroupName, type EventConsumerStore, type StoredDeadLetter } from './event-consumers.js';
import type { RunScript } from './redis-commands.js';
import { assertLeaseArgs } from './store-checks.js';

/**
 * Dead letters one `HSCAN` asks for: each call holds Redis for a batch, not for the whole group, and each
 * reply is a few MB at most (a letter keeps up to about 70 KB: src/provisioning/dead-letters.ts).
 */
const DEAD_LETTER_SCAN = 100;

export interface RedisEventConsumerDeps {
  client: Redis | Cluster;
  prefix: string;
  run: RunScript<'claimLease' | 'commitCursor' | 'releaseLease' | 'announce' | 'announcedSince'>;
  /** The connection's key tag, `<p>{c:<id>}:`. */
  tag(connectionId: string): string;
  now(): number;
  /** Whether `now` is a clock the app gave the store (tests): leases are then timed by it, else by Redis's. */
  clockGiven: boolean;
  /** The customer id in a stored connection record. */
  customerOf(record: string): string;
}

export interface RedisEventConsumers {
  /** Tells consumers the connection's log grew (fire and forget: never delays or fails the write). */
  announce(connectionId: string): void;
  /** The connection is gone: no more announcements of it. */
  forget(connectionId: string): Promise<void>;
  methods: EventConsumerStore;
}

export function redisEventConsumers(deps: RedisEventConsumerDeps): RedisEventConsumers {
  const redis = deps.client as Redis;
  const activeKey = `${deps.prefix}events:active`;
  const deadKey = (group: string) => `${deps.prefix}events:dead:{${group}}`;
  /** When this instance last announced each connection (cleared when large: at worst one more ZADD each). */
  const announced = new Map<string, number>();
  const check = assertLeaseArgs;

  /** The `now` argument of the lease scripts: '' lets them read Redis's clock. */
  const leaseNow = () => (deps.clockGiven ? deps.now() : '');
  return {
    announce(connectionId) {
      const now = deps.now();
      const last = announced.get(connectionId);
      if (last !== undefined && now >= last && now - last < ANNOUNCE_INTERVAL_MS) return;
      if (announced.size >= 10_000) announced.clear();
      announced.set(connectionId, now);
      deps.run('announce', activeKey, connectionId, leaseNow()).catch(() => {});
    },
    async forget(connectionId) {
      announced.delete(connectionId);
      await redis.zrem(activeKey, connectionId);
    },
    methods: {
      async activeEventConnections(since) {
        const [now, flat] = (await deps.run('announcedSince', activeKey, Math.floor(since), leaseNow())) as [string, string[]];
        const connections: { connectionId: string; at: number }[] = [];
        for (let i = 0; i + 1 < flat.length; i += 2) connections.push({ connectionId: flat[i]!, at: Number(flat[i + 1]) });
        return { now: Number(now), connections };
      },
      async claimEventLease(group, connectionId, owner, ttlMs) {
        check(group, connectionId, owner, ttlMs);
        const reply = (await deps.run('claimLease', deps.tag(connectionId), group, owner, leaseNow(), ttlMs)) as [string, string, number] | [];
        if (reply.length === 0) return null;
        const [record, cursor, has] = reply;
        return { customerId: deps.customerOf(record), cursor: Number(has) === 1 ? cursor : null };
      },
      async commitEventCursor(group, connectionId, owner, ttlMs, cursor) {
        check(group, connectionId, owner, ttlMs);
        const args = cursor === undefined ? ['0'] : ['1', cursor];
        return Number(await deps.run('commitCursor', deps.tag(connectionId), group, owner, leaseNow(), ttlMs, ...args)) === 1;
      },
      async releaseEventLease(group, connectionId, owner) {
        check(group, connectionId, owner);
        await deps.run('releaseLease', deps.tag(connectionId), group, owner, leaseNow());
      },
      async addDeadLetter(group, letter) {
        assertGroupName(group);
        await redis.hset(deadKey(group), String(letter.id), String(letter.json));
      },
      async listDeadLetters(group) {
        assertGroupName(group);
        // HSCAN may return an entry twice (a rehash between calls): keyed by id, each letter is listed once.
        const letters = new Map<string, StoredDeadLetter>();
        let cursor = '0';
        do {
          const [next, pairs] = await redis.hscan(deadKey(group), cursor, 'COUNT', DEAD_LETTER_SCAN);
          cursor = next;
          for (let i = 0; i + 1 < pairs.length; i += 2) letters.set(pairs[i]!, { id: pairs[i]!, json: pairs[i + 1]! });
        } while (cursor !== '0');
        return [...letters.values()];
      },
      async getDeadLetter(group, id) {
        assertGroupName(group);
        if (typeof id !== 'string') throw new TypeError('a dead letter id must be a string');
        const json = await redis.hget(deadKey(group), id);
        return json === null ? null : { id, json };
      },
      async removeDeadLetter(group, id) {
        assertGroupName(group);
        return (await redis.hdel(deadKey(group), id)) === 1;
      },
    },
  };
}
