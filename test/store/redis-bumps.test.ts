/**
 * Users whose groups change get a new version (RFC 7644 §3.14), and on Redis each bump rewrites the user's
 * record: 250 users of 200 KB added to a group in one PATCH held Redis 250-300 ms in one script (an audit,
 * 2026-12-07). Past BUMP_SCRIPT_BYTES of records a script hands the rest to the connection's bump job,
 * which the same write settles in scripts of that budget: every version still moves once, before the write
 * answers. Script calls are counted through ioredis's tracing channel, never timed.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisStore } from '../../src/store/redis.js';
import { BUMP_JOB, BUMP_SCRIPT_BYTES } from '../../src/store/redis-scripts.js';
import type { Store } from '../../src/store/store.js';
import { testRedis, type TestRedis } from '../support/redis.js';
import { traceRedisCommands } from '../support/store-calls.js';
import { groupWrite, makeConnection, userWrite } from './contract.js';

const USER_CHARS = 100_000;
/** Enough users that their records pass the budget three times over. */
const USERS = Math.ceil((3 * BUMP_SCRIPT_BYTES) / USER_CHARS);

describe('the version bumps of a member write on Redis', () => {
  let redis: TestRedis;
  let store: Store;
  let cid: string;
  const users: string[] = [];

  beforeAll(async () => {
    redis = await testRedis('bumps');
    store = redisStore({ client: redis.client, prefix: redis.prefix });
    const connection = makeConnection();
    await store.createConnection(connection);
    cid = connection.connectionId;
    for (let i = 0; i < USERS; i++) {
      const id = randomUUID();
      const json = JSON.stringify({ id, userName: `u${i}@bumps.test`, note: 'n'.repeat(USER_CHARS) });
      expect(await store.createResource(cid, userWrite(id, `u${i}@bumps.test`, { json }))).toEqual({ ok: true, version: 1 });
      users.push(id);
    }
  });
  afterAll(async () => {
    await redis?.cleanup();
  });

  /** The script calls (EVALSHA) `work` makes that name the bump job. */
  async function bumpJobCalls(work: () => Promise<unknown>): Promise<number> {
    let calls = 0;
    const stop = traceRedisCommands((command, args) => {
      if (command === 'evalsha' && args.some((a) => String(a) === BUMP_JOB)) calls++;
    });
    try {
      await work();
    } finally {
      stop();
    }
    return calls;
  }

  const versions = async () => Promise.all(users.map(async (id) => (await store.getResource(cid, 'User', id, { groups: false }))!.version));

  it('moves every member user’s version once, in scripts of at most the budget, before the write answers', async () => {
    const gid = randomUUID();
    expect((await store.createResource(cid, groupWrite(gid, 'Team'))).ok).toBe(true);
    const added = users.map((value) => ({ value }));
    const calls = await bumpJobCalls(async () =>
      expect(await store.replaceResource(cid, { ...groupWrite(gid, 'Team'), members: undefined, memberChanges: { remove: [], add: added } }, 1)).toEqual({
        ok: true,
        version: 2,
      }),
    );
    // The write's own script bumps about a budget's worth; the job the rest, a budget per script.
    expect(calls).toBeGreaterThanOrEqual(Math.ceil((USERS * USER_CHARS) / BUMP_SCRIPT_BYTES) - 1);
    expect(await versions()).toEqual(users.map(() => 2));
    expect(await redis.client.hexists(`${redis.prefix}{c:${cid}}:g:jobs`, BUMP_JOB)).toBe(0);

    // Removing them: the same, each version once more.
    await store.replaceResource(cid, { ...groupWrite(gid, 'Team'), members: undefined, memberChanges: { remove: users, add: [] } }, 2);
    expect(await versions()).toEqual(users.map(() => 3));
    expect((await store.getResource(cid, 'User', users[0]!))!.groups).toEqual([]);
  });
});
