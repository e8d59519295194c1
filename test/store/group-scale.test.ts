/**
 * A 50,000-member group built through the SCIM handler (`sso.handleScim`) with PATCHes of 1,000 members, on
 * Redis and on the Redis Cluster, with membership checked both ways: group → members (pages) and
 * user → groups. Not timed (the bench measures; docs/groups.md).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scimRequest, scimSso, type ScimSso } from '../support/sso.js';
import { redisStore } from '../../src/store/redis.js';
import type { Store } from '../../src/store/store.js';
import { testCluster, type TestCluster } from '../support/cluster.js';
import { storeProblems, testRedis, type TestRedis } from '../support/redis.js';
import { bodyText } from '../../src/scim/response-body.js';

const SIZE = 50_000;
const CHUNK = 1000;
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

interface Backend {
  name: string;
  open(): Promise<{ client: TestRedis['client'] | TestCluster['client']; prefix: string; cleanup(): Promise<void> }>;
}

const BACKENDS: Backend[] = [
  { name: 'Redis', open: () => testRedis('group-scale') },
  { name: 'Redis Cluster', open: () => testCluster('group-scale') },
];

describe.each(BACKENDS)('a 50,000-member group on $name', ({ open }) => {
  let backend: Awaited<ReturnType<Backend['open']>>;
  let store: Store;
  let sso: ScimSso;
  let token: string;
  let connectionId: string;
  const unexpected: unknown[] = [];

  beforeAll(async () => {
    backend = await open();
    store = redisStore({ client: backend.client, prefix: backend.prefix });
    sso = scimSso({ store, onError: (error) => unexpected.push(error), rateLimit: false });
    ({ token, connectionId } = await sso.createScimConnection({ customerId: `scale-${randomUUID()}` }));
  });
  afterAll(async () => {
    expect(unexpected).toEqual([]);
    await backend.cleanup();
  });

  const scim = async (method: string, path: string, body?: unknown, query = '') => {
    const response = await sso.handleScim(scimRequest(token, method, path, { body, query }));
    return {
      status: response.status,
      etag: response.headers.ETag,
      body: bodyText(response.body) ? (JSON.parse(bodyText(response.body)!) as Record<string, any>) : null,
    };
  };

  /** The users, created through the store (setup, not under test): stored as the SCIM layer stores them. */
  async function createUsers(): Promise<string[]> {
    const ids = Array.from({ length: SIZE }, () => randomUUID());
    for (let i = 0; i < SIZE; i += CHUNK) {
      await Promise.all(
        ids.slice(i, i + CHUNK).map(async (id, j) => {
          const userName = `scale-${i + j}@corp.test`;
          const json = JSON.stringify({
            schemas: [USER],
            id,
            userName,
            active: true,
            meta: { resourceType: 'User', created: '2024-01-01T00:00:00.000Z', lastModified: '2024-01-01T00:00:00.000Z' },
          });
          const outcome = await store.createResource(connectionId, {
            id,
            kind: 'User',
            json,
            indexes: [{ attribute: 'userName', value: userName, unique: true }],
          });
          expect(outcome.ok).toBe(true);
        }),
      );
    }
    return ids;
  }

  it('builds it with PATCHes of 1,000 members and reads membership both ways', { timeout: 600_000 }, async () => {
    const users = await createUsers();
    const created = await scim('POST', '/Groups', { schemas: [GROUP], displayName: 'All employees' });
    expect(created.status).toBe(201);
    const gid = created.body!.id as string;
    let etag = '';
    for (let i = 0; i < SIZE; i += CHUNK) {
      const members = users.slice(i, i + CHUNK).map((value) => ({ value, type: 'User' }));
      const res = await scim('PATCH', `/Groups/${gid}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: members }] });
      expect(res.status).toBe(204);
      etag = res.etag!;
    }
    // Each PATCH moved the version (on Redis by one per chunk of INLINE_MEMBERS changes): the last one's.
    const version = Number(/^W\/"(\d+)"$/.exec(etag)?.[1]);
    expect(version).toBeGreaterThanOrEqual(SIZE / CHUNK + 1);

    // Group → members: O(1) read without them, then pages in the order they were added.
    const bare = await scim('GET', `/Groups/${gid}`, undefined, 'excludedAttributes=members');
    expect(bare.status).toBe(200);
    expect(bare.body!.members).toBeUndefined();
    expect(bare.etag).toBe(etag);
    const listed: string[] = [];
    for (let offset = 0; offset < SIZE; offset += CHUNK) {
      const page = await store.listGroupMembers(connectionId, gid, offset, CHUNK);
      expect(page).toMatchObject({ total: SIZE, version });
      listed.push(...page!.members.map((m) => m.value));
    }
    expect(listed).toEqual(users);
    const full = await scim('GET', `/Groups/${gid}`);
    expect(full.body!.members).toHaveLength(SIZE);
    expect(full.body!.members[SIZE - 1]).toEqual({ value: users[SIZE - 1], $ref: `http://127.0.0.1/scim/v2/Users/${users[SIZE - 1]}`, type: 'User' });

    // User → groups: every user, through the store, and a sample through SCIM.
    for (let i = 0; i < SIZE; i += CHUNK) {
      const read = await Promise.all(users.slice(i, i + CHUNK).map((id) => store.getResource(connectionId, 'User', id)));
      for (const u of read) expect(u).toMatchObject({ version: 2, groups: [{ value: gid, display: 'All employees' }] });
    }
    for (const id of [users[0]!, users[SIZE / 2]!, users[SIZE - 1]!]) {
      expect((await scim('GET', `/Users/${id}`)).body!.groups).toEqual([expect.objectContaining({ value: gid, display: 'All employees' })]);
    }

    // One-member changes at full size; Entra's removal of 1,000 listed members.
    const extra = randomUUID();
    expect(
      (await scim('PATCH', `/Groups/${gid}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: extra }] }] })).status,
    ).toBe(204);
    expect((await scim('PATCH', `/Groups/${gid}`, { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: `members[value eq "${extra}"]` }] })).status).toBe(
      204,
    );
    const leaving = users.slice(0, CHUNK);
    const removed = await scim('PATCH', `/Groups/${gid}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'remove', path: 'members', value: leaving.map((value) => ({ value })) }],
    });
    expect(removed.status).toBe(204);
    expect((await store.getResource(connectionId, 'Group', gid, { members: false }))?.memberCount).toBe(SIZE - CHUNK);
    for (const u of await Promise.all(leaving.map((id) => store.getResource(connectionId, 'User', id)))) {
      expect(u).toMatchObject({ version: 3, groups: [] });
    }
    expect(await storeProblems(backend.client, backend.prefix, connectionId)).toEqual([]);

    // Deleting it: gone at once, its members' groups and versions settled in bounded batches.
    expect((await scim('DELETE', `/Groups/${gid}`)).status).toBe(204);
    for (let i = CHUNK; i < SIZE; i += CHUNK * 7) {
      const read = await Promise.all(users.slice(i, i + CHUNK).map((id) => store.getResource(connectionId, 'User', id)));
      for (const u of read) expect(u).toMatchObject({ version: 3, groups: [] });
    }
    expect(await store.getUsage(connectionId)).toMatchObject({ users: SIZE, groups: 0 });
    expect(await storeProblems(backend.client, backend.prefix, connectionId)).toEqual([]);
  });
});
