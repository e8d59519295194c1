/**
 * Users in many groups through the SCIM API (docs/groups.md, "What one user costs"): a user's derived
 * `groups` are built on every read of it, so the groups one member may join are capped
 * (`quota.maxGroupsPerMember`), and the users of a page past what one Redis script derives
 * (GROUP_IDS_PER_SCRIPT) have theirs read by further scripts: pages stay whole. Scans count what they hold.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP_ID_BYTES, GROUP_IDS_PER_SCRIPT, PAGE_MEMBERS_BUDGET } from '../../src/store/read-budgets.js';
import { makeStore, STORE_KINDS, type TestStore } from '../support/app.js';
import { scimRequest, scimSso, type ScimSso } from '../support/sso.js';
import { bodyText } from '../../src/scim/response-body.js';
import { recordStoreCalls } from '../support/store-calls.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
/** Two users in this many groups (server-issued ids) are together past one script's budget; either alone is within it. */
const HEAVY = Math.ceil(GROUP_IDS_PER_SCRIPT / 2 / GROUP_ID_BYTES) + 100;

describe.each(STORE_KINDS)('users in many groups on the %s store', (kind) => {
  let backing: TestStore;
  let sso: ScimSso;
  let token: string;
  const ids: string[] = [];
  const send = async (method: string, path: string, options: { body?: unknown; query?: string } = {}) => {
    const response = await sso.handleScim(scimRequest(token, method, path, options));
    return { status: response.status, body: bodyText(response.body) ? (JSON.parse(bodyText(response.body)!) as Record<string, unknown>) : null };
  };

  beforeAll(async () => {
    backing = await makeStore(kind, `many-groups-${kind}`);
    sso = scimSso({ store: backing.store, rateLimit: false, quota: { maxGroupsPerMember: HEAVY } });
    ({ token } = await sso.createScimConnection({ customerId: `many-groups-${kind}` }));
    for (let i = 0; i < 5; i++) {
      const created = await send('POST', '/Users', { body: { schemas: [USER], userName: `user${i}@example.test`, title: i === 3 ? 'Lead' : 'Staff' } });
      expect(created.status).toBe(201);
      ids.push(created.body!.id as string);
    }
    // The first two users join HEAVY groups each, their quota's limit: one more is refused.
    for (let from = 0; from < HEAVY; from += 100) {
      const batch = Array.from({ length: Math.min(100, HEAVY - from) }, (_, j) =>
        send('POST', '/Groups', { body: { schemas: [GROUP], displayName: `group ${from + j}`, members: [{ value: ids[0] }, { value: ids[1] }] } }),
      );
      for (const created of await Promise.all(batch)) expect(created.status).toBe(201);
    }
  }, 120_000);

  afterAll(async () => {
    await backing.cleanup();
  });

  it('refuses the group past the per-member limit with 507', async () => {
    const over = await send('POST', '/Groups', { body: { schemas: [GROUP], displayName: 'one too many', members: [{ value: ids[1] }] } });
    expect(over.status).toBe(507);
    expect(over.body!.detail).toContain(`is already in ${HEAVY} groups`);
    expect((await send('GET', `/Users/${ids[1]}`)).body!.groups).toHaveLength(HEAVY);
  });

  it("answers whole pages with every user's groups, the ones past one script's budget read by another", async () => {
    const page = await send('GET', '/Users', { query: 'startIndex=1&count=100' });
    expect(page.status).toBe(200);
    const body = page.body as { totalResults: number; itemsPerPage: number; Resources: { id: string; groups?: unknown[] }[] };
    expect(body).toMatchObject({ totalResults: 5, itemsPerPage: 5 });
    expect(body.Resources.map((r) => [r.id, r.groups?.length ?? 0])).toEqual(ids.map((id, i) => [id, i < 2 ? HEAVY : 0]));
    const found = await send('GET', '/Users', { query: `filter=${encodeURIComponent(`id eq "${ids[1]}" or id eq "${ids[0]}"`)}` });
    expect((found.body!.Resources as { groups: unknown[] }[]).map((r) => r.groups.length)).toEqual([HEAVY, HEAVY]);
  });

  it('reads a page whose projection leaves groups out without deriving them, sorted or not', async () => {
    const { store, calls } = recordStoreCalls(backing.store);
    const watched = scimSso({ store, rateLimit: false });
    for (const query of ['count=100&attributes=userName', 'count=100&excludedAttributes=groups', 'count=100&sortBy=userName&attributes=userName']) {
      calls.length = 0;
      const page = JSON.parse(bodyText((await watched.handleScim(scimRequest(token, 'GET', '/Users', { query }))).body)!) as {
        Resources: Record<string, unknown>[];
      };
      // user0 … user4: creation order is userName order.
      expect(page.Resources.map((r) => r.id)).toEqual(ids);
      expect(page.Resources.every((r) => r.groups === undefined)).toBe(true);
      const reads = calls.filter((c) => c.method === 'listPage' || c.method === 'listSorted');
      expect(reads.length).toBeGreaterThan(0);
      expect(reads.every((c) => (c.args.at(-1) as { groups?: boolean }).groups === false)).toBe(true);
    }
  });

  it('walks /.search by itemsPerPage over users and groups, seeing every resource once', async () => {
    const seen: string[] = [];
    let total: number;
    for (let startIndex = 1; ;) {
      const page = await send('POST', '/.search', { body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], startIndex, count: 500 } });
      expect(page.status).toBe(200);
      const body = page.body as { totalResults: number; itemsPerPage: number; Resources: { id: string }[] };
      total = body.totalResults;
      seen.push(...body.Resources.map((r) => r.id));
      startIndex += body.itemsPerPage;
      if (body.itemsPerPage === 0 || startIndex > total) break;
    }
    expect(total).toBe(5 + HEAVY);
    expect(seen.slice(0, 5)).toEqual(ids);
    expect(new Set(seen).size).toBe(total);
    expect(seen).toHaveLength(total);
  });

  it('scans users without their groups unless the filter names them, and shows the page with them', async () => {
    // 100 resources may be scanned: 1,000 memberships, fewer than the first two users hold together.
    const small = scimSso({ store: backing.store, rateLimit: false, maxScanResources: 100 });
    const scan = async (filter: string, extra = '') =>
      small.handleScim(scimRequest(token, 'GET', '/Users', { query: `filter=${encodeURIComponent(filter)}${extra}` }));
    const staff = await scan('title eq "Staff"');
    expect(staff.status).toBe(200);
    const shown = JSON.parse(bodyText(staff.body)!) as { Resources: { id: string; groups?: unknown[] }[] };
    expect(shown.Resources.map((r) => [r.id, r.groups?.length ?? 0])).toEqual([0, 1, 2, 4].map((i) => [ids[i], i < 2 ? HEAVY : 0]));
    expect(JSON.parse(bodyText((await scan('title eq "Lead"', '&attributes=userName')).body)!)).toMatchObject({ totalResults: 1, Resources: [{ id: ids[3] }] });
    // A filter on groups reads them, and is refused past the scan's budget of memberships.
    const refused = await scan('groups.display eq "group 7"');
    expect(refused.status).toBe(400);
    expect(JSON.parse(bodyText(refused.body)!)).toMatchObject({ scimType: 'tooMany', detail: expect.stringContaining('more than 1000 group memberships') });
    // An indexed lookup is no scan: it still answers, with the groups.
    const byName = await small.handleScim(scimRequest(token, 'GET', '/Users', { query: `filter=${encodeURIComponent('userName eq "user0@example.test"')}` }));
    expect((JSON.parse(bodyText(byName.body)!) as { Resources: { groups: unknown[] }[] }).Resources[0]!.groups).toHaveLength(HEAVY);
  });
});

describe.each(STORE_KINDS)('group scans on the %s store', (kind) => {
  let backing: TestStore;
  /** Every read of groups the SCIM layer made, and whether it asked for their members. */
  const reads: { method: string; members: boolean }[] = [];
  let sso: ScimSso;
  let token: string;
  const send = async (query: string) => {
    reads.length = 0;
    const response = await sso.handleScim(scimRequest(token, 'GET', '/Groups', { query }));
    expect(response.status).toBe(200);
    return JSON.parse(bodyText(response.body)!) as { totalResults: number; Resources: { displayName: string; members?: { value: string }[] }[] };
  };

  beforeAll(async () => {
    backing = await makeStore(kind, `group-scans-${kind}`);
    // The real store, with its group reads recorded (listPage, listSorted, getResource, findByIndex, findGroupsWithMember).
    const recorded = new Set(['listPage', 'listSorted', 'getResource', 'findByIndex', 'findGroupsWithMember']);
    const store = new Proxy(backing.store, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver) as unknown;
        if (typeof name !== 'string' || !recorded.has(name) || typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (args[1] === 'Group' || name === 'findGroupsWithMember') {
            const options = args.find((a): a is { members?: boolean } => typeof a === 'object' && a !== null && 'members' in a);
            reads.push({ method: name, members: options?.members !== false });
          }
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    sso = scimSso({ store, rateLimit: false });
    ({ token } = await sso.createScimConnection({ customerId: `group-scans-${kind}` }));
    for (const [name, members] of [
      ['Team alpha', ['a1', 'a2']],
      ['Other', ['o1']],
      ['Team beta', ['b1', 'b2', 'b3']],
    ] as const) {
      const response = await sso.handleScim(
        scimRequest(token, 'POST', '/Groups', {
          body: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: name, members: members.map((value) => ({ value })) },
        }),
      );
      expect(response.status).toBe(201);
    }
  });

  afterAll(async () => {
    await backing.cleanup();
  });

  it('reads no members while scanning, then the members of the groups it shows', async () => {
    const page = await send(`filter=${encodeURIComponent('displayName co "team"')}&startIndex=2&count=1`);
    expect(page.totalResults).toBe(2);
    expect(page.Resources.map((g) => [g.displayName, g.members?.map((m) => m.value)])).toEqual([['Team beta', ['b1', 'b2', 'b3']]]);
    expect(reads.filter((r) => r.method === 'listPage').every((r) => !r.members)).toBe(true);
    expect(reads.filter((r) => r.members)).toEqual([{ method: 'getResource', members: true }]);
    // Left out by the projection: no member is read at all.
    await send(`filter=${encodeURIComponent('displayName co "team"')}&excludedAttributes=members`);
    expect(reads.some((r) => r.members)).toBe(false);
  });

  it('reads members in the scan when the filter names them other than by value', async () => {
    const page = await send(`filter=${encodeURIComponent('members[value sw "b"]')}&excludedAttributes=members`);
    expect(page.Resources.map((g) => g.displayName)).toEqual(['Team beta']);
    expect(reads.filter((r) => r.method === 'listPage').every((r) => r.members)).toBe(true);
  });

  it('answers members[value eq …] from the reverse index, reading no member list', async () => {
    const page = await send(`filter=${encodeURIComponent('members[value eq "b2"]')}&excludedAttributes=members`);
    expect(page.Resources.map((g) => g.displayName)).toEqual(['Team beta']);
    expect(reads).toEqual([{ method: 'findGroupsWithMember', members: false }]);
  });

  it('ends a page of groups shown with their members past PAGE_MEMBERS_BUDGET members, scanned or not', async () => {
    const big = scimSso({ store: backing.store, rateLimit: false, maxBodyBytes: 8_000_000 });
    const size = PAGE_MEMBERS_BUDGET / 2 + 1;
    for (const name of ['Big one', 'Big two']) {
      const members = Array.from({ length: size }, (_, i) => ({ value: `${name.at(-1)}-${i}` }));
      // One body holds at most MAX_BODY_ARRAY_ITEMS members: the rest is added as IdPs add it, by PATCHes.
      const body = { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: name, members: members.slice(0, 20_000) };
      const created = await big.handleScim(scimRequest(token, 'POST', '/Groups', { body }));
      expect(created.status).toBe(201);
      const id = (JSON.parse(bodyText(created.body)!) as { id: string }).id;
      for (let from = 20_000; from < size; from += 20_000) {
        const add = {
          schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
          Operations: [{ op: 'add', path: 'members', value: members.slice(from, from + 20_000) }],
        };
        expect((await big.handleScim(scimRequest(token, 'PATCH', `/Groups/${id}`, { body: add }))).status).toBe(204);
      }
    }
    const shown = async (query: string) => {
      const page = JSON.parse(bodyText((await big.handleScim(scimRequest(token, 'GET', '/Groups', { query }))).body)!) as {
        totalResults: number;
        itemsPerPage: number;
        Resources: { displayName: string; members?: unknown[] }[];
      };
      return [page.totalResults, page.itemsPerPage, page.Resources.map((g) => [g.displayName, g.members?.length])];
    };
    expect(await shown(`filter=${encodeURIComponent('displayName sw "Big"')}`)).toEqual([2, 1, [['Big one', size]]]);
    expect(await shown(`filter=${encodeURIComponent('displayName sw "Big"')}&startIndex=2`)).toEqual([2, 1, [['Big two', size]]]);
    expect(await shown(`filter=${encodeURIComponent('displayName sw "Big"')}&excludedAttributes=members`)).toEqual([
      2,
      2,
      [
        ['Big one', undefined],
        ['Big two', undefined],
      ],
    ]);
    // Unfiltered, after the three small groups made earlier: Team beta and Big one fit, Big two does not.
    expect(await shown('startIndex=3&count=10')).toEqual([
      5,
      2,
      [
        ['Team beta', 3],
        ['Big one', size],
      ],
    ]);
    expect(await shown('startIndex=5&count=10')).toEqual([5, 1, [['Big two', size]]]);
  });
});
