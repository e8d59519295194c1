/**
 * The IdPs' lookup on its short path (src/scim/idp-lookup.ts) answers exactly what the general query path
 * answers: each filter is sent alone (the short path's shape) and again with `startIndex=1` beside it, which
 * means the same but always takes the general path; status, headers and body must be equal byte for byte.
 * The store's calls show which path ran, so a short path that silently never runs fails too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerIdpLookup } from '../../src/scim/idp-lookup.js';
import type { ResourceContext } from '../../src/scim/resources.js';
import { bodyText } from '../../src/scim/response-body.js';
import { userSpec } from '../../src/scim/users.js';
import { SCAN_MEMBERSHIPS_PER_RESOURCE } from '../../src/scim/limits.js';
import type { Store } from '../../src/store/store.js';
import { recordStoreCalls, type StoreCall } from '../support/store-calls.js';
import { testStore } from '../support/redis.js';
import { scimRequest, scimSso, type ScimSso } from '../support/sso.js';

/** Users: names that fold together or not, a raw control character, externalIds shared by two users or unique. */
const USERS = [
  { userName: 'ann@corp.test', externalId: 'shared' },
  { userName: 'Bob@Corp.Test', externalId: 'shared' },
  { userName: 'zoë@corp.test', externalId: 'z-1' },
  { userName: '\u212Aim@corp.test', externalId: 'k-1' },
  { userName: 'tab\there@corp.test', externalId: 'T\tab' },
  { userName: 'grouped@corp.test', externalId: 'g-1' },
];

/** Filters of the short path's shape, and near misses that must take the general path. */
const FILTERS = [
  ...USERS.flatMap((user) => [`userName eq "${user.userName}"`, `externalId eq "${user.externalId}"`]),
  'userName eq "ANN@CORP.TEST"', // folded: the same user
  'userName eq "zoe\u0308@corp.test"', // NFD of zoë
  'userName eq "kim@corp.test"', // Kelvin sign folds to k
  'userName eq "nobody@corp.test"',
  'userName eq ""',
  'externalId eq "SHARED"', // externalId is case-exact: nobody
  'externalId eq "nobody"',
  'USERNAME eq "ann@corp.test"',
  'username eq "bob@corp.test"',
  // Not the short path's shape: the general path answers them all (the second request too).
  'userName EQ "ann@corp.test"',
  'userName  eq "ann@corp.test"',
  ' userName eq "ann@corp.test"',
  'userName eq "ann\\u0040corp.test"',
  'userName eq "\\ud800"',
  'emails eq "ann@corp.test"',
  'displayName eq "x"',
  'id eq "x"',
  'userName eq "ann@corp.test" and active eq true',
  'urn:ietf:params:scim:schemas:core:2.0:User:userName eq "ann@corp.test"',
  `userName eq "${'a'.repeat(5000)}"`, // over the filter's length limit: a 400
];

describe.each(['memory', 'redis'] as const)('the IdP lookup short path equals the general path (%s store)', (kind) => {
  let sso: ScimSso;
  let token: string;
  let calls: StoreCall[];
  /** What answerIdpLookup needs of the handler's context: the store, the connection and the resource type. */
  let ctx: ResourceContext;
  let suiteStore: Store;
  let cleanup = async () => {};

  const answer = async (query: string) => {
    const response = await sso.handleScim(scimRequest(token, 'GET', '/Users', { query }));
    return { status: response.status, headers: response.headers, body: bodyText(response.body) };
  };

  beforeAll(async () => {
    const made = await testStore(kind, 'idp-lookup');
    const store = made.store;
    cleanup = made.cleanup;
    suiteStore = store;
    const recorded = recordStoreCalls(store);
    calls = recorded.calls;
    sso = scimSso({ store: recorded.store, rateLimit: false });
    const connection = await sso.createScimConnection({ customerId: `idp-lookup-${kind}` });
    token = connection.token;
    ctx = { store, connectionId: connection.connectionId, spec: userSpec } as unknown as ResourceContext;
    const ids: string[] = [];
    for (const user of USERS) {
      const created = await sso.handleScim(scimRequest(token, 'POST', '/Users', { body: user }));
      expect(created.status).toBe(201);
      ids.push((JSON.parse(bodyText(created.body)!) as { id: string }).id);
    }
    // A user in a group: the lookup shows the group, derived as the general path derives it.
    const group = await sso.handleScim(scimRequest(token, 'POST', '/Groups', { body: { displayName: 'Admins', members: [{ value: ids.at(-1) }] } }));
    expect(group.status).toBe(201);
  });
  afterAll(() => cleanup());

  /** The short path's shape, as this test reads it: the attribute's name in any case, lower-case `eq`, no escapes, within 4,096 characters. */
  const shortShape = (filter: string) =>
    /^(username|externalid) eq "[^"\\]*"$/.test(filter.replace(/^\w+/, (name) => name.toLowerCase())) && filter.length <= 4096;
  const paging = { defaultCount: 100, maxCount: 1000 };

  it.each(FILTERS.map((filter) => [filter.length > 60 ? `${filter.slice(0, 57)}…` : filter, filter]))('%s', async (_, filter) => {
    const encoded = `filter=${encodeURIComponent(filter)}`;
    const indexReads = () => calls.filter((call) => call.method === 'findByIndex').length;
    calls.length = 0;
    const alone = await answer(encoded);
    const readsAlone = indexReads();
    calls.length = 0;
    const general = await answer(`${encoded}&startIndex=1`);
    expect(alone).toEqual(general);
    // Each filter is answered by the index or refused, whichever path runs.
    expect([200, 400]).toContain(alone.status);
    // The index is never read twice: when the short path leaves the answer to the general path (two users
    // share the value), the general path reuses its read.
    expect(readsAlone).toBe(indexReads());
    // Which path answered: the short one for its shape, unless two users share the value.
    const short = await answerIdpLookup(ctx, new URLSearchParams(encoded), paging, { maxLength: 4096, maxDepth: 32 }, 'http://127.0.0.1/scim/v2');
    expect(short.body !== null).toBe(shortShape(filter) && filter !== 'externalId eq "shared"');
    if (short.body !== null) expect(bodyText(short.body)).toBe(general.body);
  });

  it('leaves a user the general path refuses for its memberships to the general path (maxScanResources: 1)', async () => {
    const tight = scimSso({ store: suiteStore, rateLimit: false, maxScanResources: 1 });
    const { token: tightToken, connectionId } = await tight.createScimConnection({ customerId: `idp-lookup-tight-${kind}` });
    const send = async (method: string, path: string, options: { body?: unknown; query?: string }) => {
      const response = await tight.handleScim(scimRequest(tightToken, method, path, options));
      return { status: response.status, headers: response.headers, body: bodyText(response.body) };
    };
    const user = await send('POST', '/Users', { body: { userName: 'member@corp.test' } });
    const id = (JSON.parse(user.body!) as { id: string }).id;
    // One more group than the general path derives for one resource of a lookup when maxScan is 1.
    for (let n = 0; n <= SCAN_MEMBERSHIPS_PER_RESOURCE; n++) {
      expect((await send('POST', '/Groups', { body: { displayName: `g${n}`, members: [{ value: id }] } })).status).toBe(201);
    }
    const query = `filter=${encodeURIComponent('userName eq "member@corp.test"')}`;
    const alone = await send('GET', '/Users', { query });
    expect(alone).toEqual(await send('GET', '/Users', { query: `${query}&startIndex=1` }));
    expect(alone.status).toBe(400);
    const tightCtx = { store: suiteStore, connectionId, spec: userSpec } as unknown as ResourceContext;
    const tightPaging = { defaultCount: 100, maxCount: 1000, maxScan: 1 };
    expect((await answerIdpLookup(tightCtx, new URLSearchParams(query), tightPaging, { maxLength: 4096, maxDepth: 32 }, 'http://x')).body).toBeNull();
  });

  it('reads only the index on the short path, and never with a count of 0 or a second parameter', async () => {
    calls.length = 0;
    const query = `filter=${encodeURIComponent('userName eq "ann@corp.test"')}`;
    const found = await answer(query);
    expect(found.status).toBe(200);
    expect(JSON.parse(found.body!)).toMatchObject({ totalResults: 1, Resources: [{ userName: 'ann@corp.test' }] });
    expect(calls.map((call) => call.method)).toEqual(['findByIndex']);
    const limits = { maxLength: 4096, maxDepth: 32 };
    const baseUrl = 'http://127.0.0.1/scim/v2';
    for (const [declined, declinedPaging] of [
      [query, { defaultCount: 0, maxCount: 1000 }],
      [`${query}&count=5`, paging],
      [query.replace('filter', 'Filter'), paging],
    ] as const) {
      expect(await answerIdpLookup(ctx, new URLSearchParams(declined), declinedPaging, limits, baseUrl)).toEqual({ body: null, read: null });
    }
  });
});
