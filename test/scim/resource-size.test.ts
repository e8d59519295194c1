/**
 * A stored resource never grows past MAX_RESOURCE_BYTES (src/scim/limits.ts), whichever write would grow
 * it: a body is bounded, but PATCHes add to what is stored, and a 27 MB user held the event loop and Redis
 * for every tenant on each later write. A write that grows a resource past the bound is refused with the
 * resource unchanged; one that shrinks it is taken; PUT of what was read back always fits.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_RESOURCE_BYTES } from '../../src/scim/limits.js';
import { bodyText } from '../../src/scim/response-body.js';
import { makeStore, STORE_KINDS, type TestStore } from '../support/app.js';
import { scimRequest, scimSso, type ScimSso } from '../support/sso.js';
import { userWrite } from '../store/contract.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
/** A value of about 40% of the bound: two fit in one resource, three do not. */
const chunk = (i: number) => `${i}`.padEnd(Math.floor(MAX_RESOURCE_BYTES * 0.4), 'x');
/** The same bytes in fewer characters (é is two bytes): what a character count alone would let through. */
const accented = (i: number) => `${i}`.padEnd(Math.floor(MAX_RESOURCE_BYTES * 0.2), 'é');

describe.each(STORE_KINDS)('stored resource size (%s store)', (kind) => {
  let made: TestStore;
  let sso: ScimSso;
  let token: string;
  beforeAll(async () => {
    made = await makeStore(kind, `resource-size-${kind}`);
    sso = scimSso({ store: made.store, maxBodyBytes: 2_000_000 });
    ({ token } = await sso.createScimConnection({ customerId: `resource-size-${kind}` }));
  });
  afterAll(async () => made?.cleanup());

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await sso.handleScim(scimRequest(token, method, path, { body }));
    const text = response.body === undefined ? '' : bodyText(response.body);
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : null };
  };
  const addNote = (id: string, kindPath: string, value: string) =>
    call('PATCH', `/${kindPath}/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'notes', value: [value] }] });

  it.each([
    ['Users', { schemas: [USER], userName: 'big@example.com' }, chunk],
    ['Users', { schemas: [USER], userName: 'accented@example.com' }, accented],
    ['Groups', { schemas: [GROUP], displayName: 'Big group' }, chunk],
  ] as const)('refuses the PATCH that would grow a %s past the bound, and keeps it as it was', async (path, body, value) => {
    const created = await call('POST', `/${path}`, body);
    expect(created.status).toBe(201);
    const id = String(created.body!.id);
    expect((await addNote(id, path, value(1))).status).toBe(204);
    expect((await addNote(id, path, value(2))).status).toBe(204);
    const before = await call('GET', `/${path}/${id}`);
    const refused = await addNote(id, path, value(3));
    expect(refused).toMatchObject({ status: 400, body: { scimType: 'invalidValue', detail: expect.stringContaining(`at most ${MAX_RESOURCE_BYTES}`) } });
    expect(await call('GET', `/${path}/${id}`)).toEqual(before);
    // What was read back can be PUT back, and a write that shrinks it is taken.
    const { meta: _meta, ...readBack } = before.body!;
    expect((await call('PUT', `/${path}/${id}`, readBack)).status).toBe(200);
    const shrunk = await call('PATCH', `/${path}/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: 'notes' }] });
    expect(shrunk.status).toBe(204);
    expect((await call('GET', `/${path}/${id}`)).body).not.toHaveProperty('notes');
  });

  it('deactivates a user stored past the bound before it existed, and refuses any other growth of it', async () => {
    // Written through the store, as an earlier version let PATCHes grow users.
    const id = randomUUID();
    const legacy = {
      schemas: [USER],
      id,
      userName: 'legacy-big@example.com',
      notes: [chunk(1), chunk(2), chunk(3)],
      active: true,
      meta: { resourceType: 'User', created: '2026-01-01T00:00:00.000Z', lastModified: '2026-01-01T00:00:00.000Z' },
    };
    const connection = (await sso.store.getConnectionByCustomer(`resource-size-${kind}`))!;
    expect(await sso.store.createResource(connection.connectionId, userWrite(id, 'legacy-big@example.com', { json: JSON.stringify(legacy) }))).toMatchObject({
      ok: true,
    });
    const grow = await call('PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'Grown' }] });
    expect(grow).toMatchObject({ status: 400, body: { scimType: 'invalidValue' } });
    // Entra's and Okta's deactivations: a PATCH of active alone, and a PUT of the user as read with active false.
    const patched = await call('PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] });
    expect(patched.status).toBe(204);
    expect((await call('GET', `/Users/${id}`)).body).toMatchObject({ active: false, notes: legacy.notes });
    const piggyback = await call('PATCH', `/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [
        { op: 'replace', path: 'active', value: true },
        { op: 'add', path: 'title', value: 'x'.repeat(100) },
      ],
    });
    expect(piggyback.status).toBe(400);
  });

  it('refuses a POST and a PUT whose resource would pass the bound', async () => {
    const notes = [chunk(1), chunk(2), chunk(3)];
    const posted = await call('POST', '/Users', { schemas: [USER], userName: 'too-big@example.com', notes });
    expect(posted).toMatchObject({ status: 400, body: { scimType: 'invalidValue' } });
    expect((await call('GET', '/Users', undefined)).body).not.toMatchObject({ Resources: [expect.objectContaining({ userName: 'too-big@example.com' })] });
    const small = await call('POST', '/Users', { schemas: [USER], userName: 'small@example.com' });
    const put = await call('PUT', `/Users/${String(small.body!.id)}`, { schemas: [USER], userName: 'small@example.com', notes });
    expect(put).toMatchObject({ status: 400, body: { scimType: 'invalidValue' } });
    expect((await call('GET', `/Users/${String(small.body!.id)}`)).body).not.toHaveProperty('notes');
  });
});
