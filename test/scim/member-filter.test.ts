/**
 * Group filters on members answered from the members' reverse index (src/scim/member-terms.ts): every
 * filter gives exactly the groups that evaluating it against the whole member lists gives (the reference
 * here: matchesFilter on each group as GET renders it), and those the index answers read no member list.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFilter } from '../../src/scim/filter.js';
import { matchesFilter } from '../../src/scim/filter-eval.js';
import type { JsonObject } from '../../src/scim/normalize.js';
import { SCAN_GROUP_MEMBERS } from '../../src/scim/limits.js';
import { RESOURCE_TYPES } from '../../src/scim/schemas.js';
import { makeStore, STORE_KINDS, type TestStore } from '../support/app.js';
import { scimRequest, scimSso, type ScimSso } from '../support/sso.js';
import { aroundStoreCalls, type StoreCall } from '../support/store-calls.js';
import { bodyText } from '../../src/scim/response-body.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

/** How many group members a store answer holds (a group, a page of groups, a list of them). */
function membersIn(answer: unknown): number {
  if (Array.isArray(answer)) return answer.reduce((sum: number, item) => sum + membersIn(item), 0);
  if (typeof answer !== 'object' || answer === null) return 0;
  const { members, resources } = answer as { members?: unknown[]; resources?: unknown[] };
  return (Array.isArray(members) ? members.length : 0) + (Array.isArray(resources) ? membersIn(resources) : 0);
}
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';

describe.each(STORE_KINDS)('member filters on the %s store', (kind) => {
  let backing: TestStore;
  let calls: StoreCall[];
  /** Group members the store's answers held, since last set to 0. */
  let membersReturned = 0;
  let sso: ScimSso;
  let token: string;
  const users: string[] = [];
  const groups: JsonObject[] = [];
  const send = async (method: string, path: string, options: { body?: unknown; query?: string } = {}) => {
    const response = await sso.handleScim(scimRequest(token, method, path, options));
    return { status: response.status, body: bodyText(response.body) ? (JSON.parse(bodyText(response.body)!) as JsonObject) : null };
  };
  const list = async (filter: string, extra = '') => {
    calls.length = 0;
    const page = await send('GET', '/Groups', { query: `filter=${encodeURIComponent(filter)}&count=100${extra}` });
    expect(page.status).toBe(200);
    return (page.body!.Resources as JsonObject[]).map((g) => g.id as string);
  };
  /** What the filter selects when evaluated against every group's whole member list. */
  const reference = (filter: string): string[] => {
    const parsed = parseFilter(filter);
    if (!parsed.ok) throw new Error(`bad filter ${filter}`);
    return groups.filter((g) => matchesFilter(parsed.value, g, { type: RESOURCE_TYPES.Group })).map((g) => g.id as string);
  };
  /** Whether any store call read a group with its members (the reads default to members; false skips them). */
  const readMemberLists = () =>
    calls.some((c) => {
      const groupRead = c.args[1] === 'Group' || c.method === 'findGroupsWithMember' || c.method === 'listGroupMembers';
      const options = c.args.find((a): a is { members?: boolean } => typeof a === 'object' && a !== null);
      return groupRead && (c.method === 'listGroupMembers' || options?.members !== false);
    });

  beforeAll(async () => {
    backing = await makeStore(kind, `member-filter-${kind}`);
    calls = [];
    const recorded = aroundStoreCalls(backing.store, (method, call, args) => {
      calls.push({ method, args });
      const answer = call();
      return answer instanceof Promise ? answer.then((value: unknown) => ((membersReturned += membersIn(value)), value)) : answer;
    });
    sso = scimSso({ store: recorded, rateLimit: false });
    ({ token } = await sso.createScimConnection({ customerId: `member-filter-${kind}` }));
    for (let i = 0; i < 4; i++) {
      const created = await send('POST', '/Users', { body: { schemas: [USER], userName: `member${i}@example.test` } });
      users.push(created.body!.id as string);
    }
    // Members that are users, values kept as sent (no such user; one differs from another only in case),
    // an empty group, and a group that is itself a member.
    const plan: [string, string[]][] = [
      ['Alpha', [users[0]!, users[1]!, 'ext-1']],
      ['Beta', [users[1]!, 'EXT-1']],
      ['Gamma', []],
      ['Delta', [users[2]!, users[0]!]],
    ];
    for (const [displayName, values] of plan) {
      const created = await send('POST', '/Groups', { body: { schemas: [GROUP], displayName, members: values.map((value) => ({ value })) } });
      expect(created.status).toBe(201);
    }
    const alpha = (await send('GET', '/Groups', { query: 'filter=displayName%20eq%20%22Alpha%22' })).body!.Resources as JsonObject[];
    const nested = await send('POST', '/Groups', { body: { schemas: [GROUP], displayName: 'Outer', members: [{ value: alpha[0]!.id }] } });
    expect(nested.status).toBe(201);
    const all = await send('GET', '/Groups', { query: 'count=100' });
    groups.push(...(all.body!.Resources as JsonObject[]));
    expect(groups).toHaveLength(5);
  });

  afterAll(async () => {
    await backing.cleanup();
  });

  const answered = () => [
    `members[value eq "${users[0]}"]`,
    `members.value eq "${users[1]}"`,
    `members eq "${users[2]}"`,
    `Members[Value eq "${users[0]}"]`,
    `urn:ietf:params:scim:schemas:core:2.0:Group:members[value eq "${users[0]}"]`,
    `urn:ietf:params:scim:schemas:core:2.0:Group:members.value eq "${users[1]}"`,
    'members[value eq "ext-1"]',
    'members[value eq "EXT-1"]',
    'members[value eq "Ext-1"]',
    `members[value eq "${users[3]}"]`,
    'members[value eq "nobody"]',
    `not (members[value eq "${users[0]}"])`,
    `members[value eq "${users[0]}"] and members[value eq "${users[1]}"]`,
    `members[value eq "${users[0]}"] or members[value eq "EXT-1"]`,
    `displayName sw "D" or members[value eq "${users[1]}"]`,
    `displayName ne "Alpha" and not (members.value eq "${users[1]}")`,
    `members[value eq "${groups.find((g) => g.displayName === 'Alpha')!.id}"]`,
    `id eq "${groups[0]!.id}" and members[value eq "${users[0]}"]`,
    `id eq "${groups[0]!.id}" and members[value eq "${users[2]}"]`,
    `displayName eq "Delta" and members[value eq "${users[2]}"]`,
  ];

  // An `or` of index reads answers in the order of its branches, as for users (src/scim/list.ts); the
  // answers are compared as sets, and the order of one read's groups on its own.
  it('finds exactly the groups the whole member lists give, reading no member list', async () => {
    for (const filter of answered()) {
      expect((await list(filter, '&excludedAttributes=members')).sort(), filter).toEqual(reference(filter).sort());
      expect(readMemberLists(), filter).toBe(false);
    }
    const byName = (name: string) => groups.find((g) => g.displayName === name)!.id;
    expect(await list(`members[value eq "${users[0]}"]`)).toEqual([byName('Alpha'), byName('Delta')]);
  });

  it('shows the members of what it finds when the projection asks for them', async () => {
    for (const filter of answered()) {
      const page = await send('GET', '/Groups', { query: `filter=${encodeURIComponent(filter)}` });
      const shown = new Map((page.body!.Resources as JsonObject[]).map((g) => [g.id, g.members ?? []]));
      const expected = groups.filter((g) => reference(filter).includes(g.id as string));
      expect(shown, filter).toEqual(new Map(expected.map((g) => [g.id, g.members ?? []])));
    }
  });

  it('reads the member lists for any other mention of members, with the same answers', async () => {
    for (const filter of [
      'members[value sw "ext"]',
      'members pr',
      'not (members pr)',
      `members[value eq "${users[0]}" and type eq "User"]`,
      `members[value eq "${users[0]}"] and members[value co "-"]`,
      'members.value ne "ext-1"',
      `members[value ne "${users[0]}"]`,
    ]) {
      expect(await list(filter, '&excludedAttributes=members'), filter).toEqual(reference(filter));
      expect(readMemberLists(), filter).toBe(true);
    }
  });

  it(`refuses a filter or PATCH that reads member lists on a group of more than ${SCAN_GROUP_MEMBERS} members, and answers members[value eq] on it`, async () => {
    const members = Array.from({ length: SCAN_GROUP_MEMBERS + 1 }, (_, i) => ({ value: `bulk-${i}` }));
    const big = scimSso({ store: backing.store, rateLimit: false, maxBodyBytes: 8_000_000 });
    const created = await big.handleScim(scimRequest(token, 'POST', '/Groups', { body: { schemas: [GROUP], displayName: 'Huge', members } }));
    expect(created.status).toBe(201);
    const id = (JSON.parse(bodyText(created.body)!) as JsonObject).id as string;
    try {
      for (const filter of ['members[value sw "bulk-1"]', `id eq "${id}" and members pr`, 'members pr']) {
        // Refused by the group's member count, before its members are read (they were read whole first).
        membersReturned = 0;
        const refused = await send('GET', '/Groups', { query: `filter=${encodeURIComponent(filter)}&excludedAttributes=members` });
        expect(membersReturned, filter).toBeLessThan(100);
        expect(refused.status, filter).toBe(400);
        expect(refused.body).toMatchObject({ scimType: 'tooMany', status: '400' });
        expect(refused.body!.detail).toContain(`group ${id}, which has ${SCAN_GROUP_MEMBERS + 1} members`);
        expect(refused.body!.detail).toContain('members[value eq "id"]');
      }
      expect(await list(`members[value eq "bulk-${SCAN_GROUP_MEMBERS}"]`, '&excludedAttributes=members')).toEqual([id]);
      expect(await list(`id eq "${id}" and not (members[value eq "bulk-0"])`, '&excludedAttributes=members')).toEqual([]);
      // A PATCH that needs the list in hand is refused the same way, before the list is read; a bad path
      // before anything is read; the member operations IdPs send still apply.
      const patch = async (...Operations: object[]) => {
        calls.length = 0;
        return send('PATCH', `/Groups/${id}`, { body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations } });
      };
      for (const op of [
        { op: 'replace', path: 'members[value eq "bulk-1"].display', value: 'x' },
        { op: 'remove', path: 'members[value sw "bulk-2"]' },
      ]) {
        const refused = await patch(op);
        expect(refused.body).toMatchObject({ status: '400', scimType: 'tooMany' });
        expect(refused.body!.detail).toContain(`the group has ${SCAN_GROUP_MEMBERS + 1} members`);
        expect(readMemberLists()).toBe(false);
      }
      const badPath = await patch({ op: 'remove', path: 'members.display' });
      expect(badPath.body).toMatchObject({ status: '400', scimType: 'invalidPath' });
      expect(calls.filter((c) => c.method === 'getResource')).toEqual([]);
      expect((await patch({ op: 'remove', path: 'members[value eq "bulk-3"]' })).status).toBe(204);
      expect(readMemberLists()).toBe(false);
    } finally {
      expect((await send('DELETE', `/Groups/${id}`)).status).toBe(204);
    }
  });

  it('refuses lookups that find more groups than the scan budget (maxScanResources)', async () => {
    const small = scimSso({ store: backing.store, rateLimit: false, maxScanResources: 5 });
    const { token: smallToken } = await small.createScimConnection({ customerId: `member-filter-budget-${kind}` });
    const call = async (method: string, path: string, options: { body?: unknown; query?: string } = {}) => {
      const response = await small.handleScim(scimRequest(smallToken, method, path, options));
      return { status: response.status, body: JSON.parse(bodyText(response.body)!) as JsonObject };
    };
    for (let i = 0; i < 5; i++) {
      const members = [{ value: 'in-every' }, { value: 'also-in-every' }];
      expect((await call('POST', '/Groups', { body: { schemas: [GROUP], displayName: `budget ${i}`, members } })).status).toBe(201);
    }
    const query = (filter: string) => ({ query: `filter=${encodeURIComponent(filter)}&excludedAttributes=members` });
    expect((await call('GET', '/Groups', query('members[value eq "in-every"]'))).body.totalResults).toBe(5);
    // The same groups found twice count once; the two holders' lists count in full.
    expect((await call('GET', '/Groups', query('members[value eq "in-every"] or members[value eq "also-in-every"]'))).status).toBe(200);
    const refused = await call('GET', '/Groups', query('displayName co "zz" or members[value eq "in-every"] or members[value eq "also-in-every"]'));
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ scimType: 'tooMany' });
    expect(refused.body.detail).toContain("this filter's index lookups find more than 5 Group resources");
    expect((await call('POST', '/Groups', { body: { schemas: [GROUP], displayName: 'budget 5', members: [{ value: 'in-every' }] } })).status).toBe(201);
    const over = await call('GET', '/Groups', query('id eq "none" or members[value eq "in-every"]'));
    expect([over.status, over.body.scimType]).toEqual([400, 'tooMany']);
  });

  it('follows membership changes', async () => {
    const gamma = groups.find((g) => g.displayName === 'Gamma')!.id as string;
    const add = { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'add', path: 'members', value: [{ value: users[3] }] }] };
    expect((await send('PATCH', `/Groups/${gamma}`, { body: add })).status).toBe(204);
    expect(await list(`members[value eq "${users[3]}"]`)).toEqual([gamma]);
    const remove = { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'remove', path: `members[value eq "${users[3]}"]` }] };
    expect((await send('PATCH', `/Groups/${gamma}`, { body: remove })).status).toBe(204);
    expect(await list(`members[value eq "${users[3]}"]`)).toEqual([]);
    expect(await list(`id eq "${gamma}" and members[value eq "${users[3]}"]`)).toEqual([]);
  });
});
