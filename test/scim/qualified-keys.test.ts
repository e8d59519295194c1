/**
 * URN-qualified attribute keys in POST and PUT bodies (`"urn:…:core:2.0:User:active": false`,
 * `"urn:…:enterprise:2.0:User:department": "Sales"`) are the attributes they name, exactly as in a path-less
 * PATCH: stored where the unqualified attribute goes, found by filters on it, and never left behind as a stray
 * top-level key that reads back as something else (a user sent as inactive must not be stored active).
 * Also: a number JSON cannot write back (`1e999`) is refused instead of being stored as null.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCIM_TARGETS, scimTestApp, type ScimTestApp } from '../support/app.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

describe.each(SCIM_TARGETS)('URN-qualified keys on the $store store through $adapter', ({ store: kind, adapter }) => {
  let t: ScimTestApp;
  beforeAll(async () => {
    t = await scimTestApp(kind, `qualified-${kind}-${adapter}`, {}, adapter);
  });
  afterAll(async () => {
    expect(t.unexpected).toEqual([]);
    await t.cleanup();
  });

  const post = (body: unknown) =>
    t.http
      .post('/scim/v2/Users')
      .set(t.auth)
      .send(body as object);
  const count = async (filter: string) => (await t.http.get('/scim/v2/Users').set(t.auth).query({ filter })).body.totalResults as number;

  it('refuses a schema URN followed by "." instead of ":" (a deactivation so written was answered 204 and left the user active)', async () => {
    const created = await post({ schemas: [USER], userName: 'dotted-urn@corp.test' });
    const id = String(created.body.id);
    for (const operation of [
      { op: 'replace', path: `${USER}.active`, value: false },
      { op: 'replace', value: { [`${USER}.active`]: false } },
      { op: 'add', path: `${ENTERPRISE}.department`, value: 'Sales' },
    ]) {
      const res = await t.http
        .patch(`/scim/v2/Users/${id}`)
        .set(t.auth)
        .send({ schemas: [PATCH_OP], Operations: [operation] });
      expect(res.status, JSON.stringify(operation)).toBe(400);
      expect(res.body.detail).toContain('is written "urn:ietf:params:scim:schemas:');
    }
    expect(await count(`userName eq "dotted-urn@corp.test" and active eq true`)).toBe(1);
    for (const key of [`${USER}.active`, `${ENTERPRISE.toLowerCase()}.department`]) {
      const res = await post({ schemas: [USER], userName: `dotted-${key.length}@corp.test`, [key]: false });
      expect([res.status, res.body.scimType], key).toEqual([400, 'invalidValue']);
      const put = await t.http
        .put(`/scim/v2/Users/${id}`)
        .set(t.auth)
        .send({ schemas: [USER], userName: 'dotted-urn@corp.test', [key]: false });
      expect(put.status, key).toBe(400);
    }
    const stored = await t.http.get(`/scim/v2/Users/${id}`).set(t.auth);
    expect(stored.body.active).not.toBe(false);
    expect(stored.body.schemas).toEqual([USER]);
    // Read paths too: a lookup so written would find nobody, and an IdP would create a duplicate.
    for (const [query, scimType] of [
      [{ filter: `${USER}.userName eq "dotted-urn@corp.test"` }, 'invalidFilter'],
      [{ filter: `${ENTERPRISE}.department pr` }, 'invalidFilter'],
      [{ sortBy: `${USER}.userName` }, 'invalidValue'],
      [{ attributes: `${USER}.title` }, 'invalidValue'],
      [{ excludedAttributes: `${USER}.title` }, 'invalidValue'],
    ] as const) {
      const res = await t.http.get('/scim/v2/Users').set(t.auth).query(query);
      expect([res.status, res.body.scimType], JSON.stringify(query)).toEqual([400, scimType]);
      expect(res.body.detail).toContain('is written "urn:ietf:params:scim:schemas:');
    }
    expect(await count(`${USER}:userName eq "dotted-urn@corp.test"`)).toBe(1);
  });

  it('refuses a filter on a schema URN alone (it matched nobody, and its negation everybody)', async () => {
    await post({ schemas: [USER, ENTERPRISE], userName: 'bare-urn@corp.test', [ENTERPRISE]: { department: 'Bare' } });
    for (const filter of [
      `${ENTERPRISE} pr`,
      `not (${ENTERPRISE} pr)`,
      `${ENTERPRISE.toUpperCase()} pr`,
      `${USER} pr`,
      `userName pr and ${ENTERPRISE}[department eq "Bare"]`,
    ]) {
      const res = await t.http.get('/scim/v2/Users').set(t.auth).query({ filter });
      expect([res.status, res.body.scimType], filter).toEqual([400, 'invalidFilter']);
      expect(res.body.detail, filter).toContain('is a schema URN, not an attribute');
    }
    // Its attributes, named after it, are filters as ever.
    expect(await count(`${ENTERPRISE}:department pr and userName eq "bare-urn@corp.test"`)).toBe(1);
    expect(await count(`not (${ENTERPRISE}:department pr) and userName eq "bare-urn@corp.test"`)).toBe(0);
  });

  it('stores core, sub-attribute and extension keys where their plain forms go, and filters find them', async () => {
    const res = await post({
      schemas: [USER, ENTERPRISE],
      userName: 'qualified-1',
      [`${USER}:title`]: 'CEO',
      [`${USER}:name.givenName`]: 'Ada',
      name: { familyName: 'Lovelace' },
      [`${ENTERPRISE}:department`]: 'Sales',
      [ENTERPRISE]: { employeeNumber: '7' },
    });
    expect(res.status).toBe(201);
    const stored = (await t.http.get(`/scim/v2/Users/${res.body.id}`).set(t.auth)).body;
    expect(stored.title).toBe('CEO');
    expect(stored.name).toEqual({ familyName: 'Lovelace', givenName: 'Ada' });
    expect(stored[ENTERPRISE]).toEqual({ employeeNumber: '7', department: 'Sales' });
    expect(Object.keys(stored).filter((k) => k.startsWith(`${USER}:`) || k.startsWith(`${ENTERPRISE}:`))).toEqual([]);
    expect(await count('title eq "CEO"')).toBe(1);
    expect(await count(`${ENTERPRISE}:department eq "Sales"`)).toBe(1);
  });

  it('deactivates a user sent with a core-qualified active: false, on POST and on PUT', async () => {
    const created = await post({ schemas: [USER], userName: 'qualified-inactive', [`${USER}:active`]: false });
    expect(created.status).toBe(201);
    expect(created.body.active).toBe(false);
    const active = await post({ schemas: [USER], userName: 'qualified-put' });
    const put = await t.http
      .put(`/scim/v2/Users/${active.body.id}`)
      .set(t.auth)
      .send({ schemas: [USER], userName: 'qualified-put', [`${USER.toUpperCase()}:Active`]: 'False' });
    expect(put.status).toBe(200);
    expect(put.body.active).toBe(false);
    expect((await t.http.get(`/scim/v2/Users/${active.body.id}`).set(t.auth)).body.active).toBe(false);
  });

  it('takes core attributes held in an object keyed by the core URN as those attributes, on POST and on PUT', async () => {
    // Before: the object was stored as an unknown attribute, the password inside it returned on every read,
    // and the user, sent inactive, was active.
    const created = await post({ schemas: [USER], userName: 'core-object@corp.test', [USER]: { password: 'hunter2', active: false, title: 'T' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ active: false, title: 'T' });
    expect(created.body[USER]).toBeUndefined();
    expect(JSON.stringify((await t.http.get(`/scim/v2/Users/${created.body.id}`).set(t.auth)).body)).not.toContain('hunter2');
    expect(await count('userName eq "core-object@corp.test" and active eq false')).toBe(1);
    const put = await t.http
      .put(`/scim/v2/Users/${created.body.id}`)
      .set(t.auth)
      .send({ schemas: [USER], userName: 'core-object@corp.test', [USER.toUpperCase()]: { active: true, title: 'U' } });
    expect([put.status, put.body.active, put.body.title, put.body[USER.toUpperCase()]]).toEqual([200, true, 'U', undefined]);
    // Named twice, or not an object: refused, as a qualified key named twice is.
    for (const body of [
      { schemas: [USER], userName: 'core-object-2@corp.test', title: 'A', [USER]: { title: 'B' } },
      { schemas: [USER], userName: 'core-object-3@corp.test', [USER]: 'title' },
    ]) {
      const refused = await post(body);
      expect([refused.status, refused.body.scimType]).toEqual([400, 'invalidValue']);
    }
  });

  it('refuses a body naming one attribute both plainly and qualified, whatever the case', async () => {
    const cases = [
      { userName: 'twice-1', active: true, [`${USER}:active`]: false },
      { userName: 'twice-2', name: { givenName: 'A' }, [`${USER}:name.GIVENNAME`]: 'B' },
      { userName: 'twice-3', [ENTERPRISE]: { department: 'A' }, [`${ENTERPRISE}:Department`]: 'B' },
      { userName: 'twice-4', title: 'x', [`${USER}:title`]: 'x' },
    ];
    for (const body of cases) {
      const res = await post({ schemas: [USER], ...body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.scimType).toBe('invalidValue');
      expect(res.body.detail).toMatch(/name the same attribute/);
    }
    expect(await count('userName sw "twice-"')).toBe(0);
  });

  it('refuses qualified keys that are not attribute paths, and keeps keys of unknown URNs as sent', async () => {
    // toString, constructor and __lookupGetter__ were looked up on Object.prototype, and refused only as "not an object".
    const reserved = ['__proto__', 'toString.x', 'constructor.x', '__lookupGetter__.x', 'name.hasOwnProperty', 'Prototype.x'].map((p) => `${USER}:${p}`);
    for (const key of [`${USER}:name.givenName.x`, `${USER}:.title`, ...reserved]) {
      const res = await post({ schemas: [USER], userName: 'bad-path', [key]: 'x' });
      expect(res.status, key).toBe(400);
      expect(res.body.scimType).toBe('invalidValue');
      expect(res.body.detail, key).toBe(`${key} is not an attribute of ${USER}`);
    }
    const unknown = 'urn:example:params:other:1.0:User:tier';
    const res = await post({ schemas: [USER], userName: 'unknown-urn', [unknown]: 'gold' });
    expect(res.status).toBe(201);
    expect(res.body[unknown]).toBe('gold');
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  });

  it('answers a qualified key exactly as the same key in a path-less PATCH', async () => {
    const body = { [`${USER}:title`]: 'CTO', [`${ENTERPRISE}:department`]: 'R&D', [`${USER}:name.givenName`]: 'Grace' };
    const viaPost = await post({ schemas: [USER, ENTERPRISE], userName: 'same-as-patch-1', ...body });
    const plain = await post({ schemas: [USER], userName: 'same-as-patch-2' });
    const viaPatch = await t.http
      .patch(`/scim/v2/Users/${plain.body.id}`)
      .set(t.auth)
      .send({ schemas: [PATCH_OP], Operations: [{ op: 'add', value: body }] });
    expect(viaPatch.status).toBeLessThan(300);
    const patched = (await t.http.get(`/scim/v2/Users/${plain.body.id}`).set(t.auth)).body;
    const { id: _a, userName: _b, meta: _c, ...fromPost } = viaPost.body;
    const { id: _d, userName: _e, meta: _f, ...fromPatch } = patched;
    expect(fromPost).toEqual(fromPatch);
  });

  it('refuses numbers too large to represent instead of storing them as null', async () => {
    const raw = (text: string) => t.http.post('/scim/v2/Users').set(t.auth).set('content-type', 'application/scim+json').send(text);
    const res = await raw('{"schemas":["' + USER + '"],"userName":"huge","x":1e999}');
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/number too large/);
    expect(await count('userName eq "huge"')).toBe(0);
  });
});
