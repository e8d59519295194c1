/**
 * Root-level `POST /.search` (RFC 7644 §3.4.3) across Users and Groups: one list, Users then Groups,
 * paged over both, a filter that only one type can satisfy, and projection per type.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCIM_TARGETS, scimTestApp, type ScimTestApp } from '../support/app.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const SEARCH = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

describe.each(SCIM_TARGETS)('root /.search on the $store store through $adapter', ({ store, adapter }) => {
  let t: ScimTestApp;
  const users: string[] = [];
  const groups: string[] = [];
  beforeAll(async () => {
    t = await scimTestApp(store, `root-search-${store}-${adapter}`, {}, adapter);
    for (let i = 0; i < 3; i++) {
      const res = await t.http
        .post('/scim/v2/Users')
        .set(t.auth)
        .send({ schemas: [USER], userName: `searcher${i}@corp.test`, displayName: `Shared ${i}` });
      users.push(res.body.id);
    }
    for (let i = 0; i < 2; i++) {
      const res = await t.http
        .post('/scim/v2/Groups')
        .set(t.auth)
        .send({ schemas: [GROUP], displayName: `Shared group ${i}`, members: [{ value: users[i] }] });
      groups.push(res.body.id);
    }
  });
  afterAll(async () => {
    expect(t.unexpected).toEqual([]);
    await t.cleanup();
  });

  const search = async (request: Record<string, unknown>) => {
    const res = await t.http
      .post('/scim/v2/.search')
      .set(t.auth)
      .send({ schemas: [SEARCH], ...request });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.schemas).toEqual([LIST]);
    return res.body as { totalResults: number; startIndex: number; itemsPerPage: number; Resources: Record<string, any>[] };
  };

  it('lists Users then Groups and pages over both', async () => {
    const all = await search({});
    expect(all.totalResults).toBe(5);
    expect(all.Resources.map((r) => r.id)).toEqual([...users, ...groups]);
    expect(all.Resources.map((r) => r.meta.resourceType)).toEqual(['User', 'User', 'User', 'Group', 'Group']);

    const straddling = await search({ startIndex: 3, count: 2 });
    expect([straddling.totalResults, straddling.startIndex, straddling.itemsPerPage]).toEqual([5, 3, 2]);
    expect(straddling.Resources.map((r) => r.id)).toEqual([users[2], groups[0]]);
    expect((await search({ startIndex: 5, count: 10 })).Resources.map((r) => r.id)).toEqual([groups[1]]);
    expect((await search({ startIndex: 9 })).Resources).toEqual([]);
    expect((await search({ count: 0 })).totalResults).toBe(5);
  });

  it('filters each type by what it has, and projects each type', async () => {
    const shared = await search({ filter: 'displayName sw "Shared"', attributes: ['displayName'] });
    expect(shared.totalResults).toBe(5);
    expect(shared.Resources.map((r) => Object.keys(r).sort())).toEqual(Array(5).fill(['displayName', 'id', 'schemas']));
    const byUserName = await search({ filter: 'userName eq "searcher1@corp.test"' });
    expect(byUserName.Resources.map((r) => r.id)).toEqual([users[1]]);
    const groupsOnly = await search({ filter: 'members.value eq "' + users[0] + '"' });
    expect(groupsOnly.Resources.map((r) => r.id)).toEqual([groups[0]]);
  });

  it('refuses other methods and bad requests with SCIM errors', async () => {
    const get = await t.http.get('/scim/v2/.search').set(t.auth);
    expect([get.status, get.headers.allow]).toEqual([405, 'POST']);
    const bad = await t.http.post('/scim/v2/.search').set(t.auth).send({ filter: 'userName eq' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ status: '400', scimType: 'invalidFilter' });
    const anonymous = await t.http.post('/scim/v2/.search').send({});
    expect(anonymous.status).toBe(401);
  });
});
