/**
 * The Redis store on a real 3-master Redis Cluster (started by test/support/global-setup.ts): the shared
 * store contract, where a connection's keys live (one slot per connection, connections spread over the
 * masters), the SCIM routes through Express, and a real login admitted and refused by the guard.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import express from 'express';
import type { Cluster } from 'ioredis';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scimSso } from '../support/sso.js';
import { redisStore } from '../../src/store/redis.js';
import type { Store } from '../../src/store/store.js';
import { Browser } from '../support/browser.js';
import { keysByMaster, testCluster, type TestCluster } from '../support/cluster.js';
import { storeProblems } from '../support/redis.js';
import { ADAPTERS, startLoginHarness, type LoginHarness } from '../e2e/harness.js';
import { groupWrite, makeConnection, makeOidcClient, makeSsoUser, storeContract, userWrite } from './contract.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

let t: TestCluster;
beforeAll(async () => {
  t = await testCluster('cluster');
});
afterAll(async () => {
  await t.cleanup();
});

let stores = 0;
storeContract('redis cluster', async (options) => ({
  store: redisStore({ ...options, client: t.client, prefix: `${t.prefix}${stores++}:` }),
  cleanup: async () => {},
}));

/** The slot of each key, from the cluster itself (CLUSTER KEYSLOT). */
async function slotsOf(client: Cluster, keys: string[]): Promise<number[]> {
  return Promise.all(keys.map(async (key) => Number(await client.call('CLUSTER', 'KEYSLOT', key))));
}

/** A connection with users, a group with members, a rotated token, an OIDC client and an SSO user. */
async function populate(store: Store): Promise<string> {
  const conn = makeConnection();
  const cid = conn.connectionId;
  await store.createConnection(conn);
  await store.updateConnectionTokens(cid, {
    tokenHash: randomUUID().replace(/-/g, ''),
    previousTokenHash: conn.tokenHash,
    previousTokenExpiresAt: Date.now() + 60_000,
  });
  const users = [randomUUID(), randomUUID()];
  await store.createResource(cid, userWrite(users[0]!, 'ann@x.com', { externalId: 'e1', emails: ['ann@x.com'] }));
  await store.createResource(cid, userWrite(users[1]!, 'bob@x.com', { externalId: 'e2' }));
  const gid = randomUUID();
  await store.createResource(cid, groupWrite(gid, 'Admins', [{ value: users[0]! }, { value: users[1]! }]));
  await store.deleteResource(cid, 'User', users[1]!); // leaves tombstones and bumps the group
  await store.createOidcClient(makeOidcClient(conn.customerId));
  await store.recordSsoUser(conn.customerId, makeSsoUser('sub-1', '2024-01-01T00:00:00.000Z'));
  return cid;
}

describe('redis cluster: where the keys live', () => {
  it('puts every key of one connection in one slot, on the master that serves it', async () => {
    const prefix = `${t.prefix}slot${stores++}:`;
    const store = redisStore({ client: t.client, prefix });
    const cid = await populate(store);
    const byMaster = await keysByMaster(t.client, `${prefix}{c:${cid}}:*`);
    const tagged = [...byMaster.values()].flat();
    expect(tagged.length).toBeGreaterThanOrEqual(10);
    // Only the master owning the slot holds them (a misrouted write would fail with MOVED, not land elsewhere).
    expect([...byMaster.values()].filter((keys) => keys.length > 0)).toHaveLength(1);
    const slots = new Set(await slotsOf(t.client, tagged));
    expect(slots.size).toBe(1);
    expect([...slots][0]).toBe(Number(await t.client.call('CLUSTER', 'KEYSLOT', `{c:${cid}}`)));
    expect(await storeProblems(t.client, prefix, cid)).toEqual([]);
  });

  it('puts the keys of different connections in different slots', async () => {
    const prefix = `${t.prefix}slots${stores++}:`;
    const store = redisStore({ client: t.client, prefix });
    const slotByConnection = new Map<string, number>();
    for (let i = 0; i < 8; i++) {
      const conn = makeConnection();
      await store.createConnection(conn);
      await store.createResource(conn.connectionId, userWrite(randomUUID(), `u${i}@x.com`));
      const keys = [...(await keysByMaster(t.client, `${prefix}{c:${conn.connectionId}}:*`)).values()].flat();
      const slots = new Set(await slotsOf(t.client, keys));
      expect(slots.size).toBe(1);
      slotByConnection.set(conn.connectionId, [...slots][0]!);
    }
    // 8 random connection ids in 16384 slots: all in one slot would mean the tag ignores the id.
    expect(new Set(slotByConnection.values()).size).toBeGreaterThan(1);
  });

  it('spreads the writes of many connections across all three masters', async () => {
    const prefix = `${t.prefix}spread${stores++}:`;
    const store = redisStore({ client: t.client, prefix });
    const connections = Array.from({ length: 30 }, () => makeConnection());
    await Promise.all(
      connections.map(async (conn) => {
        await store.createConnection(conn);
        for (let i = 0; i < 3; i++) await store.createResource(conn.connectionId, userWrite(randomUUID(), `user${i}@x.com`));
      }),
    );
    const byMaster = await keysByMaster(t.client, `${prefix}{c:*`);
    expect(byMaster.size).toBe(3);
    const connectionsPerMaster = [...byMaster.values()].map((keys) => new Set(keys.map((k) => k.slice(prefix.length).split('}')[0])).size);
    // 30 random slots all missing one master has probability 3 × (2/3)^30 ≈ 2e-5.
    for (const count of connectionsPerMaster) expect(count).toBeGreaterThan(0);
    expect(connectionsPerMaster.reduce((a, b) => a + b, 0)).toBe(30);
    // And every one of them reads back, through whichever master serves it.
    for (const conn of connections) {
      expect((await store.listPage(conn.connectionId, 'User', 0, 10)).total).toBe(3);
      expect(await store.findConnectionByTokenHash(conn.tokenHash)).toEqual(conn);
      expect(await storeProblems(t.client, prefix, conn.connectionId)).toEqual([]);
    }
    expect((await store.listCustomers()).sort()).toEqual(connections.map((c) => c.customerId).sort());
  });
});

describe('redis cluster: SCIM routes through Express', () => {
  let server: Server;
  let http: supertest.Agent;
  let auth: { Authorization: string };
  let prefix: string;
  let connectionId: string;
  const unexpected: unknown[] = [];

  beforeAll(async () => {
    prefix = `${t.prefix}routes${stores++}:`;
    const sso = scimSso({ store: redisStore({ client: t.client, prefix }), onError: (error) => unexpected.push(error) });
    const created = await sso.createScimConnection({ customerId: 'cluster-routes' });
    connectionId = created.connectionId;
    auth = { Authorization: `Bearer ${created.token}` };
    const app = express();
    app.use(sso);
    server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    http = supertest.agent(server);
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    expect(unexpected).toEqual([]);
  });

  it('creates, reads, filters, patches and deletes users, and keeps groups with members', async () => {
    const post = (userName: string) =>
      http
        .post('/scim/v2/Users')
        .set(auth)
        .send({ schemas: [USER], userName, externalId: `ext-${userName}`, active: true, emails: [{ value: userName, primary: true }] });
    const ann = await post('Ann@Example.com');
    expect(ann.status).toBe(201);
    expect(ann.headers.location).toMatch(new RegExp(`/scim/v2/Users/${ann.body.id}$`));
    const bob = await post('bob@example.com');
    expect(bob.status).toBe(201);
    expect((await post('ANN@example.com')).body).toMatchObject({ schemas: [ERROR], status: '409', scimType: 'uniqueness' });

    const read = await http.get(`/scim/v2/Users/${ann.body.id}`).set(auth);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id: ann.body.id, userName: 'Ann@Example.com', active: true, meta: { version: 'W/"1"' } });

    const filtered = await http.get('/scim/v2/Users').query({ filter: 'userName eq "ann@example.COM"' }).set(auth);
    expect(filtered.status).toBe(200);
    expect(filtered.body).toMatchObject({ totalResults: 1, Resources: [{ id: ann.body.id }] });
    const byExternal = await http.get('/scim/v2/Users').query({ filter: 'externalId eq "ext-bob@example.com"' }).set(auth);
    expect(byExternal.body.Resources.map((r: { id: string }) => r.id)).toEqual([bob.body.id]);
    const all = await http.get('/scim/v2/Users').query({ startIndex: 1, count: 10 }).set(auth);
    expect(all.body.totalResults).toBe(2);

    const deactivated = await http
      .patch(`/scim/v2/Users/${ann.body.id}`)
      .set(auth)
      .send({ schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] });
    expect(deactivated.status).toBe(204);
    expect((await http.get(`/scim/v2/Users/${ann.body.id}`).set(auth)).body).toMatchObject({ active: false, meta: { version: 'W/"2"' } });

    const group = await http
      .post('/scim/v2/Groups')
      .set(auth)
      .send({ schemas: [GROUP], displayName: 'Engineering', members: [{ value: ann.body.id }] });
    expect(group.status).toBe(201);
    const added = await http
      .patch(`/scim/v2/Groups/${group.body.id}`)
      .set(auth)
      .send({ schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: bob.body.id }] }] });
    expect(added.status).toBe(204);
    const members = (await http.get(`/scim/v2/Groups/${group.body.id}`).set(auth)).body.members.map((m: { value: string }) => m.value);
    expect(members).toEqual([ann.body.id, bob.body.id]);
    expect((await http.get(`/scim/v2/Users/${bob.body.id}`).set(auth)).body.groups).toMatchObject([{ value: group.body.id, display: 'Engineering' }]);
    const groups = await http.get('/scim/v2/Groups').query({ filter: 'displayName eq "engineering"' }).set(auth);
    expect(groups.body).toMatchObject({ totalResults: 1, Resources: [{ id: group.body.id }] });

    expect((await http.delete(`/scim/v2/Users/${bob.body.id}`).set(auth)).status).toBe(204);
    expect((await http.get(`/scim/v2/Users/${bob.body.id}`).set(auth)).status).toBe(404);
    expect((await http.get(`/scim/v2/Groups/${group.body.id}`).set(auth)).body.members.map((m: { value: string }) => m.value)).toEqual([ann.body.id]);
    expect((await http.delete(`/scim/v2/Groups/${group.body.id}`).set(auth)).status).toBe(204);
    expect((await http.get(`/scim/v2/Users/${ann.body.id}`).set(auth)).body.groups ?? []).toEqual([]);
    expect(await storeProblems(t.client, prefix, connectionId)).toEqual([]);
  });
});

describe.each(ADAPTERS)('redis cluster: the login guard end to end (%s)', (adapter) => {
  let h: LoginHarness;
  beforeAll(async () => {
    const store = redisStore({ client: t.client, prefix: `${t.prefix}e2e${stores++}:` });
    // The harness makes its own store; `wrapStore` swaps in the cluster store before any instance sees it.
    h = await startLoginHarness({ store: 'memory', adapter, hint: `cluster-e2e-${adapter}`, wrapStore: () => store });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('admits a provisioned active user and refuses a deactivated one', async () => {
    const c = await h.customer({ customerId: 'cluster-login', tenant: 'cluster', idpType: 'Okta' });
    h.idp.upsertAccount('cluster', { sub: 'sub-ann', email: 'Ann@Cluster.Test', email_verified: true });
    h.idp.upsertAccount('cluster', { sub: 'sub-dan', email: 'dan@cluster.test', email_verified: true });
    const ann = await c.scim.createUser({ userName: 'ann@cluster.test', active: true });
    await c.scim.createUser({ userName: 'dan@cluster.test', active: false });

    const browser = new Browser();
    const admitted = await h.login(browser, c.customerId, 'sub-ann');
    expect(admitted.status, JSON.stringify(admitted.body)).toBe(200);
    expect(admitted.body).toMatchObject({ customerId: 'cluster-login', scimUserId: ann, userName: 'ann@cluster.test', subject: 'sub-ann' });
    expect((await h.me(browser)).status).toBe(200);

    const refused = await h.login(new Browser(), c.customerId, 'sub-dan');
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ error: 'ScimUserNotActive', reason: 'deactivated' });

    await expect((await h.instance()).sso.listSsoUsers(c.customerId)).resolves.toHaveLength(2);
    // Both logins are in the page order, whose key shares the SSO hash's slot.
    const page = await h.store.listSsoUserPage(c.customerId, 0, 10);
    expect({ total: page.total, subjects: page.users.map((u) => u.subject).sort() }).toEqual({ total: 2, subjects: ['sub-ann', 'sub-dan'] });
    expect(h.serverErrors).toEqual([]);
    expect(h.idp.errors).toEqual([]);
  });
});
