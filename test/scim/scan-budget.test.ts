/**
 * The per-request scan budget (`maxScanResources`, src/scim/list.ts): a filter no index answers, or a
 * `sortBy` no sort index answers, on a connection holding more resources than the budget is a 400
 * `tooMany` naming the filters the indexes answer and the sortable attributes; indexed filters, plain
 * pages and a `sortBy` on a sortable attribute (src/scim/sort.ts) are unaffected.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS, scimTestApp, type ScimTestApp } from '../support/app.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const SORTABLE = 'sortBy on userName, displayName, externalId, meta.created, meta.lastModified or none';

describe.each(STORE_KINDS)('the scan budget on the %s store', (kind) => {
  let t: ScimTestApp;
  beforeAll(async () => {
    t = await scimTestApp(kind, `scan-budget-${kind}`, { maxScanResources: 5 });
  });
  afterAll(async () => {
    expect(t.unexpected).toEqual([]);
    await t.cleanup();
  });

  const list = (query: Record<string, string>) => t.http.get('/scim/v2/Users').query(query).set(t.auth);
  const scans: Record<string, string>[] = [
    { filter: 'title eq "Engineer"' },
    { sortBy: 'name.familyName' },
    { sortBy: 'userName.x' },
    { filter: 'title pr', sortBy: 'userName' },
    { filter: 'userName eq "scan0@corp.test" or title pr' },
  ];

  it('scans up to the budget, and refuses past it with 400 tooMany naming the indexed filters', async () => {
    for (let i = 0; i < 5; i++) {
      expect(
        (
          await t.http
            .post('/scim/v2/Users')
            .set(t.auth)
            .send({ schemas: [USER], userName: `scan${i}@corp.test`, title: 'Engineer', name: { familyName: `F${i}` } })
        ).status,
      ).toBe(201);
    }
    for (const query of scans) expect((await list(query)).status, JSON.stringify(query)).toBe(200);
    expect((await list({ filter: 'title eq "Engineer"' })).body.totalResults).toBe(5);

    expect(
      (
        await t.http
          .post('/scim/v2/Users')
          .set(t.auth)
          .send({ schemas: [USER], userName: 'scan5@corp.test' })
      ).status,
    ).toBe(201);
    for (const query of scans) {
      const res = await list(query);
      expect(res.status, JSON.stringify(query)).toBe(400);
      expect(res.body).toMatchObject({ status: '400', scimType: 'tooMany' });
      expect(res.body.detail).toMatch(/over this server's limit of 5/);
      expect(res.body.detail).toMatch(/username/);
      expect(res.body.detail).toContain(SORTABLE);
      expect(res.body.detail).not.toMatch(/retry/);
    }
    const searched = await t.http.post('/scim/v2/Users/.search').set(t.auth).send({ filter: 'title eq "Engineer"' });
    expect([searched.status, searched.body.scimType]).toEqual([400, 'tooMany']);
  });

  it('still answers indexed filters and plain pages past the budget', async () => {
    const found = await list({ filter: 'userName eq "scan5@corp.test"' });
    expect([found.status, found.body.totalResults]).toEqual([200, 1]);
    const byEither = await list({ filter: 'userName eq "scan1@corp.test" or externalId eq "none"' });
    expect([byEither.status, byEither.body.totalResults]).toEqual([200, 1]);
    const page = await list({ startIndex: '1', count: '3' });
    expect([page.status, page.body.totalResults, page.body.Resources.length]).toEqual([200, 6, 3]);
  });

  it('answers a sortBy on a sortable attribute past the budget from the sort index, both ways, with an indexed filter too', async () => {
    const names = (res: { body: { Resources: { userName: string }[] } }) => res.body.Resources.map((r) => r.userName);
    const all = Array.from({ length: 6 }, (_, i) => `scan${i}@corp.test`);
    for (const sortBy of ['userName', 'displayName', 'externalId', 'meta.created', 'meta.lastModified', `${USER}:userName`, 'META.CREATED']) {
      for (const sortOrder of ['ascending', 'descending']) {
        const res = await list({ sortBy, sortOrder, count: '4', startIndex: '2' });
        expect([res.status, res.body.totalResults, res.body.Resources.length], `${sortBy} ${sortOrder}`).toEqual([200, 6, 4]);
        // displayName and externalId are missing on every user: creation order, reversed when descending as
        // every order is (RFC 7644 §3.4.2.3).
        const reversed = sortOrder === 'descending';
        expect(names(res), `${sortBy} ${sortOrder}`).toEqual((reversed ? [...all].reverse() : all).slice(1, 5));
      }
    }
    const filtered = await list({
      filter: 'userName eq "scan1@corp.test" or userName eq "scan4@corp.test"',
      sortBy: 'name.familyName',
      sortOrder: 'descending',
    });
    expect([filtered.status, names(filtered)]).toEqual([200, ['scan4@corp.test', 'scan1@corp.test']]);
  });

  it('answers a sortBy on a group’s sortable attribute past the budget, and refuses the others naming the group’s', async () => {
    for (let i = 0; i < 6; i++) {
      const res = await t.http
        .post('/scim/v2/Groups')
        .set(t.auth)
        .send({ schemas: [GROUP], displayName: `Team ${5 - i}` });
      expect(res.status).toBe(201);
    }
    const groups = (query: Record<string, string>) => t.http.get('/scim/v2/Groups').query(query).set(t.auth);
    const sorted = await groups({ sortBy: 'displayName', sortOrder: 'descending', excludedAttributes: 'members' });
    expect([sorted.status, sorted.body.Resources.map((g: { displayName: string }) => g.displayName)]).toEqual([
      200,
      ['Team 5', 'Team 4', 'Team 3', 'Team 2', 'Team 1', 'Team 0'],
    ]);
    const refused = await groups({ sortBy: 'userName' });
    expect([refused.status, refused.body.scimType]).toEqual([400, 'tooMany']);
    expect(refused.body.detail).toContain('sortBy on displayName, externalId, meta.created, meta.lastModified or none');
  });
});

describe('the first sortBy on a large Redis connection', () => {
  let t: ScimTestApp;
  const n = 2_600; // more than one request indexes (BACKLOG_PER_REQUEST, src/scim/sort-backfill.ts)
  beforeAll(async () => {
    t = await scimTestApp('redis', 'scan-budget-first-sort', { maxScanResources: 1_000, rateLimit: false });
    const sso = t.sso;
    const token = (await sso.rotateScimToken('scan-budget-first-sort-customer')).token;
    t.auth.Authorization = `Bearer ${token}`;
    for (let from = 0; from < n; from += 100) {
      const created = await Promise.all(
        Array.from({ length: Math.min(100, n - from) }, (_, i) =>
          sso.handleScim({
            method: 'POST',
            path: '/Users',
            query: new URLSearchParams(),
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
            body: JSON.stringify({ schemas: [USER], userName: `u${String(n - from - i).padStart(5, '0')}@corp.test` }),
            baseUrl: 'http://localhost/scim/v2',
          }),
        ),
      );
      expect(created.map((r) => r.status)).toEqual(created.map(() => 201));
    }
  }, 120_000);
  afterAll(async () => {
    expect(t.unexpected).toEqual([]);
    await t.cleanup();
  });

  it('answers 503 with Retry-After while the sort index is built, indexes the rest in the background, then answers from the sort index', async () => {
    const sorted = () => t.http.get('/scim/v2/Users').query({ sortBy: 'userName', count: '3' }).set(t.auth);
    const first = await sorted();
    expect([first.status, first.headers['retry-after'], first.body.status]).toEqual([503, '5', '503']);
    expect(first.body.detail).toMatch(/is being built .*: retry in a few seconds$/);
    // No client request in between: the background indexing finishes on its own (bounded wait, not a timing assertion).
    let res = first;
    for (let attempt = 0; attempt < 200 && res.status !== 200; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      res = await sorted();
    }
    expect(res.status).toBe(200);
    expect(res.body.totalResults).toBe(n);
    expect(res.body.Resources.map((r: { userName: string }) => r.userName)).toEqual(['u00001@corp.test', 'u00002@corp.test', 'u00003@corp.test']);
  });
});
