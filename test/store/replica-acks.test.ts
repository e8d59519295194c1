/**
 * `replicaAcks` (src/store/redis-replica-acks.ts): SCIM writes answered only once a replica holds them, on a
 * private primary and replica of the test's own (the shared test Redis has no replica). The replica is
 * stopped with SIGSTOP to make it late: it keeps its link but acknowledges nothing until resumed.
 */
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/scim/auth.js';
import { clusterSlot } from '../../src/store/cluster-slot.js';
import { redisStore } from '../../src/store/redis.js';
import { StoreUnavailableError } from '../../src/store/unavailable.js';
import { RedisClusterProcess, RedisProcess, rawCommand } from '../support/redis-process.js';
import { testCluster } from '../support/cluster.js';
import { scimRequest, scimSso, type ScimSso } from '../support/sso.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** Resolves once the replica's link to its primary is up and the primary counts it. */
async function replicationUp(primary: RedisProcess, replica: RedisProcess): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const link = await rawCommand(replica.port, 'INFO replication');
    const counted = await rawCommand(primary.port, 'INFO replication');
    if (link?.includes('master_link_status:up') && counted?.includes('connected_slaves:1')) return;
    await sleep(50);
  }
  throw new Error('the test replica never linked to its primary');
}

/** Calls of WAIT the server has answered so far. */
async function waitCalls(client: Redis): Promise<number> {
  const stats = await client.info('commandstats');
  return Number(/cmdstat_wait:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

describe('replicaAcks: writes acknowledged by replicas', () => {
  let primary: RedisProcess;
  let replica: RedisProcess;
  let client: Redis;
  let onReplica: Redis;
  const unexpected: unknown[] = [];

  beforeAll(async () => {
    primary = await RedisProcess.start({ persistence: 'none' });
    replica = await RedisProcess.start({ persistence: 'none', args: ['--replicaof', '127.0.0.1', String(primary.port)] });
    await replicationUp(primary, replica);
    // README "Guarantees"' options: lazy, without an offline queue, a command timeout under the longest wait.
    client = new Redis(primary.url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 2000 });
    await client.connect();
    onReplica = new Redis(replica.url);
  });
  afterAll(async () => {
    replica?.resume();
    await client?.quit();
    onReplica?.disconnect();
    await replica?.close();
    await primary?.close();
  });

  /** An app on the primary whose store waits `timeoutMs` for one replica, with a fresh connection. */
  async function app(name: string, timeoutMs: number): Promise<{ sso: ScimSso; token: string; connectionId: string; prefix: string }> {
    const prefix = `acks:${name}:`;
    const sso = scimSso({
      rateLimit: false,
      store: redisStore({ client, prefix, replicaAcks: { replicas: 1, timeoutMs } }),
      onError: (e) => unexpected.push(e),
    });
    const { token, connectionId } = await sso.createScimConnection({ customerId: name });
    return { sso, token, connectionId, prefix };
  }

  /** {@link app}, with one user created (through a write that waited for the replica: it was up). */
  async function appWithUser(name: string, timeoutMs: number, userName: string) {
    const made = await app(name, timeoutMs);
    const created = await made.sso.handleScim(scimRequest(made.token, 'POST', '/Users', { body: newUser(userName) }));
    expect(created.status).toBe(201);
    return { ...made, id: (JSON.parse(created.body as string) as { id: string }).id };
  }

  const newUser = (name: string) => ({ schemas: [USER], userName: `${name}@example.com`, externalId: name, active: true });
  const deactivate = { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] };

  it('answers a write only once the replica holds it', async () => {
    const { sso, token, connectionId, prefix, id } = await appWithUser('held', 10_000, 'ada');

    replica.pause();
    let answered = false;
    const patched = sso.handleScim(scimRequest(token, 'PATCH', `/Users/${id}`, { body: deactivate })).finally(() => (answered = true));
    await sleep(300);
    // Without replicaAcks the PATCH is answered within milliseconds, the replica still holding active: true.
    expect(answered).toBe(false);
    replica.resume();
    expect((await patched).status).toBe(204);
    // Read on the replica right after the answer: the deactivation is there.
    const rows = await onReplica.hvals(`${prefix}{c:${connectionId}}:u:r`);
    expect(rows.some((row) => row.includes('"active":false'))).toBe(true);
    expect(unexpected).toEqual([]);
  });

  it('answers 503 when no replica acknowledges in time; the write stays on the primary and its retry succeeds', async () => {
    const { sso, token, id } = await appWithUser('late', 200, 'bo');

    replica.pause();
    try {
      const refused = await sso.handleScim(scimRequest(token, 'PATCH', `/Users/${id}`, { body: deactivate }));
      expect(refused.status).toBe(503);
      expect(JSON.parse(refused.body as string)).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '503' });
      expect(refused.headers['Retry-After']).toEqual(expect.any(String));
      // Applied on the primary (Redis's WAIT never undoes a write): a read there sees it.
      const read = await sso.handleScim(scimRequest(token, 'GET', `/Users/${id}`));
      expect(JSON.parse(read.body as string)).toMatchObject({ active: false });
      // A refusal rests on what the primary holds, so it waits too: a DELETE of a user not there is no 404 yet.
      const missing = await sso.handleScim(scimRequest(token, 'DELETE', '/Users/not-there'));
      expect(missing.status).toBe(503);
    } finally {
      replica.resume();
    }
    const retried = await sso.handleScim(scimRequest(token, 'PATCH', `/Users/${id}`, { body: deactivate }));
    expect(retried.status).toBe(204);
    expect(unexpected).toEqual([]);
  });

  it("waits up to timeoutMs even past the app client's commandTimeout", async () => {
    const quick = new Redis(primary.url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 500 });
    await quick.connect();
    try {
      const sso = scimSso({ rateLimit: false, store: redisStore({ client: quick, prefix: 'acks:quick:', replicaAcks: { replicas: 1, timeoutMs: 5_000 } }) });
      const { token } = await sso.createScimConnection({ customerId: 'quick' });
      replica.pause();
      const created = sso.handleScim(scimRequest(token, 'POST', '/Users', { body: newUser('quick') }));
      await sleep(1_200);
      replica.resume();
      // Cut at 500 ms, the WAIT would have failed (503) while the replica was stopped.
      expect((await created).status).toBe(201);
    } finally {
      replica.resume();
      await quick.quit();
    }
  });

  it('lets reads through while the replica is late', async () => {
    const { sso, token, id } = await appWithUser('reads', 10_000, 'cy');
    replica.pause();
    try {
      // A write waits on the stopped replica; reads sent after it are answered before it.
      let written = false;
      const write = sso.handleScim(scimRequest(token, 'POST', '/Users', { body: newUser('cy-2') })).finally(() => (written = true));
      expect(await sso.handleScim(scimRequest(token, 'GET', `/Users/${id}`))).toMatchObject({ status: 200 });
      expect(await sso.handleScim(scimRequest(token, 'GET', '/Users', { query: 'filter=userName eq "cy@example.com"' }))).toMatchObject({ status: 200 });
      // A search is a read sent as POST: it does not wait either.
      const search = { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: 'userName eq "cy@example.com"' };
      expect(await sso.handleScim(scimRequest(token, 'POST', '/Users/.search', { body: search }))).toMatchObject({ status: 200 });
      expect(written).toBe(false);
      replica.resume();
      expect((await write).status).toBe(201);
    } finally {
      replica.resume();
    }
  });

  it("sends one WAIT at a time for every tenant's writes, shared by those that end while one is out", async () => {
    // One store, as an app instance has: four customers' connections share its WAITs.
    const sso = scimSso({ rateLimit: false, store: redisStore({ client, prefix: 'acks:shared:', replicaAcks: { replicas: 1, timeoutMs: 10_000 } }) });
    const tokens = await Promise.all(['a', 'b', 'c', 'd'].map(async (name) => (await sso.createScimConnection({ customerId: `shared-${name}` })).token));
    const connections = await Promise.all(tokens.map((_, t) => sso.store.getConnectionByCustomer(`shared-${'abcd'[t]}`)));
    const rowKeys = connections.map((connection) => `acks:shared:{c:${connection!.connectionId}}:u:r`);
    await sso.handleScim(scimRequest(tokens[0]!, 'POST', '/Users', { body: newUser('warm-up') }));
    const before = await waitCalls(client);
    replica.pause();
    const writes = tokens.flatMap((token, t) =>
      Array.from({ length: 5 }, (_, i) => sso.handleScim(scimRequest(token, 'POST', '/Users', { body: newUser(`many-${t}-${i}`) }))),
    );
    // Every write is on the primary (and waiting) before the replica answers again.
    for (let users = 0; users < 21;) {
      await sleep(20);
      users = 0;
      for (const key of rowKeys) users += await client.hlen(key);
    }
    replica.resume();
    const statuses = (await Promise.all(writes)).map((answer) => answer.status);
    expect(statuses).toEqual(Array(20).fill(201));
    // The first write's WAIT, then one for the 19 that ended while it was out: 20 without the sharing, 8
    // with a WAIT per customer (each queueing behind the others' on the store's one connection).
    const calls = (await waitCalls(client)) - before;
    expect(calls).toBeGreaterThanOrEqual(1);
    expect(calls).toBeLessThanOrEqual(3);
  });

  it('answers 503, not 500, when the server refuses WAIT', async () => {
    const noWait = await RedisProcess.start({ persistence: 'none', args: ['--rename-command', 'WAIT', '""'] });
    const plain = new Redis(noWait.url, { maxRetriesPerRequest: 1 });
    try {
      const errors: unknown[] = [];
      // The connection is made without acks: a settings write waits too, and would be refused the same way.
      const { token } = await scimSso({ rateLimit: false, store: redisStore({ client: plain, prefix: 'acks:nowait:' }) }).createScimConnection({
        customerId: 'no-wait',
      });
      const sso = scimSso({
        rateLimit: false,
        store: redisStore({ client: plain, prefix: 'acks:nowait:', replicaAcks: { replicas: 1, timeoutMs: 100 } }),
        onError: (e) => errors.push(e),
      });
      const answer = await sso.handleScim(scimRequest(token, 'POST', '/Users', { body: newUser('eve') }));
      expect(answer.status).toBe(503);
      expect(answer.body).not.toContain('wait');
      expect(errors).toEqual([]);
    } finally {
      await plain.quit();
      await noWait.close();
    }
  });

  it("leaves no listener on the app's client once closed, and opens a new connection after the client reconnects", async () => {
    const shared = new Redis(primary.url);
    try {
      const listeners = shared.listenerCount('end');
      for (let round = 0; round < 12; round++) {
        const store = redisStore({ client: shared, prefix: `acks:listeners:${round}:`, replicaAcks: { replicas: 1, timeoutMs: 1000 } });
        const sso = scimSso({ rateLimit: false, store });
        const { token } = await sso.createScimConnection({ customerId: 'listeners' });
        expect((await sso.handleScim(scimRequest(token, 'POST', '/Users', { body: newUser(`l${round}`) }))).status).toBe(201);
        await store.close!();
      }
      expect(shared.listenerCount('end')).toBe(listeners);

      const store = redisStore({ client: shared, prefix: 'acks:reconnect:', replicaAcks: { replicas: 1, timeoutMs: 1000 } });
      const sso = scimSso({ rateLimit: false, store });
      const { token } = await sso.createScimConnection({ customerId: 'reconnect' });
      expect((await sso.handleScim(scimRequest(token, 'POST', '/Users', { body: newUser('before') }))).status).toBe(201);
      const ended = new Promise((resolve) => shared.once('end', resolve));
      await shared.quit();
      await ended;
      await shared.connect();
      expect((await sso.handleScim(scimRequest(token, 'POST', '/Users', { body: newUser('after') }))).status).toBe(201);
      await store.close!();
      // Closed, the store opens nothing again: a write answers 503, and no listener is left.
      expect((await sso.handleScim(scimRequest(token, 'POST', '/Users', { body: newUser('closed') }))).status).toBe(503);
      expect(shared.listenerCount('end')).toBe(listeners);
    } finally {
      shared.disconnect();
    }
  });

  it('closes its own connection with the store, and with the app client', async () => {
    const otherClient = new Redis(primary.url);
    await otherClient.ping();
    const store = redisStore({ client: otherClient, prefix: 'acks:close:', replicaAcks: { replicas: 1, timeoutMs: 1000 } });
    const clientsBefore = Number(/connected_clients:(\d+)/.exec(await client.info('clients'))?.[1]);
    const sso = scimSso({ rateLimit: false, store });
    const { token } = await sso.createScimConnection({ customerId: 'closing' });
    expect((await sso.handleScim(scimRequest(token, 'POST', '/Users', { body: newUser('dee') }))).status).toBe(201);
    const clientsDuring = Number(/connected_clients:(\d+)/.exec(await client.info('clients'))?.[1]);
    expect(clientsDuring).toBe(clientsBefore + 1);
    await otherClient.quit();
    for (let i = 0; i < 100 && Number(/connected_clients:(\d+)/.exec(await client.info('clients'))?.[1]) > clientsBefore - 1; i++) await sleep(20);
    // The app's client and the store's own are both gone.
    expect(Number(/connected_clients:(\d+)/.exec(await client.info('clients'))?.[1])).toBe(clientsBefore - 1);
  });

  it('answers a settings write (a token rotation) only once the replica holds it', async () => {
    const { sso, connectionId, prefix } = await app('rotated', 10_000);
    replica.pause();
    let answered = false;
    const rotated = sso.rotateScimToken('rotated').finally(() => (answered = true));
    await sleep(300);
    expect(answered).toBe(false);
    replica.resume();
    const { token } = await rotated;
    // The new token works on the replica's copy of the connection right after the answer.
    const record = await onReplica.get(`${prefix}{c:${connectionId}}:conn`);
    expect(record).toContain(hashToken(token));
  });

  it('answers a retry 503 while the replica is still away, though it changes nothing more', async () => {
    const { sso, token, id } = await appWithUser('retried', 200, 'fay');
    replica.pause();
    try {
      expect((await sso.handleScim(scimRequest(token, 'PATCH', `/Users/${id}`, { body: deactivate }))).status).toBe(503);
      // The retry finds the user deactivated already (this instance's copy says so): nothing to write, and
      // still not a 2xx, since only the primary holds the deactivation.
      expect((await sso.handleScim(scimRequest(token, 'PATCH', `/Users/${id}`, { body: deactivate }))).status).toBe(503);
      expect((await sso.handleScim(scimRequest(token, 'DELETE', `/Users/${id}`))).status).toBe(503);
      // And a DELETE retried after the deletion only the primary holds is no 404 yet.
      const deleteRetry = await sso.handleScim({
        ...scimRequest(token, 'DELETE', `/Users/${id}`),
        headers: { ...scimRequest(token, 'DELETE', `/Users/${id}`).headers, 'if-match': '*' },
      });
      expect(deleteRetry.status).toBe(503);
    } finally {
      replica.resume();
    }
    expect((await sso.handleScim(scimRequest(token, 'DELETE', `/Users/${id}`))).status).toBe(404);
    expect(unexpected).toEqual([]);
  });

  it('refuses options out of range', () => {
    for (const replicaAcks of [
      { replicas: 0, timeoutMs: 100 },
      { replicas: 1.5, timeoutMs: 100 },
      { replicas: 1, timeoutMs: 0 },
      { replicas: 1, timeoutMs: 60_001 },
      { replicas: 1, timeoutMs: Number.NaN },
    ]) {
      expect(() => redisStore({ client, prefix: 'acks:bad:', replicaAcks }), JSON.stringify(replicaAcks)).toThrow(TypeError);
    }
  });
});

describe('replicaAcks on a Redis Cluster', () => {
  it('computes the hash slot of a key as the cluster does', async () => {
    const t = await testCluster('slots');
    try {
      const keys = ['', 'a', 'user:1000', '{user1000}.following', 'foo{}{bar}', 'foo{{bar}}zap', 'foo{bar}{zap}', '{}', '{c:é}:ack', 'scim:{c:1f2e}:u:r'];
      for (let i = 0; i < 200; i++) keys.push(`scim:{c:${i.toString(36)}-${'ü'.repeat(i % 3)}}:ack`);
      for (const key of keys) expect(clusterSlot(key), key).toBe(Number(await t.client.cluster('KEYSLOT', key)));
    } finally {
      await t.cleanup();
    }
  });

  it("sends WAIT to the master holding the connection's keys: with no replica there, a write is a 503, never a 500", async () => {
    const t = await testCluster('acks');
    try {
      const unexpected: unknown[] = [];
      const sso = scimSso({
        rateLimit: false,
        store: redisStore({ client: t.client, prefix: t.prefix, replicaAcks: { replicas: 1, timeoutMs: 50 } }),
        onError: (e) => unexpected.push(e),
      });
      const plain = scimSso({ rateLimit: false, store: redisStore({ client: t.client, prefix: t.prefix }) });
      const { token, connectionId } = await plain.createScimConnection({ customerId: 'acks-cluster' });
      const masters = t.client.nodes('master');
      const before = await Promise.all(masters.map(waitCalls));
      const answer = await sso.handleScim(scimRequest(token, 'POST', '/Users', { body: { schemas: [USER], userName: 'eve@example.com' } }));
      expect(answer.status).toBe(503);
      expect(unexpected).toEqual([]);
      // The marker was written beside the connection's keys, and the WAIT went to their master (a WAIT
      // elsewhere waits for nothing of theirs): the one master whose WAIT count moved holds the marker.
      const marker = `${t.prefix}{c:${connectionId}}:ack`;
      expect(await t.client.cluster('KEYSLOT', marker)).toBe(await t.client.cluster('KEYSLOT', `${t.prefix}{c:${connectionId}}:seq`));
      const after = await Promise.all(masters.map(waitCalls));
      const waited = masters.filter((_, i) => after[i]! > before[i]!);
      expect(waited).toHaveLength(1);
      expect(await waited[0]!.exists(marker)).toBe(1);

      // A settings write touches keys in several slots: it waits on every master, and is refused the same way.
      const rotated = await sso.rotateScimToken('acks-cluster').catch((error: unknown) => error);
      expect(rotated).toBeInstanceOf(StoreUnavailableError);
      const last = await Promise.all(masters.map(waitCalls));
      expect(masters.filter((_, i) => last[i]! > after[i]!)).toHaveLength(masters.length);
    } finally {
      await t.cleanup();
    }
  });
});

describe("replicaAcks while a slot moves (a Redis Cluster of this test's own)", () => {
  it("answers 503, not 500, when the connection's slot moved under the store's own connection, and follows it", async () => {
    const cluster = await RedisClusterProcess.start();
    const client = new Cluster(cluster.nodes, { redisOptions: { maxRetriesPerRequest: 1 } });
    try {
      const prefix = 'acks:moved:';
      const { token, connectionId } = await scimSso({ rateLimit: false, store: redisStore({ client, prefix }) }).createScimConnection({ customerId: 'moved' });
      const errors: unknown[] = [];
      const sso = scimSso({
        rateLimit: false,
        store: redisStore({ client, prefix, replicaAcks: { replicas: 1, timeoutMs: 20 } }),
        onError: (e) => errors.push(e),
      });
      const post = (name: string) => sso.handleScim(scimRequest(token, 'POST', '/Users', { body: { schemas: [USER], userName: `${name}@example.com` } }));
      // The store's connection learns the slot map (no replica here: every write is a 503 after its WAIT).
      expect((await post('first')).status).toBe(503);

      // Move the connection's slot, keys and all, to another master, as a resharding does.
      const slot = clusterSlot(`${prefix}{c:${connectionId}}:ack`);
      const ids = await Promise.all(cluster.nodes.map(async ({ port }) => ({ port, id: (await rawCommand(port, 'CLUSTER MYID'))! })));
      const source = ids.find(({ port }) => client.slots[slot]![0] === `127.0.0.1:${port}`)!;
      const target = ids.find(({ port }) => port !== source.port)!;
      const [from, to] = [source, target].map(({ port }) => new Redis({ port, host: '127.0.0.1' })) as [Redis, Redis];
      try {
        await to.cluster('SETSLOT', slot, 'IMPORTING', source.id);
        await from.cluster('SETSLOT', slot, 'MIGRATING', target.id);
        for (;;) {
          const keys = (await from.cluster('GETKEYSINSLOT', slot, 100)) as string[];
          if (keys.length === 0) break;
          await from.migrate('127.0.0.1', target.port, '', 0, 5000, 'KEYS', ...keys);
        }
        for (const { port } of ids) expect(await rawCommand(port, `CLUSTER SETSLOT ${slot} NODE ${target.id}`)).toBe('OK');
      } finally {
        from.disconnect();
      }
      const waitsBefore = await waitCalls(to);

      // The app's client follows the move on its own; the store's connection is told MOVED: a 503, no 500.
      const moved = await post('moved');
      expect(moved.status).toBe(503);
      expect(errors).toEqual([]);
      // And its slot map is refreshed for the retry: the next WAIT goes to the slot's new master.
      for (let i = 0; i < 50 && (await waitCalls(to)) === waitsBefore; i++) {
        expect((await post(`retry-${i}`)).status).toBe(503);
        await sleep(50);
      }
      expect(await waitCalls(to)).toBeGreaterThan(waitsBefore);
      expect(errors).toEqual([]);
      to.disconnect();
    } finally {
      client.disconnect();
      await cluster.close();
    }
  });
});
