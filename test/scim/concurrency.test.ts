import express from 'express';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scimSso } from '../support/sso.js';
import { STORE_KINDS, makeStore, type TestStore } from '../support/app.js';
import type { Store } from '../../src/store/store.js';

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

  it('applies a PATCH of 2,500 member changes and a PUT of 2,000 members racing 8 streams of one-member PATCHes', { timeout: 60_000 }, async () => {
    // Before the Redis store's group lease (src/store/redis-group-lease.ts), a write longer than one script
    // read or staged the whole list, lost its compare-and-set to the small PATCHes again and again, and
    // answered 503 after 50 attempts.
    const auth = { Authorization: `Bearer ${token}` };
    const group = await supertest(apps[0]!)
      .post('/scim/v2/Groups')
      .set(auth)
      .send({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Big race', members: values('old', 1500) });
    const gid = group.body.id as string;
    const patchOf = (operation: object) => ({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [operation] });
    let running = true;
    const small: number[] = [];
    // Each stream adds its member and removes it again, through both instances, and ends with an add.
    const send = async (i: number, op: object) =>
      small.push(
        (
          await supertest(apps[i % 2]!)
            .patch(`/scim/v2/Groups/${gid}`)
            .set(auth)
            .send(patchOf(op))
        ).status,
      );
    const streams = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; ; i++) {
        await send(i, { op: 'add', path: 'members', value: [{ value: `stream-${w}` }] });
        if (!running) return;
        await send(i + 1, { op: 'remove', path: `members[value eq "stream-${w}"]` });
      }
    });
    const big = await supertest(apps[1]!)
      .patch(`/scim/v2/Groups/${gid}`)
      .set(auth)
      .send({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [
          { op: 'remove', path: 'members', value: values('old', 500) },
          { op: 'add', path: 'members', value: values('new', 2000) },
        ],
      });
    const put = await supertest(apps[0]!)
      .put(`/scim/v2/Groups/${gid}`)
      .set(auth)
      .send({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Big race', members: values('put', 2000) });
    running = false;
    await Promise.all(streams);
    expect([big.status, put.status]).toEqual([204, 200]);
    expect(small.length).toBeGreaterThan(8);
    expect(small.filter((s) => s !== 204)).toEqual([]);
    const after = await supertest(apps[1]!).get(`/scim/v2/Groups/${gid}`).set(auth);
    const listed = (after.body.members as { value: string }[]).map((m) => m.value);
    // The PUT's list, and every stream's member added after it (or before it and again after it).
    const streamed = listed.filter((v) => v.startsWith('stream-'));
    expect(listed.filter((v) => !v.startsWith('stream-'))).toEqual(values('put', 2000).map((m) => m.value));
    expect(new Set(streamed)).toEqual(new Set(Array.from({ length: 8 }, (_, w) => `stream-${w}`)));
    expect(listed).toHaveLength(2008);
  });
});

/** `count` member values `<prefix>-0`… */
function values(prefix: string, count: number): { value: string }[] {
  return Array.from({ length: count }, (_, i) => ({ value: `${prefix}-${i}` }));
}

describe.each(STORE_KINDS)('a group read while its members change, on the %s store', (kind) => {
  let shared: TestStore;
  afterAll(async () => {
    await shared.cleanup();
  });

  it('is read once more under the group lease, with its writers held back, instead of again and again', { timeout: 60_000 }, async () => {
    shared = await makeStore(kind, `concurrency-read-${kind}`);
    // Every member page past the first is read after a one-member PATCH of the group, given up to 200 ms to
    // land: a read that does not hold the writers back never finds two pages of one version, and one that
    // does goes on without it (the PATCH then waits for the read).
    let pages = 0;
    const fired: Promise<unknown>[] = [];
    let fire: (n: number) => Promise<unknown> = async () => undefined;
    const store: Store = {
      ...shared.store,
      listGroupMembers: async (connectionId, groupId, offset, count) => {
        pages++;
        if (offset > 0) {
          const patched = fire(pages);
          fired.push(patched);
          await Promise.race([patched, new Promise((resolve) => setTimeout(resolve, 200))]);
        }
        return shared.store.listGroupMembers(connectionId, groupId, offset, count);
      },
    };
    const sso = scimSso({ store });
    const { token } = await sso.createScimConnection({ customerId: 'read-race' });
    const app = express().use(sso);
    const auth = { Authorization: `Bearer ${token}` };
    const group = await supertest(app)
      .post('/scim/v2/Groups')
      .set(auth)
      .send({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Read race', members: values('m', 2500) });
    const gid = group.body.id as string;
    fire = (n) =>
      supertest(app)
        .patch(`/scim/v2/Groups/${gid}`)
        .set(auth)
        .send({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'add', path: 'members', value: [{ value: `churn-${n}` }] }] })
        .then((r) => r.status);
    pages = 0;
    const read = await supertest(app).get(`/scim/v2/Groups/${gid}`).set(auth);
    expect(read.status).toBe(200);
    // 2,500 members are three pages (1,000 each): one read that met a change, and one under the lease.
    expect(pages).toBeLessThanOrEqual(6);
    const listed = (read.body.members as { value: string }[]).map((m) => m.value);
    expect(listed.slice(0, 2500)).toEqual(values('m', 2500).map((m) => m.value));
    // The PATCHes held back went through once the read was done.
    expect(await Promise.all(fired)).toEqual(fired.map(() => 204));
    const after = await supertest(app).get(`/scim/v2/Groups/${gid}`).set(auth).query({ excludedAttributes: 'members' });
    expect(after.body.meta.version).not.toBe(read.body.meta.version);
  });
});
