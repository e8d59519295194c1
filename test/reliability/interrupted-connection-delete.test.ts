/**
 * A SCIM connection delete interrupted part way (Redis store: the record is renamed away, then the data
 * swept in batches; the caller can die or lose Redis in between). Nothing of it may stay reachable or
 * stranded: sessions naming the connection end at once, and the customer's next delete or create
 * finishes the sweep, although the customer no longer names the connection. The "death" is the dying
 * instance's sweep script failing after its first batch.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { checkSession } from '../../src/guard/session-check.js';
import { redisStore } from '../../src/store/redis.js';
import { scanKeys, testRedis, wrapStoreScript, type TestRedis } from '../support/redis.js';
import { scimRequest, scimSso, type ScimSso } from '../support/sso.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

describe('an interrupted SCIM connection delete (redis store)', () => {
  let redis: TestRedis;
  let dyingClient: Redis;
  let healthy: ScimSso;
  let dying: ScimSso;
  /** Sweep calls of the dying instance: its first one works, the next one fails (reset by each test). */
  let sweeps = 0;
  /** The connections the healthy instance's audit trail reports deleted. */
  const deletions: string[] = [];

  beforeAll(async () => {
    redis = await testRedis('interrupted-delete');
    dyingClient = new Redis(inject('redisUrl'));
    healthy = scimSso({
      rateLimit: false,
      store: redisStore({ client: redis.client, prefix: redis.prefix }),
      onEvent: (event) => void (event.type === 'connection.deleted' && deletions.push(String(event.connectionId))),
    });
    dying = scimSso({ rateLimit: false, store: redisStore({ client: dyingClient, prefix: redis.prefix }) });
    wrapStoreScript(
      dyingClient,
      'sweep',
      (real) =>
        (...args) =>
          ++sweeps === 1 ? real(...args) : Promise.reject(new Error('the process died (simulated)')),
    );
  });
  afterAll(async () => {
    dyingClient?.disconnect();
    await redis?.cleanup();
  });

  /** A connection of `customerId` with `users` users; the last user's id (the sweep reaches it last). */
  async function provisioned(customerId: string, users: number): Promise<{ connectionId: string; lastUser: string }> {
    const { token, connectionId } = await healthy.createScimConnection({ customerId });
    let lastUser = '';
    for (let i = 0; i < users; i++) {
      const response = await healthy.handleScim(scimRequest(token, 'POST', '/Users', { body: { schemas: [USER], userName: `u${i}@corp.test` } }));
      expect(response.status).toBe(201);
      lastUser = String(JSON.parse(String(response.body)).id);
    }
    return { connectionId, lastUser };
  }
  const keysOf = (connectionId: string) => scanKeys(redis.client, `${redis.prefix}{c:${connectionId}}:*`);

  it('ends sessions naming the connection at once, and the next delete of the customer finishes the sweep', async () => {
    const { connectionId, lastUser } = await provisioned('acme', 450);
    const session = { customerId: 'acme', connectionId, scimUserId: lastUser };
    expect(await checkSession(healthy.store, session)).toMatchObject({ active: true });
    sweeps = 0;
    await expect(dying.deleteScimConnection('acme')).rejects.toThrow(/died/);
    expect(await healthy.fetchScimConnection('acme')).toBeNull();
    expect((await keysOf(connectionId)).length).toBeGreaterThan(0);
    // The user is not swept yet, but the connection is being deleted: the session ends, and a login finds nobody.
    expect(await checkSession(healthy.store, session)).toEqual({ active: false, reason: 'deleted' });
    expect(await healthy.store.findUsersForLogin(connectionId, 'userName', 'u449@corp.test')).toEqual({ users: [], deletedMatch: false });
    expect(await healthy.deleteScimConnection('acme')).toBe(true);
    expect(await keysOf(connectionId)).toEqual([]);
    expect(deletions).toEqual([connectionId]);
    expect(await healthy.deleteScimConnection('acme')).toBe(false);
  });

  it("drops a swept user's login projection with its row, so that no lookup finds it meanwhile", async () => {
    const { token, connectionId } = await healthy.createScimConnection({ customerId: 'initech' });
    // Users of 16 KB of JSON or more keep a login projection (u:lp) beside their row; these are swept first.
    for (let i = 0; i < 3; i++) {
      const body = { schemas: [USER], userName: `big${i}@corp.test`, externalId: 'big', notes: 'n'.repeat(20_000) };
      expect((await healthy.handleScim(scimRequest(token, 'POST', '/Users', { body }))).status).toBe(201);
    }
    for (let i = 0; i < 300; i++) {
      const body = { schemas: [USER], userName: `u${i}@corp.test` };
      expect((await healthy.handleScim(scimRequest(token, 'POST', '/Users', { body }))).status).toBe(201);
    }
    const projections = `${redis.prefix}{c:${connectionId}}:u:lp`;
    expect(await redis.client.hlen(projections)).toBe(3);
    sweeps = 0;
    await expect(dying.deleteScimConnection('initech')).rejects.toThrow(/died/);
    expect(await redis.client.hlen(projections)).toBe(0);
    const [found] = await healthy.store.findUsersForLoginBatch(connectionId, [{ attribute: 'externalId', value: 'big' }], { projections: true });
    expect(found!.users).toEqual([]);
    expect(await healthy.deleteScimConnection('initech')).toBe(true);
    expect(await keysOf(connectionId)).toEqual([]);
  });

  it('a new connection of the customer first finishes the interrupted delete: nothing of the old one is left', async () => {
    const { connectionId } = await provisioned('globex', 450);
    sweeps = 0;
    await expect(dying.deleteScimConnection('globex')).rejects.toThrow(/died/);
    const created = await healthy.createScimConnection({ customerId: 'globex' });
    expect(created.connectionId).not.toBe(connectionId);
    expect(await keysOf(connectionId)).toEqual([]);
    expect(await healthy.fetchScimConnection('globex')).toMatchObject({ connectionId: created.connectionId });
  });
});
