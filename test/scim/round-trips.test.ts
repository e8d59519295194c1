/**
 * Store round trips per SCIM request type, counted two ways on real Redis (standalone and Cluster) and on
 * the memory store: the store calls a request makes (a counting wrapper around the store), and the Redis
 * commands those send (ioredis 6's `ioredis:command` tracing channel; each command is one round trip, and
 * no call on these paths pipelines: a batch would show as `<batch>`). Counts only, never times
 * (docs/round-trips.md).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticate, TokenCache } from '../../src/scim/auth.js';
import { ScimError } from '../../src/errors.js';
import { memoryStore } from '../../src/store/memory.js';
import { redisStore } from '../../src/store/redis.js';
import type { Store } from '../../src/store/store.js';
import { scimRequest, scimSso, type ScimSso } from '../support/sso.js';
import { testRedis } from '../support/redis.js';
import { testCluster } from '../support/cluster.js';
import { aroundStoreCalls, traceRedisCommands } from '../support/store-calls.js';
import { bodyText } from '../../src/scim/response-body.js';

interface Counted {
  storeCalls: string[];
  redisCommands: string[];
}

let recording: Counted | null = null;

/** The store, counting the calls made while `recording` is set. */
const counting = (store: Store): Store =>
  aroundStoreCalls(store, (method, call) => {
    recording?.storeCalls.push(method);
    return call();
  });

/** Traces the Redis commands started while `recording` is set (one `describe` at a time). */
let stopTracing = () => {};
const startTracing = () => (stopTracing = traceRedisCommands((command) => void recording?.redisCommands.push(command)));

type Kind = 'memory' | 'redis' | 'redis cluster';

async function storeOf(kind: Kind, hint: string): Promise<{ store: Store; cleanup: () => Promise<void> }> {
  if (kind === 'memory') return { store: memoryStore(), cleanup: async () => {} };
  const made = kind === 'redis' ? await testRedis(hint) : await testCluster(hint);
  return { store: redisStore({ client: made.client, prefix: made.prefix }), cleanup: made.cleanup };
}

describe.each<Kind>(['memory', 'redis', 'redis cluster'])('SCIM round trips per request (%s store)', (kind) => {
  let server: Server;
  let origin: string;
  let token: string;
  let cleanup: () => Promise<void>;
  let userId: string;
  let serial = 0;
  /** A second instance on the same store, uncounted: what another app process would do. */
  let otherSso: ScimSso;

  beforeAll(async () => {
    startTracing();
    const made = await storeOf(kind, `round-trips-${kind.replace(' ', '-')}`);
    cleanup = made.cleanup;
    // The activity log's batches are written by a timer, off every request (test/activity/scim-activity.test.ts
    // shows a request makes no store call for it); here one could land inside a counted request.
    const sso = scimSso({ store: counting(made.store), rateLimit: false, activityLog: false, onError: (e) => console.error(e) });
    ({ token } = await sso.createScimConnection({ customerId: `rt-${kind.replace(' ', '-')}` }));
    otherSso = scimSso({ store: made.store, rateLimit: false, activityLog: false });
    const app = express();
    app.use(sso);
    server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // Warm: the token is in the cache and every script is loaded (a first EVALSHA may be answered NOSCRIPT).
    userId = (await (await send('POST', '/Users', { userName: 'warm@corp.test' })).json()).id;
    await send('GET', `/Users/${userId}`);
    await send('GET', '/Users?filter=userName%20eq%20%22warm%40corp.test%22');
    await send('GET', '/Users?count=10');
    await send('GET', '/Users?sortBy=userName&count=10');
    await send('PATCH', `/Users/${userId}`, patchBody('Warm'));
    await send('PUT', `/Users/${userId}`, { userName: 'warm@corp.test', displayName: 'Warm' });
    const spare = (await (await send('POST', '/Users', { userName: 'spare@corp.test' })).json()).id;
    await send('DELETE', `/Users/${spare}`);
  });
  afterAll(async () => {
    stopTracing();
    await new Promise((resolve) => server?.close(resolve));
    await cleanup?.();
  });

  const patchBody = (name: string) => ({
    schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
    Operations: [{ op: 'replace', path: 'displayName', value: name }],
  });

  function send(method: string, path: string, body?: unknown): Promise<Response> {
    return fetch(`${origin}/scim/v2${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }

  const otherRequest = (method: string, path: string, body?: unknown) => scimRequest(token, method, path, { body });

  /** A user created by the other instance: this one has no copy of it. */
  async function otherInstanceUser(userName: string, more: Record<string, unknown> = {}): Promise<string> {
    const created = await otherSso.handleScim(otherRequest('POST', '/Users', { userName, ...more }));
    expect(created.status).toBe(201);
    return JSON.parse(bodyText(created.body) ?? '{}').id;
  }

  /** Sends one request and answers what it cost. */
  async function count(method: string, path: string, status: number, body?: unknown): Promise<Counted> {
    const counted: Counted = { storeCalls: [], redisCommands: [] };
    recording = counted;
    try {
      const response = await send(method, path, body);
      await response.arrayBuffer();
      expect(response.status).toBe(status);
    } finally {
      recording = null;
    }
    return counted;
  }

  /**
   * The expected store calls; on Redis, exactly one command per call (one round trip each), plus, for a
   * write, at most one fire-and-forget ZADD announcing its events to consumers (docs/events.md; never
   * awaited, and sent at most once a second per connection).
   */
  function expectCalls(counted: Counted, calls: string[], write = false) {
    expect(counted.storeCalls).toEqual(calls);
    const announced = counted.redisCommands.filter((c) => c === 'zadd').length;
    expect(announced).toBeLessThanOrEqual(kind !== 'memory' && write ? 1 : 0);
    expect(counted.redisCommands).toHaveLength(kind === 'memory' ? 0 : calls.length + announced);
    expect(counted.redisCommands).not.toContain('<batch>');
  }

  it('GET a user by id: 1', async () => {
    expectCalls(await count('GET', `/Users/${userId}`, 200), ['getResource']);
  });

  it('indexed lookup (userName eq), present and absent: 1', async () => {
    expectCalls(await count('GET', '/Users?filter=userName%20eq%20%22warm%40corp.test%22', 200), ['findByIndex']);
    expectCalls(await count('GET', '/Users?filter=userName%20eq%20%22nobody%40corp.test%22', 200), ['findByIndex']);
  });

  it('a page: 1', async () => {
    expectCalls(await count('GET', '/Users?startIndex=1&count=10', 200), ['listPage']);
  });

  it('a page sorted by a sortable attribute, either way, at any offset: 1', async () => {
    for (const sortBy of ['userName', 'meta.lastModified', 'meta.created']) {
      expectCalls(await count('GET', `/Users?sortBy=${sortBy}&sortOrder=descending&startIndex=2&count=10`, 200), ['listSorted']);
      expectCalls(await count('GET', `/Users?sortBy=${sortBy}&count=10`, 200), ['listSorted']);
    }
  });

  it('an indexed lookup sorted by any attribute: 1 (its rows are in hand, not read again by id)', async () => {
    expectCalls(await count('GET', '/Users?filter=userName%20eq%20%22warm%40corp.test%22&sortBy=title', 200), ['findByIndex']);
  });

  it('a scan (a filter no index answers): its store page, then one read per user shown, with its groups', async () => {
    // Shown with their groups (the default projection) or not, each user of the page is read once again by
    // id: before, a page whose answer shows groups was read a second time to add them.
    for (const n of [1, 2, 3]) await otherInstanceUser(`titled-${n}-${serial++}@corp.test`, { title: 'Engineer' });
    for (const query of ['filter=title%20pr', 'filter=title%20pr&attributes=userName', 'filter=title%20pr&sortBy=nickName']) {
      const counted = await count('GET', `/Users?${query}&count=2`, 200);
      expectCalls(counted, ['listPage', 'getResource', 'getResource']);
    }
  });

  it('POST: 1', async () => {
    expectCalls(await count('POST', '/Users', 201, { userName: `new-${serial++}@corp.test` }), ['createResource'], true);
  });

  it('PATCH of a user this instance knows: 1 (a version-checked write from its last copy)', async () => {
    expectCalls(await count('PATCH', `/Users/${userId}`, 204, patchBody(`Name ${serial++}`)), ['replaceResource'], true);
  });

  it('PUT of a user this instance knows: 1 (a version-checked write from its last copy)', async () => {
    expectCalls(await count('PUT', `/Users/${userId}`, 200, { userName: 'warm@corp.test', displayName: `Put ${serial++}` }), ['replaceResource'], true);
  });

  it('PATCH and PUT of a user this instance has no copy of: 2 (read, then a version-checked write)', async () => {
    // Created through the other instance: this one never saw them.
    const other = await otherInstanceUser(`other-${serial++}@corp.test`);
    expectCalls(await count('PATCH', `/Users/${other}`, 204, patchBody(`Name ${serial++}`)), ['getResource', 'replaceResource'], true);
    const fresh = await otherInstanceUser(`other-${serial++}@corp.test`);
    expectCalls(await count('PUT', `/Users/${fresh}`, 200, { userName: 'x@corp.test', displayName: 'X' }), ['getResource', 'replaceResource'], true);
  });

  it('PATCH of a user changed elsewhere since this instance saw it: 3 (refused write, read, write)', async () => {
    const id = (await (await send('POST', '/Users', { userName: `stale-${serial++}@corp.test` })).json()).id;
    const fresh = await otherSso.handleScim(otherRequest('PATCH', `/Users/${id}`, patchBody('Changed elsewhere')));
    expect(fresh.status).toBe(204);
    const counted = await count('PATCH', `/Users/${id}`, 204, patchBody(`Name ${serial++}`));
    expect(counted.storeCalls).toEqual(['replaceResource', 'getResource', 'replaceResource']);
    expect(counted.redisCommands.filter((c) => c !== 'zadd')).toHaveLength(kind === 'memory' ? 0 : 3);
  });

  it('DELETE: 1', async () => {
    const id = (await (await send('POST', '/Users', { userName: `gone-${serial++}@corp.test` })).json()).id;
    expectCalls(await count('DELETE', `/Users/${id}`, 204), ['deleteResource'], true);
  });

  it('an unknown token: 1 (the store is asked; nothing is cached for it)', async () => {
    // Once before counting: on a Cluster the token key's node may not be connected yet (HELLO, CLIENT...).
    await fetch(`${origin}/scim/v2/Users/${userId}`, { headers: { authorization: 'Bearer scim_not-a-token' } });
    const counted: Counted = { storeCalls: [], redisCommands: [] };
    recording = counted;
    const response = await fetch(`${origin}/scim/v2/Users/${userId}`, { headers: { authorization: 'Bearer scim_not-a-token' } });
    recording = null;
    expect(response.status).toBe(401);
    expectCalls(counted, ['findConnectionByTokenHash']);
  });
});

describe.each<Kind>(['memory', 'redis'])('the SCIM token cache (%s store)', (kind) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    const made = await storeOf(kind, `token-cache-${kind}`);
    store = counting(made.store);
    cleanup = made.cleanup;
  });
  afterAll(async () => {
    await cleanup?.();
  });

  /** Authenticates once; answers the connection id (or 401) and the store calls it made. */
  async function auth(token: string, cache: TokenCache): Promise<{ result: string | number; calls: string[] }> {
    const counted: Counted = { storeCalls: [], redisCommands: [] };
    recording = counted;
    const result = await authenticate(store, `Bearer ${token}`, Date.now(), cache);
    recording = null;
    return { result: result instanceof ScimError ? result.status : result.connectionId, calls: counted.storeCalls };
  }

  async function connection(customerId: string, token: string) {
    const { hashToken } = await import('../../src/scim/auth.js');
    const record = {
      connectionId: `conn-${customerId}`,
      customerId,
      displayName: null,
      tokenHash: hashToken(token),
      previousTokenHash: null,
      previousTokenExpiresAt: null,
      createdAt: new Date().toISOString(),
    };
    expect(await store.createConnection(record)).toBe('created');
    return record;
  }

  it('a current token costs one store read per TTL; a deletion elsewhere stops it within the TTL', async () => {
    let clock = 1_000_000;
    const cache = new TokenCache({ ttlMs: 5000, now: () => clock });
    const record = await connection(`cache-${kind}-a`, 'scim_token-a');
    expect(await auth('scim_token-a', cache)).toEqual({ result: record.connectionId, calls: ['findConnectionByTokenHash'] });
    expect(await auth('scim_token-a', cache)).toEqual({ result: record.connectionId, calls: [] });
    // Deleted through another instance (straight on the store): still trusted here until the TTL ends.
    await store.deleteConnection(record.connectionId);
    clock += 4999;
    expect(await auth('scim_token-a', cache)).toEqual({ result: record.connectionId, calls: [] });
    clock += 1;
    expect(await auth('scim_token-a', cache)).toEqual({ result: 401, calls: ['findConnectionByTokenHash'] });
    expect(await auth('scim_token-a', cache)).toEqual({ result: 401, calls: ['findConnectionByTokenHash'] });
  });

  it('a previous token in its grace period is checked in the store every time; forgetCustomer drops a current one at once', async () => {
    const clock = 2_000_000;
    const cache = new TokenCache({ ttlMs: 5000, now: () => clock });
    const record = await connection(`cache-${kind}-b`, 'scim_token-b1');
    const { hashToken } = await import('../../src/scim/auth.js');
    const rotated = await store.updateConnectionTokens(record.connectionId, {
      tokenHash: hashToken('scim_token-b2'),
      previousTokenHash: record.tokenHash,
      previousTokenExpiresAt: Date.now() + 3_600_000,
    });
    expect(rotated.ok).toBe(true);
    for (let i = 0; i < 2; i++) expect(await auth('scim_token-b1', cache)).toEqual({ result: record.connectionId, calls: ['findConnectionByTokenHash'] });
    expect(await auth('scim_token-b2', cache)).toEqual({ result: record.connectionId, calls: ['findConnectionByTokenHash'] });
    expect(await auth('scim_token-b2', cache)).toEqual({ result: record.connectionId, calls: [] });
    cache.forgetCustomer(record.customerId);
    expect(await auth('scim_token-b2', cache)).toEqual({ result: record.connectionId, calls: ['findConnectionByTokenHash'] });
  });

  it('a store read that began before a forget does not put the forgotten token back', async () => {
    const cache = new TokenCache({ ttlMs: 5000, now: () => 3_000_000 });
    const record = await connection(`cache-${kind}-d`, 'scim_token-d');
    // The read starts (and reads the record) before the rotation's forget, and finishes after it.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const slow: Store = Object.create(store, {
      findConnectionByTokenHash: {
        value: async (hash: string) => {
          const found = await store.findConnectionByTokenHash(hash);
          await held;
          return found;
        },
      },
    });
    const inFlight = authenticate(slow, 'Bearer scim_token-d', Date.now(), cache);
    await new Promise((resolve) => setImmediate(resolve));
    cache.forgetCustomer(record.customerId);
    release();
    expect(await inFlight).toMatchObject({ connectionId: record.connectionId });
    expect(cache.size).toBe(0);
    expect(await auth('scim_token-d', cache)).toEqual({ result: record.connectionId, calls: ['findConnectionByTokenHash'] });
  });

  it('ttlMs 0 turns the cache off', async () => {
    const cache = new TokenCache({ ttlMs: 0 });
    const record = await connection(`cache-${kind}-c`, 'scim_token-c');
    for (let i = 0; i < 2; i++) expect(await auth('scim_token-c', cache)).toEqual({ result: record.connectionId, calls: ['findConnectionByTokenHash'] });
    expect(cache.size).toBe(0);
  });
});

describe.each<Kind>(['memory', 'redis', 'redis cluster'])('the login decision step, Store.recordLogin (%s store)', (kind) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    startTracing();
    const made = await storeOf(kind, `record-login-${kind.replace(' ', '-')}`);
    store = made.store;
    cleanup = made.cleanup;
  });
  afterAll(async () => {
    stopTracing();
    await cleanup?.();
  });

  const attempt = (connectionId: string | null, value: string) => ({
    connectionId,
    lookup: { attribute: 'userName', value },
    inactiveWhenFalse: 'active',
    user: {
      subject: `sub-${value}`,
      email: value,
      emailVerified: true,
      preferredUsername: null,
      name: null,
      claims: {},
      firstSeenAt: '2026-01-01T00:00:00.000Z',
      lastSeenAt: '2026-01-01T00:00:00.000Z',
      lastOutcome: 'admitted' as const,
      lastReason: null,
      lastScimUserId: null,
    },
  });

  it('looks up, decides and records in one Redis command on standalone Redis, two on a Cluster (different slots)', async () => {
    const customerId = `login-${kind.replace(' ', '-')}`;
    const connectionId = `conn-${customerId}`;
    await store.createConnection({
      connectionId,
      customerId,
      displayName: null,
      tokenHash: `hash-${customerId}`,
      previousTokenHash: null,
      previousTokenExpiresAt: null,
      createdAt: '2026-01-01T00:00:00.000Z',
    });
    const user = (id: string, userName: string, active: boolean) => ({
      id,
      kind: 'User' as const,
      json: JSON.stringify({ id, userName, active }),
      indexes: [{ attribute: 'userName', value: userName, unique: false }],
    });
    await store.createResource(connectionId, user('u-on', 'on@corp.test', true));
    await store.createResource(connectionId, user('u-off', 'off@corp.test', false));
    await store.createResource(connectionId, user('u-gone', 'gone@corp.test', true));
    await store.deleteResource(connectionId, 'User', 'u-gone');
    const cases: [string, string | null, unknown][] = [
      ['on@corp.test', connectionId, { lastOutcome: 'admitted', lastReason: null, lastScimUserId: 'u-on' }],
      ['off@corp.test', connectionId, { lastOutcome: 'refused', lastReason: 'deactivated', lastScimUserId: 'u-off' }],
      ['gone@corp.test', connectionId, { lastOutcome: 'refused', lastReason: 'deleted', lastScimUserId: null }],
      ['never@corp.test', connectionId, { lastOutcome: 'refused', lastReason: 'not_provisioned', lastScimUserId: null }],
      ['anyone@corp.test', null, { lastOutcome: 'admitted', lastReason: null, lastScimUserId: null }],
    ];
    // Twice: the first pass loads the scripts (ioredis sends EVAL before it knows the script is cached).
    for (const pass of [1, 2]) {
      for (const [value, conn, expected] of cases) {
        const counted: Counted = { storeCalls: [], redisCommands: [] };
        recording = counted;
        const { recorded } = await store.recordLogin(customerId, attempt(conn, value));
        recording = null;
        expect(recorded).toEqual(expected);
        const listed = (await store.listSsoUsers(customerId)).find((u) => u.subject === `sub-${value}`);
        expect(listed).toMatchObject(expected as object);
        if (pass === 1) continue;
        const perStore = kind === 'memory' ? 0 : kind === 'redis' || conn === null ? 1 : 2;
        expect(counted.redisCommands).toHaveLength(perStore);
        expect(counted.redisCommands.every((c) => c === 'evalsha')).toBe(true);
      }
    }
  });
});
