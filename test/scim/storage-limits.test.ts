/**
 * Storage limits and token ownership through the public API (docs/storage-limits.md): quotas answered
 * 507, conditional DELETE racing a PUT, bring-your-own tokens claimed once across instances, and token
 * rotations through two scim-sso instances sharing one store (exactly one wins; every token reported works).
 */
import express from 'express';
import { Redis } from 'ioredis';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ScimSsoConfigError, type CreatedScimConnection, type ScimSsoOptions } from '../../src/index.js';
import { scimSso, type ScimSso } from '../support/sso.js';
import { DEFAULT_QUOTA } from '../../src/options.js';
import { memoryStore } from '../../src/store/memory.js';
import { redisStore } from '../../src/store/redis.js';
import { STORE_KINDS, type StoreKind } from '../support/app.js';
import { testRedis, wrapStoreScript } from '../support/redis.js';
import { MEMBERSHIP_BYTES, memberBytes } from '../../src/store/write-weights.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

interface Instances {
  a: ScimSso;
  b: ScimSso;
  cleanup(): Promise<void>;
}

/** Two scim-sso instances on one store: one memory store shared in-process, or two Redis clients on one prefix. */
async function twoInstances(kind: StoreKind, hint: string, options: ScimSsoOptions = {}): Promise<Instances> {
  const onError = (error: unknown) => {
    throw error;
  };
  if (kind === 'memory') {
    const store = memoryStore();
    return { a: scimSso({ ...options, store, onError }), b: scimSso({ ...options, store, onError }), cleanup: async () => {} };
  }
  const redis = await testRedis(hint);
  const second = new Redis(inject('redisUrl'));
  return {
    a: scimSso({ ...options, store: redisStore({ client: redis.client, prefix: redis.prefix }), onError }),
    b: scimSso({ ...options, store: redisStore({ client: second, prefix: redis.prefix }), onError }),
    async cleanup() {
      await second.quit();
      await redis.cleanup();
    },
  };
}

const http = (sso: ScimSso) => supertest(express().use(sso));
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const user = (userName: string, extra: Record<string, unknown> = {}) => ({ schemas: [USER], userName, ...extra });

/** A 40-character token that passes the bring-your-own rules. */
const byoToken = (seed: string) => `byo-${seed}-0123456789abcdefghijklmnopqrstuvwxyz`.slice(0, 40);

async function configError(promise: Promise<unknown>): Promise<ScimSsoConfigError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ScimSsoConfigError);
  return error as ScimSsoConfigError;
}

describe.each(STORE_KINDS)('storage limits and token ownership on the %s store', (kind) => {
  let t: Instances;
  beforeAll(async () => {
    t = await twoInstances(kind, `limits-${kind}`, { quota: { maxUsers: 2, maxGroups: 1, maxBytes: 4_000 }, rateLimit: false });
  });
  afterAll(async () => {
    await t.cleanup();
  });

  describe('quotas', () => {
    it('answers a create over maxUsers or maxGroups with 507 and an RFC 7644 error body', async () => {
      const { token } = await t.a.createScimConnection({ customerId: `${kind}-quota-count` });
      const api = http(t.a);
      expect((await api.post('/scim/v2/Users').set(bearer(token)).send(user('ann'))).status).toBe(201);
      expect((await api.post('/scim/v2/Users').set(bearer(token)).send(user('bob'))).status).toBe(201);
      const over = await api.post('/scim/v2/Users').set(bearer(token)).send(user('cid'));
      expect(over.status).toBe(507);
      expect(over.headers['content-type']).toMatch(/^application\/scim\+json/);
      expect(over.body).toEqual({ schemas: [ERROR], status: '507', detail: expect.stringContaining('quota of 2 users') });
      // Through the other instance too: the count is the store's, not a process's.
      expect((await http(t.b).post('/scim/v2/Users').set(bearer(token)).send(user('dee'))).status).toBe(507);
      expect(
        (
          await api
            .post('/scim/v2/Groups')
            .set(bearer(token))
            .send({ schemas: [GROUP], displayName: 'One' })
        ).status,
      ).toBe(201);
      const group = await api
        .post('/scim/v2/Groups')
        .set(bearer(token))
        .send({ schemas: [GROUP], displayName: 'Two' });
      expect([group.status, group.body.detail]).toEqual([507, expect.stringContaining('quota of 1 groups')]);
      const list = await api.get('/scim/v2/Users').set(bearer(token));
      expect(list.body.totalResults).toBe(2);
    });

    it('refuses an update that grows past maxBytes with 507, and accepts one that shrinks', async () => {
      const { token } = await t.a.createScimConnection({ customerId: `${kind}-quota-bytes` });
      const api = http(t.a);
      const created = await api
        .post('/scim/v2/Users')
        .set(bearer(token))
        .send(user('ann', { displayName: 'Ann' }));
      expect(created.status).toBe(201);
      const id = created.body.id as string;
      const big = await api
        .put(`/scim/v2/Users/${id}`)
        .set(bearer(token))
        .send(user('ann', { title: 'A'.repeat(5_000) }));
      expect([big.status, big.body.detail]).toEqual([507, expect.stringContaining('quota of 4000 bytes')]);
      expect((await api.get(`/scim/v2/Users/${id}`).set(bearer(token))).body.displayName).toBe('Ann');
      const smaller = await api.put(`/scim/v2/Users/${id}`).set(bearer(token)).send(user('ann'));
      expect(smaller.status).toBe(200);
    });

    it('counts each membership for MEMBERSHIP_BYTES beyond its value, so that short member values cannot fill the store past maxBytes', async () => {
      // Found by an audit (2026-12-07): 40 groups of 5,000 one-character members counted for 0.56 MB and took
      // 30.6 MB of Redis, 55 times the quota's measure.
      const budget = 40 * MEMBERSHIP_BYTES;
      const capped = await twoInstances(kind, `limits-memberships-${kind}`, { quota: { maxBytes: 1_000 + budget }, rateLimit: false });
      try {
        const { token } = await capped.a.createScimConnection({ customerId: `${kind}-quota-memberships` });
        const api = http(capped.a);
        const group = (displayName: string, count: number) =>
          api
            .post('/scim/v2/Groups')
            .set(bearer(token))
            .send({ schemas: [GROUP], displayName, members: Array.from({ length: count }, (_, i) => ({ value: String(i) })) });
        // 60 one- or two-character values are 110 bytes, but 60 memberships.
        const refused = await group('Many', 60);
        expect([refused.status, refused.body.detail]).toEqual([507, expect.stringContaining(`quota of ${1_000 + budget} bytes`)]);
        expect((await group('Some', 30)).status).toBe(201);
      } finally {
        await capped.cleanup();
      }
    });

    it('answers a group write that puts a member past maxGroupsPerMember with 507 naming it, changing nothing', async () => {
      const capped = await twoInstances(kind, `limits-per-member-${kind}`, { quota: { maxGroupsPerMember: 2 }, rateLimit: false });
      try {
        const { token } = await capped.a.createScimConnection({ customerId: `${kind}-quota-per-member` });
        const api = http(capped.a);
        const ann = (await api.post('/scim/v2/Users').set(bearer(token)).send(user('ann'))).body.id as string;
        const group = async (displayName: string, members: string[]) =>
          api
            .post('/scim/v2/Groups')
            .set(bearer(token))
            .send({ schemas: [GROUP], displayName, members: members.map((value) => ({ value })) });
        const first = (await group('First', [ann])).body.id as string;
        expect((await group('Second', [ann])).status).toBe(201);
        const over = await group('Third', [ann]);
        expect(over.status).toBe(507);
        expect(over.body).toMatchObject({ schemas: [ERROR], status: '507' });
        expect(over.body.detail).toContain(`member "${ann}" is already in 2 groups`);
        expect(over.body.detail).toContain('quota.maxGroupsPerMember');
        const empty = (await group('Third', [])).body.id as string;
        // Okta's add, through the other instance: refused the same way, the group keeps no member.
        const patch = (id: string, op: Record<string, unknown>) =>
          http(capped.b)
            .patch(`/scim/v2/Groups/${id}`)
            .set(bearer(token))
            .send({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [op] });
        expect((await patch(empty, { op: 'add', path: 'members', value: [{ value: ann }] })).status).toBe(507);
        expect((await api.get(`/scim/v2/Groups/${empty}`).set(bearer(token))).body.members ?? []).toEqual([]);
        expect((await api.get(`/scim/v2/Users/${ann}`).set(bearer(token))).body.groups).toHaveLength(2);
        // Entra's remove from one group makes room for another.
        expect((await patch(first, { op: 'remove', path: `members[value eq "${ann}"]` })).status).toBeLessThan(300);
        expect((await patch(empty, { op: 'add', path: 'members', value: [{ value: ann }] })).status).toBeLessThan(300);
        const groups = (await api.get(`/scim/v2/Users/${ann}`).set(bearer(token))).body.groups as { value: string }[];
        expect(groups.map((g) => g.value)).toContain(empty);
        expect(groups).toHaveLength(2);
      } finally {
        await capped.cleanup();
      }
    });

    it('stores users past maxResourcesPerValue sharing a value, and answers a filter on that value 400 tooMany naming the ones that work', async () => {
      const capped = await twoInstances(kind, `limits-per-value-${kind}`, { quota: { maxResourcesPerValue: 2 }, rateLimit: false });
      try {
        const { token } = await capped.a.createScimConnection({ customerId: `${kind}-quota-per-value` });
        const post = (sso: ScimSso, userName: string, extra: Record<string, unknown>) =>
          http(sso).post('/scim/v2/Users').set(bearer(token)).send(user(userName, extra));
        const filter = (sso: ScimSso, expression: string) => http(sso).get('/scim/v2/Users').query({ filter: expression }).set(bearer(token));
        expect((await post(capped.a, 'ann@a.example', { externalId: 'shared' })).status).toBe(201);
        expect((await post(capped.b, 'bob@a.example', { externalId: 'shared' })).status).toBe(201);
        expect((await filter(capped.a, 'externalId eq "shared"')).body.totalResults).toBe(2);
        // A directory's placeholder values: the third holder is provisioned like any other user.
        const third = await post(capped.a, 'cid@a.example', { externalId: 'shared' });
        expect(third.status).toBe(201);
        const crowded = await filter(capped.b, 'externalId eq "shared"');
        expect([crowded.status, crowded.body.schemas, crowded.body.scimType, crowded.body.detail]).toEqual([
          400,
          [ERROR],
          'tooMany',
          expect.stringMatching(/more than 2 User resources of this connection share this externalId.*"eq" on id or userName/),
        ]);
        // The same through the IdPs' lookup shape (count=1, a single eq) and through .search.
        expect((await http(capped.a).get('/scim/v2/Users').query({ filter: 'externalId eq "shared"', count: 1 }).set(bearer(token))).body.scimType).toBe(
          'tooMany',
        );
        const search = await http(capped.a)
          .post('/scim/v2/Users/.search')
          .set(bearer(token))
          .send({ schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: 'externalId eq "shared"' });
        expect([search.status, search.body.scimType]).toEqual([400, 'tooMany']);
        // Beside a term that names one user, the crowded term is only checked, in either order.
        for (const both of ['externalId eq "shared" and userName eq "cid@a.example"', 'userName eq "cid@a.example" and externalId eq "shared"']) {
          expect((await filter(capped.a, both)).body.totalResults, both).toBe(1);
        }
        // Each of them is found by what names one user, and reads back whole.
        expect((await filter(capped.a, 'userName eq "cid@a.example"')).body.Resources[0]).toMatchObject({ id: third.body.id, externalId: 'shared' });
        expect((await http(capped.b).get(`/scim/v2/Users/${third.body.id}`).set(bearer(token))).body.externalId).toBe('shared');
        const email = { emails: [{ value: 'team@a.example' }] };
        for (const name of ['dan', 'eve', 'fay']) expect((await post(capped.a, `${name}@a.example`, email)).status).toBe(201);
        expect((await filter(capped.b, 'emails.value eq "TEAM@a.example"')).body.detail).toContain('email address (emails.value)');
        expect((await filter(capped.b, 'emails[value eq "team@a.example"]')).body.scimType).toBe('tooMany');
        // Beside another indexed term that is not crowded, in either order, that term's lookup answers.
        expect((await post(capped.a, 'gus@a.example', { ...email, externalId: 'gus-own' })).status).toBe(201);
        for (const both of ['emails.value eq "team@a.example" and externalId eq "gus-own"', 'externalId eq "gus-own" and emails[value eq "team@a.example"]']) {
          const found = await filter(capped.b, both);
          expect([found.status, found.body.Resources?.map((u: { userName: string }) => u.userName)], both).toEqual([200, ['gus@a.example']]);
        }
        expect((await filter(capped.b, 'emails.value eq "team@a.example" or externalId eq "gus-own"')).body.scimType).toBe('tooMany');
        const list = await http(capped.a).get('/scim/v2/Users').set(bearer(token));
        expect(list.body.totalResults).toBe(7);
        // Once the third holder of "shared" takes another value, the filter answers again.
        const moved = await http(capped.b)
          .patch(`/scim/v2/Users/${third.body.id}`)
          .set(bearer(token))
          .send({
            schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
            Operations: [{ op: 'replace', path: 'externalId', value: 'own' }],
          });
        expect(moved.status).toBe(204);
        expect((await filter(capped.a, 'externalId eq "shared"')).body.totalResults).toBe(2);
      } finally {
        await capped.cleanup();
      }
    });

    it('takes quotas from the options, with defaults no real enterprise reaches', () => {
      expect(scimSso().options.quota).toEqual(DEFAULT_QUOTA);
      expect(DEFAULT_QUOTA).toEqual({ maxUsers: 2_000_000, maxGroups: 200_000, maxBytes: 8 * 1024 ** 3, maxGroupsPerMember: 1_000, maxResourcesPerValue: 100 });
      expect(scimSso({ quota: { maxUsers: 10 } }).options.quota).toEqual({ ...DEFAULT_QUOTA, maxUsers: 10 });
      expect(() => scimSso({ quota: { maxUsers: -1 } })).toThrow(/quota\.maxUsers/);
      expect(() => scimSso({ quota: { maxUser: 1 } as never })).toThrow(ScimSsoConfigError);
    });
  });

  describe('conditional DELETE', () => {
    it('answers 412 for a stale If-Match and deletes with the current one', async () => {
      const { token } = await t.a.createScimConnection({ customerId: `${kind}-if-match` });
      const api = http(t.a);
      const id = (await api.post('/scim/v2/Users').set(bearer(token)).send(user('ann'))).body.id as string;
      await api
        .put(`/scim/v2/Users/${id}`)
        .set(bearer(token))
        .send(user('ann', { displayName: 'v2' }));
      expect((await api.delete(`/scim/v2/Users/${id}`).set(bearer(token)).set('If-Match', 'W/"1"')).status).toBe(412);
      expect((await api.delete(`/scim/v2/Users/${id}`).set(bearer(token)).set('If-Match', 'W/"2"')).status).toBe(204);
      expect((await api.get(`/scim/v2/Users/${id}`).set(bearer(token))).status).toBe(404);
    });

    it('lets exactly one of a PUT and a DELETE with the same If-Match win, through two instances', async () => {
      const { token } = await t.a.createScimConnection({ customerId: `${kind}-if-match-race` });
      for (let round = 0; round < 8; round++) {
        const api = http(t.a);
        const id = (
          await api
            .post('/scim/v2/Users')
            .set(bearer(token))
            .send(user(`racer${round}`))
        ).body.id as string;
        const [put, del] = await Promise.all([
          api
            .put(`/scim/v2/Users/${id}`)
            .set(bearer(token))
            .set('If-Match', 'W/"1"')
            .send(user(`racer${round}`, { displayName: 'x' })),
          http(t.b).delete(`/scim/v2/Users/${id}`).set(bearer(token)).set('If-Match', 'W/"1"'),
        ]);
        const after = (await api.get(`/scim/v2/Users/${id}`).set(bearer(token))).status;
        if (del.status === 204) expect({ put: put.status, after }).toEqual({ put: 404, after: 404 });
        else expect({ put: put.status, del: del.status, after }).toEqual({ put: 200, del: 412, after: 200 });
        if (after === 200) await api.delete(`/scim/v2/Users/${id}`).set(bearer(token));
      }
    });
  });

  describe('bring-your-own tokens', () => {
    it('refuses another connection’s token, through another instance, without naming its customer', async () => {
      const token = byoToken(`${kind}-shared`);
      const owner = `${kind}-token-owner`;
      await t.a.createScimConnection({ customerId: owner, token });
      const users = http(t.a);
      await users.post('/scim/v2/Users').set(bearer(token)).send(user('owned'));
      const error = await configError(t.b.createScimConnection({ customerId: `${kind}-token-thief`, token }));
      expect(error.code).toBe('token_in_use');
      expect(error.message).not.toContain(owner);
      expect(await t.b.fetchScimConnection(`${kind}-token-thief`)).toBeNull();
      // The token still provisions into its owner's connection, on either instance.
      const listed = await http(t.b).get('/scim/v2/Users').set(bearer(token));
      expect(listed.body.Resources.map((r: { userName: string }) => r.userName)).toEqual(['owned']);
      // The refused customer can be created with a token of its own.
      expect((await t.b.createScimConnection({ customerId: `${kind}-token-thief` })).token).toMatch(/^scim_/);
    });

    it('creates exactly one of two connections racing for the same token on two instances', async () => {
      const token = byoToken(`${kind}-race`);
      const results = await Promise.allSettled([
        t.a.createScimConnection({ customerId: `${kind}-race-a`, token }),
        t.b.createScimConnection({ customerId: `${kind}-race-b`, token }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(refused.reason).toMatchObject({ code: 'token_in_use' });
    });

    it('refuses weak tokens with a message saying what is required', async () => {
      const weak = [
        'abcdefgh12345678abcdefgh1234567', // 31 characters
        'a'.repeat(40),
        'ab'.repeat(20),
        '0123456'.repeat(6),
        `${byoToken('space')} with space`,
        `${byoToken('tab')}\t`,
        `${byoToken('accent')}é`,
        'Ab1!'.repeat(300),
      ];
      for (const token of weak) {
        const error = await configError(t.a.createScimConnection({ customerId: `${kind}-weak`, token }));
        expect(error.code).toBe('invalid_argument');
        expect(error.message).toMatch(/32–1024 printable ASCII characters without spaces, using at least 8 distinct characters/);
      }
      expect(await t.a.fetchScimConnection(`${kind}-weak`)).toBeNull();
      const good = await t.a.createScimConnection({ customerId: `${kind}-weak`, token: byoToken(`${kind}-good`) });
      expect(good.token).toBe(byoToken(`${kind}-good`));
    });

    it('refuses a rotation to a token another connection holds, and keeps the current token working', async () => {
      const taken = byoToken(`${kind}-taken`);
      await t.a.createScimConnection({ customerId: `${kind}-holder`, token: taken });
      const { token } = await t.a.createScimConnection({ customerId: `${kind}-rotator` });
      const error = await configError(t.b.rotateScimToken(`${kind}-rotator`, { token: taken }));
      expect(error.code).toBe('token_in_use');
      expect((await http(t.a).get('/scim/v2/Users').set(bearer(token))).status).toBe(200);
      const mine = byoToken(`${kind}-mine`);
      expect((await t.b.rotateScimToken(`${kind}-rotator`, { token: mine })).token).toBe(mine);
      expect((await http(t.a).get('/scim/v2/Users').set(bearer(mine))).status).toBe(200);
      // Refused at once on b, which rotated; a may trust its cached copy for up to scimTokenCacheMs
      // (docs/round-trips.md; the delay is tested with an injected clock in test/scim/round-trips.test.ts).
      expect((await http(t.b).get('/scim/v2/Users').set(bearer(token))).status).toBe(401);
    });
  });

  describe('a connection deleted through another instance', () => {
    it('answers a POST with a token this instance still trusts 401, not 404 "User … not found"', async () => {
      const customerId = `${kind}-deleted-elsewhere`;
      const { token } = await t.a.createScimConnection({ customerId });
      // a reads the token, and trusts it for scimTokenCacheMs; b deletes the connection and makes a new one.
      expect((await http(t.a).get('/scim/v2/Users').set(bearer(token))).status).toBe(200);
      expect(await t.b.deleteScimConnection(customerId)).toBe(true);
      await t.b.createScimConnection({ customerId });
      const post = await http(t.a)
        .post('/scim/v2/Users')
        .set(bearer(token))
        .send({ schemas: [USER], userName: 'late@x.test' });
      expect([post.status, post.body.detail]).toEqual([401, "the token's SCIM connection no longer exists"]);
      expect(post.headers['www-authenticate']).toBe('Bearer realm="SCIM"');
    });
  });

  describe('concurrent rotations', () => {
    it('lets exactly one of six rotations through two instances win; its token works, the losers change nothing', async () => {
      const customerId = `${kind}-rotations`;
      let { token: current } = await t.a.createScimConnection({ customerId });
      for (const graceSeconds of [0, 3600]) {
        const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? t.a : t.b).rotateScimToken(customerId, { graceSeconds })));
        const won = results.filter((r): r is PromiseFulfilledResult<CreatedScimConnection> => r.status === 'fulfilled');
        expect(won).toHaveLength(1);
        for (const r of results) {
          if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'rotation_conflict', message: expect.stringMatching(/rotated concurrently/) });
        }
        const winner = won[0]!.value.token;
        for (const sso of [t.a, t.b]) {
          expect((await http(sso).get('/scim/v2/Users').set(bearer(winner))).status).toBe(200);
          expect((await http(sso).get('/scim/v2/Users').set(bearer(current))).status).toBe(graceSeconds > 0 ? 200 : 401);
        }
        current = winner;
      }
    });
  });
});

describe('quotas across a member PATCH written in chunks, with another instance writing between them (redis store): the PATCH is atomic', () => {
  const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
  const addMembers = (values: string[]) => ({ schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: values.map((value) => ({ value })) }] });

  /**
   * Two instances on one Redis prefix, made with a quota once it is known (`instances`), the second's
   * REPLACE_RESOURCE calls counted so that a test can act between chunks.
   */
  async function pair(hint: string) {
    const redis = await testRedis(hint);
    const second = new Redis(inject('redisUrl'));
    const instances = (quota: ScimSsoOptions['quota']) => ({
      a: scimSso({ store: redisStore({ client: redis.client, prefix: redis.prefix }), quota, rateLimit: false }),
      b: scimSso({ store: redisStore({ client: second, prefix: redis.prefix }), quota, rateLimit: false }),
    });
    /** Runs `between` once, before b's `call`-th REPLACE_RESOURCE (its second chunk when 2). */
    const beforeCall = (call: number, between: () => Promise<void>) => {
      let calls = 0;
      return wrapStoreScript(second, 'replace', (real) => async (...args) => {
        if (++calls === call) await between();
        return real(...args);
      });
    };
    return { instances, beforeCall, cleanup: async () => (await second.quit(), await redis.cleanup()) };
  }

  it('applies the PATCH whole when another instance took the last place of maxGroupsPerMember between its chunks, and refuses the next join', async () => {
    const p = await pair('limits-chunked-per-member');
    const { a, b } = p.instances({ maxGroupsPerMember: 3 });
    try {
      const { token } = await a.createScimConnection({ customerId: 'chunked-per-member' });
      const api = http(a);
      const ann = (await api.post('/scim/v2/Users').set(bearer(token)).send(user('ann'))).body.id as string;
      const newGroup = async (displayName: string) =>
        (
          await api
            .post('/scim/v2/Groups')
            .set(bearer(token))
            .send({ schemas: [GROUP], displayName })
        ).body.id as string;
      /** Instance a adds ann to the group; answers the status. */
      const join = async (groupId: string) =>
        (
          await api
            .patch(`/scim/v2/Groups/${groupId}`)
            .set(bearer(token))
            .send(addMembers([ann]))
        ).status;
      const groups: string[] = [];
      for (const name of ['G0', 'G1', 'G2', 'G3']) groups.push(await newGroup(name));
      for (const g of groups.slice(0, 2)) expect(await join(g)).toBe(204);
      // Ann is in the third chunk of 600 values (250 a chunk); before the second, instance a gives her her third group.
      const values = Array.from({ length: 600 }, (_, i) => (i === 550 ? ann : `v-${i}`));
      let between = 0;
      const restore = p.beforeCall(2, async () => {
        between = await join(groups[3]!);
      });
      const big = await http(b).patch(`/scim/v2/Groups/${groups[2]}`).set(bearer(token)).send(addMembers(values));
      restore();
      expect(between).toBe(204);
      // Never a 507 with part of the PATCH applied: the first chunk took the whole write.
      expect(big.status).toBe(204);
      expect((await api.get(`/scim/v2/Groups/${groups[2]}`).set(bearer(token))).body.members).toHaveLength(600);
      // One group past the limit (documented), by the other instance's write between the chunks, and no further.
      const annGroups = (await api.get(`/scim/v2/Users/${ann}`).set(bearer(token))).body.groups as { value: string }[];
      expect(annGroups).toHaveLength(4);
      expect(await join(await newGroup('G4'))).toBe(507);
    } finally {
      await p.cleanup();
    }
  });

  it('applies the PATCH whole when another instance wrote between its chunks, past maxBytes by what it wrote at most, then refuses growing writes', async () => {
    const p = await pair('limits-chunked-bytes');
    const unlimited = p.instances(undefined).a;
    const { token, connectionId } = await unlimited.createScimConnection({ customerId: 'chunked-bytes' });
    const group = (
      await http(unlimited)
        .post('/scim/v2/Groups')
        .set(bearer(token))
        .send({ schemas: [GROUP], displayName: 'Big' })
    ).body.id as string;
    const values = Array.from({ length: 600 }, (_, i) => `value-${String(i).padStart(5, '0')}`);
    const base = (await unlimited.store.getUsage(connectionId)).bytes;
    const maxBytes = base + values.reduce((n, value) => n + memberBytes({ value }), 0) + 2_000;
    const { a, b } = p.instances({ maxBytes });
    try {
      const statuses: number[] = [];
      const restore = p.beforeCall(2, async () => {
        for (let i = 0; i < 4; i++) {
          statuses.push(
            (
              await http(a)
                .post('/scim/v2/Users')
                .set(bearer(token))
                .send(user(`fill-${i}`, { displayName: 'x'.repeat(400) }))
            ).status,
          );
        }
      });
      const big = await http(b).patch(`/scim/v2/Groups/${group}`).set(bearer(token)).send(addMembers(values));
      restore();
      expect(statuses).toEqual([201, 201, 201, 201]);
      expect(big.status).toBe(204);
      const used = (await a.store.getUsage(connectionId)).bytes;
      // Past the quota by less than what the four users between the chunks took (about 4 × 450 bytes).
      expect(used).toBeGreaterThan(maxBytes);
      expect(used - maxBytes).toBeLessThan(4 * 600);
      const next = await http(a).post('/scim/v2/Users').set(bearer(token)).send(user('after'));
      expect([next.status, next.body.detail]).toEqual([507, expect.stringContaining(`quota of ${maxBytes} bytes`)]);
    } finally {
      await p.cleanup();
    }
  });
});
