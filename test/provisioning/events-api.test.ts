/** `sso.events.read` and `sso.events.end` (src/provisioning/events-api.ts) on both stores. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventsExpiredError, ScimSsoConfigError, type ProvisioningEvent } from '../../src/index.js';
import { scimTestApp, STORE_KINDS, type ScimTestApp } from '../support/app.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';

describe.each(STORE_KINDS)('sso.events on the %s store', (kind) => {
  let t: ScimTestApp;
  const customerId = `events-api-${kind}-customer`;
  const clock = { now: Date.now() };
  beforeAll(async () => {
    t = await scimTestApp(kind, `events-api-${kind}`, {}, 'express', { now: () => clock.now, eventRetentionMs: 60_000 });
  });
  afterAll(async () => {
    await t.cleanup();
  });

  it('reads typed events with a cursor, in pages', async () => {
    expect(await t.sso.events.end(customerId)).toBeNull();
    const user = await t.http
      .post('/scim/v2/Users')
      .set(t.auth)
      .send({ schemas: [USER], userName: 'ann@example.com' });
    const group = await t.http
      .post('/scim/v2/Groups')
      .set(t.auth)
      .send({ schemas: [GROUP], displayName: 'Team', members: [{ value: user.body.id }] });
    const { events, next } = await t.sso.events.read(customerId);
    const connection = await t.sso.fetchScimConnection(customerId);
    expect(events).toEqual<ProvisioningEvent[]>([
      {
        type: 'user.created',
        cursor: expect.any(String),
        seq: 1,
        index: 0,
        at: new Date(clock.now).toISOString(),
        customerId,
        connectionId: connection!.connectionId,
        resourceType: 'User',
        resourceId: user.body.id,
        // A user created without `active` is stored active (src/scim/users.ts settleActive).
        resource: expect.objectContaining({ id: user.body.id, userName: 'ann@example.com', active: true }),
        changed: ['userName', 'active'],
      },
      expect.objectContaining({ type: 'group.created', seq: 2, index: 0, resourceId: group.body.id, changed: ['displayName'] }),
      expect.objectContaining({ type: 'group.member_added', seq: 2, index: 1, member: { value: user.body.id }, changed: [] }),
    ]);
    expect(events[2]!.resource).toMatchObject({ id: group.body.id, displayName: 'Team' });
    expect(next).toBe(events[2]!.cursor);
    expect(await t.sso.events.end(customerId)).toBe(next);
    // One at a time, following `next`.
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await t.sso.events.read(customerId, { after, limit: 1 });
      if (page.events.length === 0) break;
      seen.push(page.events[0]!.type);
      after = page.next ?? undefined;
    }
    expect(seen).toEqual(['user.created', 'group.created', 'group.member_added']);
  });

  it('tells a reader behind the retention to resync', async () => {
    const before = await t.sso.events.end(customerId);
    clock.now += 120_000;
    await t.http
      .post('/scim/v2/Users')
      .set(t.auth)
      .send({ schemas: [USER], userName: 'bob@example.com' });
    await expect(t.sso.events.read(customerId, { after: before! })).resolves.toMatchObject({ events: [{ type: 'user.created' }] });
    await expect(t.sso.events.read(customerId, { after: '0-0' })).rejects.toBeInstanceOf(EventsExpiredError);
  });

  it("parses a write's resource once for all its events, shared and frozen, however many member changes it logged", async () => {
    const users: string[] = [];
    for (let i = 0; i < 5; i++) {
      users.push(
        (
          await t.http
            .post('/scim/v2/Users')
            .set(t.auth)
            .send({ schemas: [USER], userName: `shared${i}@example.com` })
        ).body.id as string,
      );
    }
    const from = await t.sso.events.end(customerId);
    const group = await t.http
      .post('/scim/v2/Groups')
      .set(t.auth)
      .send({ schemas: [GROUP], displayName: 'Shared', notes: 'x'.repeat(50_000), members: users.map((value) => ({ value })) });
    const { events } = await t.sso.events.read(customerId, { after: from! });
    expect(events.map((e) => e.type)).toEqual(['group.created', ...users.map(() => 'group.member_added')]);
    const resource = events[0]!.resource!;
    expect(resource).toMatchObject({ id: group.body.id, displayName: 'Shared', notes: 'x'.repeat(50_000) });
    for (const event of events) expect(event.resource).toBe(resource);
    expect(Object.isFrozen(resource)).toBe(true);
    expect(Object.isFrozen(resource.meta)).toBe(true);
  });

  it('refuses bad arguments, and has no events for a customer without a connection', async () => {
    await expect(t.sso.events.read(customerId, { after: 'nope' })).rejects.toBeInstanceOf(ScimSsoConfigError);
    await expect(t.sso.events.read(customerId, { limit: 5000 })).rejects.toBeInstanceOf(ScimSsoConfigError);
    // A cursor no log can have written (a corrupted one) would answer no event ever after, without a word.
    await expect(t.sso.events.read(customerId, { after: '999999999999999-999999999999999.999999999' })).rejects.toThrow(/cursor from the future/);
    await expect(t.sso.events.read(customerId, { after: `${Date.now() + 2 * 86_400_000}-0` })).rejects.toBeInstanceOf(ScimSsoConfigError);
    await expect(t.sso.events.read(customerId, { after: (await t.sso.events.end(customerId))! })).resolves.toMatchObject({ events: [] });
    await expect(t.sso.events.read('no-such-customer')).resolves.toEqual({ events: [], next: null });
  });

  it("reads every event of a customer's new connection after a cursor of its old one, whichever clock wrote them", async () => {
    const again = `${customerId}-again`;
    const post = (token: string, userName: string) =>
      t.http
        .post('/scim/v2/Users')
        .set({ authorization: `Bearer ${token}` })
        .send({ schemas: [USER], userName });
    const saved = clock.now;
    // The old log's writes are stamped a minute ahead (an instance whose clock ran ahead, or one stepped back since).
    clock.now += 60_000;
    const old = await t.sso.createScimConnection({ customerId: again });
    for (const name of ['a', 'b']) expect((await post(old.token, `${name}@example.com`)).status).toBe(201);
    const oldCursor = (await t.sso.events.end(again))!;
    await t.sso.deleteScimConnection(again);
    clock.now = saved;
    const fresh = await t.sso.createScimConnection({ customerId: again });
    for (const name of ['c', 'd', 'e']) expect((await post(fresh.token, `${name}@example.com`)).status).toBe(201);
    const page = await t.sso.events.read(again, { after: oldCursor });
    expect(page.events.map((e) => e.resource?.userName)).toEqual(['c@example.com', 'd@example.com', 'e@example.com']);
    expect(page.events.every((e) => e.connectionId === fresh.connectionId)).toBe(true);
    expect(page.next).toBe(await t.sso.events.end(again));
    // The cursor names its log: the same place without that name is read by its time, as cursors given out
    // before logs were named are, and stands after the new log's writes. Deliberate: this is the gap tagged
    // cursors close, kept for untagged ones (docs/events.md §Reading with a cursor).
    expect(oldCursor).toMatch(/^\d+-2~[0-9a-f]{12}$/);
    await expect(t.sso.events.read(again, { after: oldCursor.split('~')[0] })).resolves.toMatchObject({ events: [] });
    // Once the new log dropped its first write, the old cursor is behind the retention: resync, never a gap.
    clock.now += 120_000;
    expect((await post(fresh.token, 'f@example.com')).status).toBe(201);
    await expect(t.sso.events.read(again, { after: oldCursor })).rejects.toBeInstanceOf(EventsExpiredError);
    clock.now = saved;
  });

  it("takes the cursors of a log whose store clock runs days ahead of the instance's", async () => {
    clock.now += 3 * 86_400_000;
    const before = (await t.sso.events.end(customerId))!;
    await t.http
      .post('/scim/v2/Users')
      .set(t.auth)
      .send({ schemas: [USER], userName: 'later@example.com' });
    const page = await t.sso.events.read(customerId, { after: before });
    expect(page.events.map((e) => e.type)).toEqual(['user.created']);
    await expect(t.sso.events.read(customerId, { after: page.next! })).resolves.toMatchObject({ events: [] });
  });
});
