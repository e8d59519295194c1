/**
 * The guard's cost per login, measured on the app's callback request: the store calls it makes, the Redis
 * commands those send (ioredis 6's `ioredis:command` tracing channel; each command is one round trip, as
 * the guard's reads and writes are single scripts/commands, never pipelines), and the milliseconds the
 * callback takes. Only the COUNTS are asserted; the times are printed for the report (no timing thresholds).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { STORE_KINDS } from '../support/app.js';
import { Browser } from '../support/browser.js';
import { aroundStoreCalls, traceRedisCommands } from '../support/store-calls.js';
import { ADAPTERS, startLoginHarness, uid, type Customer, type LoginHarness } from './harness.js';

/** The store method whose call is running (async context), so Redis commands can be attributed to it. */
const storeMethod = new AsyncLocalStorage<string>();

/** Measurements of one callback request. */
interface CallbackCost {
  storeCalls: string[];
  /** `>method` when a store call starts, `<method` when it settles, in order (shows which calls overlap). */
  timeline: string[];
  /** Redis commands started during the request, as `<storeMethod>:<command>`. */
  redisCommands: string[];
  /** Milliseconds of the whole callback request, and of the store calls inside it. */
  ms: number;
  storeMs: number;
}

let recording: CallbackCost | null = null;

/** The store, counting and timing the calls made while `recording` is set. */
const counting = (store: Store): Store =>
  aroundStoreCalls(store, (method, call) => {
    const cost = recording;
    if (!cost) return call();
    cost.storeCalls.push(method);
    cost.timeline.push(`>${method}`);
    const started = performance.now();
    return Promise.resolve(storeMethod.run(method, call)).finally(() => {
      cost.timeline.push(`<${method}`);
      cost.storeMs += performance.now() - started;
    });
  });

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

describe.each(STORE_KINDS)('login cost (%s store)', (storeKind) => {
  describe.each(ADAPTERS)('%s adapter', (adapter) => {
    let h: LoginHarness;
    let c: Customer;
    const costs: CallbackCost[] = [];
    const sessionCosts: CallbackCost[] = [];
    const sub = 'cost-person';

    let stopTracing = () => {};
    beforeAll(async () => {
      stopTracing = traceRedisCommands((command) => void recording?.redisCommands.push(`${storeMethod.getStore() ?? '?'}:${command}`));
      // The activity log's batches are written by a timer, off the login (test/e2e/login-activity.test.ts);
      // here one could land inside a counted login.
      h = await startLoginHarness({ store: storeKind, adapter, hint: `cost-${adapter}`, wrapStore: counting, ssoOptions: { activityLog: false } });
      c = await h.customer({ customerId: `cost-${uid()}`, tenant: 'cost', idpType: 'Okta' });
      h.idp.upsertAccount('cost', { sub, email: 'cost@corp.test', email_verified: true });
      await c.scim.createUser({ userName: 'cost@corp.test' });
      // Records from the start to the end of each callback request (the only requests the guard runs in),
      // and of each `/me` request (requireActiveUser's session check).
      h.observe((req, res) => {
        const into = req.url?.startsWith(`/sso/${c.customerId}/callback?`) ? costs : req.url === '/me' ? sessionCosts : null;
        if (!into) return;
        const cost: CallbackCost = { storeCalls: [], timeline: [], redisCommands: [], ms: 0, storeMs: 0 };
        const started = performance.now();
        recording = cost;
        res.once('finish', () => {
          cost.ms = performance.now() - started;
          recording = null;
          into.push(cost);
        });
      });
    });
    afterAll(async () => {
      stopTracing();
      await h?.close();
    });
    afterEach(() => {
      expect(h.serverErrors.splice(0)).toEqual([]); // taken: an error fails only the test that caused it
    });

    /** Runs `logins` logins of `who` (fresh browsers), returns the callback costs (the first one is cold). */
    async function measure(who: string, status: number, logins: number): Promise<{ cold: CallbackCost; warm: CallbackCost[]; fullMs: number[] }> {
      costs.length = 0;
      const fullMs: number[] = [];
      for (let i = 0; i < logins; i++) {
        const started = performance.now();
        const result = await h.login(new Browser(), c.customerId, who);
        fullMs.push(performance.now() - started);
        expect(result.status).toBe(status);
      }
      expect(costs).toHaveLength(logins);
      const [cold, ...warm] = costs;
      return { cold: cold!, warm, fullMs: fullMs.slice(1) };
    }

    function report(label: string, { cold, warm, fullMs }: { cold: CallbackCost; warm: CallbackCost[]; fullMs: number[] }) {
      const ms = warm.map((cost) => cost.ms);
      const storeMs = warm.map((cost) => cost.storeMs);
      const f = (n: number) => n.toFixed(2);
      console.log(
        `[login-cost] ${storeKind}/${adapter} ${label}: store calls ${JSON.stringify(warm[0]!.storeCalls)}; ` +
          `redis commands ${JSON.stringify(warm[0]!.redisCommands)} (cold: ${JSON.stringify(cold.redisCommands)}); ` +
          `callback ms (n=${ms.length}) median ${f(median(ms))} p90 ${f(percentile(ms, 90))} min ${f(Math.min(...ms))} max ${f(Math.max(...ms))}, cold ${f(cold.ms)}; ` +
          `of which store calls median ${f(median(storeMs))}; whole login (browser, all hops) median ${f(median(fullMs))}`,
      );
    }

    /**
     * The counts: store calls on both stores, and on Redis one command (= one round trip) per call: the fresh
     * read of the customer's configuration, and one script that looks the person up, decides and records the
     * attempt (Store.recordLogin; docs/round-trips.md §Login).
     */
    function expectTwoRoundTrips(warm: CallbackCost[]) {
      for (const cost of warm) {
        expect(cost.storeCalls).toEqual(['getCustomer', 'recordLogin']);
        if (storeKind === 'redis') {
          expect(cost.redisCommands).toHaveLength(2);
          expect(cost.redisCommands.filter((command) => command.startsWith('getCustomer:'))).toHaveLength(1);
          expect(cost.redisCommands.filter((command) => command.startsWith('recordLogin:'))).toHaveLength(1);
        } else {
          expect(cost.redisCommands).toEqual([]);
        }
      }
    }

    it('an admitted login costs a configuration read and one lookup-decide-record script: two store round trips on the callback', async () => {
      const measured = await measure(sub, 200, 31);
      report('admitted', measured);
      expectTwoRoundTrips(measured.warm);
    });

    it('a refused login costs the same two store round trips on the callback', async () => {
      h.idp.upsertAccount('cost', { sub: 'cost-off', email: 'cost-off@corp.test', email_verified: true });
      await c.scim.createUser({ userName: 'cost-off@corp.test', active: false });
      const measured = await measure('cost-off', 403, 11);
      report('refused', measured);
      expectTwoRoundTrips(measured.warm);
    });

    it('requireActiveUser reads the SCIM user and the role mapping side by side: one store round trip per request', async () => {
      await h.instance(0).then(({ sso }) => sso.setRoleMapping(c.customerId, { rules: [], defaultRoles: ['member'] }));
      const browser = new Browser();
      expect((await h.login(browser, c.customerId, sub)).status).toBe(200);
      sessionCosts.length = 0;
      for (let i = 0; i < 5; i++) expect(await h.me(browser)).toMatchObject({ status: 200, body: { roles: ['member'] } });
      expect(sessionCosts).toHaveLength(5);
      for (const cost of sessionCosts) {
        expect([...cost.storeCalls].sort()).toEqual(['getRoleMapping', 'readSessionUser']);
        // Both calls start before either settles: their commands are in flight together (one round trip).
        expect(cost.timeline.slice(0, 2).every((event) => event.startsWith('>'))).toBe(true);
        expect(cost.redisCommands).toHaveLength(storeKind === 'redis' ? 2 : 0);
      }
    });
  });
});
