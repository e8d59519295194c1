/**
 * The directory API (src/directory/directory.ts) on both stores, over data provisioned through the SCIM
 * routes as an IdP sends it: typed views, cursor walks that stay exact under concurrent writes, filters,
 * groups and members, and what it refuses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userView } from '../src/directory/views.js';
import type { DirectoryPage } from '../src/index.js';
import { STORE_KINDS, scimTestApp, type ScimTestApp } from './support/app.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

describe.each(STORE_KINDS)('directory API (%s store)', (kind) => {
  let app: ScimTestApp;
  const customer = 'directory-customer';
  const ids: string[] = [];

  async function scim(method: 'post' | 'put' | 'patch' | 'delete', path: string, body?: object): Promise<any> {
    const response = await app.http[method](`/scim/v2${path}`).set(app.auth).send(body);
    expect(response.status, JSON.stringify(response.body)).toBeLessThan(300);
    return response.body;
  }

  /** Every item of a paged list, walked with `limit`; `between` runs after each page but the last. */
  async function walk<T>(read: (cursor: string | null) => Promise<DirectoryPage<T> | null>, between?: (page: number) => Promise<void>): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | null = null;
    for (let page = 0; ; page++) {
      const got: DirectoryPage<T> | null = await read(cursor);
      if (!got) throw new Error('no such list');
      items.push(...got.items);
      if (got.nextCursor === null) return items;
      cursor = got.nextCursor;
      await between?.(page);
    }
  }

  beforeAll(async () => {
    app = await scimTestApp(kind, 'directory');
    for (let i = 0; i < 10; i++) {
      const user = await scim('post', '/Users', {
        schemas: [USER],
        userName: `Person${i}@Corp.test`,
        externalId: `ext-${i}`,
        name: { givenName: `Given${i}`, familyName: 'Family', formatted: `Given${i} Family` },
        displayName: `Person ${i}`,
        emails: [{ value: `person${i}@corp.test`, type: 'work', primary: true }],
        active: i !== 3,
      });
      ids.push(user.id);
    }
  });
  afterAll(async () => {
    await app?.cleanup();
  });

  it('reads a user as a typed view with its raw resource and groups', async () => {
    const group = await scim('post', '/Groups', { schemas: [GROUP], displayName: 'Admins', members: [{ value: ids[0] }] });
    const user = await app.sso.directory.getUser(customer, ids[0]!);
    expect(user).toEqual({
      id: ids[0],
      userName: 'Person0@Corp.test',
      externalId: 'ext-0',
      active: true,
      name: { formatted: 'Given0 Family', givenName: 'Given0', familyName: 'Family' },
      displayName: 'Person 0',
      emails: [{ value: 'person0@corp.test', type: 'work', primary: true }],
      groups: [{ id: group.id, displayName: 'Admins' }],
      version: expect.any(Number),
      resource: expect.objectContaining({ userName: 'Person0@Corp.test', schemas: [USER] }),
    });
    const { listUserGroups } = app.sso.directory; // works detached from its object
    expect(await listUserGroups(customer, ids[0]!)).toEqual([{ id: group.id, displayName: 'Admins' }]);
    expect((await app.sso.directory.getUser(customer, ids[3]!))!.active).toBe(false);
    expect(await app.sso.directory.getUser(customer, 'no-such-id')).toBeNull();
    expect(await app.sso.directory.listUserGroups(customer, 'no-such-id')).toBeNull();
    await scim('delete', `/Groups/${group.id}`);
  });

  it('walks every user once in creation order, whatever the page size', async () => {
    for (const limit of [1, 3, 10, 1000]) {
      const users = await walk((cursor) => app.sso.directory.listUsers(customer, { cursor, limit }));
      expect(users.map((u) => u.id)).toEqual(ids);
    }
    const first = await app.sso.directory.listUsers(customer, { limit: 4 });
    expect(first.items).toHaveLength(4);
    expect(first.nextCursor).toMatch(/^d1\./);
  });

  it('a walk stays exact under concurrent writes: deleted users drop out, new ones come last, none twice', async () => {
    const created: string[] = [];
    const seen = await walk(
      (cursor) => app.sso.directory.listUsers(customer, { cursor, limit: 3 }),
      async (page) => {
        if (page !== 0) return;
        await scim('patch', `/Users/${ids[1]}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'displayName', value: 'Renamed' }] });
        await scim('patch', `/Users/${ids[7]}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'displayName', value: 'Renamed' }] });
        created.push((await scim('post', '/Users', { schemas: [USER], userName: 'late@corp.test' })).id);
        await scim('delete', `/Users/${ids[8]}`);
      },
    );
    expect(seen.map((u) => u.id)).toEqual([...ids.filter((id) => id !== ids[8]), ...created]);
    expect(seen.find((u) => u.id === ids[7])!.displayName).toBe('Renamed'); // read after the change
    await scim('delete', `/Users/${created[0]}`);
    ids.splice(8, 1);
  });

  it('filters by userName and email (case-insensitively) and by externalId (exactly)', async () => {
    const byUserName = await app.sso.directory.listUsers(customer, { filter: { userName: 'PERSON2@corp.TEST' } });
    expect(byUserName).toEqual({ items: [expect.objectContaining({ id: ids[2] })], nextCursor: null });
    expect((await app.sso.directory.listUsers(customer, { filter: { email: 'Person4@CORP.test' } })).items.map((u) => u.id)).toEqual([ids[4]]);
    expect((await app.sso.directory.listUsers(customer, { filter: { externalId: 'ext-5' } })).items.map((u) => u.id)).toEqual([ids[5]]);
    expect((await app.sso.directory.listUsers(customer, { filter: { externalId: 'EXT-5' } })).items).toEqual([]);
  });

  it('pages a filter that matches more users than a page holds, exactly under writes between pages', async () => {
    // Okta's deactivate-then-POST leaves several users with one externalId; they also share an email here.
    const shared: string[] = [];
    for (let i = 0; i < 5; i++) {
      shared.push(
        (await scim('post', '/Users', { schemas: [USER], userName: `shared${i}@corp.test`, externalId: 'ext-shared', emails: [{ value: 'team@corp.test' }] }))
          .id as string,
      );
    }
    for (const filter of [{ externalId: 'ext-shared' }, { email: 'TEAM@corp.test' }]) {
      expect((await walk((cursor) => app.sso.directory.listUsers(customer, { filter, cursor, limit: 2 }))).map((u) => u.id)).toEqual(shared);
      const first = await app.sso.directory.listUsers(customer, { filter, limit: 5 });
      expect(first).toEqual({ items: shared.map((id) => expect.objectContaining({ id })), nextCursor: null });
    }
    // Between pages: a match already read is deleted and one is created; the walk still sees every user
    // that exists from its first page to its last exactly once, the new one at the end.
    const late: string[] = [];
    const seen = await walk(
      (cursor) => app.sso.directory.listUsers(customer, { filter: { externalId: 'ext-shared' }, cursor, limit: 2 }),
      async (page) => {
        if (page !== 0) return;
        await scim('delete', `/Users/${shared[0]}`);
        late.push((await scim('post', '/Users', { schemas: [USER], userName: 'shared-late@corp.test', externalId: 'ext-shared' })).id as string);
      },
    );
    expect(seen.map((u) => u.id)).toEqual([...shared, ...late]);
    // The last user a page returned is deleted before the next page: the walk starts over, missing nobody.
    const again = await walk(
      (cursor) => app.sso.directory.listUsers(customer, { filter: { externalId: 'ext-shared' }, cursor, limit: 2 }),
      async (page) => {
        if (page === 0) await scim('delete', `/Users/${shared[2]}`);
      },
    );
    const rest = [shared[1]!, shared[3]!, shared[4]!, ...late];
    expect(again.map((u) => u.id)).toEqual([shared[1], shared[2], ...rest]);
    await expect(app.sso.directory.listUsers(customer, { filter: { externalId: 'ext-shared' }, cursor: 'd1.2' })).rejects.toMatchObject({
      code: 'invalid_argument',
    });
    for (const id of rest) await scim('delete', `/Users/${id}`);
  });

  it('lists groups without members, and a group’s members by cursor, stable under membership changes', async () => {
    const members = ids.map((value) => ({ value }));
    const team = await scim('post', '/Groups', { schemas: [GROUP], displayName: 'Team', externalId: 'team-ext', members });
    const empty = await scim('post', '/Groups', { schemas: [GROUP], displayName: 'Empty' });
    const groups = await walk((cursor) => app.sso.directory.listGroups(customer, { cursor, limit: 1 }));
    expect(groups.map((g) => [g.displayName, g.memberCount])).toEqual([
      ['Team', ids.length],
      ['Empty', 0],
    ]);
    expect(groups[0]).toMatchObject({ id: team.id, externalId: 'team-ext', version: expect.any(Number) });
    expect(groups[0]!.resource).not.toHaveProperty('members');
    expect(await app.sso.directory.getGroup(customer, empty.id)).toMatchObject({ displayName: 'Empty', memberCount: 0, externalId: null });

    const seen = await walk(
      (cursor) => app.sso.directory.listGroupMembers(customer, team.id, { cursor, limit: 4 }),
      async (page) => {
        if (page !== 0) return;
        await scim('patch', `/Groups/${team.id}`, {
          schemas: [PATCH],
          Operations: [
            { op: 'remove', path: `members[value eq "${ids[0]}"]` },
            { op: 'remove', path: `members[value eq "${ids[6]}"]` },
            { op: 'add', path: 'members', value: [{ value: 'late-member', display: 'Late' }] },
          ],
        });
      },
    );
    expect(seen.map((m) => m.id)).toEqual([...ids.filter((id) => id !== ids[6]), 'late-member']);
    expect(seen.at(-1)).toEqual({ id: 'late-member', display: 'Late', type: null });
    expect(await app.sso.directory.listGroupMembers(customer, 'no-such-group')).toBeNull();
  });

  it.each(['a later PATCH', 'a whole-list PUT'] as const)(
    'a member walk reads members that %s added after the members at the end of the list had left',
    async (write) => {
      const members = ids.map((value) => ({ value }));
      const group = await scim('post', '/Groups', { schemas: [GROUP], displayName: `Tail ${write}`, members });
      const seen = await walk(
        (cursor) => app.sso.directory.listGroupMembers(customer, group.id, { cursor, limit: 8 }),
        async (page) => {
          if (page !== 0) return;
          // The walk has read positions 1-8; the last five members leave, then two newcomers join.
          const leaving = ids.slice(5).map((value) => ({ value }));
          await scim('patch', `/Groups/${group.id}`, { schemas: [PATCH], Operations: [{ op: 'remove', path: 'members', value: leaving }] });
          const newcomers = [{ value: 'newcomer-1' }, { value: 'newcomer-2' }];
          if (write === 'a later PATCH') {
            await scim('patch', `/Groups/${group.id}`, { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: newcomers }] });
          } else {
            await scim('put', `/Groups/${group.id}`, { schemas: [GROUP], displayName: `Tail ${write}`, members: [{ value: ids[0] }, ...newcomers] });
          }
        },
      );
      // Before (Redis): the newcomers took positions 6 and 7 again, which the walk had passed: it read neither.
      expect(seen.map((m) => m.id)).toEqual(expect.arrayContaining(['newcomer-1', 'newcomer-2']));
      expect(seen.map((m) => m.id).slice(0, 8)).toEqual(ids.slice(0, 8));
    },
  );

  it('reads stored fields of the wrong type as null or leaves them out, never throwing', () => {
    const stored = {
      id: 'u1',
      kind: 'User' as const,
      version: 3,
      json: JSON.stringify({ userName: 7, name: 'x', emails: [{ value: 1 }, 'a', { value: 'ok@x.test', primary: 'yes' }], active: 'false' }),
    };
    expect(userView(stored)).toMatchObject({
      userName: '',
      name: null,
      emails: [{ value: 'ok@x.test', type: null, primary: false }],
      active: true,
      groups: [],
    });
  });

  it('answers empty lists and nulls for a customer without a SCIM connection', async () => {
    expect(await app.sso.directory.listUsers('nobody')).toEqual({ items: [], nextCursor: null });
    expect(await app.sso.directory.listGroups('nobody')).toEqual({ items: [], nextCursor: null });
    expect(await app.sso.directory.getUser('nobody', ids[0]!)).toBeNull();
    expect(await app.sso.directory.listGroupMembers('nobody', 'g')).toBeNull();
  });

  it.each([
    ['a forged cursor', { cursor: 'd1.' }],
    ['a cursor of another format', { cursor: '12' }],
    ['a huge cursor', { cursor: `d1.${'z'.repeat(12)}` }],
    ['limit 0', { limit: 0 }],
    ['limit 1001', { limit: 1001 }],
    ['a fractional limit', { limit: 2.5 }],
    ['two filters', { filter: { userName: 'a', email: 'b' } }],
    ['an unknown filter', { filter: { displayName: 'a' } }],
    ['a non-string filter', { filter: { userName: 1 } }],
  ])('refuses %s with invalid_argument', async (_label, options) => {
    await expect(app.sso.directory.listUsers(customer, options as never)).rejects.toMatchObject({ code: 'invalid_argument' });
  });

  it('refuses a bad customer id and a bad resource id', async () => {
    await expect(app.sso.directory.listUsers('bad id')).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(app.sso.directory.getUser(customer, '')).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(app.sso.directory.getGroup(customer, 'x'.repeat(201))).rejects.toMatchObject({ code: 'invalid_argument' });
  });
});

describe.each(STORE_KINDS)('directory pages of users in many long-named groups (%s store)', (kind) => {
  let app: ScimTestApp;
  const ids: string[] = [];

  beforeAll(async () => {
    app = await scimTestApp(kind, 'directory-heavy');
    for (let i = 0; i < 12; i++) {
      const created = await app.http
        .post('/scim/v2/Users')
        .set(app.auth)
        .send({ schemas: [USER], userName: `heavy${i}@corp.test` });
      ids.push(created.body.id as string);
    }
    // 500 groups of 1,024-character names holding every user: each user carries 0.5 MB of group ids and names.
    for (let g = 0; g < 500; g++) {
      const displayName = `${String(g).padStart(3, '0')}${'n'.repeat(1_021)}`;
      const created = await app.http
        .post('/scim/v2/Groups')
        .set(app.auth)
        .send({ schemas: [GROUP], displayName, members: ids.map((value) => ({ value })) });
      expect(created.status).toBe(201);
    }
  }, 120_000);
  afterAll(async () => {
    await app?.cleanup();
  });

  it('ends a page past 4 MB of users and their groups, and its cursor goes on from there: every user once', async () => {
    const first = await app.sso.directory.listUsers('directory-heavy-customer', { limit: 100 });
    expect(first.items.length).toBeGreaterThan(0);
    expect(first.items.length).toBeLessThan(ids.length);
    expect(first.items[0]!.groups).toHaveLength(500);
    const seen = first.items.map((u) => u.id);
    for (let cursor = first.nextCursor; cursor !== null;) {
      const page = await app.sso.directory.listUsers('directory-heavy-customer', { limit: 100, cursor });
      seen.push(...page.items.map((u) => u.id));
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(ids);
  });
});

describe.each(STORE_KINDS)('directory API over a crowded value (%s store)', (kind) => {
  it('throws CrowdedValueError for a filter value more users share than maxResourcesPerValue, and reads the others', async () => {
    const app = await scimTestApp(kind, 'directory-crowded', { quota: { maxResourcesPerValue: 2 } });
    try {
      for (const name of ['a', 'b', 'c']) {
        const created = await app.http
          .post('/scim/v2/Users')
          .set(app.auth)
          .send({ schemas: [USER], userName: `${name}@corp.test`, emails: [{ value: 'noemail@corp.test' }] });
        expect(created.status).toBe(201);
      }
      const customer = 'directory-crowded-customer';
      await expect(app.sso.directory.listUsers(customer, { filter: { email: 'NoEmail@corp.test' } })).rejects.toMatchObject({
        name: 'CrowdedValueError',
        attribute: 'email',
      });
      expect((await app.sso.directory.listUsers(customer, { filter: { userName: 'c@corp.test' } })).items.map((u) => u.userName)).toEqual(['c@corp.test']);
      expect((await app.sso.directory.listUsers(customer)).items).toHaveLength(3);
    } finally {
      await app.cleanup();
    }
  });
});
