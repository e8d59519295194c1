/**
 * `sortBy` answered from the store's sort indexes (src/scim/sort.ts, docs/sorting.md) orders exactly as the
 * in-memory sort of a scan does, and as a reference sort written here does: on a seeded random dataset of a
 * few hundred users and some groups with mixed case, non-ASCII and repeated values, missing displayNames and
 * externalIds, after updates and deletes; every sortable attribute, both directions, whole lists and random
 * pages. The in-memory sort is reached with `filter=id pr`, which matches everything and no index answers.
 * Then, on Redis, users stored by an earlier version (without sort members) are indexed on demand.
 */
import express from 'express';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS, makeStore, scimTestApp, type ScimTestApp } from '../support/app.js';
import { storeProblems } from '../support/redis.js';
import { scimSso } from '../support/sso.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** A small seeded PRNG (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4_294_967_296;
  };
}

type Resource = Record<string, unknown> & { id: string; meta: { created: string; lastModified: string } };

/** What each sortable path reads, and whether it is compared case-insensitively (RFC 7643: all but externalId). */
const PATHS: Record<string, { read: (r: Resource) => unknown; caseExact: boolean }> = {
  userName: { read: (r) => r.userName, caseExact: false },
  displayName: { read: (r) => r.displayName, caseExact: false },
  externalId: { read: (r) => r.externalId, caseExact: true },
  'meta.created': { read: (r) => r.meta.created, caseExact: false },
  'meta.lastModified': { read: (r) => r.meta.lastModified, caseExact: false },
};

/**
 * The reference order: values as JavaScript compares strings, ties by creation, then resources without one by
 * creation; descending is the exact reverse (RFC 7644 §3.4.2.3: those come first).
 */
function referenceSort(created: Resource[], path: string, descending: boolean): string[] {
  const { read, caseExact } = PATHS[path]!;
  const rows = created.map((r, position) => {
    const value = read(r);
    return { id: r.id, position, key: typeof value === 'string' ? (caseExact ? value : value.toLowerCase()) : null };
  });
  const present = rows.filter((r) => r.key !== null).sort((a, b) => (a.key! < b.key! ? -1 : a.key! > b.key! ? 1 : a.position - b.position));
  const ascending = [...present, ...rows.filter((r) => r.key === null)].map((r) => r.id);
  return descending ? ascending.reverse() : ascending;
}

describe.each(STORE_KINDS)('sortBy from the sort indexes on the %s store', (kind) => {
  let t: ScimTestApp;
  const next = random(20_260_513);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const mixCase = (text: string) => [...text].map((c) => (next() < 0.5 ? c.toUpperCase() : c.toLowerCase())).join('');
  const NAMES = ['Ann Lee', 'ann lee', 'Bob', 'bob', 'Zoë', 'zoe', 'Émile', 'emile', 'Ångström', 'ßig', 'Ω', '😀 Smile', '', ' space'];
  const EXTERNAL = ['ext-1', 'EXT-1', 'ext-2', 'a', 'A', 'b', '00u1', '00U1', 'ü', 'u'];

  beforeAll(async () => {
    t = await scimTestApp(kind, `sort-index-${kind}`, { maxPageSize: 1000, rateLimit: false });
    const users: string[] = [];
    for (let i = 0; i < 300; i++) {
      const body: Record<string, unknown> = {
        schemas: [USER],
        userName: `${mixCase(pick(['ann', 'bob', 'zoë', 'émile', 'user']))}.${i}@${mixCase('corp.test')}`,
      };
      if (next() < 0.7) body.displayName = mixCase(pick(NAMES));
      if (next() < 0.7) body.externalId = pick(EXTERNAL);
      const res = await t.http.post('/scim/v2/Users').set(t.auth).send(body);
      expect(res.status).toBe(201);
      users.push(res.body.id);
    }
    // Updates move resources in every order that changes (lastModified always does); deletes take them out.
    for (let i = 0; i < 80; i++) {
      const id = pick(users);
      const value = next() < 0.3 ? undefined : pick(next() < 0.5 ? NAMES : EXTERNAL);
      const path = next() < 0.5 ? 'displayName' : 'externalId';
      const op = value === undefined ? { op: 'remove', path } : { op: 'replace', path, value };
      const res = await t.http
        .patch(`/scim/v2/Users/${id}`)
        .set(t.auth)
        .send({ schemas: [PATCH_OP], Operations: [op] });
      expect([200, 204]).toContain(res.status);
    }
    for (let i = 0; i < 10; i++) {
      const id = pick(users);
      const res = await t.http
        .put(`/scim/v2/Users/${id}`)
        .set(t.auth)
        .send({ schemas: [USER], userName: `Renamed.${i}.${id}@corp.test`, displayName: pick(NAMES) });
      expect(res.status).toBe(200);
    }
    for (let i = 0; i < 30; i++) await t.http.delete(`/scim/v2/Users/${users.splice(Math.floor(next() * users.length), 1)[0]}`).set(t.auth);
    const groups: string[] = [];
    for (let i = 0; i < 40; i++) {
      const body: Record<string, unknown> = { schemas: [GROUP], displayName: `${mixCase(pick(NAMES))} ${i}` };
      if (next() < 0.6) body.externalId = pick(EXTERNAL);
      const res = await t.http.post('/scim/v2/Groups').set(t.auth).send(body);
      expect(res.status).toBe(201);
      groups.push(res.body.id);
    }
    for (let i = 0; i < 15; i++) {
      const op = { op: 'replace', path: 'displayName', value: `${mixCase(pick(NAMES))} renamed ${i}` };
      await t.http
        .patch(`/scim/v2/Groups/${pick(groups)}`)
        .set(t.auth)
        .send({ schemas: [PATCH_OP], Operations: [op] });
    }
    for (let i = 0; i < 5; i++) await t.http.delete(`/scim/v2/Groups/${groups.splice(Math.floor(next() * groups.length), 1)[0]}`).set(t.auth);
  });
  afterAll(async () => {
    expect(t.unexpected).toEqual([]);
    await t.cleanup();
  });

  const list = async (endpoint: string, query: Record<string, string>) => {
    const res = await t.http.get(`/scim/v2/${endpoint}`).query(query).set(t.auth);
    expect(res.status, JSON.stringify(query)).toBe(200);
    return { total: res.body.totalResults as number, ids: (res.body.Resources as Resource[]).map((r) => r.id) };
  };

  it.each([
    ['Users', ['userName', 'displayName', 'externalId', 'meta.created', 'meta.lastModified']],
    ['Groups', ['displayName', 'externalId', 'meta.created', 'meta.lastModified']],
  ] as const)('orders %s as the in-memory sort and the reference do, whole and page by page', async (endpoint, paths) => {
    const all = await t.http.get(`/scim/v2/${endpoint}`).query({ count: '1000', excludedAttributes: 'members' }).set(t.auth);
    const created = all.body.Resources as Resource[]; // creation order
    expect(created.length).toBe(endpoint === 'Users' ? 270 : 35);
    for (const path of paths) {
      for (const sortOrder of ['ascending', 'descending']) {
        const want = referenceSort(created, path, sortOrder === 'descending');
        const query = { sortBy: path, sortOrder, count: '1000', excludedAttributes: 'members' };
        expect(await list(endpoint, query), `${path} ${sortOrder}`).toEqual({ total: want.length, ids: want });
        expect(await list(endpoint, { ...query, filter: 'id pr' }), `scan: ${path} ${sortOrder}`).toEqual({ total: want.length, ids: want });
        for (let page = 0; page < 6; page++) {
          const startIndex = 1 + Math.floor(next() * (want.length + 5));
          const count = Math.floor(next() * 40);
          const got = await list(endpoint, { ...query, startIndex: String(startIndex), count: String(count) });
          expect(got, `${path} ${sortOrder} ${startIndex} ${count}`).toEqual({ total: want.length, ids: want.slice(startIndex - 1, startIndex - 1 + count) });
        }
      }
    }
  });
});

describe.each(STORE_KINDS)('sort indexes of data stored before the first sortBy (%s store)', (kind) => {
  it('answers by scanning while it indexes the backlog a bounded share per request, then from the index', async () => {
    const made = await makeStore(kind, 'sort-backlog');
    const { store } = made;
    const unexpected: unknown[] = [];
    const sso = scimSso({ store, maxScanResources: 5, rateLimit: false, onError: (e) => unexpected.push(e) });
    const { token } = await sso.createScimConnection({ customerId: 'sort-backlog' });
    const http = supertest(express().use(sso));
    const auth = { Authorization: `Bearer ${token}` };
    try {
      const n = 2_100; // more than one request indexes (BACKLOG_PER_REQUEST in src/scim/sort-backfill.ts)
      const ids: string[] = [];
      for (let i = 0; i < n; i += 100) {
        const batch = Array.from({ length: Math.min(100, n - i) }, (_, j) =>
          http
            .post('/scim/v2/Users')
            .set(auth)
            .send({ schemas: [USER], userName: `User${String(n - i - j).padStart(5, '0')}@corp.test` }),
        );
        for (const res of await Promise.all(batch)) {
          expect(res.status).toBe(201);
          ids.push(res.body.id);
        }
      }
      const connectionId = (await store.getConnectionByCustomer('sort-backlog'))!.connectionId;
      // No client has sorted yet: no write kept sort entries, so the store has no answer by userName.
      expect(await store.listSorted(connectionId, 'User', { attribute: 'userName', descending: false }, 0, 3)).toBeNull();
      if (made.redis) {
        // The records carry no sort members and there is no sort index (as an earlier version left its data too).
        const base = `${made.redis.prefix}{c:${connectionId}}:u:`;
        expect(await made.redis.client.exists(`${base}sorted`, `${base}s:userName`)).toBe(0);
      }
      // Writes while the backlog is being indexed, before and after the cursor, land in the right place.
      const rename = (id: string, userName: string) =>
        http
          .put(`/scim/v2/Users/${id}`)
          .set(auth)
          .send({ schemas: [USER], userName });
      const sorted = () => http.get('/scim/v2/Users').query({ sortBy: 'userName', count: '3' }).set(auth);
      const first = await sorted();
      expect([first.status, first.headers['retry-after']]).toEqual([503, '5']);
      expect(first.body.detail).toMatch(/sort index of this connection's \d+ User resources is being built .*: retry in a few seconds$/);
      // ids[0] (User02100) was created first, so the first request indexed it; the last one (User00001) not yet.
      expect((await rename(ids.at(-1)!, 'User00000b@corp.test')).status).toBe(200);
      expect((await rename(ids[0]!, 'User00000a@corp.test')).status).toBe(200);
      expect((await http.delete(`/scim/v2/Users/${ids[1]}`).set(auth)).status).toBe(204);
      const second = await sorted();
      expect(second.status).toBe(200);
      expect(second.body.totalResults).toBe(n - 1);
      expect(second.body.Resources.map((r: { userName: string }) => r.userName)).toEqual([
        'User00000a@corp.test',
        'User00000b@corp.test',
        'User00002@corp.test',
      ]);
      if (made.redis) expect(await storeProblems(made.redis.client, made.redis.prefix, connectionId)).toEqual([]);
      expect(unexpected).toEqual([]);
    } finally {
      await made.cleanup();
    }
  });
});
