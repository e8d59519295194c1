/**
 * Group member operations at the SCIM level on both stores (docs/groups.md): PATCH add/remove on a group of
 * several thousand members, the IdPs' member operations (Entra's remove with a value list, Okta's replace,
 * `remove members[value eq "…"]`), reads without members, and users' ETags following their groups.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS, scimTestApp, type ScimTestApp, createActiveUser, userRef } from '../support/app.js';

const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

describe.each(STORE_KINDS)('large groups through SCIM on the %s store', (kind) => {
  let t: ScimTestApp;
  beforeAll(async () => {
    t = await scimTestApp(kind, `large-groups-${kind}`);
  });
  afterAll(async () => {
    expect(t.unexpected).toEqual([]);
    await t.cleanup();
  });

  const user = (userName: string) => createActiveUser(t, userName);
  const createGroup = async (displayName: string) => {
    const res = await t.http
      .post('/scim/v2/Groups')
      .set(t.auth)
      .send({ schemas: [GROUP], displayName });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  const patch = (id: string, Operations: unknown[], query = '') =>
    t.http
      .patch(`/scim/v2/Groups/${id}${query}`)
      .set(t.auth)
      .send({ schemas: [PATCH_OP], Operations });
  const get = (path: string) => t.http.get(path).set(t.auth);
  const values = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ value: `ext-${from + i}` }));
  const versionOf = (etag: string | undefined) => Number(/^W\/"(\d+)"$/.exec(etag ?? '')?.[1]);

  it('builds a 5,000-member group with PATCHes of 1,000 members and edits it one member at a time', async () => {
    const gid = await createGroup('All employees');
    // Each PATCH moves the ETag (on Redis by one per chunk of INLINE_MEMBERS changes, src/store/redis-writes.ts).
    const versions = [1];
    for (let i = 0; i < 5; i++) {
      const res = await patch(gid, [{ op: 'add', path: 'members', value: values(1000, i * 1000) }]);
      expect(res.status).toBe(204);
      versions.push(versionOf(res.headers.etag));
      expect(versions.at(-1)).toBeGreaterThan(versions.at(-2)!);
    }
    const bare = await get(`/scim/v2/Groups/${gid}?excludedAttributes=members`);
    expect(bare.status).toBe(200);
    expect(bare.body).toMatchObject({ id: gid, displayName: 'All employees' });
    expect(bare.body.members).toBeUndefined();
    expect(bare.headers.etag).toBe(`W/"${versions.at(-1)}"`);
    const named = await get(`/scim/v2/Groups/${gid}?attributes=displayName`);
    expect(Object.keys(named.body).sort()).toEqual(['displayName', 'id', 'schemas']);

    const newcomer = await user('newcomer@corp.test');
    expect((await patch(gid, [{ op: 'add', path: 'members', value: [{ value: newcomer }] }])).status).toBe(204);
    expect((await patch(gid, [{ op: 'remove', path: 'members[value eq "ext-17"]' }])).status).toBe(204);
    const full = await get(`/scim/v2/Groups/${gid}`);
    expect(full.status).toBe(200);
    expect(full.headers.etag).toBe(`W/"${versions.at(-1)! + 2}"`);
    expect(full.body.members).toHaveLength(5000);
    expect(full.body.members[0]).toEqual({ value: 'ext-0', $ref: userRef('ext-0') });
    expect(full.body.members.some((m: { value: string }) => m.value === 'ext-17')).toBe(false);
    expect(full.body.members.at(-1)).toEqual({ value: newcomer, $ref: userRef(newcomer) });
    expect((await get(`/scim/v2/Users/${newcomer}`)).body.groups).toEqual([expect.objectContaining({ value: gid, display: 'All employees' })]);

    // A listed page without members reads none; with attributes=members the list is there.
    const listed = await get(`/scim/v2/Groups?filter=${encodeURIComponent(`displayName eq "All employees"`)}&excludedAttributes=members`);
    expect(listed.body.Resources).toEqual([expect.not.objectContaining({ members: expect.anything() })]);
    const page = await get('/scim/v2/Groups?excludedAttributes=members&count=10');
    expect(page.body.Resources.find((g: { id: string }) => g.id === gid).members).toBeUndefined();
    const withMembers = await patch(gid, [{ op: 'remove', path: 'members', value: [{ value: 'ext-0' }, { value: 'ext-1' }] }], '?attributes=members');
    expect(withMembers.status).toBe(200);
    expect(withMembers.body.members).toHaveLength(4998);
    expect(withMembers.body.members[0]).toEqual({ value: 'ext-2', $ref: userRef('ext-2') });
  });

  it('applies member and other operations of one PATCH together, in order', async () => {
    const a = await user('order-a@corp.test');
    const b = await user('order-b@corp.test');
    const gid = await createGroup('Ordered');
    const res = await patch(gid, [
      { op: 'add', path: 'members', value: [{ value: a, display: 'A' }, { value: b }] },
      { op: 'replace', path: 'displayName', value: 'Ordered 2' },
      { op: 'remove', path: `members[value eq "${b}"]` },
      { op: 'add', value: { members: [{ value: 'ghost' }], externalId: 'ext-ordered' } },
      { op: 'remove', path: 'members', value: [{ value: 'ghost' }] },
      { op: 'add', path: 'members', value: [{ value: b, display: 'B again' }] },
    ]);
    expect(res.status).toBe(204);
    const read = (await get(`/scim/v2/Groups/${gid}`)).body;
    expect(read).toMatchObject({ displayName: 'Ordered 2', externalId: 'ext-ordered' });
    expect(read.members).toEqual([
      { value: a, $ref: userRef(a), display: 'A' },
      { value: b, $ref: userRef(b), display: 'B again' },
    ]);
    // Okta's replace of the whole list, then Entra's remove of all members.
    expect((await patch(gid, [{ op: 'replace', path: 'members', value: [{ value: b }] }])).status).toBe(204);
    expect((await get(`/scim/v2/Groups/${gid}`)).body.members).toEqual([{ value: b, $ref: userRef(b) }]);
    expect((await patch(gid, [{ op: 'replace', value: { members: [{ value: a }], displayName: 'Ordered 3' } }])).status).toBe(204);
    expect((await get(`/scim/v2/Groups/${gid}`)).body).toMatchObject({ displayName: 'Ordered 3', members: [{ value: a }] });
    expect((await patch(gid, [{ op: 'remove', path: 'members' }])).status).toBe(204);
    expect((await get(`/scim/v2/Groups/${gid}`)).body.members).toEqual([]);
    // A malformed member is refused, and the PATCH changes nothing.
    const bad = await patch(gid, [
      { op: 'replace', path: 'displayName', value: 'Nope' },
      { op: 'add', path: 'members', value: [{ value: '' }] },
    ]);
    expect(bad.status).toBe(400);
    expect(bad.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error']);
    expect((await get(`/scim/v2/Groups/${gid}`)).body.displayName).toBe('Ordered 3');
  });

  it('shapes a long member list by attributes and excludedAttributes, read, listed and in a PATCH answer alike', async () => {
    // Longer than one rendering slice (group-members.ts RENDER_PAGE): members are rendered and shaped apart.
    const gid = await createGroup('Shaped');
    const list = Array.from({ length: 2500 }, (_, i) => ({ value: `shaped-${i}`, display: `Member $& ${i}` }));
    expect((await patch(gid, [{ op: 'add', path: 'members', value: list }])).status).toBe(204);
    const valuesOnly = list.map(({ value }) => ({ value }));
    const read = await get(`/scim/v2/Groups/${gid}?attributes=members.value`);
    expect(read.body).toEqual({ schemas: [GROUP], id: gid, members: valuesOnly });
    const withoutDisplay = await get(`/scim/v2/Groups/${gid}?excludedAttributes=members.display,meta`);
    expect(withoutDisplay.body.members).toEqual(list.map(({ value }) => ({ value, $ref: expect.stringMatching(/\/Users\/shaped-/) })));
    expect(withoutDisplay.body).toMatchObject({ displayName: 'Shaped' });
    expect(withoutDisplay.body.meta).toBeUndefined();
    const listed = await get(`/scim/v2/Groups?filter=${encodeURIComponent('displayName eq "Shaped"')}&attributes=displayName,members.display`);
    expect(listed.body.Resources).toEqual([{ schemas: [GROUP], id: gid, displayName: 'Shaped', members: list.map(({ display }) => ({ display })) }]);
    const answered = await patch(gid, [{ op: 'replace', path: 'displayName', value: 'Shaped again' }], '?attributes=members.value,displayName');
    expect(answered.body).toEqual({ schemas: [GROUP], id: gid, displayName: 'Shaped again', members: valuesOnly });
    const whole = await get(`/scim/v2/Groups/${gid}`);
    expect(whole.body.members).toHaveLength(2500);
    expect(whole.body.members[7]).toEqual({ value: 'shaped-7', display: 'Member $& 7', $ref: expect.stringMatching(/\/Users\/shaped-7$/) });
  });

  it('changes a user’s ETag whenever its groups change, so If-None-Match never answers a stale 304', async () => {
    const uid = await user('etag@corp.test');
    const gid = await createGroup('ETag group');
    const etag = async () => {
      const res = await get(`/scim/v2/Users/${uid}`);
      return { etag: res.headers.etag as string, groups: (res.body.groups ?? []).map((g: { value: string }) => g.value) };
    };
    const conditional = (tag: string) => t.http.get(`/scim/v2/Users/${uid}`).set(t.auth).set('If-None-Match', tag);
    const before = await etag();
    expect((await conditional(before.etag)).status).toBe(304);
    expect((await patch(gid, [{ op: 'add', path: 'members', value: [{ value: uid }] }])).status).toBe(204);
    const joined = await conditional(before.etag);
    expect(joined.status).toBe(200);
    expect(joined.body.groups).toEqual([expect.objectContaining({ value: gid })]);
    const afterJoin = await etag();
    expect((await patch(gid, [{ op: 'remove', path: `members[value eq "${uid}"]` }])).status).toBe(204);
    const left = await conditional(afterJoin.etag);
    expect(left.status).toBe(200);
    expect(left.body.groups).toBeUndefined();
    expect((await patch(gid, [{ op: 'add', path: 'members', value: [{ value: uid }] }])).status).toBe(204);
    const rejoined = await etag();
    expect((await t.http.delete(`/scim/v2/Groups/${gid}`).set(t.auth)).status).toBe(204);
    const gone = await conditional(rejoined.etag);
    expect(gone.status).toBe(200);
    expect(gone.body.groups).toBeUndefined();
  });
});
