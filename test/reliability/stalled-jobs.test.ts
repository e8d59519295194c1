/**
 * A write of several steps whose process dies part way (Redis store). A long member list is swapped in by
 * one script and settled after it in batches (members' reverse entries, users' versions); a deleted group's
 * list is settled the same way. A writer that dies in between leaves its job, and
 * (docs/groups.md, "If a process dies mid-way"):
 * - readers never trust the unsettled reverse entries: a user removed from a group does not keep it, nor
 *   its roles, even for a moment;
 * - the next write of the connection, on any instance, finishes the stalled job (adoptJobsAfterMs), with
 *   durable events off, so no event read heals it.
 * The "death" is the dying instance's settle script failing, as a lost process or Redis connection makes it.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { bodyText } from '../../src/scim/response-body.js';
import { redisStore } from '../../src/store/redis.js';
import { storeProblems, testRedis, wrapStoreScript, type TestRedis } from '../support/redis.js';
import { scimRequest, scimSso, type ScimSso } from '../support/sso.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const TOKEN = 'stalled-jobs-token-abcdefghijklmnopqrstuvwxyz0123456789';

describe('stalled multi-step writes (redis store)', () => {
  let redis: TestRedis;
  let dyingClient: Redis;
  let healthy: ScimSso;
  let dying: ScimSso;
  let connectionId: string;
  const ids: string[] = [];

  beforeAll(async () => {
    redis = await testRedis('stalled-jobs');
    dyingClient = new Redis(inject('redisUrl'));
    const options = { rateLimit: false, activityLog: false, durableEvents: false } as const;
    healthy = scimSso({ ...options, store: redisStore({ client: redis.client, prefix: redis.prefix, adoptJobsAfterMs: 0 }) });
    dying = scimSso({ ...options, store: redisStore({ client: dyingClient, prefix: redis.prefix }) });
    wrapStoreScript(dyingClient, 'settle', () => () => Promise.reject(new Error('the process died (simulated)')));
    await healthy.createScimConnection({ customerId: 'stalled-jobs', token: TOKEN });
    connectionId = (await healthy.store.getConnectionByCustomer('stalled-jobs'))!.connectionId;
    for (let i = 0; i < 301; i++) ids.push(String((await call(healthy, 'POST', '/Users', { schemas: [USER], userName: `u${i}@corp.test` })).body!.id));
  });
  afterAll(async () => {
    dyingClient?.disconnect();
    await redis?.cleanup();
  });

  async function call(sso: ScimSso, method: string, path: string, body?: unknown, query?: string) {
    const response = await sso.handleScim(scimRequest(TOKEN, method, path, { body, query }));
    const text = response.body === undefined ? '' : bodyText(response.body);
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : null };
  }
  const groupsOf = async (id: string) =>
    ((await call(healthy, 'GET', `/Users/${id}`)).body!.groups as { value: string }[] | undefined)?.map((g) => g.value) ?? [];
  const listing = async (id: string) =>
    Number(
      (await call(healthy, 'GET', '/Groups', undefined, `filter=${encodeURIComponent(`members[value eq "${id}"]`)}&excludedAttributes=members`)).body!
        .totalResults,
    );
  /** Waits for the healthy instance's background adoption, which a write of the connection starts. */
  async function settled(): Promise<string[]> {
    for (let i = 0; i < 200; i++) {
      const problems = await storeProblems(redis.client, redis.prefix, connectionId);
      if (problems.length === 0) return problems;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return storeProblems(redis.client, redis.prefix, connectionId);
  }

  it('a replaced list: the removed member loses the group at once, the added one gets it once the job is adopted', async () => {
    const [removed, added] = [ids[0]!, ids[300]!];
    const admins = String(
      (await call(healthy, 'POST', '/Groups', { schemas: [GROUP], displayName: 'Admins', members: ids.slice(0, 300).map((value) => ({ value })) })).body!.id,
    );
    expect(await groupsOf(removed)).toEqual([admins]);
    const put = await call(dying, 'PUT', `/Groups/${admins}`, {
      schemas: [GROUP],
      displayName: 'Admins',
      members: ids.slice(1, 301).map((value) => ({ value })),
    });
    expect(put.status).toBeGreaterThanOrEqual(500); // the writer died after its swap
    expect((await storeProblems(redis.client, redis.prefix, connectionId)).length).toBeGreaterThan(0);
    // Readers confirm each group with its list: the removed member is out of the group everywhere at once.
    expect(await groupsOf(removed)).toEqual([]);
    expect(await listing(removed)).toBe(0);
    // Any write of the connection, through a live instance, finishes the stalled job.
    expect((await call(healthy, 'POST', '/Users', { schemas: [USER], userName: 'trigger1@corp.test' })).status).toBe(201);
    expect(await settled()).toEqual([]);
    expect(await groupsOf(added)).toEqual([admins]);
    expect(await listing(added)).toBe(1);
    expect(await groupsOf(removed)).toEqual([]);
  });

  /** A scimSso on a client of its own whose `stage` script runs `between(call)` before each call after the first. */
  async function stagingInstance(between: (call: number) => Promise<void>): Promise<{ sso: ScimSso; client: Redis }> {
    const client = new Redis(inject('redisUrl'));
    const sso = scimSso({ rateLimit: false, activityLog: false, durableEvents: false, store: redisStore({ client, prefix: redis.prefix }) });
    let calls = 0;
    wrapStoreScript(client, 'stage', (real) => async (...args) => {
      if (calls++ > 0) await between(calls);
      return real(...args);
    });
    return { sso, client };
  }
  const membersOf = async (id: string) => ((await call(healthy, 'GET', `/Groups/${id}`)).body!.members as unknown[] | undefined)?.length ?? 0;
  const thousands = (n: number) => Array.from({ length: n }, (_, i) => ({ value: `staged-${i}` }));

  it("leaves a slow writer's staging alone: adoption never cuts a list being staged", async () => {
    let release = () => {};
    const stalled = new Promise<void>((resolve) => (release = resolve));
    let reached = () => {};
    const atStall = new Promise<void>((resolve) => (reached = resolve));
    const slow = await stagingInstance(async (n) => {
      if (n === 2) {
        reached();
        await stalled;
      }
    });
    try {
      const post = call(slow.sso, 'POST', '/Groups', { schemas: [GROUP], displayName: 'Slowly staged', members: thousands(2_500) });
      await atStall;
      // Another instance writes meanwhile, and looks for stalled jobs (adoptJobsAfterMs 0): the staging is not one.
      expect((await call(healthy, 'POST', '/Users', { schemas: [USER], userName: 'during-staging@corp.test' })).status).toBe(201);
      await new Promise((resolve) => setTimeout(resolve, 100));
      release();
      const created = await post;
      expect(created.status).toBe(201);
      expect(await membersOf(String(created.body!.id))).toBe(2_500);
    } finally {
      slow.client.disconnect();
    }
  });

  it('refuses, changing nothing, a staged write whose staging was dropped under it (503, then a retry completes it)', async () => {
    const dropping = await stagingInstance(async () => {
      // What dropping an abandoned staging job does to the writer: its job is gone before its next chunk.
      const jobs = `${redis.prefix}{c:${connectionId}}:g:jobs`;
      for (const [token, job] of Object.entries(await redis.client.hgetall(jobs))) if (job.startsWith('s ')) await redis.client.hdel(jobs, token);
    });
    try {
      const body = { schemas: [GROUP], displayName: 'Dropped staging', members: thousands(2_500) };
      const refused = await call(dropping.sso, 'POST', '/Groups', body);
      expect(refused.status).toBe(503);
      expect((await call(healthy, 'GET', '/Groups', undefined, `filter=${encodeURIComponent('displayName eq "Dropped staging"')}`)).body!.totalResults).toBe(0);
      const retried = await call(healthy, 'POST', '/Groups', body);
      expect(retried.status).toBe(201);
      expect(await membersOf(String(retried.body!.id))).toBe(2_500);
    } finally {
      dropping.client.disconnect();
    }
  });

  it("a deleted group's list: its members' reverse entries go once the job is adopted", async () => {
    const doomed = String(
      (await call(healthy, 'POST', '/Groups', { schemas: [GROUP], displayName: 'Doomed', members: ids.slice(0, 300).map((value) => ({ value })) })).body!.id,
    );
    await call(dying, 'DELETE', `/Groups/${doomed}`);
    expect((await call(healthy, 'GET', `/Groups/${doomed}`)).status).toBe(404);
    expect(await groupsOf(ids[5]!)).not.toContain(doomed);
    expect((await call(healthy, 'POST', '/Users', { schemas: [USER], userName: 'trigger2@corp.test' })).status).toBe(201);
    expect(await settled()).toEqual([]);
  });
});
