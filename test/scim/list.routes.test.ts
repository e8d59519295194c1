import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCIM_TARGETS, scimTestApp, type ScimTestApp } from '../support/app.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

describe.each(SCIM_TARGETS)('SCIM list queries on the $store store through $adapter', ({ store: kind, adapter }) => {
  let t: ScimTestApp;
  const ids: string[] = [];
  beforeAll(async () => {
    t = await scimTestApp(kind, `list-${kind}-${adapter}`, { defaultPageSize: 4, maxPageSize: 6 }, adapter);
    // Twelve users in a known creation order.
    for (let i = 0; i < 12; i++) {
      const res = await t.http
        .post('/scim/v2/Users')
        .set(t.auth)
        .send({
          schemas: [USER, ENTERPRISE],
          userName: `Person${String(i).padStart(2, '0')}@Example.com`,
          externalId: i === 3 ? 'ExT-Three' : `ext-${i}`,
          name: { givenName: `Given${i}`, familyName: i % 2 ? 'Odd' : 'Even' },
          emails: [
            { value: `person${i}@work.example`, type: 'work', primary: true },
            { value: `p${i}@home.example`, type: 'home' },
          ],
          active: i !== 5,
          title: i < 3 ? undefined : `Title ${11 - i}`,
          [ENTERPRISE]: { employeeNumber: String(1000 + i) },
        });
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
  });
  afterAll(async () => {
    expect(t.unexpected).toEqual([]);
    await t.cleanup();
  });

  const list = async (query: Record<string, string | number>) => {
    const res = await t.http.get('/scim/v2/Users').query(query).set(t.auth);
    expect(res.status).toBe(200);
    expect(res.body.schemas).toEqual([LIST]);
    return res.body as { totalResults: number; startIndex: number; itemsPerPage: number; Resources: Record<string, any>[] };
  };

  it('answers a filter that matches nothing with 200 and an empty ListResponse', async () => {
    const body = await list({ filter: 'userName eq "nobody@example.com"', startIndex: 1, count: 100 });
    expect(body).toEqual({ schemas: [LIST], totalResults: 0, startIndex: 1, itemsPerPage: 0, Resources: [] });
  });

  it('reads an empty or blank filter as no filter, in a query and in a .search body', async () => {
    const all = (await list({ count: 1 })).totalResults;
    expect(all).toBeGreaterThan(0);
    expect((await list({ filter: '', count: 1 })).totalResults).toBe(all);
    expect((await list({ filter: '  ', count: 1 })).totalResults).toBe(all);
    const search = await t.http.post('/scim/v2/Users/.search').set(t.auth).send({ filter: '', count: 1 });
    expect([search.status, search.body.totalResults]).toEqual([200, all]);
  });

  it('reads a blank sortBy and sortOrder as none (templates that send every parameter), in a query and a .search body', async () => {
    const first = (await list({ count: 3 })).Resources.map((r) => r.id);
    expect((await list({ sortBy: '', sortOrder: '', count: 3 })).Resources.map((r) => r.id)).toEqual(first);
    expect((await list({ sortOrder: ' ', count: 3 })).Resources.map((r) => r.id)).toEqual(first);
    const search = await t.http.post('/scim/v2/Users/.search').set(t.auth).send({ sortBy: '', sortOrder: '', count: 3 });
    expect([search.status, search.body.Resources.map((r: { id: string }) => r.id)]).toEqual([200, first]);
    expect((await t.http.get('/scim/v2/Users').query({ sortOrder: 'sideways' }).set(t.auth)).status).toBe(400);
  });

  it('refuses list parameters in the query string of a .search (RFC 7644 §3.4.3: they go in the body), any case, and keeps other query parameters', async () => {
    for (const [path, param] of [
      ['/scim/v2/Users/.search', 'filter=userName%20eq%20%22person04%40example.com%22'],
      ['/scim/v2/.search', 'FILTER=userName%20eq%20%22x%22'],
      ['/scim/v2/Users/.search', 'count=1'],
      ['/scim/v2/Groups/.search', 'sortBy=displayName'],
    ] as const) {
      const refused = await t.http
        .post(`${path}?${param}`)
        .set(t.auth)
        .send({ schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], attributes: ['userName'] });
      expect([refused.status, refused.body.scimType], param).toEqual([400, 'invalidValue']);
      expect(refused.body.detail, param).toContain(`"${param.split('=')[0]}" in its SearchRequest body`);
    }
    const kept = await t.http.post('/scim/v2/Users/.search?trace=1').set(t.auth).send({ filter: 'userName eq "person04@example.com"' });
    expect([kept.status, kept.body.totalResults]).toEqual([200, 1]);
  });

  it('finds by userName case-insensitively, by externalId exactly', async () => {
    expect((await list({ filter: 'userName eq "PERSON04@example.com"' })).Resources.map((r) => r.id)).toEqual([ids[4]]);
    expect((await list({ filter: 'UserName Eq "person04@EXAMPLE.com"' })).totalResults).toBe(1);
    expect((await list({ filter: 'externalId eq "ExT-Three"' })).Resources.map((r) => r.id)).toEqual([ids[3]]);
    expect((await list({ filter: 'externalId eq "ext-three"' })).totalResults).toBe(0);
  });

  it('finds by id, by emails value path, by enterprise URN path, and by unquoted values', async () => {
    expect((await list({ filter: `id eq "${ids[7]}"` })).Resources.map((r) => r.id)).toEqual([ids[7]]);
    expect((await list({ filter: 'emails[type eq "work"].value eq "PERSON8@work.example"' })).Resources.map((r) => r.id)).toEqual([ids[8]]);
    expect((await list({ filter: 'emails[type eq "work"].value eq "p8@home.example"' })).totalResults).toBe(0);
    expect((await list({ filter: `${ENTERPRISE}:employeeNumber eq "1009"` })).Resources.map((r) => r.id)).toEqual([ids[9]]);
    expect((await list({ filter: 'externalId eq ext-10' })).Resources.map((r) => r.id)).toEqual([ids[10]]);
  });

  it('evaluates and, or, not, parentheses, pr and comparison operators', async () => {
    const odd = await list({ filter: 'name.familyName eq "odd" and (active eq false or userName sw "person1")', count: 6 });
    expect(odd.Resources.map((r) => r.id)).toEqual([ids[5], ids[11]]);
    const notActive = await list({ filter: 'not (active eq true)' });
    expect(notActive.Resources.map((r) => r.id)).toEqual([ids[5]]);
    expect((await list({ filter: 'title pr' })).totalResults).toBe(9);
    expect((await list({ filter: 'userName co "son1"' })).totalResults).toBe(2);
    expect((await list({ filter: 'userName ew "11@example.com"' })).totalResults).toBe(1);
    expect((await list({ filter: 'meta.created gt "2015-10-10T14:38:21.8617979-07:00"' })).totalResults).toBe(12);
    expect((await list({ filter: 'meta.created lt "2015-10-10T14:38:21Z"' })).totalResults).toBe(0);
  });

  it('pages in creation order with startIndex and count, never returning more than count', async () => {
    const first = await list({ startIndex: 1, count: 5 });
    expect(first).toMatchObject({ totalResults: 12, startIndex: 1, itemsPerPage: 5 });
    const second = await list({ startIndex: 6, count: 5 });
    const third = await list({ startIndex: 11, count: 5 });
    expect(third.itemsPerPage).toBe(2);
    expect([...first.Resources, ...second.Resources, ...third.Resources].map((r) => r.id)).toEqual(ids);
    expect((await list({ startIndex: 50, count: 5 })).Resources).toEqual([]);
  });

  it('answers an or of indexed lookups in creation order, so a match created while a client pages comes last', async () => {
    // Lookup order would be the externalId's holders first; creation order puts Person02 before them. Creation
    // order is meta.created, then the id (users made in the same millisecond).
    const byCreation = async (userIds: string[]) => {
      const created = new Map<string, string>();
      for (const id of userIds) created.set(id, (await t.http.get(`/scim/v2/Users/${id}`).set(t.auth)).body.meta.created);
      return [...userIds].sort((a, b) => (created.get(a)! < created.get(b)! ? -1 : created.get(a)! > created.get(b)! ? 1 : a < b ? -1 : 1));
    };
    const filter = 'externalId eq "shared-ext" or userName eq "person02@example.com"';
    const created: string[] = [];
    for (const n of [20, 21]) {
      const res = await t.http
        .post('/scim/v2/Users')
        .set(t.auth)
        .send({ schemas: [USER], userName: `late${n}@example.com`, externalId: 'shared-ext' });
      expect(res.status).toBe(201);
      created.push(res.body.id);
    }
    expect((await list({ filter, count: 10 })).Resources.map((r) => r.id)).toEqual(await byCreation([ids[2]!, ...created]));
    // A client paging one at a time while a third match is created sees each exactly once.
    const seen = [...(await list({ filter, startIndex: 1, count: 1 })).Resources, ...(await list({ filter, startIndex: 2, count: 1 })).Resources];
    const third = await t.http
      .post('/scim/v2/Users')
      .set(t.auth)
      .send({ schemas: [USER], userName: 'late22@example.com', externalId: 'shared-ext' });
    expect(third.status).toBe(201);
    seen.push(...(await list({ filter, startIndex: 3, count: 1 })).Resources, ...(await list({ filter, startIndex: 4, count: 1 })).Resources);
    expect(seen.map((r) => r.id)).toEqual([...(await byCreation([ids[2]!, ...created])), third.body.id]);
    // The same when only one term matches at first: the order is creation order from the start.
    const later = 'externalId eq "later-ext" or userName eq "person03@example.com" or userName eq "person04@example.com"';
    const before = (await list({ filter: later, count: 10 })).Resources.map((r) => r.id);
    expect(before).toEqual(await byCreation([ids[3]!, ids[4]!]));
    const fourth = await t.http
      .post('/scim/v2/Users')
      .set(t.auth)
      .send({ schemas: [USER], userName: 'late23@example.com', externalId: 'later-ext' });
    expect((await list({ filter: later, count: 10 })).Resources.map((r) => r.id)).toEqual([...before, fourth.body.id]);
    for (const id of [...created, third.body.id, fourth.body.id]) expect((await t.http.delete(`/scim/v2/Users/${id}`).set(t.auth)).status).toBe(204);
  });

  it('applies the default and maximum page sizes, count=0 and out-of-range values as the RFC says', async () => {
    expect((await list({})).itemsPerPage).toBe(4);
    expect((await list({ count: 1000 })).itemsPerPage).toBe(6);
    const zero = await list({ count: 0 });
    expect(zero).toMatchObject({ totalResults: 12, itemsPerPage: 0, Resources: [] });
    expect(await list({ startIndex: -3, count: 1 })).toMatchObject({ startIndex: 1, itemsPerPage: 1 });
    expect((await list({ count: -1 })).itemsPerPage).toBe(0);
    // Values of more digits than a safe integer holds are clamped, not refused: past the end is an empty page
    // (with or without a filter or a sort), and a huge count is capped.
    const huge = '99999999999999999999';
    for (const query of [
      { startIndex: huge },
      { startIndex: huge, filter: 'userName sw "person"' },
      { startIndex: huge, sortBy: 'userName' },
      { startIndex: `-${huge}`, count: 2 },
    ]) {
      const res = await t.http.get('/scim/v2/Users').query(query).set(t.auth);
      expect(res.status, JSON.stringify(query)).toBe(200);
      expect(res.body.totalResults, JSON.stringify(query)).toBe(12);
    }
    expect((await list({ startIndex: huge })).Resources).toEqual([]);
    expect((await list({ startIndex: `-${huge}`, count: 2 })).startIndex).toBe(1);
    expect((await list({ count: huge })).itemsPerPage).toBe(6);
    // Leading zeros count for nothing, and a long run of them followed by junk is refused at once (a pattern
    // that backtracked over them held the event loop for seconds on a 1 MB .search body).
    expect((await list({ startIndex: `${'0'.repeat(40)}3`, count: '0002' })).startIndex).toBe(3);
    const zeros = await t.http
      .post('/scim/v2/Users/.search')
      .set(t.auth)
      .send({ startIndex: `${'0'.repeat(200_000)}x` });
    expect(zeros.status).toBe(400);
    expect(zeros.body.scimType).toBe('invalidValue');
    const searched = await t.http.post('/scim/v2/Users/.search').set(t.auth).send({ startIndex: 1e21, count: 1e21 });
    expect(searched.status).toBe(200);
    expect(searched.body).toMatchObject({ totalResults: 12, itemsPerPage: 0, Resources: [] });
    const bad = await t.http.get('/scim/v2/Users').query({ count: 'ten' }).set(t.auth);
    expect(bad.status).toBe(400);
    expect(bad.body.scimType).toBe('invalidValue');
  });

  it('refuses list parameters it would otherwise ignore or misread: bracketed names and lossy percent-encoding (400, never an unfiltered list)', async () => {
    const raw = async (query: string) => t.http.get(`/scim/v2/Users?${query}`).set(t.auth);
    for (const query of ['filter[]=userName%20eq%20%22x%22', 'FILTER[0]=x', 'attributes[a]=userName', 'count%20=1', 'sortBy[]=userName']) {
      const res = await raw(query);
      expect(res.status, query).toBe(400);
      expect(res.body, query).toMatchObject({ scimType: 'invalidValue' });
      expect(res.body.detail, query).toContain('is not a list parameter');
    }
    for (const query of ['filter=userName%20eq%20%22%ff%22', 'filter=userName%20eq%20%22%C3%22', 'attributes=%E0%80%80']) {
      const res = await raw(query);
      expect([res.status, res.body.detail], query).toEqual([400, 'the query string is not valid percent-encoded UTF-8']);
    }
    // Nor in the query string of a .search, where list parameters do not belong at all.
    const search = await t.http.post('/scim/v2/Users/.search?filter[]=userName%20eq%20%22x%22').set(t.auth).send({});
    expect([search.status, search.body.scimType]).toEqual([400, 'invalidValue']);
    expect(search.body.detail).toContain('in its SearchRequest body');
    // A `%` that starts no escape is kept as sent (nothing lost), and other unknown parameters are ignored.
    expect((await raw('filter=userName%20co%20%2250%%22')).body.totalResults).toBe(0);
    expect((await raw('filter=userName%20co%20%22person01%22&utm[x]=1')).body.totalResults).toBe(1);
  });

  it('pages a filtered result stably', async () => {
    const a = await list({ filter: 'name.familyName eq "Even"', startIndex: 1, count: 4 });
    const b = await list({ filter: 'name.familyName eq "Even"', startIndex: 5, count: 4 });
    expect(a.totalResults).toBe(6);
    expect([...a.Resources, ...b.Resources].map((r) => r.id)).toEqual(ids.filter((_, i) => i % 2 === 0));
  });

  it('sorts by an attribute, with missing values last ascending and first descending (RFC 7644 §3.4.2.3)', async () => {
    const asc = await list({ sortBy: 'title', count: 6 });
    expect(asc.Resources.map((r) => r.title)).toEqual(['Title 0', 'Title 1', 'Title 2', 'Title 3', 'Title 4', 'Title 5']);
    const desc = await list({ sortBy: 'title', sortOrder: 'descending', startIndex: 1, count: 5 });
    expect(desc.Resources.map((r) => r.title)).toEqual([undefined, undefined, undefined, 'Title 8', 'Title 7']);
    const tail = await list({ sortBy: 'title', startIndex: 10, count: 6 });
    expect(tail.Resources.map((r) => r.title)).toEqual([undefined, undefined, undefined]);
  });

  it('sorts by URN-qualified core and extension attributes', async () => {
    const byUserName = await list({ sortBy: `${USER}:userName`, sortOrder: 'descending', count: 2 });
    expect(byUserName.Resources.map((r) => r.userName)).toEqual(['Person11@Example.com', 'Person10@Example.com']);
    const byEmployee = await list({ sortBy: `${ENTERPRISE}:employeeNumber`, sortOrder: 'descending', count: 3 });
    expect(byEmployee.Resources.map((r) => r[ENTERPRISE].employeeNumber)).toEqual(['1011', '1010', '1009']);
  });

  it('returns only requested attributes plus id and schemas, and drops excluded ones', async () => {
    const only = await list({ attributes: 'userName,name.givenName', filter: `id eq "${ids[2]}"` });
    expect(only.Resources[0]).toEqual({ schemas: [USER, ENTERPRISE], id: ids[2], userName: 'Person02@Example.com', name: { givenName: 'Given2' } });
    const ext = await list({ attributes: `${ENTERPRISE}:employeeNumber`, filter: `id eq "${ids[2]}"` });
    expect(ext.Resources[0]?.[ENTERPRISE]).toEqual({ employeeNumber: '1002' });
    const without = await list({ excludedAttributes: 'emails,meta,id', filter: `id eq "${ids[2]}"` });
    expect(without.Resources[0]).not.toHaveProperty('emails');
    expect(without.Resources[0]).not.toHaveProperty('meta');
    expect(without.Resources[0]?.id).toBe(ids[2]);
    const msft = await list({ attributes: 'emails[type eq "work"]', filter: `id eq "${ids[2]}"` });
    expect(msft.Resources[0]?.emails).toHaveLength(2);
  });

  it('refuses a malformed filter with 400 invalidFilter', async () => {
    // (An empty filter is no filter: the test above.)
    for (const filter of ['userName eq', 'userName xx "a"', '(userName eq "a"', 'userName eq "a" garbage']) {
      const res = await t.http.get('/scim/v2/Users').query({ filter }).set(t.auth);
      expect(res.status, filter).toBe(400);
      expect(res.body).toMatchObject({ status: '400', scimType: 'invalidFilter' });
    }
  });

  it('refuses a dateTime comparison whose value is no dateTime with 400 invalidFilter, and compares real ones chronologically', async () => {
    for (const filter of [
      'meta.lastModified gt "not-a-date"',
      'meta.created lt 5',
      'meta.lastModified ge true',
      'not (meta.created eq "yesterday")',
      'userName pr and meta.lastModified le "2026-13-45T99:00:00Z"',
      // What Date.parse reads as a date, but no xsd:dateTime is (RFC 7643 §2.3.5).
      'meta.lastModified gt "1"',
      'meta.lastModified gt "tomorrow 1"',
      'meta.lastModified gt "Dec 6 2026"',
      'meta.lastModified gt "2026-12-06"',
      'meta.lastModified gt "2026-02-30T00:00:00Z"',
      'meta.lastModified gt "2026-12-06T00:00:00+15:00"',
    ]) {
      const res = await t.http.get('/scim/v2/Users').query({ filter }).set(t.auth);
      expect(res.status, filter).toBe(400);
      expect(res.body, filter).toMatchObject({ status: '400', scimType: 'invalidFilter' });
      expect(res.body.detail, filter).toContain('is a dateTime');
    }
    const all = (await list({ count: 0 })).totalResults;
    expect(all).toBeGreaterThan(0);
    expect((await list({ filter: 'meta.lastModified gt "2000-01-01T00:00:00Z"' })).totalResults).toBe(all);
    expect((await list({ filter: 'meta.created lt "2000-01-01T00:00:00.000+01:00"' })).totalResults).toBe(0);
    // Without an offset a dateTime is UTC, whatever the server's time zone: an instant just before the newest
    // change finds it, written with and without the Z.
    const newest = (await list({ sortBy: 'meta.lastModified', sortOrder: 'descending', count: 1 })).Resources[0]!.meta.lastModified as string;
    const before = new Date(Date.parse(newest) - 1).toISOString();
    expect((await list({ filter: `meta.lastModified gt "${before}"` })).totalResults).toBeGreaterThan(0);
    const withZ = (await list({ filter: `meta.lastModified gt "${before}"` })).totalResults;
    const zone = process.env.TZ;
    process.env.TZ = 'America/New_York'; // Date.parse would read the time 5 hours later here
    try {
      expect((await list({ filter: `meta.lastModified gt "${before.slice(0, -1)}"` })).totalResults).toBe(withZ);
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
    expect((await list({ filter: 'meta.created sw "20"' })).totalResults).toBe(all);
  });

  it('refuses gt, ge, lt and le on booleans and binary values with 400 invalidFilter (RFC 7644 §3.4.2.2), not an empty page', async () => {
    for (const [filter, named] of [
      ['active gt true', 'active, a boolean attribute'],
      ['active LE false', 'active, a boolean attribute'],
      ['emails.primary ge false', 'emails.primary, a boolean attribute'],
      ['emails[primary lt true]', 'primary, a boolean attribute'],
      ['x509Certificates.value gt "YQ=="', 'x509Certificates.value, a binary attribute'],
      ['userName pr and not (customFlag gt true)', 'the boolean true'],
    ]) {
      const res = await t.http.get('/scim/v2/Users').query({ filter }).set(t.auth);
      expect(res.status, filter).toBe(400);
      expect(res.body, filter).toMatchObject({ status: '400', scimType: 'invalidFilter' });
      expect(res.body.detail, filter).toContain(named);
    }
    // eq and ne still compare booleans.
    expect((await list({ filter: 'active eq true' })).totalResults).toBe((await list({ filter: 'active ne false' })).totalResults);
  });

  it('searches with POST /Users/.search', async () => {
    const res = await t.http
      .post('/scim/v2/Users/.search')
      .set(t.auth)
      .send({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
        filter: 'userName sw "person0"',
        attributes: ['userName'],
        startIndex: 2,
        count: 3,
      });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ totalResults: 10, startIndex: 2, itemsPerPage: 3 });
    expect(Object.keys(res.body.Resources[0]).sort()).toEqual(['id', 'schemas', 'userName']);
  });
});

describe.each(['memory', 'redis'] as const)('users a filter or sort must find as the guard sees them (%s store)', (kind) => {
  // Entra's custom extension attributes and Okta's custom app attributes: a filter and a projection on these
  // paths found them, while sortBy refused the same path as "not an attribute path".
  const CUSTOM = 'urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User';
  let t: ScimTestApp;
  beforeAll(async () => {
    t = await scimTestApp(kind, `list-custom-sort-${kind}`);
    for (const [name, badge] of [
      ['b', 'B-2'],
      ['a', 'C-3'],
      ['c', 'A-1'],
      ['d', undefined],
    ] as const) {
      const res = await t.http
        .post('/scim/v2/Users')
        .set(t.auth)
        .send({ schemas: [USER, CUSTOM], userName: `${name}@example.com`, ...(badge ? { [CUSTOM]: { badge } } : {}) });
      expect(res.status).toBe(201);
    }
  });
  afterAll(async () => {
    expect(t.unexpected).toEqual([]);
    await t.cleanup();
  });

  it('sorts by it as a filter finds it, with users without it last ascending and first descending', async () => {
    const sorted = async (query: Record<string, string>) => {
      const res = await t.http.get('/scim/v2/Users').query(query).set(t.auth);
      expect(res.status, res.text).toBe(200);
      return (res.body.Resources as { userName: string }[]).map((r) => r.userName);
    };
    expect(await sorted({ sortBy: `${CUSTOM}:badge` })).toEqual(['c@example.com', 'b@example.com', 'a@example.com', 'd@example.com']);
    expect(await sorted({ sortBy: `${CUSTOM.toLowerCase()}:BADGE`, sortOrder: 'descending' })).toEqual([
      'd@example.com',
      'a@example.com',
      'b@example.com',
      'c@example.com',
    ]);
    expect(await sorted({ filter: `${CUSTOM}:badge pr`, sortBy: `${CUSTOM}:badge` })).toEqual(['c@example.com', 'b@example.com', 'a@example.com']);
    const bad = await t.http
      .get('/scim/v2/Users')
      .query({ sortBy: `${CUSTOM}:__proto__` })
      .set(t.auth);
    expect([bad.status, bad.body.scimType]).toEqual([400, 'invalidValue']);
  });

  it('finds and sorts users provisioned without `active` as active, as the login guard admits them', async () => {
    const count = async (filter: string) => {
      const res = await t.http.get('/scim/v2/Users').query({ filter }).set(t.auth);
      expect(res.status, res.text).toBe(200);
      return res.body.totalResults as number;
    };
    // None of the four was sent with `active`.
    expect([await count('active eq true'), await count('active eq false'), await count('active pr'), await count('not (active eq true)')]).toEqual([
      4, 0, 4, 0,
    ]);
    /** Entra's PATCH of `active` on the user named `userName`. */
    const setActive = async (userName: string, value: boolean) => {
      const [user] = (
        await t.http
          .get('/scim/v2/Users')
          .query({ filter: `userName eq "${userName}"` })
          .set(t.auth)
      ).body.Resources as { id: string }[];
      const patched = await t.http
        .patch(`/scim/v2/Users/${user!.id}`)
        .set(t.auth)
        .send({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'active', value }] });
      expect(patched.status).toBe(204);
    };
    await setActive('a@example.com', false);
    expect([await count('active eq true'), await count('ACTIVE eq false'), await count(`${USER}:active ne true`)]).toEqual([3, 1, 1]);
    // sortBy reads them as active too: without `active`, b and c sort with d (made active explicitly) in
    // creation order, not after it as values missing.
    await setActive('d@example.com', true);
    const byActive = async (sortOrder: string) =>
      ((await t.http.get('/scim/v2/Users').query({ sortBy: 'active', sortOrder }).set(t.auth)).body.Resources as { userName: string }[]).map((r) => r.userName);
    expect(await byActive('ascending')).toEqual(['a@example.com', 'b@example.com', 'c@example.com', 'd@example.com']);
  });
});

describe.each(['memory', 'redis'] as const)('a name given twice in keys differing only in case (%s store)', (kind) => {
  // Which of the two a request means is not ours to guess, and a proxy or validator in front may have read
  // the other: each is a 400 that names it, and nothing is written.
  const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
  let t: ScimTestApp;
  let id: string;
  beforeAll(async () => {
    t = await scimTestApp(kind, `list-twice-${kind}`);
    const res = await t.http
      .post('/scim/v2/Users')
      .set(t.auth)
      .send({ schemas: [USER], userName: 'one@example.com', title: 'Before' });
    expect(res.status).toBe(201);
    id = res.body.id;
  });
  afterAll(async () => {
    expect(t.unexpected).toEqual([]);
    await t.cleanup();
  });

  it('refuses list parameters given twice, in the query or a SearchRequest', async () => {
    for (const query of ['filter=userName eq "one@example.com"&FILTER=userName eq "x"', 'count=1&count=2', 'sortBy=userName&sortby=title']) {
      const res = await t.http.get(`/scim/v2/Users?${query}`).set(t.auth);
      expect([res.status, res.body.scimType], query).toEqual([400, 'invalidValue']);
      expect(res.body.detail, query).toMatch(/given twice/);
    }
    const searched = await t.http.post('/scim/v2/Users/.search').set(t.auth).type('application/scim+json').send('{"filter":"title pr","Filter":"userName pr"}');
    expect([searched.status, searched.body.scimType]).toEqual([400, 'invalidValue']);
    const projected = await t.http.get(`/scim/v2/Users/${id}?attributes=userName&Attributes=title`).set(t.auth);
    expect([projected.status, projected.body.scimType]).toEqual([400, 'invalidValue']);
    // Once, in any case, as before.
    const once = await t.http.get(`/scim/v2/Users/${id}?ATTRIBUTES=userName`).set(t.auth);
    expect(once.status).toBe(200);
    expect(Object.keys(once.body).sort()).toEqual(['id', 'schemas', 'userName']);
    // A PATCH asked for attributes in any case answers them, not 204.
    const patched = await t.http
      .patch(`/scim/v2/Users/${id}?Attributes=title`)
      .set(t.auth)
      .send({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'title', value: 'Before' }] });
    expect([patched.status, patched.body.title]).toEqual([200, 'Before']);
  });

  it('refuses an attribute or a PATCH operation member given twice, and writes nothing', async () => {
    const posted = await t.http
      .post('/scim/v2/Users')
      .set(t.auth)
      .type('application/scim+json')
      .send(`{"schemas":["${USER}"],"userName":"two@example.com","USERNAME":"three@example.com"}`);
    expect([posted.status, posted.body.scimType]).toEqual([400, 'invalidValue']);
    expect(posted.body.detail).toMatch(/userName is given twice/);
    const nested = await t.http
      .put(`/scim/v2/Users/${id}`)
      .set(t.auth)
      .type('application/scim+json')
      .send(`{"schemas":["${USER}"],"userName":"one@example.com","name":{"givenName":"A","GivenName":"B"}}`);
    expect([nested.status, nested.body.scimType]).toEqual([400, 'invalidValue']);
    for (const body of [
      `{"schemas":["${PATCH_OP}"],"Operations":[{"op":"replace","path":"title","PATH":"userName","value":"zzz"}]}`,
      `{"schemas":["${PATCH_OP}"],"Operations":[{"op":"replace","path":"title","value":"x","Value":"y"}]}`,
      `{"schemas":["${PATCH_OP}"],"Operations":[{"op":"replace","path":"title","value":"x"}],"operations":[{"op":"remove","path":"title"}]}`,
    ]) {
      const res = await t.http.patch(`/scim/v2/Users/${id}`).set(t.auth).type('application/scim+json').send(body);
      expect([res.status, res.body.scimType], body).toEqual([400, 'invalidSyntax']);
    }
    const after = await t.http.get(`/scim/v2/Users/${id}`).set(t.auth);
    expect([after.body.userName, after.body.title, after.body.meta.version]).toEqual(['one@example.com', 'Before', 'W/"1"']);
    expect((await t.http.get('/scim/v2/Users').set(t.auth)).body.totalResults).toBe(1);
  });
});
