import express from 'express';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scimSso } from '../support/sso.js';
import { STORE_KINDS, makeStore, type TestStore } from '../support/app.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

describe.each(STORE_KINDS)('two app instances sharing one %s store', (kind) => {
  let shared: TestStore;
  let apps: express.Express[];
  let token: string;
  beforeAll(async () => {
    shared = await makeStore(kind, `concurrency-${kind}`);
    const instances = [scimSso({ store: shared.store }), scimSso({ store: shared.store })];
    ({ token } = await instances[0]!.createScimConnection({ customerId: 'race' }));
    apps = instances.map((sso) => express().use(sso));
  });
  afterAll(async () => {
    await shared.cleanup();
  });

  it('creates exactly one of 50 concurrent POSTs of one userName and answers the rest 409', async () => {
    const requests = Array.from({ length: 50 }, (_, i) =>
      supertest(apps[i % 2]!)
        .post('/scim/v2/Users')
        .set('Authorization', `Bearer ${token}`)
        .send({ schemas: [USER], userName: i % 3 ? 'race@example.com' : 'RACE@example.com' }),
    );
    const statuses = (await Promise.all(requests)).map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(49);
    const list = await supertest(apps[1]!).get('/scim/v2/Users').set('Authorization', `Bearer ${token}`);
    expect(list.body.totalResults).toBe(1);
  });

  it('loses no update when 30 PATCHes of one user race through both instances', async () => {
    const created = await supertest(apps[0]!)
      .post('/scim/v2/Users')
      .set('Authorization', `Bearer ${token}`)
      .send({ schemas: [USER], userName: 'patched@example.com' });
    const id = created.body.id as string;
    const patches = Array.from({ length: 30 }, (_, i) =>
      supertest(apps[i % 2]!)
        .patch(`/scim/v2/Users/${id}`)
        .set('Authorization', `Bearer ${token}`)
        .send({ Operations: [{ op: 'add', path: 'emails', value: [{ value: `e${i}@example.com`, type: `t${i}` }] }] }),
    );
    const statuses = (await Promise.all(patches)).map((r) => r.status);
    expect(statuses.every((s) => s === 204)).toBe(true);
    const after = await supertest(apps[1]!).get(`/scim/v2/Users/${id}`).set('Authorization', `Bearer ${token}`);
    expect(after.body.emails).toHaveLength(30);
    expect(after.body.meta.version).toBe('W/"31"');
  });

  it('keeps every member when 40 member adds and removes on one group race through both instances', async () => {
    const auth = { Authorization: `Bearer ${token}` };
    const users: string[] = [];
    for (let i = 0; i < 40; i++) {
      const res = await supertest(apps[i % 2]!)
        .post('/scim/v2/Users')
        .set(auth)
        .send({ schemas: [USER], userName: `member${i}@example.com` });
      users.push(res.body.id);
    }
    // The group starts with the first 20; the race removes the even ones of those and adds the last 20.
    const group = await supertest(apps[0]!)
      .post('/scim/v2/Groups')
      .set(auth)
      .send({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Race', members: users.slice(0, 20).map((value) => ({ value })) });
    const gid = group.body.id as string;
    const removed = users.slice(0, 20).filter((_, i) => i % 2 === 0);
    const added = users.slice(20);
    const operations = [
      ...removed.map((id) => ({ op: 'remove', path: `members[value eq "${id}"]` })),
      ...added.map((id) => ({ op: 'add', path: 'members', value: [{ value: id }] })),
    ];
    const responses = await Promise.all(
      operations.map((op, i) =>
        supertest(apps[i % 2]!)
          .patch(`/scim/v2/Groups/${gid}`)
          .set(auth)
          .send({ Operations: [op] }),
      ),
    );
    expect(responses.map((r) => r.status).every((s) => s === 204)).toBe(true);
    const after = await supertest(apps[1]!).get(`/scim/v2/Groups/${gid}`).set(auth);
    const expected = users.filter((id) => !removed.includes(id));
    expect(new Set(after.body.members.map((m: { value: string }) => m.value))).toEqual(new Set(expected));
    expect(after.body.members).toHaveLength(expected.length);
    // Every user's derived groups agree with the membership: no orphaned or lost member.
    for (const id of users) {
      const user = await supertest(apps[0]!).get(`/scim/v2/Users/${id}`).set(auth);
      expect(user.body.groups?.map((g: { value: string }) => g.value) ?? []).toEqual(expected.includes(id) ? [gid] : []);
    }
  });
});
