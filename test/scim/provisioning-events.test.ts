/**
 * The provisioning events of SCIM writes (src/scim/provisioning-events.ts): the pure rules, and what the
 * SCIM routes hand the store inside each write, read back from the store on both stores.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changedAttributes, createdEvents, deletedEvents, updatedEvents } from '../../src/scim/provisioning-events.js';
import { internalsOf } from '../../src/internal.js';
import { changedNames, type StoredEvent } from '../../src/store/event-log.js';
import { scimTestApp, STORE_KINDS, type ScimTestApp } from '../support/app.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

describe('provisioning event rules', () => {
  it('names the changed top-level attributes, never the server-owned ones', () => {
    const before = { schemas: ['a'], id: '1', userName: 'ann', name: { givenName: 'Ann' }, title: 'x', meta: { lastModified: '1' } };
    const after = { schemas: ['a', 'b'], id: '1', userName: 'ann', name: { givenName: 'Anne' }, nickName: 'A', meta: { lastModified: '2' } };
    expect(changedAttributes(before, after).sort()).toEqual(['name', 'nickName', 'title']);
    // The same values with their keys in another order (a PUT of the same user) change nothing; an array's order does.
    const reordered = {
      ...before,
      name: { familyName: 'A', givenName: 'Ann' },
      emails: [
        { type: 'work', value: 'a@x' },
        { value: 'b@x', type: 'home' },
      ],
    };
    const original = {
      ...before,
      name: { givenName: 'Ann', familyName: 'A' },
      emails: [
        { value: 'a@x', type: 'work' },
        { value: 'b@x', type: 'home' },
      ],
    };
    expect(changedAttributes(original, reordered)).toEqual([]);
    expect(changedAttributes(original, { ...reordered, emails: [...reordered.emails].reverse() })).toEqual(['emails']);
    // A creation's `changed` is 'all', which the stores expand from the JSON they logged when it is read.
    expect(createdEvents('User')).toEqual({ resource: { type: 'user.created', changed: 'all' } });
    expect(changedNames('all', JSON.stringify(after))).toEqual(['userName', 'name', 'nickName']);
    expect(changedNames('all', JSON.stringify(after))).toEqual(changedAttributes({}, after));
    expect(changedNames(['title'], JSON.stringify(after))).toEqual(['title']);
    expect(createdEvents('Group')).toEqual({
      resource: { type: 'group.created', changed: 'all' },
      members: { added: 'group.member_added', removed: 'group.member_removed' },
    });
    expect(deletedEvents('Group')).toEqual({ resource: { type: 'group.deleted', changed: [] } });
  });

  it('makes an active flip ONE deactivated/reactivated event that lists every changed attribute', () => {
    const ann = { userName: 'ann', active: true };
    expect(updatedEvents('User', ann, { ...ann, active: false, title: 'gone' }, false)).toEqual({
      resource: { type: 'user.deactivated', changed: ['active', 'title'] },
    });
    expect(updatedEvents('User', { ...ann, active: false }, { userName: 'ann' }, false)?.resource?.type).toBe('user.reactivated');
    expect(updatedEvents('User', ann, { ...ann, title: 'x' }, false)?.resource?.type).toBe('user.updated');
    // Absent `active` counts as active (RFC 7643 §4.1.1): adding `active: true` is an update, not a reactivation.
    expect(updatedEvents('User', { userName: 'ann' }, ann, false)?.resource?.type).toBe('user.updated');
  });

  it('logs nothing for an update that changes nothing, and only member events for a members-only group write', () => {
    expect(updatedEvents('User', { userName: 'ann', meta: 1 }, { userName: 'ann', meta: 2 }, false)).toBeUndefined();
    expect(updatedEvents('Group', { displayName: 'G' }, { displayName: 'G' }, true)).toEqual({
      resource: null,
      members: { added: 'group.member_added', removed: 'group.member_removed' },
    });
  });
});

describe.each(STORE_KINDS)('provisioning events of SCIM writes on the %s store', (kind) => {
  let t: ScimTestApp;
  let connectionId: string;
  let after: string | null = null;
  beforeAll(async () => {
    t = await scimTestApp(kind, `prov-events-${kind}`);
    connectionId = (await internalsOf(t.sso).store.getConnectionByCustomer(`prov-events-${kind}-customer`))!.connectionId;
  });
  afterAll(async () => {
    await t.cleanup();
  });

  /** The events logged since the last call. */
  async function logged(): Promise<StoredEvent[]> {
    const page = await internalsOf(t.sso).store.readEvents(connectionId, after, 1000);
    after = page.next;
    return page.events;
  }
  const brief = (e: StoredEvent) => [e.type, e.member ?? [...e.changed].sort()];

  it('logs each write with the resource after it, inside the write', async () => {
    const created = await t.http
      .post('/scim/v2/Users')
      .set(t.auth)
      .send({ schemas: [USER], userName: 'ann@example.com', active: true });
    const id = created.body.id as string;
    const [event, ...rest] = await logged();
    expect(rest).toEqual([]);
    expect(event).toMatchObject({ type: 'user.created', kind: 'User', id, changed: ['userName', 'active'] });
    expect(JSON.parse(event!.json!)).toMatchObject({ id, userName: 'ann@example.com', active: true });

    const patch = (body: object) =>
      t.http
        .patch(`/scim/v2/Users/${id}`)
        .set(t.auth)
        .send({ schemas: [PATCH_OP], ...body });
    await patch({ Operations: [{ op: 'replace', value: { active: false, title: 'Former' } }] });
    await patch({ Operations: [{ op: 'replace', path: 'title', value: 'Former' }] }); // no change: not written
    await t.http
      .put(`/scim/v2/Users/${id}`)
      .set(t.auth)
      .send({ schemas: [USER], userName: 'ann@example.com', active: true, title: 'Former' });
    await t.http.delete(`/scim/v2/Users/${id}`).set(t.auth);
    expect((await logged()).map(brief)).toEqual([
      ['user.deactivated', ['active', 'title']],
      ['user.reactivated', ['active']],
      ['user.deleted', []],
    ]);
  });

  it('logs group member changes one by one, whatever way the IdP sends them', async () => {
    const created = await t.http
      .post('/scim/v2/Groups')
      .set(t.auth)
      .send({ schemas: [GROUP], displayName: 'Team', members: [{ value: 'a' }, { value: 'b' }] });
    const id = created.body.id as string;
    const patch = (Operations: object[]) =>
      t.http
        .patch(`/scim/v2/Groups/${id}`)
        .set(t.auth)
        .send({ schemas: [PATCH_OP], Operations });
    await patch([{ op: 'add', path: 'members', value: [{ value: 'c' }, { value: 'a' }] }]);
    await patch([{ op: 'remove', path: 'members[value eq "b"]' }]);
    await patch([{ op: 'replace', path: 'displayName', value: 'Team 2' }]);
    await t.http
      .put(`/scim/v2/Groups/${id}`)
      .set(t.auth)
      .send({ schemas: [GROUP], displayName: 'Team 2', members: [{ value: 'c' }, { value: 'd' }] });
    await t.http.delete(`/scim/v2/Groups/${id}`).set(t.auth);
    const events = await logged();
    expect(events.map(brief)).toEqual([
      ['group.created', ['displayName']],
      ['group.member_added', 'a'],
      ['group.member_added', 'b'],
      ['group.member_added', 'c'],
      ['group.member_removed', 'b'],
      ['group.updated', ['displayName']],
      ['group.member_removed', 'a'],
      ['group.member_added', 'd'],
      ['group.deleted', []],
    ]);
    expect(events.every((e) => e.id === id)).toBe(true);
  });

  it('logs no entry for a group write whose member list changed nothing: no seq taken, no page without events', async () => {
    // A large description: entries without events used to count its JSON against a page's 1 MB, so a page
    // after 12 such writes on Redis came back empty with `next` moved, and a consumer stopped there.
    const group = { schemas: [GROUP], displayName: 'Unchanged', description: 'd'.repeat(200_000), members: [{ value: 'm1', display: 'One' }] };
    const id = (await t.http.post('/scim/v2/Groups').set(t.auth).send(group)).body.id as string;
    const created = await logged();
    expect(created.map(brief)).toEqual([
      ['group.created', ['description', 'displayName']],
      ['group.member_added', 'm1'],
    ]);
    const store = internalsOf(t.sso).store;
    const end = await store.lastEventCursor(connectionId);
    for (let i = 0; i < 12; i++) expect((await t.http.put(`/scim/v2/Groups/${id}`).set(t.auth).send(group)).status).toBe(200);
    // A member's display changes, no member joins or leaves.
    const renamed = await t.http
      .patch(`/scim/v2/Groups/${id}`)
      .set(t.auth)
      .send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'members', value: [{ value: 'm1', display: 'Uno' }] }] });
    expect(renamed.status).toBe(204);
    expect(await store.lastEventCursor(connectionId)).toBe(end);
    await t.http
      .post('/scim/v2/Users')
      .set(t.auth)
      .send({ schemas: [USER], userName: 'after-noop@example.com' });
    const [next, ...rest] = await logged();
    expect(rest).toEqual([]);
    expect(next).toMatchObject({ type: 'user.created', seq: created[0]!.seq + 1 });
  });

  it('logs nothing with durableEvents: false', async () => {
    const off = await scimTestApp(kind, `prov-events-off-${kind}`, { durableEvents: false });
    try {
      await off.http
        .post('/scim/v2/Users')
        .set(off.auth)
        .send({ schemas: [USER], userName: 'bob@example.com' });
      const store = internalsOf(off.sso).store;
      const conn = await store.getConnectionByCustomer(`prov-events-off-${kind}-customer`);
      expect(await store.lastEventCursor(conn!.connectionId)).toBeNull();
    } finally {
      await off.cleanup();
    }
  });
});
