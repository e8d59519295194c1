/**
 * `sso.events.consume` in one process, on both stores: consumers of one group share the work and see every
 * event in order per customer, groups are independent, a failing handler is retried then parked as a dead
 * letter (replayable), and stop() waits for the handler running. Crashes with real processes:
 * test/provisioning/consume-crash.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ProvisioningEvent } from '../../src/index.js';
import { LEASE_RECHECK_MS } from '../../src/provisioning/consumer.js';
import { MAX_LETTER_RESOURCE_CHARS } from '../../src/provisioning/dead-letters.js';
import { ANNOUNCE_INTERVAL_MS } from '../../src/store/event-consumers.js';
import type { Store } from '../../src/store/store.js';
import { redisStore } from '../../src/store/redis.js';
import { makeStore, STORE_KINDS, type TestStore } from '../support/app.js';
import { startTurnCounter } from '../support/event-loop.js';
import { scimSso, type ScimSso } from '../support/sso.js';
import { bodyText } from '../../src/scim/response-body.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const FAST = { pollIntervalMs: 10, retryDelayMs: 1, visibilityTimeoutMs: 5_000 };

/** Waits until `done()` holds (polling), or fails after 15 s. */
async function waitFor(done: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.each(STORE_KINDS)('sso.events.consume on the %s store', (kind) => {
  let backing: TestStore;
  let sso: ScimSso;
  let other: ScimSso;
  const errors: unknown[] = [];
  beforeAll(async () => {
    backing = await makeStore(kind, `consume-${kind}`);
    sso = scimSso({ store: backing.store, rateLimit: false, onError: (e) => errors.push(e) });
    // A second app instance on the same store (on Redis: what another process would be).
    other = scimSso({ store: backing.store, rateLimit: false, onError: (e) => errors.push(e) });
  });
  afterAll(async () => {
    await backing.cleanup();
  });

  /** SCIM requests to `app` with `token`. */
  const sender = (app: ScimSso, token: string) => (method: string, path: string, body?: unknown) =>
    app.handleScim({
      method,
      path,
      query: new URLSearchParams(),
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
      body: body === undefined ? undefined : Buffer.from(JSON.stringify(body)),
      baseUrl: 'http://test/scim/v2',
    });

  async function customer(id: string) {
    const { token } = await sso.createScimConnection({ customerId: id });
    return { send: sender(sso, token) };
  }

  /** Every event of the customer, from the log. */
  async function allEvents(customerId: string): Promise<ProvisioningEvent[]> {
    const out: ProvisioningEvent[] = [];
    for (let after: string | undefined; ;) {
      const page = await sso.events.read(customerId, { after, limit: 1000 });
      if (page.events.length === 0) return out;
      out.push(...page.events);
      after = page.next ?? undefined;
    }
  }

  it('delivers every event once per group, in order per customer, sharing the work between instances', async () => {
    const customers = [`c1-${kind}`, `c2-${kind}`, `c3-${kind}`];
    const seen = new Map<string, ProvisioningEvent[]>(); // group/customer -> events in delivery order
    const busy = new Set<string>();
    let overlaps = 0;
    const handlerFor = (group: string, instance: string) => async (event: ProvisioningEvent) => {
      const key = `${group}/${event.customerId}`;
      if (busy.has(key)) overlaps++;
      busy.add(key);
      await new Promise((resolve) => setImmediate(resolve));
      seen.set(key, [...(seen.get(key) ?? []), { ...event, resource: { instance } }]);
      busy.delete(key);
    };
    const handles = [
      sso.events.consume({ group: 'sync', handler: handlerFor('sync', 'a'), batchSize: 3, ...FAST }),
      other.events.consume({ group: 'sync', handler: handlerFor('sync', 'b'), batchSize: 3, ...FAST }),
      sso.events.consume({ group: 'audit', handler: handlerFor('audit', 'a'), ...FAST }),
    ];
    const expected = new Map<string, string[]>();
    try {
      const writes = customers.map(async (customerId) => {
        const { send } = await customer(customerId);
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) {
          const res = await send('POST', '/Users', { schemas: [USER], userName: `u${i}@${customerId}.test` });
          ids.push(JSON.parse(bodyText(res.body)!).id);
        }
        const group = await send('POST', '/Groups', { schemas: [GROUP], displayName: 'All', members: ids.map((value) => ({ value })) });
        const gid = JSON.parse(bodyText(group.body)!).id as string;
        await send('PATCH', `/Users/${ids[0]}`, {
          schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
          Operations: [{ op: 'replace', path: 'active', value: false }],
        });
        await send('DELETE', `/Groups/${gid}`);
      });
      await Promise.all(writes);
      for (const customerId of customers)
        expected.set(
          customerId,
          (await allEvents(customerId)).map((e) => e.cursor),
        );
      const complete = () => customers.every((c) => ['sync', 'audit'].every((g) => (seen.get(`${g}/${c}`)?.length ?? 0) >= expected.get(c)!.length));
      await waitFor(complete, 'every event to be delivered to both groups');
    } finally {
      await Promise.all(handles.map((h) => h.stop()));
    }
    for (const customerId of customers) {
      for (const group of ['sync', 'audit']) {
        expect(seen.get(`${group}/${customerId}`)!.map((e) => e.cursor)).toEqual(expected.get(customerId));
      }
    }
    expect(expected.get(customers[0]!)!.length).toBe(5 + 1 + 5 + 1 + 1);
    expect(overlaps).toBe(0);
    expect(errors).toEqual([]);
  });

  it('stops looking at a connection deleted while it is read, once a rescan no longer finds it', async () => {
    const claims = new Map<string, number>();
    const counted: Store = {
      ...backing.store,
      claimEventLease: (group, connectionId, owner, ttl) => {
        claims.set(connectionId, (claims.get(connectionId) ?? 0) + 1);
        return backing.store.claimEventLease(group, connectionId, owner, ttl);
      },
    };
    const app = scimSso({ store: counted, rateLimit: false, onError: (e) => errors.push(e) });
    const send = sender(app, (await app.createScimConnection({ customerId: 'deleted-while-read' })).token);
    for (let i = 0; i < 4; i++) expect((await send('POST', '/Users', { schemas: [USER], userName: `gone${i}@example.com` })).status).toBe(201);
    const connectionId = (await backing.store.getConnectionByCustomer('deleted-while-read'))!.connectionId;
    let seen = 0;
    const consumer = app.events.consume({
      group: 'deleted-while-read',
      ...FAST,
      visibilityTimeoutMs: 200,
      rescanIntervalMs: 100,
      batchSize: 1,
      handler: async () => {
        if (++seen === 2) await app.deleteScimConnection('deleted-while-read');
      },
    });
    try {
      await waitFor(() => seen >= 2, 'the deletion');
      // Past the look an announcement schedules (ANNOUNCE_INTERVAL_MS later), several rescans and lease periods.
      await new Promise((resolve) => setTimeout(resolve, ANNOUNCE_INTERVAL_MS + 1000));
      const settled = claims.get(connectionId);
      await new Promise((resolve) => setTimeout(resolve, 1000)); // before: a claim every 100 ms, for ever
      expect(claims.get(connectionId)).toBe(settled);
    } finally {
      await consumer.stop();
    }
  });

  it("hands out a deleted connection's events for at most LEASE_RECHECK_MS after the deletion, not the rest of its batch", async () => {
    const send = (await customer(`deleted-mid-batch-${kind}`)).send;
    for (let i = 0; i < 40; i++) expect((await send('POST', '/Users', { schemas: [USER], userName: `batch${i}@example.com` })).status).toBe(201);
    let handedOut = 0;
    let afterDeletion = -1;
    const consumer = sso.events.consume({
      group: `deleted-mid-batch-${kind}`,
      ...FAST,
      batchSize: 100,
      handler: async (event) => {
        if (event.customerId !== `deleted-mid-batch-${kind}`) return;
        handedOut++;
        if (afterDeletion >= 0) afterDeletion++;
        if (handedOut === 3) {
          await sso.deleteScimConnection(`deleted-mid-batch-${kind}`);
          afterDeletion = 0;
        }
        // Each event takes at least 20 ms: at most LEASE_RECHECK_MS / 20 of them start after a confirmation.
        await new Promise((resolve) => setTimeout(resolve, 20));
      },
    });
    try {
      await waitFor(() => afterDeletion >= 0, 'the deletion');
      await new Promise((resolve) => setTimeout(resolve, 500));
      // Before: the other 37 events of the batch, until the next heartbeat (a third of 5 s) found the lease gone.
      expect(afterDeletion).toBeLessThanOrEqual(LEASE_RECHECK_MS / 20 + 1);
      expect(handedOut).toBeLessThan(40);
    } finally {
      await consumer.stop();
    }
  });

  it('goes on without handing an event out twice when a renewal before an event fails once (a store blip)', async () => {
    let failNext = false;
    const blipping: Store = {
      ...backing.store,
      commitEventCursor: async (group, connectionId, owner, ttl, cursor) => {
        if (cursor === undefined && failNext) {
          failNext = false;
          throw new Error('a store blip');
        }
        return backing.store.commitEventCursor(group, connectionId, owner, ttl, cursor);
      },
    };
    const blips: unknown[] = [];
    const app = scimSso({ store: blipping, rateLimit: false, onError: (e) => blips.push(e) });
    const customerId = `blip-${kind}`;
    const send = sender(app, (await app.createScimConnection({ customerId })).token);
    for (let i = 0; i < 12; i++) expect((await send('POST', '/Users', { schemas: [USER], userName: `blip${i}@example.com` })).status).toBe(201);
    const seen: string[] = [];
    const consumer = app.events.consume({
      group: `blip-${kind}`,
      ...FAST,
      handler: async (event) => {
        if (event.customerId !== customerId) return;
        seen.push(event.cursor);
        if (seen.length === 5) failNext = true;
        // Slower than LEASE_RECHECK_MS: the lease is renewed before each next event.
        await new Promise((resolve) => setTimeout(resolve, LEASE_RECHECK_MS + 10));
      },
    });
    try {
      await waitFor(() => seen.length >= 12, 'every event');
      await new Promise((resolve) => setTimeout(resolve, 200));
      // Before: the error left the drain before its cursor was committed, and the 5 events went out again.
      expect(seen).toHaveLength(12);
      expect(new Set(seen).size).toBe(12);
      expect(blips.map(String)).toEqual(['Error: a store blip']);
    } finally {
      await consumer.stop();
    }
  });

  // Redis only: the memory store is one process, with one clock for writers and consumers.
  it.runIf(kind !== 'memory')("stamps announcements with Redis's clock, which consumers count from: not the writing instance's", async () => {
    const { token } = await sso.createScimConnection({ customerId: 'lagging-writer' });
    const connectionId = (await backing.store.getConnectionByCustomer('lagging-writer'))!.connectionId;
    // The writing instance's clock (the store's, when the app gives it none) a minute behind, for this write.
    const realNow = Date.now.bind(Date);
    const lagging = vi.spyOn(Date, 'now').mockImplementation(() => realNow() - 60_000);
    let status: number;
    try {
      status = (await sender(sso, token)('POST', '/Users', { schemas: [USER], userName: 'lagging@example.com' })).status;
    } finally {
      lagging.mockRestore();
    }
    expect(status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 50)); // the announcement is fire-and-forget
    // A consumer on a clock of its own counts from the store's `now`, Redis's: the announcement is within it.
    const { now, connections } = await backing.store.activeEventConnections(realNow() - 600_000);
    const at = connections.find((c) => c.connectionId === connectionId)?.at;
    // Before: stamped a minute early, below any consumer's 5 s window, so found only by the next rescan.
    expect(at).toBeGreaterThan(now - 5_000);
    expect(at).toBeLessThanOrEqual(now);
  });

  // Redis only: instances with clocks of their own are separate stores on one backing; a memory store is one
  // process's, with one clock.
  it.runIf(kind !== 'memory')('delivers at once a write announced with an earlier time than one before it (instances whose clocks differ)', async () => {
    // Two app instances on one Redis: Y's clock 2 s ahead of X's (within the slack consumers read with).
    const { client, prefix } = backing.redis!;
    const instance = (skewMs: number) =>
      scimSso({ store: redisStore({ client, prefix, now: () => Date.now() + skewMs }), rateLimit: false, onError: (e) => errors.push(e) });
    const [x, y] = [instance(0), instance(2000)];
    const { token } = await x.createScimConnection({ customerId: 'skewed-clocks' });
    const post = (app: ScimSso, userName: string) => sender(app, token)('POST', '/Users', { schemas: [USER], userName });
    const got: string[] = [];
    // A rescan far away: only announcements can bring the writes in time.
    const consumer = sso.events.consume({
      group: 'skewed-clocks',
      ...FAST,
      rescanIntervalMs: 600_000,
      handler: (e) => void (e.customerId === 'skewed-clocks' && got.push(String(e.resource?.userName))),
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 100)); // its first rescan is behind it
      expect((await post(y, 'ahead@example.com')).status).toBe(201);
      await waitFor(() => got.length === 1, "Y's write");
      await new Promise((resolve) => setTimeout(resolve, ANNOUNCE_INTERVAL_MS + 200)); // past the look Y's announcement scheduled
      expect((await post(x, 'behind@example.com')).status).toBe(201);
      await waitFor(() => got.length === 2, "X's write (before: only at the next rescan)");
      expect(got).toEqual(['ahead@example.com', 'behind@example.com']);
    } finally {
      await consumer.stop();
    }
  });

  it('retries a failing handler, then parks the event as a dead letter and goes on; a replay removes it', async () => {
    const customerId = `dead-${kind}`;
    const { send } = await customer(customerId);
    const attempts = new Map<string, number>();
    const handled: string[] = [];
    const handle = sso.events.consume({
      group: 'fragile',
      maxAttempts: 3,
      ...FAST,
      handler: (event) => {
        attempts.set(event.cursor, (attempts.get(event.cursor) ?? 0) + 1);
        if ((event.resource as { userName?: string } | null)?.userName === 'poison@x.test') throw new Error('cannot handle poison');
        if (event.customerId === customerId) handled.push(String((event.resource as { userName: string }).userName));
      },
    });
    try {
      for (const name of ['first', 'poison', 'last']) await send('POST', '/Users', { schemas: [USER], userName: `${name}@x.test` });
      await waitFor(() => handled.includes('last@x.test'), 'the event after the poison one');
    } finally {
      await handle.stop();
    }
    expect(handled).toEqual(['first@x.test', 'last@x.test']);
    const letters = await sso.events.deadLetters('fragile', { customerId });
    expect(letters).toEqual([
      expect.objectContaining({
        group: 'fragile',
        error: 'cannot handle poison',
        attempts: 3,
        event: expect.objectContaining({ type: 'user.created', customerId }),
      }),
    ]);
    expect(attempts.get(letters[0]!.event.cursor)).toBe(3);
    await expect(sso.events.replayDeadLetter('fragile', letters[0]!.id, () => Promise.reject(new Error('still failing')))).rejects.toThrow('still failing');
    const replayed: string[] = [];
    expect(await sso.events.replayDeadLetter('fragile', letters[0]!.id, (e) => void replayed.push(e.cursor))).toBe(true);
    expect(replayed).toEqual([letters[0]!.event.cursor]);
    expect(await sso.events.deadLetters('fragile', { customerId })).toEqual([]);
    expect(await sso.events.replayDeadLetter('fragile', letters[0]!.id, () => {})).toBe(false);
  });

  it('hands out the events of a large resource a turn each (their JSON is parsed then)', async () => {
    // Found by an audit (2026-12-07): on the memory store nothing else yields between events, and 100 events
    // of a 0.8 MB user held the loop 2.2-2.9 s. Turns are counted, never timed.
    const customerId = `large-events-${kind}`;
    const { send } = await customer(customerId);
    const created = await send('POST', '/Users', { schemas: [USER], userName: 'wide@x.test', note: 'n'.repeat(100_000) });
    const id = (JSON.parse(bodyText(created.body)!) as { id: string }).id;
    const titles = 20;
    for (let i = 0; i < titles; i++) await send('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'title', value: `t${i}` }] });
    const turnsAt: number[] = [];
    const counter = startTurnCounter();
    const handle = sso.events.consume({
      group: 'wide-reader',
      ...FAST,
      handler: (event) => {
        if (event.customerId === customerId) turnsAt.push(counter.turns());
      },
    });
    try {
      await waitFor(() => turnsAt.length === titles + 1, 'every event');
    } finally {
      counter.stop();
      await handle.stop();
    }
    // No two events of the customer were handed out in the same turn.
    expect(new Set(turnsAt).size).toBe(turnsAt.length);
  });

  it('leaves a resource over MAX_LETTER_RESOURCE_CHARS out of its dead letter, and a replay hands the resource as it is then', async () => {
    const customerId = `dead-large-${kind}`;
    const { send } = await customer(customerId);
    const handle = sso.events.consume({
      group: 'fragile-large',
      maxAttempts: 1,
      ...FAST,
      handler: (event) => {
        if (event.customerId === customerId && event.type === 'user.created') throw new Error('cannot handle it');
      },
    });
    const created = await send('POST', '/Users', { schemas: [USER], userName: 'large@x.test', note: 'n'.repeat(MAX_LETTER_RESOURCE_CHARS) });
    const id = (JSON.parse(bodyText(created.body)!) as { id: string }).id;
    try {
      await waitFor(async () => (await sso.events.deadLetters('fragile-large', { customerId })).length === 1, 'the dead letter');
    } finally {
      await handle.stop();
    }
    const [letter] = await sso.events.deadLetters('fragile-large', { customerId });
    expect(letter).toMatchObject({ resourceLeftOut: true, event: { type: 'user.created', resourceId: id, resource: null } });
    await send('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'title', value: 'since' }] });
    const replayed: unknown[] = [];
    expect(await sso.events.replayDeadLetter('fragile-large', letter!.id, (e) => void replayed.push(e.resource))).toBe(true);
    expect(replayed).toEqual([expect.objectContaining({ id, userName: 'large@x.test', title: 'since' })]);
  });

  it('parks an event whose handler throws a value that cannot become text, and goes on', async () => {
    const customerId = `unprintable-${kind}`;
    const { send } = await customer(customerId);
    const handled: string[] = [];
    const handle = sso.events.consume({
      group: 'unprintable',
      maxAttempts: 2,
      ...FAST,
      handler: (event) => {
        if (event.customerId !== customerId) return;
        const userName = String((event.resource as { userName: string }).userName);
        if (userName === 'odd@x.test') throw Object.create(null); // String() of it throws
        handled.push(userName);
      },
    });
    try {
      for (const name of ['odd', 'next']) await send('POST', '/Users', { schemas: [USER], userName: `${name}@x.test` });
      await waitFor(() => handled.includes('next@x.test'), 'the event after the unprintable failure');
    } finally {
      await handle.stop();
    }
    expect(await sso.events.deadLetters('unprintable', { customerId })).toEqual([
      expect.objectContaining({ error: 'an error that cannot be shown as text', attempts: 2 }),
    ]);
  });

  it("hands out no event once its lease may lapse while its heartbeats hang (a partition): one instance delivers a customer's events at a time", async () => {
    const customerId = `partition-${kind}`;
    const { send } = await customer(customerId);
    for (let i = 0; i < 30; i++) await send('POST', '/Users', { schemas: [USER], userName: `p${i}@x.test` });
    // An instance whose lease renewals hang until the test heals the partition (then they answer "lost").
    let partitioned = false;
    let heal = () => {};
    const healed = new Promise<void>((resolve) => (heal = resolve));
    const cut = new Proxy(backing.store, {
      get(target, key) {
        const value = Reflect.get(target, key) as unknown;
        if (key === 'commitEventCursor') {
          return (...args: Parameters<Store['commitEventCursor']>) => (partitioned ? healed.then(() => false) : target.commitEventCursor(...args));
        }
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const isolated = scimSso({ store: cut, rateLimit: false, onError: (e) => errors.push(e) });
    let active = 0;
    let overlaps = 0;
    const seen = new Set<number>();
    const handler = async (event: ProvisioningEvent) => {
      if (event.customerId !== customerId) return;
      if (++active > 1) overlaps++;
      seen.add(event.seq);
      await new Promise((resolve) => setTimeout(resolve, 20));
      active--;
    };
    const options = { group: 'partition', batchSize: 50, visibilityTimeoutMs: 300, pollIntervalMs: 10, retryDelayMs: 1 };
    const first = isolated.events.consume({ ...options, handler });
    await waitFor(() => seen.size > 0, 'the first delivery');
    partitioned = true;
    const second = other.events.consume({ ...options, handler });
    try {
      await waitFor(() => seen.size === 30, 'every event');
    } finally {
      await second.stop();
      heal();
      await first.stop();
    }
    // The old code went on with its batch of 50 beside the instance that took over: handler calls overlapped.
    expect(overlaps).toBe(0);
  });

  it('tells a new group that the log dropped writes before its first read (onExpired), then goes on from the end', async () => {
    const small = await makeStore(kind, `consume-new-group-${kind}`, { maxEventWrites: 3 });
    const app = scimSso({ store: small.store, rateLimit: false, onError: () => {} });
    try {
      const customerId = `new-group-${kind}`;
      const { token } = await app.createScimConnection({ customerId });
      const send = sender(app, token);
      for (let i = 0; i < 8; i++) await send('POST', '/Users', { schemas: [USER], userName: `early${i}@x.test` });
      const expired: string[] = [];
      const delivered: string[] = [];
      const handle = app.events.consume({
        group: 'added-later',
        ...FAST,
        handler: (event) => void delivered.push(event.type),
        onExpired: ({ customerId: who }) => void expired.push(who),
      });
      try {
        await waitFor(() => expired.length > 0, 'onExpired');
        await send('POST', '/Users', { schemas: [USER], userName: 'after@x.test' });
        await waitFor(() => delivered.length > 0, 'the write after the resync');
      } finally {
        await handle.stop();
      }
      // The 3 writes kept of the 8 are not handed out as if they were the whole history: the group resyncs.
      expect(expired).toEqual([customerId]);
      expect(delivered).toEqual(['user.created']);
    } finally {
      await small.cleanup();
    }
  });

  it('tries a failing onExpired again with backoff, not every poll', async () => {
    const small = await makeStore(kind, `consume-expired-${kind}`, { maxEventWrites: 2 });
    const app = scimSso({ store: small.store, rateLimit: false, onError: () => {} });
    try {
      const { token } = await app.createScimConnection({ customerId: `expired-${kind}` });
      const send = sender(app, token);
      await send('POST', '/Users', { schemas: [USER], userName: 'first@x.test' });
      let seen = 0;
      const early = app.events.consume({ group: 'resync', ...FAST, handler: () => void seen++ });
      await waitFor(() => seen > 0, 'the first event');
      await early.stop();
      // The group's cursor falls behind the two writes kept: every drain starts with a resync, which fails.
      for (let i = 0; i < 5; i++) await send('POST', '/Users', { schemas: [USER], userName: `later${i}@x.test` });
      let resyncs = 0;
      const late = app.events.consume({
        group: 'resync',
        ...FAST,
        handler: () => {},
        onExpired: () => {
          resyncs++;
          throw new Error('the CRM is down');
        },
      });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await late.stop();
      // Every 10 ms poll would have been about 100 resyncs; doubling from 10 ms fits at most 7 in a second.
      expect(resyncs).toBeGreaterThanOrEqual(2);
      expect(resyncs).toBeLessThanOrEqual(8);
    } finally {
      await small.cleanup();
    }
  });

  it('stop() waits for the running handler, commits it, and the group goes on from there', async () => {
    const customerId = `stop-${kind}`;
    const { send } = await customer(customerId);
    await send('POST', '/Users', { schemas: [USER], userName: 'one@x.test' });
    await send('POST', '/Users', { schemas: [USER], userName: 'two@x.test' });
    const order: string[] = [];
    let release = () => {};
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const handle = sso.events.consume({
      group: 'graceful',
      ...FAST,
      handler: async (event) => {
        if (event.customerId !== customerId) return;
        order.push(`start ${event.seq}`);
        await blocked;
        order.push(`end ${event.seq}`);
      },
    });
    await waitFor(() => order.length > 0, 'the first handler to start');
    const stopped = handle.stop().then(() => order.push('stopped'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    release();
    await stopped;
    expect(order).toEqual(['start 1', 'end 1', 'stopped']);
    const next: number[] = [];
    const again = other.events.consume({ group: 'graceful', ...FAST, handler: (e) => void (e.customerId === customerId && next.push(e.seq)) });
    try {
      await waitFor(() => next.length > 0, 'the next event');
    } finally {
      await again.stop();
    }
    expect(next).toEqual([2]);
  });
});
