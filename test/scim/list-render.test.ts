/**
 * A page without filter, sort or projection is answered from the stored JSON as text (src/scim/render.ts
 * renderResourceJson, and on Redis the raw rows of LIST_PAGE split by parseRawRow). Its answer must be
 * exactly what the slow path makes of the same resources: read one by one, parsed, rendered
 * (renderResource) and serialised. Checked on the memory store and on Redis, for users with and without
 * groups, with an extension, with non-ASCII and quoted values, with ids that need encoding, and for groups.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupSpec } from '../../src/scim/groups.js';
import { listResponse } from '../../src/scim/list-response.js';
import { renderResource } from '../../src/scim/render.js';
import { userSpec } from '../../src/scim/users.js';
import type { Store } from '../../src/store/store.js';
import { scimRequest, scimSso, type ScimSso } from '../support/sso.js';
import { testStore } from '../support/redis.js';
import { bodyText } from '../../src/scim/response-body.js';

const BASE = 'https://app.example.com/tenant "ü"/scim/v2';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

describe.each(['memory', 'redis'] as const)('pages rendered from stored text (%s store)', (kind) => {
  let sso: ScimSso;
  let store: Store;
  let connectionId: string;
  let token: string;
  let cleanup = async () => {};

  const call = async (method: string, path: string, body?: unknown, query = '') => {
    const response = await sso.handleScim(scimRequest(token, method, path, { body, query, baseUrl: BASE }));
    return { status: response.status, body: response.body ?? '' };
  };

  beforeAll(async () => {
    ({ store, cleanup } = await testStore(kind, 'list-render'));
    sso = scimSso({ store, rateLimit: false });
    ({ token, connectionId } = await sso.createScimConnection({ customerId: `list-render-${kind}` }));
    const ids: string[] = [];
    for (let n = 0; n < 12; n++) {
      const body: Record<string, unknown> = {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ...(n % 3 === 0 ? [ENTERPRISE] : [])],
        userName: n % 4 === 1 ? `zoë "${n}" \u2028@example.com` : `user${n}@example.com`,
        name: { givenName: n % 2 ? 'Zoë' : 'Ada', familyName: 'Lovelace' },
        emails: [{ value: `user${n}@example.com`, type: 'work', primary: true }],
        active: n % 5 !== 0,
      };
      if (n % 3 === 0) body[ENTERPRISE] = { department: '},"meta":{"x":1}}', employeeNumber: String(n) };
      if (n % 4 === 2) body.id = `caller id ${n}/é`; // ignored: the server assigns ids
      const created = await call('POST', '/Users', body);
      expect(created.status).toBe(201);
      ids.push((JSON.parse(bodyText(created.body)!) as { id: string }).id);
    }
    // Groups: users 0–3 in one, users 2 and 5 in another (so some users have one group, some two, most none).
    for (const [name, members] of [
      ['Team "A"', [0, 1, 2, 3]],
      ['Équipe B', [2, 5]],
    ] as const) {
      const created = await call('POST', '/Groups', { displayName: name, members: members.map((i) => ({ value: ids[i] })) });
      expect(created.status).toBe(201);
    }
    await call('POST', '/Groups', { displayName: 'Empty' });
  });
  afterAll(() => cleanup());

  /** The slow path: each resource read alone, rendered as an object, then the ListResponse serialised whole. */
  async function slowPage(resourceKind: 'User' | 'Group', startIndex: number, count: number): Promise<string> {
    const spec = resourceKind === 'User' ? userSpec : groupSpec;
    const page = await store.listPage(connectionId, resourceKind, startIndex - 1, count);
    const rendered = [];
    for (const listed of page.resources) {
      const stored = await store.getResource(connectionId, resourceKind, listed.id);
      expect(stored).not.toBeNull();
      rendered.push(renderResource(spec, stored!, BASE));
    }
    return JSON.stringify(listResponse(page.total, startIndex, rendered));
  }

  it.each([
    [1, 100],
    [1, 5],
    [4, 5],
    [11, 100],
    [13, 10],
  ])('users from startIndex %i, count %i: the same text as the slow path', async (startIndex, count) => {
    const fast = await call('GET', '/Users', undefined, `startIndex=${startIndex}&count=${count}`);
    expect(fast.status).toBe(200);
    expect(fast.body).toBe(await slowPage('User', startIndex, count));
  });

  it('covers users with two groups, one group and none, with and without the extension', async () => {
    const page = JSON.parse(bodyText((await call('GET', '/Users', undefined, 'count=100')).body)!) as { Resources: Record<string, unknown>[] };
    const groupCounts = page.Resources.map((u) => (u.groups as unknown[] | undefined)?.length ?? 0);
    expect(new Set(groupCounts)).toEqual(new Set([0, 1, 2]));
    expect(page.Resources.some((u) => u[ENTERPRISE] !== undefined)).toBe(true);
    expect(page.Resources.some((u) => u[ENTERPRISE] === undefined)).toBe(true);
  });

  it('groups, with their members: the same text as the slow path', async () => {
    const fast = await call('GET', '/Groups', undefined, 'count=100');
    expect(fast.status).toBe(200);
    expect(fast.body).toBe(await slowPage('Group', 1, 100));
  });

  it('a user read by id: the same text as its rendering', async () => {
    const page = await store.listPage(connectionId, 'User', 0, 100);
    expect(page.resources).toHaveLength(12);
    for (const listed of page.resources) {
      const fast = await call('GET', `/Users/${encodeURIComponent(listed.id)}`);
      const stored = await store.getResource(connectionId, 'User', listed.id);
      expect(fast.body).toBe(JSON.stringify(renderResource(userSpec, stored!, BASE)));
    }
  });
});
