/**
 * Custom extensions: attributes under a schema URN this server does not describe, as Microsoft documents
 * them for Entra ID (`urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User:CustomAttribute`)
 * and as Okta and OneLogin send app-specific attributes. POST keeps them under their URN; PATCH (by path
 * or path-less) must change what POST stored, never answer success and change nothing, and filters and
 * `attributes` must see what PATCH wrote.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCIM_TARGETS, scimTestApp, type ScimTestApp } from '../support/app.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const CUSTOM = 'urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

describe.each(SCIM_TARGETS)('custom extensions on the $store store through $adapter', ({ store: kind, adapter }) => {
  let t: ScimTestApp;
  beforeAll(async () => {
    t = await scimTestApp(kind, `custom-ext-${kind}-${adapter}`, {}, adapter);
  });
  afterAll(async () => {
    expect(t.unexpected).toEqual([]);
    await t.cleanup();
  });

  const patch = (path: string, ...Operations: object[]) =>
    t.http
      .patch(path)
      .set(t.auth)
      .send({ schemas: [PATCH_OP], Operations });
  const get = async (path: string, query: Record<string, string> = {}) => (await t.http.get(path).set(t.auth).query(query)).body;
  const count = async (filter: string) => (await get('/scim/v2/Users', { filter })).totalResults as number;

  it('updates what POST stored, by path and path-less, and filters and projections see it', async () => {
    const created = await t.http
      .post('/scim/v2/Users')
      .set(t.auth)
      .send({ schemas: [USER, CUSTOM], userName: `custom-${kind}-${adapter}`, [CUSTOM]: { CustomAttribute: 'v1' } });
    expect(created.status).toBe(201);
    const at = `/scim/v2/Users/${created.body.id}`;

    expect((await patch(at, { op: 'Replace', path: `${CUSTOM}:CustomAttribute`, value: 'v2' })).status).toBeLessThan(300);
    expect((await get(at))[CUSTOM]).toEqual({ CustomAttribute: 'v2' });
    expect(await count(`${CUSTOM}:CustomAttribute eq "v2"`)).toBe(1);

    expect((await patch(at, { op: 'replace', value: { [`${CUSTOM}:CustomAttribute`]: 'v3', [CUSTOM]: { Second: 's' } } })).status).toBeLessThan(300);
    const after = await get(at, { attributes: CUSTOM });
    // The extension object given whole keeps what it does not name (docs/idp-behaviour.md rule 20).
    expect(after[CUSTOM]).toEqual({ CustomAttribute: 'v3', Second: 's' });
    expect(after.userName).toBeUndefined();
    expect(after.schemas).toEqual([USER, CUSTOM]);
    expect((await get(at, { excludedAttributes: `${CUSTOM}:Second` }))[CUSTOM]).toEqual({ CustomAttribute: 'v3' });

    expect((await patch(at, { op: 'remove', path: `${CUSTOM}:Second` }, { op: 'remove', path: `${CUSTOM}:CustomAttribute` })).status).toBeLessThan(300);
    const removed = await get(at);
    expect(removed[CUSTOM]).toBeUndefined();
    expect(removed.schemas).toEqual([USER]);
    expect(removed.meta.version).toBe('W/"4"');
  });

  it('adds an extension a user does not carry yet by a path naming its URN, as the path-less form does', async () => {
    // Found by an audit (2026-12-07): the path form kept {"badge": …} under "…:2.0" → "User", a cut-off
    // URN no filter or read of the extension found, while the path-less form kept it whole.
    const OKTA = 'urn:okta:acme_app:1.0:user:custom';
    for (const urn of [CUSTOM, OKTA]) {
      const made = async (suffix: string) => {
        const created = await t.http
          .post('/scim/v2/Users')
          .set(t.auth)
          .send({ schemas: [USER], userName: `whole-${suffix}-${urn}-${kind}-${adapter}` });
        expect(created.status).toBe(201);
        return `/scim/v2/Users/${created.body.id}`;
      };
      const byPath = await made('path');
      const pathLess = await made('pathless');
      for (const op of ['add', 'replace']) {
        expect((await patch(byPath, { op, path: urn, value: { badge: `B-${op}` } })).status).toBe(204);
        expect((await patch(pathLess, { op, value: { [urn]: { badge: `B-${op}` } } })).status).toBe(204);
      }
      const [a, b] = [await get(byPath), await get(pathLess)];
      expect(a[urn]).toEqual({ badge: 'B-replace' });
      expect(a.schemas).toEqual([USER, urn]);
      expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
      expect(b[urn]).toEqual(a[urn]);
      expect(await count(`${urn}:badge eq "B-replace"`)).toBe(2);
      expect((await patch(byPath, { op: 'remove', path: urn })).status).toBe(204);
      expect((await get(byPath))[urn]).toBeUndefined();
      // A value filter under the URN names an attribute of the extension, not an extension of its own.
      const filtered = await patch(byPath, { op: 'add', path: `${urn}:emails[type eq "work"]`, value: { value: 'w@x.test' } });
      expect(filtered.status).toBe(204);
      const withEmails = await get(byPath);
      expect(withEmails[urn]).toEqual({ emails: [{ type: 'work', value: 'w@x.test' }] });
      expect(Object.keys(withEmails).filter((key) => key.includes('['))).toEqual([]);
      // The same keys are refused as in the path-less form.
      const hostile = await patch(pathLess, { op: 'add', path: urn, value: JSON.parse('{"__proto__": {"polluted": 1}}') as object });
      expect([hostile.status, hostile.body.scimType]).toEqual([400, 'invalidValue']);
      expect((await get(pathLess))[urn]).toEqual({ badge: 'B-replace' });
    }
  });

  it('holds a URN key whose value is no object to the limits of any attribute, on POST and PATCH', async () => {
    // A list under a custom URN key skipped every check: reserved keys (`__proto__`) stored and handed to
    // the app by reads, the directory and events; 20,000 values and elements of 900 keys accepted.
    const hostile: [string, unknown, RegExp][] = [
      ['a list holding __proto__', [{ ['__proto__']: { polluted: 1 } }], /holds "__proto__", which is not an attribute name/],
      ['a list holding constructor', [{ constructor: { prototype: { x: 1 } } }], /holds "constructor"/],
      ['20,000 values', Array.from({ length: 20_000 }, (_, i) => i), /has 20000 values; at most 1000 are accepted/],
      ['an element of 900 keys', [Object.fromEntries(Array.from({ length: 900 }, (_, i) => [`k${i}`, 1]))], /more than 100 sub-attributes/],
    ];
    const userName = `urn-value-${kind}-${adapter}`;
    const created = await t.http
      .post('/scim/v2/Users')
      .set(t.auth)
      .send({ schemas: [USER], userName, 'urn:foo:bar': 'plain' });
    expect(created.status).toBe(201);
    const at = `/scim/v2/Users/${created.body.id}`;
    for (const [what, value, detail] of hostile) {
      // A computed ['__proto__'] key is an own key, sent as a client's body would be.
      const posted = await t.http
        .post('/scim/v2/Users')
        .set(t.auth)
        .send({ schemas: [USER], userName: `${userName}-2`, 'urn:foo:bar': value });
      expect([posted.status, posted.body.scimType], what).toEqual([400, 'invalidValue']);
      expect(posted.body.detail, what).toMatch(detail);
      expect((await patch(at, { op: 'replace', path: 'urn:foo:bar', value })).status, what).toBe(400);
    }
    expect((await get(at))['urn:foo:bar']).toBe('plain');
    expect(await count(`userName eq "${userName}-2"`)).toBe(0);
  });

  it('refuses a PATCH whose custom path is no URN and attribute, and changes nothing', async () => {
    const created = await t.http
      .post('/scim/v2/Users')
      .set(t.auth)
      .send({ userName: `custom-bad-${kind}-${adapter}`, title: 'kept' });
    const at = `/scim/v2/Users/${created.body.id}`;
    const refused = await patch(at, { op: 'add', path: 'title', value: 'changed' }, { op: 'add', path: 'urn:x', value: 'v' });
    expect(refused.status).toBe(400);
    expect(refused.body.scimType).toBe('invalidPath');
    expect(await get(at)).toMatchObject({ title: 'kept', meta: { version: 'W/"1"' } });
  });
});
