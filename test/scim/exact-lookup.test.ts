/**
 * `userName eq`, `externalId eq`, `id eq` and a group's `displayName eq` are answered from the index alone,
 * without rendering each found resource and checking it against the filter again (src/scim/list.ts
 * indexAnswersExactly). That is only right if the index finds exactly what the filter matches: each answer
 * here is compared with a full scan of the connection through matchesFilter, for values that differ in case,
 * ASCII whitespace, Unicode normalisation and look-alike characters, on the memory store and on Redis.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupSpec } from '../../src/scim/groups.js';
import { parseFilter } from '../../src/scim/filter.js';
import { matchesFilter } from '../../src/scim/filter-eval.js';
import { indexAnswersExactly } from '../../src/scim/list.js';
import type { JsonObject } from '../../src/scim/normalize.js';
import type { ResourceContext } from '../../src/scim/resources.js';
import { userSpec } from '../../src/scim/users.js';
import type { Store } from '../../src/store/store.js';
import { scimRequest, scimSso, type ScimSso } from '../support/sso.js';
import { testStore } from '../support/redis.js';
import { bodyText } from '../../src/scim/response-body.js';

/** Names that fold together or deliberately do not (docs/folding.md): case, edges, NFC/NFD, Kelvin, dotted I. */
const NAMES = [
  'ann@corp.test',
  'ANN@Corp.Test',
  ' ann@corp.test\t',
  'zoë@corp.test',
  'zoe\u0308@corp.test',
  'ZOË@corp.test',
  '\u212Aim@corp.test',
  'kim@corp.test',
  '\u0130ris@corp.test',
  'iris@corp.test',
  '\u00a0ann@corp.test',
];
const EXTERNAL_IDS = ['00uAbC', '00uabc', ' 00uAbC', '00uAbC\u0301', 'x'];

const ctxFor = (spec: typeof userSpec | typeof groupSpec) => ({ spec }) as unknown as ResourceContext;
const parsed = (text: string) => {
  const result = parseFilter(text, { maxLength: 10_000, maxDepth: 32 });
  if (!result.ok) throw result.error;
  return result.value;
};

describe('which filters the index answers exactly', () => {
  it.each([
    ['userName eq "a"', true],
    ['USERNAME eq "a"', true],
    ['urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a"', true],
    ['externalId eq "a"', true],
    ['id eq "a"', true],
    ['userName eq 12', false], // a number compares as a number against a string: not the index's rule
    ['userName ne "a"', false],
    ['userName sw "a"', false],
    ['emails.value eq "a"', false], // multi-valued: an empty value is not indexed
    ['emails eq "a"', false],
    ['displayName eq "a"', false], // not indexed for users
    ['userName eq "a" and active eq true', false],
    ['userName eq "a" or userName eq "b"', false],
  ])('users: %s → %s', (filter, exact) => {
    expect(indexAnswersExactly(ctxFor(userSpec), parsed(filter))).toBe(exact);
  });

  it.each([
    ['displayName eq "a"', true],
    ['externalId eq "a"', true],
    ['members.value eq "a"', false],
  ])('groups: %s → %s', (filter, exact) => {
    expect(indexAnswersExactly(ctxFor(groupSpec), parsed(filter))).toBe(exact);
  });
});

describe.each(['memory', 'redis'] as const)('index answers equal a full scan (%s store)', (kind) => {
  let sso: ScimSso;
  let store: Store;
  let token: string;
  let cleanup = async () => {};
  const all = { User: [] as JsonObject[], Group: [] as JsonObject[] };

  const call = async (method: string, path: string, body?: unknown, query = '') => {
    const response = await sso.handleScim(scimRequest(token, method, path, { body, query }));
    return { status: response.status, body: JSON.parse(bodyText(response.body) ?? '{}') as JsonObject };
  };

  beforeAll(async () => {
    ({ store, cleanup } = await testStore(kind, 'exact-lookup'));
    sso = scimSso({ store, rateLimit: false });
    ({ token } = await sso.createScimConnection({ customerId: `exact-lookup-${kind}` }));
    for (const [n, userName] of NAMES.entries()) {
      // userName is unique as folded: names that fold together are refused (409), which is part of the check.
      const created = await call('POST', '/Users', { userName, externalId: EXTERNAL_IDS[n % EXTERNAL_IDS.length] });
      expect([201, 409]).toContain(created.status);
      if (created.status === 201) all.User.push(created.body);
    }
    for (const [n, displayName] of NAMES.entries()) {
      const created = await call('POST', '/Groups', { displayName, externalId: EXTERNAL_IDS[n % EXTERNAL_IDS.length] });
      expect([201, 409]).toContain(created.status);
      if (created.status === 201) all.Group.push(created.body);
    }
    expect(all.User.length).toBeGreaterThan(5);
  });
  afterAll(() => cleanup());

  async function expectLikeScan(resourceKind: 'User' | 'Group', filter: string) {
    const spec = resourceKind === 'User' ? userSpec : groupSpec;
    const expected = all[resourceKind].filter((r) => matchesFilter(parsed(filter), r, { type: spec.type })).map((r) => r.id);
    const answer = await call('GET', `/${resourceKind}s`, undefined, `filter=${encodeURIComponent(filter)}`);
    expect(answer.status).toBe(200);
    const resources = (answer.body.Resources ?? []) as JsonObject[];
    expect({ filter, ids: resources.map((r) => r.id), total: answer.body.totalResults }).toEqual({ filter, ids: expected, total: expected.length });
    // The resources are the ones a GET by id shows (rendered from the stored text, not re-rendered).
    for (const resource of resources) expect(resource).toEqual((await call('GET', `/${resourceKind}s/${resource.id as string}`)).body);
  }

  const quoted = (value: string) => JSON.stringify(value);
  const values = [...NAMES, ...EXTERNAL_IDS, 'ann@corp.test ', 'ANN@CORP.TEST', 'nobody@corp.test', ''];

  it('userName eq, externalId eq and id eq on users', async () => {
    for (const value of values) {
      await expectLikeScan('User', `userName eq ${quoted(value)}`);
      await expectLikeScan('User', `externalId eq ${quoted(value)}`);
    }
    for (const user of all.User) await expectLikeScan('User', `id eq ${quoted(user.id as string)}`);
    await expectLikeScan('User', `id eq ${quoted((all.User[0]!.id as string).toUpperCase())}`);
  });

  it('displayName eq and externalId eq on groups', async () => {
    for (const value of values) {
      await expectLikeScan('Group', `displayName eq ${quoted(value)}`);
      await expectLikeScan('Group', `externalId eq ${quoted(value)}`);
    }
  });

  it('random case changes and edge whitespace of the stored names', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...NAMES),
        fc.array(fc.boolean(), { minLength: 20, maxLength: 20 }),
        fc.constantFrom('', ' ', '\t', '\u00a0'),
        async (name, upper, edge) => {
          const variant = edge + [...name].map((c, i) => (upper[i % upper.length] ? c.toUpperCase() : c.toLowerCase())).join('') + edge;
          await expectLikeScan('User', `userName eq ${quoted(variant)}`);
          await expectLikeScan('Group', `displayName eq ${quoted(variant)}`);
        },
      ),
      { numRuns: 40 },
    );
  });
});
