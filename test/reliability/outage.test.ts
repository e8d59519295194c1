/**
 * Redis outages with a real redis-server this file owns (test/support/redis-process.ts), killed in the
 * middle of concurrent SCIM traffic and restarted on the same port:
 *
 * - every SCIM response while Redis is down is a 503 with an integer `Retry-After` and an RFC 7644 §3.12
 *   error body, never a 500;
 * - the guard fails closed: `runGuard` throws SsoLoginError 503, a login (new, or finishing at the callback)
 *   answers 503 `store_unavailable`, and a logged-in session is not let through `requireActiveUser`;
 * - nothing is half-written: Redis runs with `--appendonly yes --appendfsync always`, so what was
 *   acknowledged survives the crash, and after the restart every index entry points at a live resource that
 *   holds it and every resource is reachable from its indexes (checked in Redis itself, see storeProblems);
 *   users whose create was in flight at the crash are either whole or absent;
 * - after the restart the same app, with the same ioredis client, serves again without any restart.
 *
 * Then the same with a hung server (SIGSTOP: only commandTimeout makes it visible), and with the masters of
 * a Redis Cluster of this file's own killed one, then all, and restarted.
 *
 * Timings (stop → first 503, restart → first success) are measured and printed, never asserted.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scimSso, type ScimSso } from '../support/sso.js';
import { SsoLoginError } from '../../src/errors.js';
import { runGuard } from '../../src/guard/guard.js';
import { redisStore } from '../../src/store/redis.js';
import type { Store, StoredConnection, StoredOidcClient } from '../../src/store/store.js';
import { startLoginHarness, type Customer, type LoginHarness } from '../e2e/harness.js';
import { Browser } from '../support/browser.js';
import { RedisClusterProcess, RedisProcess } from '../support/redis-process.js';
import { storeProblems } from '../support/redis.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

/**
 * The ioredis settings recommended for an app using redisStore (standalone Redis):
 * - enableOfflineQueue: false — while the connection is down a command fails at once ("Stream isn't
 *   writeable") instead of waiting in a queue: the outage is visible as a 503 within milliseconds.
 * - maxRetriesPerRequest: 1 — a command already sent when the connection dropped is failed after one
 *   reconnection attempt (default 20: ~10 s of hanging requests).
 * - retryStrategy: reconnect forever, at most 1 s apart, so the app recovers on its own within ~1 s of Redis
 *   coming back (the default caps at 2 s; returning a non-number would stop reconnecting for good).
 * - connectTimeout: 2 s, for a host that drops packets instead of refusing (default 10 s).
 * - commandTimeout: 2 s, for a server that accepted the command but does not answer (hung, partitioned
 *   without a reset): without it such requests wait forever.
 */
const RECOMMENDED_CLIENT_OPTIONS: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  retryStrategy: (times) => Math.min(times * 100, 1000),
  connectTimeout: 2000,
  commandTimeout: 2000,
};

/**
 * The same for a Redis Cluster client (`new Cluster(nodes, options)`): enableOfflineQueue and the
 * reconnection strategy live at the top level there, the per-node settings under redisOptions.
 */
const RECOMMENDED_CLUSTER_OPTIONS: ClusterOptions = {
  enableOfflineQueue: false,
  clusterRetryStrategy: (times) => Math.min(times * 100, 1000),
  redisOptions: { maxRetriesPerRequest: 1, connectTimeout: 2000, commandTimeout: 2000 },
};

/** The same with the offline queue on: commands issued while disconnected wait, then fail on the next retry round. */
const OFFLINE_QUEUE_CLIENT_OPTIONS: RedisOptions = { ...RECOMMENDED_CLIENT_OPTIONS, enableOfflineQueue: true };

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Sample {
  op: string;
  started: number;
  ended: number;
  status: number;
  retryAfter: string | null;
  contentType: string | null;
  body: any;
}

/**
 * A SCIM app (Express + scimSso) on `store`, with one connection; every response is recorded. `call` acts
 * with that connection's token unless given another.
 */
async function scimApp(store: Store, hint: string) {
  const unexpected: unknown[] = [];
  // The rate limit is not what this test is about: hundreds of requests a second must reach the store.
  const sso = scimSso({ store, rateLimit: false, onError: (error) => unexpected.push(error) });
  const { token, connectionId } = await sso.createScimConnection({ customerId: `${hint}-scim` });
  const app = express();
  app.use(sso);
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const samples: Sample[] = [];
  async function call(op: string, method: string, path: string, body?: unknown, bearer = token): Promise<Sample> {
    const started = performance.now();
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${origin}/scim/v2${path}`, {
        method,
        headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/scim+json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      text = await response.text();
    } catch (error) {
      // No HTTP answer at all (e.g. the app was closed under a failing test): recorded as status 0.
      const sample: Sample = { op, started, ended: performance.now(), status: 0, retryAfter: null, contentType: null, body: String(error) };
      samples.push(sample);
      return sample;
    }
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // kept as text
    }
    const sample: Sample = {
      op,
      started,
      ended: performance.now(),
      status: response.status,
      retryAfter: response.headers.get('retry-after'),
      contentType: response.headers.get('content-type'),
      body: parsed,
    };
    samples.push(sample);
    return sample;
  }
  return {
    sso: sso as ScimSso,
    connectionId,
    samples,
    unexpected,
    call,
    createUser: (userName: string, bearer = token) =>
      call(
        'create',
        'POST',
        '/Users',
        { schemas: [USER], userName, externalId: `ext-${userName}`, emails: [{ value: userName, primary: true }], active: true },
        bearer,
      ),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

type App = Awaited<ReturnType<typeof scimApp>>;

/**
 * `workers` loops of SCIM requests (create, read, filter, patch, delete, list) until stop() is called.
 * Ids of created users are shared, so reads and writes hit real resources.
 */
function traffic(app: App, workers: number, label: string) {
  let running = true;
  const ids: string[] = [];
  let n = 0;
  const pick = () => ids[Math.floor(Math.random() * ids.length)];
  const loops = Array.from({ length: workers }, async (_, w) => {
    while (running) {
      const i = n++;
      const id = pick();
      let sample: Sample;
      switch (id === undefined ? 0 : i % 6) {
        case 0: {
          sample = await app.createUser(`${label}-${w}-${i}@load.test`);
          if (sample.status === 201) ids.push(sample.body.id);
          break;
        }
        case 1:
          sample = await app.call('get', 'GET', `/Users/${id}`);
          break;
        case 2:
          sample = await app.call('filter', 'GET', `/Users?filter=${encodeURIComponent(`externalId eq "ext-${label}-${w}-${i - 2}@load.test"`)}`);
          break;
        case 3:
          sample = await app.call('patch', 'PATCH', `/Users/${id}`, {
            schemas: [PATCH_OP],
            Operations: [{ op: 'replace', path: 'displayName', value: `name ${i}` }],
          });
          break;
        case 4:
          sample = await app.call('list', 'GET', '/Users?count=5');
          break;
        default:
          sample = await app.call('delete', 'DELETE', `/Users/${id}`);
          if (sample.status === 204) ids.splice(ids.indexOf(id!), 1);
      }
      // Outside the outage there is no reason to spin: keep CI's two cores for the servers.
      if (sample.status === 503) await sleep(20);
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** The shape every 503 must have: integer Retry-After, SCIM media type, RFC 7644 §3.12 body. */
function expectUnavailable(sample: Sample): void {
  expect({ op: sample.op, status: sample.status }).toEqual({ op: sample.op, status: 503 });
  expect(sample.retryAfter).toMatch(/^\d+$/);
  expect(sample.contentType).toMatch(/^application\/scim\+json/);
  expect(sample.body).toMatchObject({ schemas: [ERROR], status: '503', detail: expect.any(String) });
}

/** Polls `fn` until it returns true, at most `ms`; returns the time it took. */
async function until(fn: () => Promise<boolean>, ms: number, what: string): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < ms) {
    try {
      if (await fn()) return performance.now() - started;
    } catch {
      // not yet
    }
    await sleep(20);
  }
  throw new Error(`${what}: not within ${ms} ms`);
}

describe.each([
  { name: 'SIGKILL, recommended client (offline queue off)', options: RECOMMENDED_CLIENT_OPTIONS, how: 'kill' as const, e2e: true },
  { name: 'SHUTDOWN NOSAVE, offline queue on', options: OFFLINE_QUEUE_CLIENT_OPTIONS, how: 'shutdown' as const, e2e: false },
])('Redis stopped mid-traffic ($name)', ({ name, options, how, e2e }) => {
  let redis: RedisProcess;
  let client: Redis;
  let store: Store;
  let app: App;
  let h: LoginHarness | null = null;
  let customer: Customer;
  let guardConfig: { client: StoredOidcClient; connection: StoredConnection | null };
  const prefix = 'outage:';

  beforeAll(async () => {
    redis = await RedisProcess.start({ persistence: 'aof' });
    client = new Redis({ host: '127.0.0.1', port: redis.port, lazyConnect: true, ...options });
    client.on('error', () => {}); // reconnection errors are expected here; ioredis logs unhandled ones
    await client.connect();
    store = redisStore({ client, prefix });
    app = await scimApp(store, 'outage');
    if (e2e) {
      h = await startLoginHarness({ store: 'memory', adapter: 'express', hint: 'outage-e2e', wrapStore: () => store });
      customer = await h.customer({ customerId: 'outage-login', tenant: 'outage', idpType: 'Okta' });
      h.idp.upsertAccount('outage', { sub: 'sub-ann', email: 'ann@outage.test', email_verified: true });
      await customer.scim.createUser({ userName: 'ann@outage.test', active: true });
    }
  });
  afterAll(async () => {
    await h?.close();
    await app?.close();
    client?.disconnect();
    await redis?.close();
  });

  it('answers 503 + Retry-After while Redis is down, refuses logins, loses nothing acknowledged, and recovers on its own', async () => {
    const t: Record<string, number> = {};
    const before = await app.createUser('before@outage.test');
    expect(before.status).toBe(201);
    const browser = new Browser();
    const pendingBrowser = new Browser();
    let pendingCallback: string | null = null;
    if (h) {
      // The guard's input, read while Redis is up (what the login route reads at the callback).
      guardConfig = {
        client: (await store.getOidcClient(customer.customerId))!,
        connection: await store.getConnectionByCustomer(customer.customerId),
      };
      const admitted = await runGuard(store, guardConfig, { sub: 'sub-ann', email: 'ann@outage.test', email_verified: true });
      expect(admitted.decision.admit).toBe(true);
      const login = await h.login(browser, customer.customerId, 'sub-ann');
      expect(login.status, JSON.stringify(login.body)).toBe(200);
      // A second login, stopped just before the app's callback: it finishes during the outage.
      pendingCallback = await h.startLogin(pendingBrowser, customer.customerId, 'sub-ann');
    }

    // Traffic, then the stop in its middle, with a burst of creates in flight.
    const load = traffic(app, 6, 'load');
    let confirmed!: Sample;
    let burstResults: Sample[];
    let firstSuccess = 0;
    try {
      await sleep(400);
      confirmed = await app.createUser('confirmed@outage.test');
      expect(confirmed.status).toBe(201);
      // Stop as soon as the first of 20 concurrent creates is answered: some are done, some in flight.
      const burst = Array.from({ length: 20 }, (_, i) => app.createUser(`burst-${i}@outage.test`));
      await Promise.race(burst);
      t.stop = performance.now();
      await redis.stop(how);
      t.stopped = performance.now();
      burstResults = await Promise.all(burst);

      // The outage: traffic keeps going for a while; then the guard, the login routes and the session check.
      await sleep(1000);
      if (h) {
        await expect(runGuard(store, guardConfig, { sub: 'sub-ann', email: 'ann@outage.test', email_verified: true })).rejects.toSatisfy(
          (error) => error instanceof SsoLoginError && error.status === 503 && error.code === 'store_unavailable',
        );
        const atCallback = await pendingBrowser.navigate(pendingCallback!);
        expect(atCallback.response.status).toBe(503);
        expect(atCallback.response.headers.get('retry-after')).toMatch(/^\d+$/);
        expect(await atCallback.response.json()).toMatchObject({ error: 'store_unavailable' });
        const fresh = await h.login(new Browser(), customer.customerId, 'sub-ann');
        expect(fresh.status).toBe(503);
        expect(fresh.body).toMatchObject({ error: 'store_unavailable' });
        const me = await h.me(browser);
        expect(me.status).toBe(503);
        expect(me.body).toMatchObject({ error: 'store_unavailable' });
      }
      t.restart = performance.now();
      await redis.restart();
      t.restarted = performance.now();

      // Recovery without touching the app or its client.
      await until(
        async () => {
          const created = await app.createUser(`after-${Math.random()}@outage.test`);
          if (created.status !== 201) return false;
          firstSuccess = created.ended;
          const read = await app.call('get-after', 'GET', `/Users/${created.body.id}`);
          return read.status === 200;
        },
        20_000,
        'SCIM POST + GET after the restart',
      );
      await sleep(300);
    } finally {
      await load.stop();
    }

    const samples = app.samples;
    expect(samples.filter((s) => s.status === 0).map((s) => `${s.op}: ${s.body}`)).toEqual([]);
    // Never a 500 (or any 5xx but 503), and every 503 is well-formed.
    expect(samples.filter((s) => s.status >= 500 && s.status !== 503).map((s) => `${s.op} ${s.status} ${JSON.stringify(s.body)}`)).toEqual([]);
    for (const s of samples.filter((x) => x.status === 503)) expectUnavailable(s);
    expect(app.unexpected).toEqual([]);
    // Before the crash everything succeeded; every request made while Redis was down was a 503.
    expect(samples.filter((s) => s.ended < t.stop! && s.status >= 500)).toEqual([]);
    const during = samples.filter((s) => s.started > t.stopped! && s.ended < t.restart!);
    expect(during.length).toBeGreaterThan(5);
    for (const s of during) expectUnavailable(s);
    // After the first success, every request succeeds again.
    expect(samples.filter((s) => s.started > firstSuccess && s.status >= 500)).toEqual([]);

    // Nothing lost, nothing half-written.
    const findByUserName = async (userName: string) => {
      const res = await app.call('check', 'GET', `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`);
      expect(res.status).toBe(200);
      return res.body.Resources as { id: string; userName: string; externalId: string; emails: { value: string }[] }[];
    };
    for (const acknowledged of [before, confirmed]) {
      expect(await findByUserName(acknowledged.body.userName)).toMatchObject([{ id: acknowledged.body.id }]);
    }
    const outcomes: Record<string, number> = {};
    for (const [i, result] of burstResults.entries()) {
      const userName = `burst-${i}@outage.test`;
      outcomes[result.status] = (outcomes[result.status] ?? 0) + 1;
      expect([201, 503]).toContain(result.status);
      const found = await findByUserName(userName);
      if (result.status === 201) expect(found).toMatchObject([{ id: result.body.id }]);
      expect(found.length).toBeLessThanOrEqual(1);
      if (found.length === 1) {
        // Whole: readable by id, with every attribute the create sent, and findable by each of its indexes.
        const read = await app.call('check', 'GET', `/Users/${found[0]!.id}`);
        expect(read.status).toBe(200);
        expect(read.body).toMatchObject({ userName, externalId: `ext-${userName}`, emails: [{ value: userName }], active: true });
        const byExternal = await app.call('check', 'GET', `/Users?filter=${encodeURIComponent(`externalId eq "ext-${userName}"`)}`);
        expect(byExternal.status).toBe(200);
        expect(byExternal.body.Resources.map((r: { id: string }) => r.id)).toEqual([found[0]!.id]);
      }
    }
    expect(await storeProblems(client, prefix, app.connectionId)).toEqual([]);
    if (h) expect(await storeProblems(client, prefix, customer.connectionId!)).toEqual([]);

    // Logins work again, through the same app instance.
    if (h) {
      const again = await h.login(new Browser(), customer.customerId, 'sub-ann');
      expect(again.status, JSON.stringify(again.body)).toBe(200);
      expect(h.serverErrors).toEqual([]);
      expect(h.idp.errors).toEqual([]);
    }

    const first503 = samples.filter((s) => s.status === 503).sort((a, b) => a.ended - b.ended)[0]!;
    t.stopToFirst503 = first503.ended - t.stop!;
    // The first 2xx answered after the restart, from the traffic or the polling, whichever came first.
    const recovered = Math.min(...samples.filter((s) => s.ended > t.restart! && s.status >= 200 && s.status < 300).map((s) => s.ended));
    t.restartToFirstSuccess = recovered - t.restarted!;
    t.spawnToFirstSuccess = recovered - t.restart!;
    t.requests = samples.length;
    t.during = during.length;
    console.log(
      `[outage] ${name}: stop → first 503 ${t.stopToFirst503.toFixed(0)} ms; ` +
        `restart (PING ok) → first success ${t.restartToFirstSuccess.toFixed(0)} ms ` +
        `(from spawn ${t.spawnToFirstSuccess.toFixed(0)} ms); ${samples.length} requests, ${during.length} during the outage, ` +
        `in-flight burst: ${JSON.stringify(outcomes)}`,
    );
  }, 60_000);
});

/** A redis-server of the test's own (no persistence), the recommended client on it, and a SCIM app on that. */
async function standaloneApp(hint: string): Promise<{ redis: RedisProcess; client: Redis; app: App; close(): Promise<void> }> {
  const redis = await RedisProcess.start({ persistence: 'none' });
  const client = new Redis({ host: '127.0.0.1', port: redis.port, lazyConnect: true, ...RECOMMENDED_CLIENT_OPTIONS });
  client.on('error', () => {});
  await client.connect();
  const app = await scimApp(redisStore({ client, prefix: `${hint}:` }), hint);
  return {
    redis,
    client,
    app,
    async close() {
      await app.close();
      client.disconnect();
      await redis.close();
    },
  };
}

describe('Redis hung (SIGSTOP), recommended client', () => {
  let redis: RedisProcess;
  let client: Redis;
  let app: App;
  let close = async () => {};

  beforeAll(async () => {
    ({ redis, client, app, close } = await standaloneApp('hung'));
  });
  afterAll(async () => {
    await close();
  });

  it('answers 503 once commandTimeout passes, and serves again when Redis answers again', async () => {
    expect((await app.createUser('before@hung.test')).status).toBe(201);
    redis.pause();
    const stopped = performance.now();
    try {
      const during = await Promise.all([
        app.createUser('during@hung.test'),
        app.call('get', 'GET', '/Users?count=5'),
        app.call('filter', 'GET', `/Users?filter=${encodeURIComponent('userName eq "before@hung.test"')}`),
      ]);
      for (const s of during) expectUnavailable(s);
      const first503 = Math.min(...during.map((s) => s.ended)) - stopped;
      console.log(`[outage] hung Redis: SIGSTOP → first 503 ${first503.toFixed(0)} ms (commandTimeout ${RECOMMENDED_CLIENT_OPTIONS.commandTimeout} ms)`);
    } finally {
      redis.resume();
    }
    const resumed = performance.now();
    await until(async () => (await app.call('list', 'GET', '/Users?count=5')).status === 200, 20_000, 'SCIM after SIGCONT');
    console.log(`[outage] hung Redis: SIGCONT → first success ${(performance.now() - resumed).toFixed(0)} ms`);
    // The create that timed out may have run once Redis resumed: either way, it is whole or absent.
    const list = await app.call('check', 'GET', `/Users?filter=${encodeURIComponent('userName eq "during@hung.test"')}`);
    expect(list.body.totalResults).toBeLessThanOrEqual(1);
    expect(await storeProblems(client, 'hung:', app.connectionId)).toEqual([]);
    expect(app.samples.filter((s) => s.status >= 500 && s.status !== 503)).toEqual([]);
    expect(app.unexpected).toEqual([]);
  }, 60_000);
});

describe('Redis demoted to a replica whose master is unreachable (a failover gone wrong), recommended client', () => {
  let redis: RedisProcess;
  let admin: Redis;
  let app: App;
  let close = async () => {};

  beforeAll(async () => {
    ({ redis, app, close } = await standaloneApp('demoted'));
    admin = new Redis(redis.url);
  });
  afterAll(async () => {
    admin?.disconnect();
    await close();
  });

  it('answers 503 + Retry-After (never 500) to reads and writes a replica refuses, and serves again once it is a master', async () => {
    expect((await app.createUser('before@demoted.test')).status).toBe(201);
    const unusedPort = redis.port === 1 ? 2 : 1; // nothing listens there: the replica's master stays down
    await admin.call('REPLICAOF', '127.0.0.1', String(unusedPort));
    // Without stale data a replica answers every command MASTERDOWN.
    await admin.config('SET', 'replica-serve-stale-data', 'no');
    for (const s of await Promise.all([app.createUser('masterdown@demoted.test'), app.call('list', 'GET', '/Users?count=5')])) expectUnavailable(s);
    // With stale data it serves reads and refuses writes (READONLY, inside the write's script).
    await admin.config('SET', 'replica-serve-stale-data', 'yes');
    expect((await app.call('list', 'GET', '/Users?count=5')).status).toBe(200);
    expectUnavailable(await app.createUser('readonly@demoted.test'));
    await admin.call('REPLICAOF', 'NO', 'ONE');
    expect((await app.createUser('after@demoted.test')).status).toBe(201);
    expect(app.samples.filter((s) => s.status >= 500 && s.status !== 503)).toEqual([]);
    expect(app.unexpected).toEqual([]);
  }, 30_000);
});

describe('Redis refusing commands while up: out of memory (noeviction), busy running a script, no replicas, a failed snapshot', () => {
  let redis: RedisProcess;
  let admin: Redis;
  let app: App;
  let close = async () => {};

  beforeAll(async () => {
    ({ redis, app, close } = await standaloneApp('refusing'));
    admin = new Redis(redis.url);
  });
  afterAll(async () => {
    admin?.disconnect();
    await close();
  });

  it('answers 503 + Retry-After (never 500) to writes refused with OOM, writes nothing, and serves again with room', async () => {
    expect((await app.createUser('before@refusing.test')).status).toBe(201);
    const used = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1]);
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    // Well under what is used: used_memory moves by ~25 KB between two reads, so a limit of exactly `used`
    // left room for the write one run in 20 (and, never reset, failed the next tests of this file too).
    await admin.config('SET', 'maxmemory', String(Math.floor(used / 2)));
    try {
      expectUnavailable(await app.createUser('oom@refusing.test'));
      // Reads still answer.
      expect((await app.call('list', 'GET', '/Users?count=5')).status).toBe(200);
    } finally {
      await admin.config('SET', 'maxmemory', '0');
    }
    const listed = await app.call('list', 'GET', `/Users?filter=${encodeURIComponent('userName eq "oom@refusing.test"')}`);
    expect(listed.body).toMatchObject({ totalResults: 0 });
    expect((await app.createUser('after@refusing.test')).status).toBe(201);
    expect(app.samples.filter((s) => s.status >= 500 && s.status !== 503)).toEqual([]);
    expect(app.unexpected).toEqual([]);
  }, 30_000);

  it('decides logins while Redis is full or waits for replicas (its data is current), recording nothing; refuses them on a replica', async () => {
    // Found by an audit of Redis deployments (2026-12-07): every login was refused store_unavailable while
    // Redis refused writes, active people included, since the lookup and its record were one script.
    const customerId = `${'refusing'}-scim`;
    const active = await app.createUser('active@refusing.test');
    const gone = await app.createUser('gone@refusing.test');
    expect([active.status, gone.status]).toEqual([201, 201]);
    const deactivated = await app.call('deactivate', 'PATCH', `/Users/${(gone.body as { id: string }).id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'active', value: false }],
    });
    expect(deactivated.status).toBe(204);
    const store = app.sso.store;
    const guardConfig = { client: makeGuardClient(customerId), connection: await store.getConnectionByCustomer(customerId) };
    const login = (email: string) =>
      runGuard(store, guardConfig, { sub: `sub-${email}`, email, email_verified: true }).then(
        (result) => (result.decision.admit ? `admitted ${result.sessionUser.userName}` : `refused ${result.decision.reason}`),
        (error: unknown) => `error ${(error as { code?: string }).code ?? String(error)}`,
      );
    const refuseWrites = async (how: 'oom' | 'noreplicas') => {
      if (how === 'noreplicas') return void (await admin.config('SET', 'min-replicas-to-write', '1'));
      const used = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1]);
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
      await admin.config('SET', 'maxmemory', String(Math.floor(used / 2)));
    };
    for (const how of ['oom', 'noreplicas'] as const) {
      await refuseWrites(how);
      try {
        expect(await login('active@refusing.test'), how).toBe('admitted active@refusing.test');
        expect(await login('gone@refusing.test'), how).toBe('refused deactivated');
        expect(await login('never@refusing.test'), how).toBe('refused not_provisioned');
      } finally {
        await admin.config('SET', 'maxmemory', '0');
        await admin.config('SET', 'min-replicas-to-write', '0');
      }
    }
    // Nothing was recorded meanwhile: the attempts are not in the customer's SSO users.
    expect((await store.listSsoUsers(customerId)).map((u) => u.subject)).toEqual([]);
    // A replica may be behind its master (a deactivation not there yet): logins are refused there.
    await admin.call('REPLICAOF', '127.0.0.1', String(redis.port === 1 ? 2 : 1));
    try {
      await admin.config('SET', 'replica-serve-stale-data', 'yes');
      expect(await login('active@refusing.test')).toBe('error store_unavailable');
    } finally {
      await admin.call('REPLICAOF', 'NO', 'ONE');
    }
    expect(await login('active@refusing.test')).toBe('admitted active@refusing.test');
    expect(app.unexpected).toEqual([]);
  }, 30_000);

  it('answers 503 + Retry-After while Redis is BUSY with a long script, and serves once it ends', async () => {
    await admin.config('SET', 'busy-reply-threshold', '50');
    // A read-only script that spins for about 1.5 s on another connection.
    const spinner = new Redis(redis.url);
    const spinning = spinner.eval(
      "local t = redis.call('TIME') local stop = t[1] * 1000000 + t[2] + 1500000 while true do t = redis.call('TIME') if t[1] * 1000000 + t[2] > stop then break end end return 1",
      0,
    );
    await sleep(200);
    expectUnavailable(await app.createUser('busy@refusing.test'));
    expect(await spinning).toBe(1);
    spinner.disconnect();
    expect((await app.createUser('not-busy@refusing.test')).status).toBe(201);
    expect(app.samples.filter((s) => s.status >= 500 && s.status !== 503)).toEqual([]);
    expect(app.unexpected).toEqual([]);
  }, 30_000);

  it('answers 503 + Retry-After to writes refused for want of replicas (NOREPLICAS), and serves once none are required', async () => {
    await admin.config('SET', 'min-replicas-to-write', '1');
    try {
      expectUnavailable(await app.createUser('noreplicas@refusing.test'));
      expect((await app.call('list', 'GET', '/Users?count=5')).status).toBe(200);
    } finally {
      await admin.config('SET', 'min-replicas-to-write', '0');
    }
    expect((await app.createUser('replicated@refusing.test')).status).toBe(201);
    expect(app.samples.filter((s) => s.status >= 500 && s.status !== 503)).toEqual([]);
    expect(app.unexpected).toEqual([]);
  }, 30_000);

  it('answers 503 + Retry-After to writes refused after a failed snapshot (MISCONF), and serves once writes are allowed again', async () => {
    // A snapshot into Redis's directory, removed under it, fails; with a save point set, Redis then refuses writes.
    const [, saved] = (await admin.config('GET', 'save')) as [string, string];
    await admin.config('SET', 'save', '3600 1');
    rmSync(redis.dir, { recursive: true, force: true });
    try {
      await admin.bgsave();
      for (let i = 0; i < 100 && !/rdb_last_bgsave_status:err/.test(await admin.info('persistence')); i++) await sleep(20);
      expect(await admin.info('persistence')).toMatch(/rdb_last_bgsave_status:err/);
      expectUnavailable(await app.createUser('misconf@refusing.test'));
    } finally {
      // A snapshot that succeeds ends the refusal.
      mkdirSync(redis.dir, { recursive: true });
      await admin.bgsave();
      for (let i = 0; i < 100 && !/rdb_bgsave_in_progress:0[\s\S]*rdb_last_bgsave_status:ok/.test(await admin.info('persistence')); i++) await sleep(20);
      await admin.config('SET', 'save', saved);
    }
    expect((await app.createUser('saved@refusing.test')).status).toBe(201);
    expect(app.samples.filter((s) => s.status >= 500 && s.status !== 503)).toEqual([]);
    expect(app.unexpected).toEqual([]);
  }, 30_000);
});

describe('Redis Cluster with masters killed, recommended cluster client', () => {
  let cluster: RedisClusterProcess;
  let client: Cluster;
  let store: Store;
  let app: App;
  const prefix = 'cl-outage:';

  beforeAll(async () => {
    // A cluster of this file's own (the shared one must stay up for the other files), with AOF so that
    // the data written before the crash is there after the restart.
    cluster = await RedisClusterProcess.start({ persistence: 'aof' });
    client = new Cluster(cluster.nodes, { lazyConnect: true, ...RECOMMENDED_CLUSTER_OPTIONS });
    client.on('error', () => {});
    await client.connect();
    store = redisStore({ client, prefix });
    app = await scimApp(store, 'cl-outage');
  });
  afterAll(async () => {
    await app?.close();
    client?.disconnect();
    await cluster?.close();
  });

  /** The port of the master serving `key`. */
  async function masterOf(key: string): Promise<number> {
    const slot = Number(await client.call('CLUSTER', 'KEYSLOT', key));
    const ranges = (await client.cluster('SLOTS')) as unknown as [number, number, [string, number]][];
    return ranges.find(([from, to]) => slot >= from && slot <= to)![2][1];
  }

  it('answers 503 (never 500) for the connections of a dead master and when all are dead, and recovers after the restart', async () => {
    // Connections until one lives on each of two different masters (tag and token key alike for the survivor).
    const made: { customerId: string; token: string; connectionId: string; tagMaster: number; tokenMaster: number }[] = [];
    // Random ids and tokens: 12 left no survivor about one run in 700, so go on until one exists.
    const survives = (c: (typeof made)[number]) => c.tagMaster !== made[0]!.tagMaster && c.tokenMaster !== made[0]!.tagMaster;
    for (let i = 0; i < 12 || (i < 200 && !made.some(survives)); i++) {
      const customerId = `cl-outage-${i}`;
      const { token, connectionId } = await app.sso.createScimConnection({ customerId });
      const tokenKey = `${prefix}token:${createHash('sha256').update(token).digest('hex')}`;
      made.push({ customerId, token, connectionId, tagMaster: await masterOf(`${prefix}{c:${connectionId}}:`), tokenMaster: await masterOf(tokenKey) });
    }
    const doomed = made[0]!;
    const victim = doomed.tagMaster;
    const survivor = made.find(survives)!;
    expect(survivor).toBeDefined();
    const before = await app.createUser('before@cl-outage.test', doomed.token);
    expect(before.status).toBe(201);
    expect((await app.createUser('before@cl-outage.test', survivor.token)).status).toBe(201);
    const guardConfig = {
      client: makeGuardClient(doomed.customerId),
      connection: await store.getConnectionByCustomer(doomed.customerId),
    };

    // One master down: its connections answer 503, the guard refuses with 503, other connections go on.
    const killed = performance.now();
    await cluster.kill(cluster.indexOf(victim));
    const oneDown: Sample[] = [];
    for (let i = 0; i < 3; i++) {
      oneDown.push(await app.call('list', 'GET', '/Users', undefined, doomed.token));
      oneDown.push(await app.createUser(`one-down-${i}@cl-outage.test`, doomed.token));
    }
    const firstDoomed503 = oneDown.find((s) => s.status === 503);
    const guardError = await runGuard(store, guardConfig, { sub: 'sub-x', email: 'before@cl-outage.test', email_verified: true }).then(
      () => null,
      (error: unknown) => error,
    );
    const survivorList = await app.call('list', 'GET', '/Users', undefined, survivor.token);
    console.log(
      `[outage] cluster, one master killed: first 503 after ${firstDoomed503 ? (firstDoomed503.ended - killed).toFixed(0) : '-'} ms; ` +
        `requests on it took ${oneDown.map((s) => `${s.status}/${(s.ended - s.started).toFixed(0)}ms`).join(' ')}; ` +
        `a connection on a live master answered ${survivorList.status}`,
    );
    // Soft: the steps below run even when these fail, so one run shows every unavailable-but-500 case.
    expect.soft(oneDown.map(outcome), 'one master down').toEqual(oneDown.map((s) => `${s.op} 503`));
    expect
      .soft(guardError instanceof SsoLoginError ? { status: guardError.status, code: guardError.code } : String(guardError), 'guard, one master down')
      .toEqual({ status: 503, code: 'store_unavailable' });
    if (survivorList.status !== 200) expect.soft(outcome(survivorList), 'a connection on a live master').toBe('list 503');

    // Every master down: every request answers 503 at once.
    for (const port of cluster.nodes.map((n) => n.port)) await cluster.kill(cluster.indexOf(port));
    await sleep(200);
    const allDown: Sample[] = [];
    for (const c of [doomed, survivor]) {
      allDown.push(await app.call('list', 'GET', '/Users', undefined, c.token));
      allDown.push(await app.createUser('all-down@cl-outage.test', c.token));
    }
    expect.soft(allDown.map(outcome), 'every master down').toEqual(allDown.map((s) => `${s.op} 503`));

    // Restart every node (same ports, same nodes.conf, AOF): the same app and client serve again.
    for (const port of cluster.nodes.map((n) => n.port)) await cluster.restart(cluster.indexOf(port));
    const restarted = performance.now();
    const recovery = await until(
      async () =>
        (await app.createUser(`after-${Math.random()}@cl-outage.test`, doomed.token)).status === 201 &&
        (await app.call('list', 'GET', '/Users', undefined, survivor.token)).status === 200,
      20_000,
      'SCIM on the cluster after the restart',
    );
    console.log(
      `[outage] cluster, all masters restarted: first success after ${(performance.now() - restarted).toFixed(0)} ms (poll ${recovery.toFixed(0)} ms)`,
    );
    for (const c of [doomed, survivor]) {
      const found = await app.call('check', 'GET', `/Users?filter=${encodeURIComponent('userName eq "before@cl-outage.test"')}`, undefined, c.token);
      expect(found.body.totalResults).toBe(1);
      expect(await storeProblems(client, prefix, c.connectionId)).toEqual([]);
    }
    for (const s of app.samples.filter((x) => x.status === 503)) expectUnavailable(s);
    // What the handler answered 500 for (reported through onError): store errors it did not see as "unavailable".
    const unrecognised = [...new Set(app.unexpected.map((e) => (e instanceof Error ? e.message.replace(/\d+/g, 'N') : String(e))))];
    if (unrecognised.length > 0) console.log(`[outage] cluster: answered 500 for ${JSON.stringify(unrecognised)}`);
    expect(unrecognised).toEqual([]);
  }, 90_000);
});

/** `<op> <status>`, plus the body when the status is not 503. */
const outcome = (s: Sample): string => (s.status === 503 ? `${s.op} 503` : `${s.op} ${s.status} ${JSON.stringify(s.body)}`);

/** An OIDC client record for the guard (runGuard takes it as given; it need not be stored). */
function makeGuardClient(customerId: string): StoredOidcClient {
  return {
    oidcClientId: `oidc-${customerId}`,
    customerId,
    idpType: 'Okta',
    issuer: 'https://idp.example',
    clientId: 'client',
    clientSecret: 'secret',
    redirectUri: 'https://app.example/callback',
    matchingStrategy: 'OidcEmailToScimUsername',
    subjectClaim: 'sub',
    claimsSource: 'auto',
    scopes: ['openid', 'email'],
    createdAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-01-01T00:00:00.000Z',
  };
}
