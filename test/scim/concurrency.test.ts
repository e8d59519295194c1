import express from 'express';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scimSso } from '../../src/index.js';
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
    const created = await supertest(apps[0]!).post('/scim/v2/Users').set('Authorization', `Bearer ${token}`)
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
});
