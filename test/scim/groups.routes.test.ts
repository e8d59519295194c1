import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOUCH_SCRIPT_GROUPS } from '../../src/store/redis-scripts.js';
import { SCIM_TARGETS, scimTestApp, type ScimTestApp, createActiveUser, userRef } from '../support/app.js';

const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ADSCIM = 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group';

describe.each(SCIM_TARGETS)('SCIM /Groups on the $store store through $adapter', ({ store: kind, adapter }) => {
  let t: ScimTestApp;
  beforeAll(async () => {
    t = await scimTestApp(kind, `groups-${kind}-${adapter}`, {}, adapter);
  });
  afterAll(async () => {
    expect(t.unexpected).toEqual([]);
    await t.cleanup();
  });

  const user = (userName: string) => createActiveUser(t, userName);
  const group = async (displayName: string, members: { value: string; display?: string; type?: string }[] = [], extra = {}) => {
    const res = await t.http
      .post('/scim/v2/Groups')
      .set(t.auth)
      .send({ schemas: [GROUP], displayName, members, ...extra });
    expect(res.status).toBe(201);
    return res.body as Record<string, any>;
  };
  const patch = (id: string, Operations: unknown[]) =>
    t.http
      .patch(`/scim/v2/Groups/${id}`)
      .set(t.auth)
      .send({ schemas: [PATCH_OP], Operations });
  const get = async (path: string) => (await t.http.get(path).set(t.auth)).body as Record<string, any>;

  it("creates Entra's group with its ADSCIM schema URN and answers members: []", async () => {
    const created = await group('Entra Group', [], { schemas: [GROUP, ADSCIM], externalId: 'entra-obj-1', meta: { resourceType: 'Group' } });
    expect(created.schemas).toEqual([GROUP, ADSCIM]);
    expect(created.members).toEqual([]);
    expect(created.externalId).toBe('entra-obj-1');
    expect(created.meta.resourceType).toBe('Group');
  });

  it('refuses a member emptied through a value path (400) and keeps the list as it was', async () => {
    const m = await user('emptied.member@example.com');
    const g = await group('Emptied member', [{ value: m, display: 'M' }]);
    for (const operation of [
      { op: 'replace', path: `members[value eq "${m}"]`, value: { value: '' } },
      { op: 'replace', path: `members[value eq "${m}"].value`, value: '' },
    ]) {
      const refused = await patch(g.id as string, [operation]);
      expect([refused.status, refused.body.status], JSON.stringify(operation)).toEqual([400, '400']);
    }
    expect((await get(`/scim/v2/Groups/${g.id}`)).members.map((x: { value: string }) => x.value)).toEqual([m]);
  });

  it('selects members by the $ref it serves in a PATCH value filter, as a list filter does', async () => {
    const [a, b] = [await user('ref.a@example.com'), await user('ref.b@example.com')];
    const g = await group('By $ref', [{ value: a }, { value: b, display: 'B' }]);
    const served = (await get(`/scim/v2/Groups/${g.id}`)).members as { value: string; $ref: string }[];
    const refOf = (id: string) => served.find((m) => m.value === id)!.$ref;
    expect((await get(`/scim/v2/Groups?filter=${encodeURIComponent(`members[$ref eq "${refOf(a)}"]`)}`)).totalResults).toBe(1);
    // A $ref no member has, and a group's $ref for a user member, select nobody.
    for (const ref of ['https://elsewhere.example/Users/nobody', refOf(a).replace('/Users/', '/Groups/')]) {
      expect((await patch(g.id as string, [{ op: 'remove', path: `members[$ref eq "${ref}"]` }])).status).toBe(204);
    }
    expect((await patch(g.id as string, [{ op: 'replace', path: `members[$ref eq "${refOf(b)}"].display`, value: 'Bee' }])).status).toBe(204);
    expect((await patch(g.id as string, [{ op: 'remove', path: `members[$ref eq "${refOf(a)}"]` }])).status).toBe(204);
    expect((await get(`/scim/v2/Groups/${g.id}`)).members.map((m: { value: string; display?: string }) => [m.value, m.display])).toEqual([[b, 'Bee']]);
    const refused = await patch(g.id as string, [{ op: 'remove', path: `members[$ref co "${b}"]` }]);
    expect([refused.status, refused.body.scimType]).toEqual([400, 'invalidFilter']);
  });

  it('answers a duplicate displayName, compared case-insensitively, with 409 uniqueness', async () => {
    await group('Unique Name');
    const res = await t.http
      .post('/scim/v2/Groups')
      .set(t.auth)
      .send({ schemas: [GROUP], displayName: 'UNIQUE name' });
    expect(res.status).toBe(409);
    expect(res.body.scimType).toBe('uniqueness');
  });

  it("derives a user's read-only groups from membership, and follows renames", async () => {
    const alice = await user('alice.groups@example.com');
    const g = await group('Engineering', [{ value: alice, display: 'Alice' }]);
    expect(g.members).toEqual([{ value: alice, $ref: userRef(alice), display: 'Alice' }]);
    let u = await get(`/scim/v2/Users/${alice}`);
    expect(u.groups).toEqual([{ value: g.id, $ref: expect.stringMatching(new RegExp(`/Groups/${g.id}$`)), display: 'Engineering', type: 'direct' }]);
    expect((await patch(g.id, [{ op: 'Replace', path: 'displayName', value: 'Platform' }])).status).toBe(204);
    u = await get(`/scim/v2/Users/${alice}`);
    expect(u.groups[0].display).toBe('Platform');
  });

  it("adds and removes members with Okta's mixed PATCH and Entra's value-list remove", async () => {
    const [a, b, c] = [await user('m.a@example.com'), await user('m.b@example.com'), await user('m.c@example.com')];
    const g = await group('Mixed', [{ value: a }, { value: b }]);
    const okta = await patch(g.id, [
      { op: 'remove', path: `members[value eq "${a}"]` },
      { op: 'add', path: 'members', value: [{ value: c, display: 'm.c@example.com' }] },
    ]);
    expect(okta.status).toBe(204);
    expect((await get(`/scim/v2/Groups/${g.id}`)).members.map((m: any) => m.value)).toEqual([b, c]);
    const entra = await patch(g.id, [{ op: 'Remove', path: 'members', value: [{ value: b }] }]);
    expect(entra.status).toBe(204);
    expect((await get(`/scim/v2/Groups/${g.id}`)).members.map((m: any) => m.value)).toEqual([c]);
    expect((await get(`/scim/v2/Users/${a}`)).groups).toBeUndefined();
  });

  it("renames with Okta's path-less replace carrying the group id, and removes every member", async () => {
    const a = await user('rename.a@example.com');
    const g = await group('Before', [{ value: a }]);
    const res = await patch(g.id, [{ op: 'replace', value: { id: g.id, displayName: 'After' } }]);
    expect(res.status).toBe(204);
    const after = await get(`/scim/v2/Groups/${g.id}`);
    expect(after.displayName).toBe('After');
    expect(after.members).toHaveLength(1);
    expect((await patch(g.id, [{ op: 'remove', path: 'members' }])).status).toBe(204);
    expect((await get(`/scim/v2/Groups/${g.id}`)).members).toEqual([]);
  });

  it("moves a member's version once for a PATCH that removes and adds it again, as for any membership change", async () => {
    const [a, b] = [await user('again.a@example.com'), await user('again.b@example.com')];
    const g = await group('Again Group', [{ value: a }, { value: b }]);
    const versionOf = async (id: string) => (await get(`/scim/v2/Users/${id}`)).meta.version as string;
    const number = (version: string) => Number(/^W\/"(\d+)"$/.exec(version)![1]);
    // Entra's form (remove by value, then add), and Okta's (remove by value filter, then add).
    for (const remove of [
      { op: 'remove', path: 'members', value: [{ value: a }] },
      { op: 'remove', path: `members[value eq "${a}"]` },
    ]) {
      const [beforeA, beforeB] = [number(await versionOf(a)), number(await versionOf(b))];
      expect((await patch(g.id, [remove, { op: 'add', path: 'members', value: [{ value: a }] }])).status).toBe(204);
      expect([number(await versionOf(a)), number(await versionOf(b))]).toEqual([beforeA + 1, beforeB]);
      expect((await get(`/scim/v2/Users/${a}`)).groups.map((x: { value: string }) => x.value)).toEqual([g.id]);
    }
  });

  it('writes nothing for a member PATCH that changes nothing: same version and lastModified (RFC 7644 §3.5.2.1)', async () => {
    const [a, b] = [await user('noop.a@example.com'), await user('noop.b@example.com')];
    const g = await group('No-op Group', [{ value: a }, { value: b, display: 'B' }]);
    const meta = async () => (await get(`/scim/v2/Groups/${g.id}`)).meta as { version: string; lastModified: string };
    const before = await meta();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const noOps: unknown[][] = [
      [{ op: 'add', path: 'members', value: [{ value: a }] }],
      [{ op: 'Add', path: 'members', value: [{ value: a }, { value: b, display: 'B' }] }],
      [{ op: 'Remove', path: 'members', value: [{ value: 'not-a-member' }] }],
      [{ op: 'remove', path: 'members[value eq "not-a-member"]' }],
      [{ op: 'replace', path: 'members', value: [{ value: a }, { value: b, display: 'B' }] }],
      // Okta's rename PATCH, sent with every membership change, with the name the group already has.
      [
        { op: 'replace', value: { id: g.id, displayName: 'No-op Group' } },
        { op: 'add', path: 'members', value: [{ value: b, display: 'B' }] },
      ],
    ];
    for (const operations of noOps) {
      expect((await patch(g.id, operations)).status).toBe(204);
      expect(await meta()).toEqual(before);
    }
    // A PATCH that reads the member list in hand, on a group with no members (read as `members: []`, built
    // without them): before, it was written.
    const empty = await group('No-op Empty Group', []);
    const emptyMeta = async () => (await get(`/scim/v2/Groups/${empty.id}`)).meta as { version: string; lastModified: string };
    const emptyBefore = await emptyMeta();
    expect((await patch(empty.id, [{ op: 'remove', path: 'members[value eq "nobody"].display' }])).status).toBe(204);
    expect(await emptyMeta()).toEqual(emptyBefore);
    // A member's display is part of the list: replacing it is a change.
    expect((await patch(g.id, [{ op: 'replace', path: 'members', value: [{ value: a }, { value: b, display: 'B2' }] }])).status).toBe(204);
    const changed = await meta();
    expect(changed.version).not.toBe(before.version);
    expect(changed.lastModified > before.lastModified).toBe(true);
    expect((await get(`/scim/v2/Groups/${g.id}`)).members.map((m: { display?: string }) => m.display)).toEqual([undefined, 'B2']);
  });

  it('writes nothing for more member changes than one store call carries when none changes anything', async () => {
    // 1,001 values: past the Redis store's inline limit (MEMBER_CHUNK), so the changes are applied to the list read whole.
    const values = Array.from({ length: 1001 }, (_, i) => ({ value: `noop-big-${i}` }));
    const g = await group('No-op Big Group', values);
    const before = (await get(`/scim/v2/Groups/${g.id}?excludedAttributes=members`)).meta;
    expect((await patch(g.id, [{ op: 'add', path: 'members', value: values }])).status).toBe(204);
    expect((await get(`/scim/v2/Groups/${g.id}?excludedAttributes=members`)).meta).toEqual(before);
    // Okta's full push of the same list, in another order: compared, not written.
    expect((await patch(g.id, [{ op: 'replace', path: 'members', value: [...values].reverse() }])).status).toBe(204);
    expect((await get(`/scim/v2/Groups/${g.id}?excludedAttributes=members`)).meta).toEqual(before);
    expect((await patch(g.id, [{ op: 'add', path: 'members', value: [...values, { value: 'noop-big-new' }] }])).status).toBe(204);
    const after = await get(`/scim/v2/Groups/${g.id}?attributes=members.value`);
    expect(after.members).toHaveLength(1002);
  });

  it('retries member PATCHes that lost a race under If-Match: * instead of answering 412: every member lands', async () => {
    const created = await group('Star Group');
    const values = ['s1', 's2', 's3', 's4', 's5'];
    const answers = await Promise.all(
      values.map((value) =>
        t.http
          .patch(`/scim/v2/Groups/${created.id}`)
          .set(t.auth)
          .set('If-Match', '*')
          .send({ schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value }] }] }),
      ),
    );
    expect(answers.map((r) => r.status)).toEqual([204, 204, 204, 204, 204]);
    expect((await get(`/scim/v2/Groups/${created.id}`)).members.map((m: { value: string }) => m.value).sort()).toEqual(values);
  });

  it('refuses a member PATCH, a PUT or a DELETE of a group whose If-None-Match matches it (412), and writes nothing', async () => {
    const created = await group('None-Match Group');
    const version = (await get(`/scim/v2/Groups/${created.id}?excludedAttributes=members`)).meta.version;
    for (const tag of ['*', version]) {
      const member = await t.http
        .patch(`/scim/v2/Groups/${created.id}`)
        .set(t.auth)
        .set('If-None-Match', tag)
        .send({ schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: 'nm1' }] }] });
      expect(member.status, tag).toBe(412);
      const put = await t.http
        .put(`/scim/v2/Groups/${created.id}`)
        .set(t.auth)
        .set('If-None-Match', tag)
        .send({ schemas: [GROUP], displayName: 'Renamed' });
      expect(put.status, tag).toBe(412);
      expect((await t.http.delete(`/scim/v2/Groups/${created.id}`).set(t.auth).set('If-None-Match', tag)).status, tag).toBe(412);
    }
    const after = await get(`/scim/v2/Groups/${created.id}`);
    expect(after.meta.version).toBe(version);
    expect(after.displayName).toBe('None-Match Group');
    expect(after.members ?? []).toEqual([]);
  });

  it('replaces the member list with PUT', async () => {
    const [a, b] = [await user('put.a@example.com'), await user('put.b@example.com')];
    const g = await group('Put Group', [{ value: a }]);
    const res = await t.http
      .put(`/scim/v2/Groups/${g.id}`)
      .set(t.auth)
      .send({ schemas: [GROUP], id: g.id, displayName: 'Put Group', members: [{ value: b, display: 'B' }] });
    expect(res.status).toBe(200);
    expect(res.body.members).toEqual([{ value: b, $ref: userRef(b), display: 'B' }]);
  });

  it('leaves members out with excludedAttributes=members, single and in lists', async () => {
    const a = await user('excl.a@example.com');
    const g = await group('Excluded', [{ value: a }]);
    const single = await get(`/scim/v2/Groups/${g.id}?excludedAttributes=members`);
    expect(single).not.toHaveProperty('members');
    expect(single.displayName).toBe('Excluded');
    const list = await t.http.get('/scim/v2/Groups').query({ excludedAttributes: 'members', filter: 'displayName eq "Excluded"' }).set(t.auth);
    expect(list.body.totalResults).toBe(1);
    expect(list.body.Resources[0]).not.toHaveProperty('members');
    expect(list.body.Resources[0].id).toBe(g.id);
  });

  it('removes a deleted user from every group', async () => {
    const a = await user('gone@example.com');
    const g1 = await group('Gone One', [{ value: a }]);
    const g2 = await group('Gone Two', [{ value: a }]);
    expect((await t.http.delete(`/scim/v2/Users/${a}`).set(t.auth)).status).toBe(204);
    expect((await get(`/scim/v2/Groups/${g1.id}`)).members).toEqual([]);
    expect((await get(`/scim/v2/Groups/${g2.id}`)).members).toEqual([]);
  });

  it("moves a group's meta.lastModified, version and lastModified sort entry when a deleted member leaves it", async () => {
    const a = await user('leaves@example.com');
    const child = await group('Nested Child');
    const touched = await group('Touched By Delete', [{ value: a }, { value: child.id, type: 'Group' }]);
    const untouched = await group('Not Touched By Delete');
    const byLastModified = async () => {
      const res = await t.http
        .get('/scim/v2/Groups')
        .set(t.auth)
        .query({ sortBy: 'meta.lastModified', sortOrder: 'descending', count: '2', excludedAttributes: 'members' });
      expect(res.status).toBe(200);
      return (res.body.Resources as { id: string }[]).map((r) => r.id);
    };
    // The first sortBy switches the sort indexes on, so the deletes below must move the group's entry.
    expect(await byLastModified()).toEqual([untouched.id, touched.id]);

    let before = touched.meta as { created: string; lastModified: string; version: string };
    // Changes since the last group written before the deletes: only the group a deleted member left.
    let since = untouched.meta.lastModified as string;
    for (const gone of [`/scim/v2/Users/${a}`, `/scim/v2/Groups/${child.id}`]) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect((await t.http.delete(gone).set(t.auth)).status).toBe(204);
      const after = (await get(`/scim/v2/Groups/${touched.id}`)).meta as typeof before;
      expect(after.lastModified > before.lastModified).toBe(true);
      expect(after.version).not.toBe(before.version);
      expect(after.created).toBe(touched.meta.created);
      expect(await byLastModified()).toEqual([touched.id, untouched.id]);
      const changed = await t.http
        .get('/scim/v2/Groups')
        .set(t.auth)
        .query({ filter: `meta.lastModified gt "${since}"`, excludedAttributes: 'members' });
      expect(changed.body.Resources.map((r: { id: string }) => r.id)).toEqual([touched.id]);
      before = after;
      since = after.lastModified;
    }
    expect((await get(`/scim/v2/Groups/${touched.id}`)).members).toEqual([]);
    expect((await get(`/scim/v2/Groups/${untouched.id}`)).meta.lastModified).toBe(untouched.meta.lastModified);
  });

  it('moves every group a deleted user leaves, also past what one Redis script rewrites (TOUCH_SCRIPT_BYTES)', async () => {
    const a = await user('leaves.large@example.com');
    // Three groups of 600 KB each: 1.8 MB of records, more than one delete script touches on Redis.
    const large = await Promise.all([1, 2, 3].map((i) => group(`Large ${i}`, [{ value: a }], { notes: String(i).repeat(600_000) })));
    const metas = async () => Promise.all(large.map(async (g) => (await get(`/scim/v2/Groups/${g.id}?attributes=displayName,meta`)).meta));
    const before = await metas();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await t.http.delete(`/scim/v2/Users/${a}`).set(t.auth)).status).toBe(204);
    const after = await metas();
    after.forEach((meta, i) => {
      expect(meta.version).not.toBe(before[i].version);
      expect(meta.lastModified > before[i].lastModified).toBe(true);
    });
    for (const g of large) {
      const read = await get(`/scim/v2/Groups/${g.id}`);
      expect([read.members, read.notes.length]).toEqual([[], 600_000]);
    }
  });

  it("keeps a member whose value is not a known id, as Microsoft's suite expects", async () => {
    const g = await group('Strings');
    expect((await patch(g.id, [{ op: 'add', path: 'members', value: 'string id 1' }])).status).toBe(204);
    expect((await get(`/scim/v2/Groups/${g.id}`)).members).toEqual([{ value: 'string id 1', $ref: userRef('string id 1') }]);
  });

  it('gives every member the $ref the Group schema declares: /Groups for a member of type Group, /Users otherwise', async () => {
    const inner = await group('Inner');
    const outer = await group('Outer', [{ value: inner.id, type: 'Group' }, { value: 'someone' }]);
    const read = await get(`/scim/v2/Groups/${outer.id}`);
    expect(read.members).toEqual([
      { value: inner.id, $ref: expect.stringMatching(new RegExp(`/scim/v2/Groups/${inner.id}$`)), type: 'Group' },
      { value: 'someone', $ref: userRef('someone') },
    ]);
    expect(read.members[0].$ref).toBe(inner.meta.location);
    const schema = await t.http.get('/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group').set(t.auth);
    const members = schema.body.attributes.find((a: any) => a.name === 'members');
    expect(members.subAttributes.map((a: any) => a.name)).toContain('$ref');
  });

  it('deletes a group with 204, then 404', async () => {
    const g = await group('Temporary');
    expect((await t.http.delete(`/scim/v2/Groups/${g.id}`).set(t.auth)).status).toBe(204);
    expect((await t.http.get(`/scim/v2/Groups/${g.id}`).set(t.auth)).status).toBe(404);
  });
});

describe.each(SCIM_TARGETS)('a deleted member of many groups on the $store store through $adapter', ({ store: kind, adapter }) => {
  let t: ScimTestApp;
  beforeAll(async () => {
    // Hundreds of group creations in a burst: the per-connection rate limit is not what this tests.
    t = await scimTestApp(kind, `groups-many-${kind}-${adapter}`, { rateLimit: false }, adapter);
  });
  afterAll(async () => {
    expect(t.unexpected).toEqual([]);
    await t.cleanup();
  });

  it('moves every group a deleted user leaves, also past how many groups one Redis script rewrites (TOUCH_SCRIPT_GROUPS)', async () => {
    const a = await createActiveUser(t, 'leaves.many@example.com');
    const many: { id: string }[] = [];
    for (let from = 0; from < TOUCH_SCRIPT_GROUPS + 1; from += 20) {
      const made = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          t.http
            .post('/scim/v2/Groups')
            .set(t.auth)
            .send({ schemas: [GROUP], displayName: `Many ${from + i}`, members: [{ value: a }] }),
        ),
      );
      expect(made.map((r) => r.status)).toEqual(Array(20).fill(201));
      many.push(...made.map((r) => r.body as { id: string }));
    }
    const versions = async () =>
      Promise.all(many.map(async (g) => (await t.http.get(`/scim/v2/Groups/${g.id}?attributes=displayName,meta`).set(t.auth)).body.meta.version));
    const before = await versions();
    expect((await t.http.delete(`/scim/v2/Users/${a}`).set(t.auth)).status).toBe(204);
    const after = await versions();
    expect(after.filter((version, i) => version === before[i])).toEqual([]);
    expect((await t.http.get(`/scim/v2/Groups/${many.at(-1)!.id}`).set(t.auth)).body.members).toEqual([]);
  });
});
