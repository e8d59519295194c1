/**
 * SCIM sequences real IdPs send that break other servers, on both stores and both adapters:
 * - Okta's deactivate-then-POST: a POST reusing the externalId of a deactivated user is a new user (201);
 *   reusing its userName is a 409 the IdP understands (`scimType: uniqueness`), and reactivating works.
 * - A group `replace` without `members` (Okta's rename, Entra's path-less replace) keeps the membership.
 * - Every 409 carries `scimType: "uniqueness"`: IdPs treat a 409 as "already exists" and look the resource up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCIM_TARGETS, scimTestApp, type ScimTestApp } from '../support/app.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

describe.each(SCIM_TARGETS)('IdP sequences on the $store store through $adapter', ({ store, adapter }) => {
  let app: ScimTestApp;
  beforeAll(async () => {
    app = await scimTestApp(store, `idp-seq-${store}-${adapter}`, {}, adapter);
  });
  afterAll(async () => {
    expect(app.unexpected).toEqual([]);
    await app.cleanup();
  });

  const post = (path: string, body: object) => app.http.post(`/scim/v2/${path}`).set(app.auth).send(body);
  const patch = (path: string, Operations: object[]) =>
    app.http
      .patch(`/scim/v2/${path}`)
      .set(app.auth)
      .send({ schemas: [PATCH], Operations });
  const put = (path: string, body: object) => app.http.put(`/scim/v2/${path}`).set(app.auth).send(body);
  const user = (userName: string, extra: object = {}) => ({ schemas: [USER], userName, active: true, ...extra });

  it("accepts Okta's deactivate-then-POST with the same externalId, and refuses the same userName with uniqueness", async () => {
    const old = await post('Users', user('jdoe@corp.test', { externalId: '00u-okta-1' }));
    expect(old.status).toBe(201);
    expect((await patch(`Users/${old.body.id}`, [{ op: 'replace', value: { active: false } }])).status).toBe(204);

    const renamed = await post('Users', user('john.doe@corp.test', { externalId: '00u-okta-1' }));
    expect(renamed.status).toBe(201);
    expect(renamed.body.id).not.toBe(old.body.id);
    const byExternalId = await app.http.get('/scim/v2/Users').query({ filter: 'externalId eq "00u-okta-1"' }).set(app.auth);
    expect(byExternalId.body.Resources.map((u: any) => [u.id, u.active]).sort()).toEqual(
      [
        [old.body.id, false],
        [renamed.body.id, true],
      ].sort(),
    );

    const sameName = await post('Users', user('JDoe@corp.test', { externalId: '00u-okta-1' }));
    expect(sameName.status).toBe(409);
    expect(sameName.body).toMatchObject({ status: '409', scimType: 'uniqueness' });
    // The IdP's recovery: look the user up by userName and reactivate it.
    const found = await app.http.get('/scim/v2/Users').query({ filter: 'userName eq "jdoe@corp.test"' }).set(app.auth);
    expect(found.body.Resources.map((u: any) => u.id)).toEqual([old.body.id]);
    expect((await patch(`Users/${old.body.id}`, [{ op: 'replace', path: 'active', value: true }])).status).toBe(204);
  });

  it('finds by filter exactly the users a POST collides with (one folding rule): an IdP look-up-then-create loop never sticks', async () => {
    const spaced = await post('Users', user(' Spaced.User@corp.test '));
    expect(spaced.status).toBe(201);
    const lookups = ['userName eq "spaced.user@corp.test"', 'userName eq "SPACED.USER@corp.test" or displayName eq "nobody"'];
    for (const filter of lookups) {
      const found = await app.http.get('/scim/v2/Users').query({ filter }).set(app.auth);
      expect(
        found.body.Resources.map((u: any) => u.id),
        filter,
      ).toEqual([spaced.body.id]);
    }
    const again = await post('Users', user('spaced.user@corp.test'));
    expect(again.status).toBe(409);
    // A look-alike (Kelvin sign for K) is neither found nor a collision.
    const lookalike = await post('Users', user('\u212Aate@corp.test'));
    const kate = await post('Users', user('kate@corp.test'));
    expect([lookalike.status, kate.status]).toEqual([201, 201]);
    const byKate = await app.http.get('/scim/v2/Users').query({ filter: 'userName eq "KATE@corp.test"' }).set(app.auth);
    expect(byKate.body.Resources.map((u: any) => u.id)).toEqual([kate.body.id]);
  });

  it('keeps a deactivated user deactivated when a PUT omits active or a PATCH removes or clears it', async () => {
    const created = await post('Users', user('deactivated.stays@corp.test'));
    const id = created.body.id as string;
    expect((await patch(`Users/${id}`, [{ op: 'replace', path: 'active', value: false }])).status).toBe(204);
    const attempts = [
      () => patch(`Users/${id}`, [{ op: 'remove', path: 'active' }]),
      () => patch(`Users/${id}`, [{ op: 'replace', path: 'active', value: '' }]),
      () => patch(`Users/${id}`, [{ op: 'replace', value: { active: null, title: 'Cleared' } }]),
      () => put(`Users/${id}`, { schemas: [USER], userName: 'deactivated.stays@corp.test', title: 'No active' }),
    ];
    const read = async () => (await app.http.get(`/scim/v2/Users/${id}`).set(app.auth)).body as { active: boolean; meta: { version: string } };
    for (const [i, attempt] of attempts.entries()) {
      const before = await read();
      expect((await attempt()).status).toBeLessThan(300);
      const after = await read();
      expect(after.active).toBe(false);
      // The first two change nothing once the deactivation is kept: not written (RFC 7644 §3.5.2: no new version).
      if (i < 2) expect(after.meta.version, `attempt ${i}`).toBe(before.meta.version);
      else expect(after.meta.version, `attempt ${i}`).not.toBe(before.meta.version);
    }
    // Sending active again is what reactivates.
    expect((await patch(`Users/${id}`, [{ op: 'replace', path: 'active', value: true }])).status).toBe(204);
    expect((await app.http.get(`/scim/v2/Users/${id}`).set(app.auth)).body.active).toBe(true);
  });

  it('matches members[value eq …] exactly (member values are ids), whatever else the PATCH does', async () => {
    const m = await post('Users', user('exact.member@corp.test'));
    const group = await post('Groups', { schemas: [GROUP], displayName: 'Exact members', members: [{ value: m.body.id }] });
    const path = `Groups/${group.body.id}`;
    const upper = `members[value eq "${String(m.body.id).toUpperCase()}"]`;
    expect((await patch(path, [{ op: 'remove', path: upper }])).status).toBe(204);
    expect(
      (
        await patch(path, [
          { op: 'remove', path: upper },
          { op: 'remove', path: 'members[display eq "zzz"]' },
        ])
      ).status,
    ).toBe(204);
    const read = await app.http.get(`/scim/v2/${path}`).set(app.auth);
    expect(read.body.members.map((x: any) => x.value)).toEqual([m.body.id]);
  });

  it('applies both spellings of members in one path-less PATCH value instead of dropping one', async () => {
    const a = await post('Users', user('both.a@corp.test'));
    const b = await post('Users', user('both.b@corp.test'));
    const group = await post('Groups', { schemas: [GROUP], displayName: 'Both spellings' });
    const res = await patch(`Groups/${group.body.id}`, [{ op: 'add', value: { members: [{ value: a.body.id }], Members: [{ value: b.body.id }] } }]);
    expect(res.status).toBe(204);
    const read = await app.http.get(`/scim/v2/Groups/${group.body.id}`).set(app.auth);
    expect(read.body.members.map((x: any) => x.value).sort()).toEqual([a.body.id, b.body.id].sort());
  });

  it('takes PATCH values wrapped in an array of one, as keycloak-scim (SCIM-SDK up to 1.34) sends them', async () => {
    const created = await post('Users', user('wrapped@corp.test', { name: { givenName: 'Old' } }));
    const res = await patch(`Users/${created.body.id}`, [
      { op: 'replace', path: 'active', value: ['false'] },
      { op: 'replace', path: 'displayName', value: ['Wrapped Name'] },
      { op: 'replace', path: 'name.givenName', value: ['New'] },
    ]);
    expect(res.status).toBe(204);
    const read = await app.http.get(`/scim/v2/Users/${created.body.id}`).set(app.auth);
    expect([read.body.active, read.body.displayName, read.body.name.givenName]).toEqual([false, 'Wrapped Name', 'New']);
  });

  it("takes authentik's membership sync: one operation per member, in PATCHes of bulk.maxOperations", async () => {
    // authentik (providers/scim/clients/groups.py, _patch_chunked) splits a group's members into PATCHes of
    // ServiceProviderConfig bulk.maxOperations operations, and sends them all in one PATCH when that is 0.
    const config = await app.http.get('/scim/v2/ServiceProviderConfig').set(app.auth);
    const chunk: number = config.body.bulk.maxOperations;
    expect(chunk).toBeGreaterThan(0);
    const group = await post('Groups', { schemas: [GROUP], displayName: 'authentik sync' });
    const path = `Groups/${group.body.id}`;
    const op = (verb: string, value: string) => ({ op: verb, path: 'members', value: [{ value }] });
    const send = async (ops: object[]) => {
      for (let i = 0; i < ops.length; i += chunk) expect((await patch(path, ops.slice(i, i + chunk))).status).toBe(204);
    };
    const added = Array.from({ length: 2 * chunk + 10 }, (_, i) => `ak-${i}`);
    await send(added.map((value) => op('add', value)));
    // patch_compare_users: the differences, adds then removes, in the same chunks.
    const removed = added.slice(0, chunk + 5);
    await send([...['ak-new-1', 'ak-new-2'].map((value) => op('add', value)), ...removed.map((value) => op('remove', value))]);
    const read = await app.http.get(`/scim/v2/${path}`).set(app.auth);
    const expected = [...added.slice(chunk + 5), 'ak-new-1', 'ak-new-2'];
    expect(read.body.members.map((m: any) => m.value).sort()).toEqual(expected.sort());
    // One operation more than advertised is refused, saying the limit.
    const over = await patch(
      path,
      Array.from({ length: chunk + 1 }, (_, i) => op('add', `ak-over-${i}`)),
    );
    expect([over.status, over.body.detail]).toEqual([400, `Operations has ${chunk + 1} operations; at most ${chunk} are allowed`]);
  });

  it('keeps the members of a group through a replace that omits them', async () => {
    const a = await post('Users', user('member-a@corp.test'));
    const b = await post('Users', user('member-b@corp.test'));
    const group = await post('Groups', { schemas: [GROUP], displayName: 'Engineering', members: [{ value: a.body.id }, { value: b.body.id }] });
    expect(group.status).toBe(201);
    const path = `Groups/${group.body.id}`;
    // Okta's rename, Entra's path-less replace, and a replace of another attribute.
    expect((await patch(path, [{ op: 'replace', path: 'displayName', value: 'Engineering EU' }])).status).toBe(204);
    expect((await patch(path, [{ op: 'replace', value: { displayName: 'Engineering Europe', externalId: 'grp-1' } }])).status).toBe(204);
    expect((await patch(path, [{ op: 'Replace', value: { id: group.body.id, displayName: 'Engineering Europe' } }])).status).toBe(204);
    const read = await app.http.get(`/scim/v2/${path}`).set(app.auth);
    expect(read.body.displayName).toBe('Engineering Europe');
    expect(read.body.members.map((m: any) => m.value).sort()).toEqual([a.body.id, b.body.id].sort());
    const member = await app.http.get(`/scim/v2/Users/${a.body.id}`).set(app.auth);
    expect(member.body.groups).toEqual([expect.objectContaining({ value: group.body.id, display: 'Engineering Europe' })]);
  });

  it('answers every uniqueness conflict 409 with scimType uniqueness', async () => {
    const taken = await post('Users', user('taken@corp.test'));
    const other = await post('Users', user('other@corp.test'));
    await post('Groups', { schemas: [GROUP], displayName: 'Taken Group' });
    const otherGroup = await post('Groups', { schemas: [GROUP], displayName: 'Other Group' });
    expect([taken.status, other.status, otherGroup.status]).toEqual([201, 201, 201]);
    const conflicts = [
      await post('Users', user('TAKEN@corp.test')),
      await put(`Users/${other.body.id}`, user('taken@corp.test')),
      await patch(`Users/${other.body.id}`, [{ op: 'replace', path: 'userName', value: 'Taken@Corp.test' }]),
      await patch(`Users/${other.body.id}`, [{ op: 'replace', value: { userName: 'taken@corp.test' } }]),
      await post('Groups', { schemas: [GROUP], displayName: 'taken group' }),
      await put(`Groups/${otherGroup.body.id}`, { schemas: [GROUP], displayName: 'TAKEN GROUP' }),
      await patch(`Groups/${otherGroup.body.id}`, [{ op: 'replace', path: 'displayName', value: 'Taken Group' }]),
    ];
    for (const res of conflicts) {
      expect(res.status, JSON.stringify(res.body)).toBe(409);
      expect(res.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '409', scimType: 'uniqueness' });
    }
    // Nothing changed: the losers keep their names.
    expect((await app.http.get(`/scim/v2/Users/${other.body.id}`).set(app.auth)).body.userName).toBe('other@corp.test');
    expect((await app.http.get(`/scim/v2/Groups/${otherGroup.body.id}`).set(app.auth)).body.displayName).toBe('Other Group');
  });
});
