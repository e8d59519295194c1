/**
 * sso.events.consume with real processes (issue 14): two consumer processes in one group
 * (test/fixtures/event-consumer.ts), one SIGKILLed mid-batch and restarted, while SCIM writes go on through
 * two app instances; then the Redis server itself is SIGKILLed and restarted mid-traffic. The test's own
 * redis-server runs with `--appendonly yes --appendfsync always` (test/support/redis-process.ts), so every
 * acknowledged write survives the restart.
 *
 * Checked against the store's log (read with sso.events.read): every acknowledged write has its events;
 * every logged event is delivered at least once; per customer, no event is delivered before every earlier
 * event was (order kept across processes and takeovers); before the Redis restart, each process delivers a
 * customer's events in strictly increasing order and events are delivered twice only if the killed process
 * delivered them last (its uncommitted batch, at most one batch per customer).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProvisioningEvent } from '../../src/index.js';
import { redisStore } from '../../src/store/redis.js';
import { RedisProcess } from '../support/redis-process.js';
import { scimSso, type ScimSso } from '../support/sso.js';
import { bodyText } from '../../src/scim/response-body.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const BATCH = 10; // the fixture's batchSize
const PREFIX = 'crash:';
const CUSTOMERS = ['acme', 'globex', 'initech'];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `done()` holds, polling, or fails after `ms`. */
async function waitFor(done: () => boolean | Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

interface Delivery {
  at: number;
  customerId: string;
  cursor: string;
}

describe('consume across real processes: a consumer SIGKILLed mid-batch, then a Redis restart', () => {
  let redis: RedisProcess;
  let dir: string;
  const clients: Redis[] = [];
  const apps: ScimSso[] = [];
  const children = new Map<string, ChildProcess>();
  const tokens = new Map<string, string>();

  const newClient = () => {
    const client = new Redis({
      host: '127.0.0.1',
      port: redis.port,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      retryStrategy: (t) => Math.min(t * 50, 300),
    });
    client.on('error', () => {});
    clients.push(client);
    return client;
  };

  /** Starts a consumer process logging to <dir>/<name>.log; resolves once it is consuming. */
  async function startConsumer(name: string): Promise<void> {
    const child = fork(join(import.meta.dirname, '../fixtures/event-consumer.ts'), [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, REDIS_PORT: String(redis.port), PREFIX, GROUP: 'crash', LOG: join(dir, `${name}.log`) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.set(name, child);
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`consumer ${name} exited with ${code}`)));
    });
  }

  const deliveries = (name: string): Delivery[] => {
    const file = join(dir, `${name}.log`);
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => {
        const [at, customerId, cursor] = line.split(' ') as [string, string, string];
        return { at: Number(at), customerId, cursor };
      });
  };

  beforeAll(async () => {
    redis = await RedisProcess.start({ persistence: 'aof' });
    dir = mkdtempSync(join(tmpdir(), 'scim-sso-consume-'));
    // Two app instances, each with its own client (as two processes would have).
    for (let i = 0; i < 2; i++) apps.push(scimSso({ store: redisStore({ client: newClient(), prefix: PREFIX }), rateLimit: false, onError: () => {} }));
    await Promise.all(clients.map((client) => new Promise((resolve) => client.once('ready', resolve))));
    for (const customerId of CUSTOMERS) tokens.set(customerId, (await apps[0]!.createScimConnection({ customerId })).token);
  });
  afterAll(async () => {
    for (const child of children.values()) child.kill('SIGKILL');
    for (const client of clients) client.disconnect();
    await redis?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Writes through both app instances in turn; records what was acknowledged. */
  function writer() {
    const acknowledged: { customerId: string; type: string; id: string }[] = [];
    let running = true;
    let n = 0;
    const send = async (customerId: string, method: string, path: string, body?: unknown) => {
      const app = apps[n++ % 2]!;
      try {
        const res = await app.handleScim({
          method,
          path,
          query: new URLSearchParams(),
          headers: { authorization: `Bearer ${tokens.get(customerId)}`, 'content-type': 'application/scim+json' },
          body: body === undefined ? undefined : Buffer.from(JSON.stringify(body)),
          baseUrl: 'http://crash.test/scim/v2',
        });
        return res.status < 300 ? res : null;
      } catch {
        return null;
      }
    };
    const loop = Promise.all(
      CUSTOMERS.map(async (customerId) => {
        const users: string[] = [];
        for (let round = 0; running; round++) {
          const created = await send(customerId, 'POST', '/Users', { schemas: [USER], userName: `u${round}-${Date.now()}@${customerId}.test` });
          if (created) {
            const id = JSON.parse(bodyText(created.body)!).id as string;
            users.push(id);
            acknowledged.push({ customerId, type: 'user.created', id });
            const patched = await send(customerId, 'PATCH', `/Users/${id}`, {
              schemas: [PATCH_OP],
              Operations: [{ op: 'replace', path: 'active', value: false }],
            });
            if (patched) acknowledged.push({ customerId, type: 'user.deactivated', id });
          }
          if (round % 5 === 4) {
            const group = await send(customerId, 'POST', '/Groups', {
              schemas: [GROUP],
              displayName: `g${round}-${Date.now()}`,
              members: users.slice(-5).map((value) => ({ value })),
            });
            if (group) acknowledged.push({ customerId, type: 'group.created', id: JSON.parse(bodyText(group.body)!).id as string });
          }
          if (!created) await sleep(20); // the store is down: do not spin
        }
      }),
    );
    return {
      acknowledged,
      async stop() {
        running = false;
        await loop;
      },
    };
  }

  /** Every event of every customer, from the log, with its rank in its customer's log. */
  async function logged(): Promise<Map<string, ProvisioningEvent[]>> {
    const out = new Map<string, ProvisioningEvent[]>();
    for (const customerId of CUSTOMERS) {
      const events: ProvisioningEvent[] = [];
      for (let after: string | undefined; ;) {
        const page = await apps[0]!.events.read(customerId, { after, limit: 1000 });
        if (page.events.length === 0) break;
        events.push(...page.events);
        after = page.next ?? undefined;
      }
      out.set(customerId, events);
    }
    return out;
  }

  const allDeliveries = () => [...children.keys()].flatMap((name) => deliveries(name));

  async function waitAllDelivered(): Promise<Map<string, ProvisioningEvent[]>> {
    const log = await logged();
    await waitFor(() => {
      const seen = new Set(allDeliveries().map((d) => `${d.customerId} ${d.cursor}`));
      return [...log].every(([customerId, events]) => events.every((e) => seen.has(`${customerId} ${e.cursor}`)));
    }, 'every logged event to be delivered');
    return log;
  }

  /** Problems with the order: an event delivered (first) before an earlier one of its customer was. */
  function orderProblems(log: Map<string, ProvisioningEvent[]>, all: Delivery[]): string[] {
    const problems: string[] = [];
    for (const [customerId, events] of log) {
      const first = new Map<string, number>();
      for (const d of all) if (d.customerId === customerId && !first.has(d.cursor)) first.set(d.cursor, d.at);
      let latest = 0;
      for (const e of events) {
        const at = first.get(e.cursor)!;
        if (at < latest) problems.push(`${customerId}: ${e.cursor} delivered before an earlier event`);
        latest = Math.max(latest, at);
      }
    }
    return problems;
  }

  /** Whether a list of a customer's deliveries by one process goes strictly forward in the log. */
  const forward = (rank: Map<string, number>, list: Delivery[]) => list.every((d, i) => i === 0 || rank.get(d.cursor)! > rank.get(list[i - 1]!.cursor)!);

  it('delivers every event at least once, in order, duplicating only the killed batch; a Redis restart loses nothing acknowledged', async () => {
    await Promise.all([startConsumer('c1'), startConsumer('c2')]);

    // Phase 1: a consumer is killed mid-batch while writes go on, and restarted. Which of the two gets the
    // customers' leases first is a race (one may hold all three), so the victim is the first to deliver.
    const phase1 = writer();
    let victim = '';
    await waitFor(() => {
      victim = ['c1', 'c2'].find((name) => deliveries(name).length >= 40) ?? '';
      return victim !== '';
    }, 'a consumer to deliver some events');
    children.get(victim)!.kill('SIGKILL');
    await new Promise((resolve) => children.get(victim)!.once('exit', resolve));
    await startConsumer(`${victim}b`);
    await sleep(1_000);
    await phase1.stop();
    const log1 = await waitAllDelivered();
    const ranks = new Map([...log1].map(([customerId, events]) => [customerId, new Map(events.map((e, i) => [e.cursor, i]))]));

    for (const { customerId, type, id } of phase1.acknowledged) {
      expect(
        log1.get(customerId)!.some((e) => e.type === type && e.resourceId === id),
        `${type} ${id} is logged`,
      ).toBe(true);
    }
    const delivered1 = new Map([...children.keys()].map((name) => [name, deliveries(name)]));
    expect(orderProblems(log1, [...delivered1.values()].flat())).toEqual([]);
    for (const customerId of CUSTOMERS) {
      const rank = ranks.get(customerId)!;
      for (const [name, list] of delivered1)
        expect(
          forward(
            rank,
            list.filter((d) => d.customerId === customerId),
          ),
          `${name} in order`,
        ).toBe(true);
      // Twice only what the killed consumer delivered last for this customer (its batch in flight), at most a batch.
      const counts = new Map<string, number>();
      for (const list of delivered1.values()) for (const d of list) if (d.customerId === customerId) counts.set(d.cursor, (counts.get(d.cursor) ?? 0) + 1);
      const twice = [...counts].filter(([, n]) => n > 1).map(([cursor]) => cursor);
      expect(Math.max(0, ...counts.values())).toBeLessThanOrEqual(2);
      const killed = delivered1
        .get(victim)!
        .filter((d) => d.customerId === customerId)
        .map((d) => d.cursor);
      expect(twice.length).toBeLessThanOrEqual(BATCH);
      expect(killed.slice(killed.length - twice.length)).toEqual([...twice].sort((a, b) => rank.get(a)! - rank.get(b)!));
    }
    const phase1Deliveries = allDeliveries().length;
    const events1 = [...log1.values()].reduce((n, events) => n + events.length, 0);

    // Phase 2: Redis itself is killed and restarted while writes go on.
    const phase2 = writer();
    await sleep(500);
    await redis.stop('kill');
    await sleep(300);
    await redis.restart();
    await sleep(1_500);
    await phase2.stop();
    const log2 = await waitAllDelivered();
    for (const { customerId, type, id } of [...phase1.acknowledged, ...phase2.acknowledged]) {
      expect(
        log2.get(customerId)!.some((e) => e.type === type && e.resourceId === id),
        `${type} ${id} is logged`,
      ).toBe(true);
    }
    expect(phase2.acknowledged.length).toBeGreaterThan(0);
    expect(allDeliveries().length).toBeGreaterThan(phase1Deliveries);
    expect(orderProblems(log2, allDeliveries())).toEqual([]);
    const events2 = [...log2.values()].reduce((n, events) => n + events.length, 0);
    const byProcess = [...children.keys()].map((name) => `${name} ${deliveries(name).length}`).join(', ');
    console.log(
      `[consume crash] phase 1: ${phase1.acknowledged.length} acknowledged writes, ${events1} events, ${phase1Deliveries} deliveries; ` +
        `phase 2 (Redis killed and restarted): ${phase2.acknowledged.length} acknowledged writes, ${events2 - events1} events; deliveries by process: ${byProcess}`,
    );
  }, 180_000);
});
