/**
 * The per-request scan budget (`maxScanResources`, src/scim/list.ts): a filter no index answers, or a
 * `sortBy`, on a connection holding more resources than the budget is a 400 `tooMany` naming the filters
 * the indexes answer; indexed filters and plain pages are unaffected.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS, scimTestApp, type ScimTestApp } from '../support/app.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

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
  const scans: Record<string, string>[] = [{ filter: 'title eq "Engineer"' }, { sortBy: 'userName' }, { filter: 'userName eq "scan0@corp.test" or title pr' }];

  it('scans up to the budget, and refuses past it with 400 tooMany naming the indexed filters', async () => {
    for (let i = 0; i < 5; i++) {
      expect(
        (
          await t.http
            .post('/scim/v2/Users')
            .set(t.auth)
            .send({ schemas: [USER], userName: `scan${i}@corp.test`, title: 'Engineer' })
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
});
