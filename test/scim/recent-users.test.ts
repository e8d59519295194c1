/**
 * A PUT or PATCH of a user starts from the instance's last copy of it (src/scim/recent-users.ts). These
 * cases make that copy stale on purpose (a second instance on the same store changes the user first) and
 * check that every answer and every stored result is what a fresh read would have given.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/events.js';
import { RecentUsers } from '../../src/scim/recent-users.js';
import { STORE_KINDS, makeStore, type TestStore } from '../support/app.js';
import { scimRequest, scimSso, type ScimSso } from '../support/sso.js';
import { bodyText } from '../../src/scim/response-body.js';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const patch = (...Operations: unknown[]) => ({ schemas: [PATCH_OP], Operations });

describe.each(STORE_KINDS)('PUT and PATCH from a stale copy (%s store)', (kind) => {
  let shared: TestStore;
  /** `a` has the copies; `b` is the other instance that changes users behind a's back. */
  let a: ScimSso;
  let b: ScimSso;
  let token: string;
  let serial = 0;
  const audit: AuditEvent[] = [];

  beforeAll(async () => {
    shared = await makeStore(kind, `recent-users-${kind}`);
    a = scimSso({ store: shared.store, rateLimit: false, activityLog: false, onEvent: (e) => audit.push(e) });
    b = scimSso({ store: shared.store, rateLimit: false, activityLog: false });
    ({ token } = await a.createScimConnection({ customerId: `recent-${kind}` }));
  });
  afterAll(async () => {
    await shared.cleanup();
  });

  async function send(sso: ScimSso, method: string, target: string, body?: unknown, ifMatch?: string) {
    const [path, query] = target.split('?') as [string, string | undefined];
    const request = scimRequest(token, method, path, { body, query });
    if (ifMatch) request.headers['if-match'] = ifMatch;
    const response = await sso.handleScim(request);
    return { status: response.status, body: bodyText(response.body) ? JSON.parse(bodyText(response.body)!) : null };
  }

  /** A user created through `a` (so `a` holds a copy), then changed through `b` with `change`. */
  async function staleUser(change: unknown, extra: Record<string, unknown> = {}) {
    const created = await send(a, 'POST', '/Users', { userName: `stale-${serial++}@corp.test`, ...extra });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect((await send(b, 'PATCH', `/Users/${id}`, change)).status).toBe(204);
    return { id, created: created.body };
  }

  const stored = async (id: string) => (await send(b, 'GET', `/Users/${id}`)).body;

  it('a PATCH that changes nothing on the copy but something on the stored user is written', async () => {
    const { id } = await staleUser(patch({ op: 'replace', path: 'active', value: false }), { active: true });
    expect((await send(a, 'PATCH', `/Users/${id}`, patch({ op: 'replace', path: 'active', value: true }))).status).toBe(204);
    expect((await stored(id)).active).toBe(true);
  });

  it("a PATCH keeps the other instance's change (no lost update)", async () => {
    const { id } = await staleUser(patch({ op: 'replace', path: 'title', value: 'Engineer' }));
    expect((await send(a, 'PATCH', `/Users/${id}`, patch({ op: 'replace', path: 'displayName', value: 'Ann' }))).status).toBe(204);
    const user = await stored(id);
    expect([user.title, user.displayName]).toEqual(['Engineer', 'Ann']);
    expect(user.meta.version).toBe('W/"3"');
  });

  it('If-Match is checked against the stored version, not the copy', async () => {
    const { id } = await staleUser(patch({ op: 'replace', path: 'title', value: 'Lead' }));
    const body = patch({ op: 'replace', path: 'displayName', value: 'Matched' });
    expect((await send(a, 'PATCH', `/Users/${id}`, body, 'W/"2"')).status).toBe(204); // the copy is at 1
    expect((await stored(id)).displayName).toBe('Matched');
    const other = await staleUser(patch({ op: 'replace', path: 'title', value: 'Lead' }));
    expect((await send(a, 'PATCH', `/Users/${other.id}`, body, 'W/"1"')).status).toBe(412); // the copy's version
    expect((await stored(other.id)).displayName).toBeUndefined();
    // Naming both versions matches the stored one: the copy's refused write is no lost race.
    const both = await staleUser(patch({ op: 'replace', path: 'title', value: 'Lead' }));
    expect((await send(a, 'PATCH', `/Users/${both.id}`, body, 'W/"1", W/"2"')).status).toBe(204);
  });

  it('a PATCH that fails on the copy but applies to the stored user succeeds', async () => {
    const { id } = await staleUser(patch({ op: 'add', path: 'emails', value: [{ value: 'home@corp.test', type: 'home' }] }));
    // On the copy (no emails) this has no target and the filter describes none to create: a 400 there.
    const update = patch({ op: 'replace', path: 'emails[value sw "home"].type', value: 'other' });
    expect((await send(a, 'PATCH', `/Users/${id}`, update)).status).toBe(204);
    expect((await stored(id)).emails).toEqual([{ value: 'home@corp.test', type: 'other' }]);
  });

  it('a PUT that omits active keeps the deactivation the other instance made', async () => {
    const { id, created } = await staleUser(patch({ op: 'replace', path: 'active', value: false }));
    const put = await send(a, 'PUT', `/Users/${id}`, { userName: created.userName, displayName: 'Put' });
    expect(put.status).toBe(200);
    expect(put.body.active).toBe(false);
    expect(put.body.meta.created).toBe(created.meta.created);
    expect((await stored(id)).active).toBe(false);
  });

  it('a PUT that changes nothing on a deactivated copy is written when the other instance reactivated and changed the user', async () => {
    // a's copy: deactivated, title T. b then reactivates with title New; a's PUT of title T without active
    // changes nothing on the copy (the kept deactivation undoes the missing active) but changes the stored user.
    const created = await send(a, 'POST', '/Users', { userName: `stale-${serial++}@corp.test`, title: 'T', active: true });
    const id = created.body.id as string;
    expect((await send(a, 'PATCH', `/Users/${id}`, patch({ op: 'replace', path: 'active', value: false }))).status).toBe(204);
    expect((await send(b, 'PUT', `/Users/${id}`, { userName: created.body.userName, title: 'New', active: true })).status).toBe(200);
    const put = await send(a, 'PUT', `/Users/${id}`, { userName: created.body.userName, title: 'T' });
    expect([put.status, put.body.title, put.body.meta.version]).toEqual([200, 'T', 'W/"4"']);
    expect(await stored(id)).toMatchObject({ title: 'T', meta: { version: 'W/"4"' } });
    // The version a's answer gave is the stored one: an If-Match on the older one is refused.
    expect((await send(a, 'PATCH', `/Users/${id}`, patch({ op: 'remove', path: 'active' }), 'W/"2"')).status).toBe(412);
  });

  it('a deactivation already made elsewhere is not written or announced again', async () => {
    const { id } = await staleUser(patch({ op: 'replace', path: 'active', value: false }), { active: true });
    const before = audit.filter((e) => e.type === 'user.deactivated').length;
    expect((await send(a, 'PATCH', `/Users/${id}`, patch({ op: 'replace', path: 'active', value: false }))).status).toBe(204);
    expect(audit.filter((e) => e.type === 'user.deactivated')).toHaveLength(before);
    expect((await stored(id)).meta.version).toBe('W/"2"');
  });

  it('a user deleted elsewhere answers 404 to PATCH and PUT, and stays deleted', async () => {
    const created = await send(a, 'POST', '/Users', { userName: `gone-${serial++}@corp.test` });
    const id = created.body.id as string;
    expect((await send(b, 'DELETE', `/Users/${id}`)).status).toBe(204);
    expect((await send(a, 'PATCH', `/Users/${id}`, patch({ op: 'replace', path: 'active', value: false }))).status).toBe(404);
    expect((await send(a, 'PUT', `/Users/${id}`, { userName: created.body.userName })).status).toBe(404);
    expect((await send(b, 'GET', `/Users/${id}`)).status).toBe(404);
  });

  it('a PUT to a userName another user took meanwhile is 409, and one freed meanwhile is taken', async () => {
    const first = await send(a, 'POST', '/Users', { userName: `first-${serial}@corp.test` });
    const second = await send(a, 'POST', '/Users', { userName: `second-${serial++}@corp.test` });
    // b renames `first`, freeing its userName; a's copy still holds it.
    const freed = first.body.userName as string;
    expect((await send(b, 'PATCH', `/Users/${first.body.id}`, patch({ op: 'replace', path: 'userName', value: `moved-${freed}` }))).status).toBe(204);
    expect((await send(a, 'PUT', `/Users/${second.body.id}`, { userName: freed })).status).toBe(200);
    expect((await send(a, 'PUT', `/Users/${first.body.id}`, { userName: freed })).status).toBe(409);
    expect((await stored(first.body.id)).userName).toBe(`moved-${freed}`);
  });

  it("answers a user's groups as they are at the write, though renaming a group moves no member's version", async () => {
    const user = await send(a, 'POST', '/Users', { userName: `grouped-${serial++}@corp.test` });
    const id = user.body.id as string;
    const first = await send(b, 'POST', '/Groups', { displayName: 'Eng', members: [{ value: id }] });
    const second = await send(b, 'POST', '/Groups', { displayName: 'Ops', members: [{ value: id }] });
    const read = await send(a, 'GET', `/Users/${id}`); // a's copy now lists both groups
    expect(read.body.groups.map((g: { display: string }) => g.display)).toEqual(['Eng', 'Ops']);
    expect((await send(b, 'PATCH', `/Groups/${first.body.id}`, patch({ op: 'replace', path: 'displayName', value: 'Engineering' }))).status).toBe(204);
    expect((await stored(id)).meta.version).toBe(read.body.meta.version); // so a's copy is still current
    const groupsIn = (body: { groups?: { value: string; display: string }[] }) => body.groups?.map((g) => [g.value, g.display]);
    const expected = [
      [first.body.id, 'Engineering'],
      [second.body.id, 'Ops'],
    ];
    const patched = await send(a, 'PATCH', `/Users/${id}?attributes=groups`, patch({ op: 'replace', path: 'title', value: 'Lead' }));
    expect(patched.status).toBe(200);
    expect(groupsIn(patched.body)).toEqual(expected);
    expect((await send(b, 'PATCH', `/Groups/${second.body.id}`, patch({ op: 'replace', path: 'displayName', value: 'Operations' }))).status).toBe(204);
    const put = await send(a, 'PUT', `/Users/${id}`, { userName: read.body.userName, title: 'Staff' });
    expect(put.status).toBe(200);
    expected[1] = [second.body.id, 'Operations'];
    expect(groupsIn(put.body)).toEqual(expected);
    expect(groupsIn(await stored(id))).toEqual(expected);
  });
});

describe('RecentUsers bounds', () => {
  const user = (id: string, json = '{}') => ({ id, kind: 'User' as const, json, version: 1 });

  it('keeps at most `capacity` users, dropping the least recently used', () => {
    const recent = new RecentUsers(2, 1000);
    recent.remember('c', user('1'));
    recent.remember('c', user('2'));
    recent.get('c', '1');
    recent.remember('c', user('3'));
    expect([recent.get('c', '1'), recent.get('c', '2'), recent.get('c', '3')].map((u) => u?.id)).toEqual(['1', undefined, '3']);
  });

  it('keeps at most `maxChars` of JSON, and never one user larger than that', () => {
    const recent = new RecentUsers(100, 10);
    recent.remember('c', user('big', 'x'.repeat(11)));
    expect(recent.get('c', 'big')).toBeUndefined();
    recent.remember('c', user('1', '12345'));
    recent.remember('c', user('2', '12345'));
    recent.remember('c', user('3', '1'));
    expect(recent.size).toBe(2);
    expect(recent.get('c', '1')).toBeUndefined();
  });

  it('counts the groups a user is listed in against maxChars', () => {
    const recent = new RecentUsers(100, 1000);
    const groups = Array.from({ length: 40 }, (_, i) => ({ value: `group-${i}`, display: 'A group name' }));
    recent.remember('c', { ...user('member', '{}'), groups });
    expect(recent.get('c', 'member')).toBeUndefined(); // 2 + 40 × (16 + 7–8 + 12) > 1,000
    recent.remember('c', { ...user('member', '{}'), groups: groups.slice(0, 10) });
    expect(recent.get('c', 'member')?.groups).toHaveLength(10);
  });

  it('keys by connection: the same id in another connection is another user', () => {
    const recent = new RecentUsers();
    recent.remember('c1', user('same'));
    expect(recent.get('c2', 'same')).toBeUndefined();
    recent.forget('c1', 'same');
    expect(recent.get('c1', 'same')).toBeUndefined();
  });

  it('keeps no groups', () => {
    const recent = new RecentUsers();
    recent.remember('c', { id: 'g', kind: 'Group', json: '{}', version: 1 });
    expect(recent.size).toBe(0);
  });
});
