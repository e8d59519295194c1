/**
 * Section 5 (issue 13): the matching report and the dashboard's customer page at N SCIM users and N SSO
 * users in one customer, on Redis, in this process. Sizes grow in place (10,000 → 100,000 by default) so
 * that the report's heap can be compared across them: bounded by a page, it must not grow with N.
 *
 * Loading goes through the store API with the write the SCIM layer makes (`userSpec.toWrite` of an
 * Okta-shaped user with id and meta) and `recordSsoUser`, 256 at a time. Of every 20 people: 14 sign in
 * with the email that is their SCIM userName, 4 were renamed in SCIM (only sub = externalId finds them),
 * 1 is deactivated in SCIM, and 1 SSO user was never provisioned (as many SCIM users never signed in).
 * Plus 60 groups of 100 members sent without display (as Entra sends them), so that the page names them.
 *
 * Measured per size:
 * - `sso.matchingReport` wall time over several runs, and the CPU time it took in this process and in
 *   redis-server (`INFO cpu`), which a busy machine does not change much.
 * - The heap it takes, against the used heap after a full GC just before it: the peak of V8's used heap
 *   sampled every 5 ms during the timed runs (garbage included, so mostly the young generation's size),
 *   and, in one more untimed run, the peak of the live heap: a full GC before each sample, every 50 ms.
 *   What the run kept is measured after a full GC at its end (the report). Beside them, what the
 *   whole-connection loader the report used to be held: every SSO user and every SCIM user parsed
 *   (listSsoUsers, listPage), after a full GC.
 * - The customer page through the framework-neutral dashboard handler (no HTTP): first page and a deep
 *   page (the last page of users, groups and SSO users), p50/p99 over `renders` renders each.
 */
import { randomBytes } from 'node:crypto';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Redis } from 'ioredis';
import { createDashboardCore } from '../src/dashboard/index.js';
import { shownCandidateOf } from '../src/guard/guard.js';
import { redisStore } from '../src/redis.js';
import { userSpec } from '../src/scim/users.js';
import { createScimSso } from '../src/sso.js';
import type { Store, StoredMember, StoredSsoUser } from '../src/store/store.js';
import { percentile } from './load.js';
import { oktaUser } from './users.js';

export interface MatchingSettings {
  /** SCIM users = SSO users at each size, ascending. */
  sizes: number[];
  reportRuns: number;
  renders: number;
}

export interface MatchingRow {
  scimUsers: number;
  ssoUsers: number;
  /** Seconds to load this size's new users (both kinds). */
  loadSeconds: number;
  /** Each run's wall time (ms) and their median. */
  reportRunsMs: number[];
  reportMs: number;
  /** CPU time of the median run in this process and in redis-server (ms). */
  reportCpuMs: number;
  redisCpuMs: number;
  /** The largest, over the runs, of the peak used-heap growth during a run, garbage included (MB). */
  reportHeapPeakMB: number;
  /** The peak growth of the live heap (sampled after a full GC) during one more run (MB). */
  reportLiveHeapMB: number;
  /** Used heap a run left after a full GC, over the heap before it (MB): the report object. */
  reportHeapKeptMB: number;
  /** Used heap holding every SSO user and SCIM user parsed, as the old loader did (MB, after a full GC). */
  wholeConnectionMB: number;
  pageP50: number;
  pageP99: number;
  deepPageP50: number;
  deepPageP99: number;
  /** The report's totals and current strategy's counts, checked against the data loaded. */
  admitted: number;
  correct: boolean;
  [key: string]: unknown;
}

const CUSTOMER = 'bench-report';
const PARALLEL = 256;
const GROUPS = 60;
const GROUP_SIZE = 100;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const usedMB = () => getHeapStatistics().used_heap_size / 2 ** 20;

/** redis-server's CPU time so far (ms), user and system. */
async function redisCpuMs(client: Redis): Promise<number> {
  const info = await client.info('cpu');
  return 1000 * (Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1]) + Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1]));
}

/** Runs task(from) … task(to - 1), PARALLEL at a time. */
async function inParallel(from: number, to: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = from;
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      for (let i = next++; i < to; i = next++) await task(i);
    }),
  );
}

/** The person at index i: 0-13 of 20 match by email, 14-17 renamed, 18 deactivated, 19 never provisioned / never signed in. */
const kindOf = (i: number) => (i % 20 < 14 ? 'email' : i % 20 < 18 ? 'renamed' : i % 20 === 18 ? 'inactive' : 'stranger');

function scimUser(i: number, created: string) {
  const { password: _, groups: __, ...user } = oktaUser('u', i);
  const kind = kindOf(i);
  const userName = kind === 'renamed' ? `u.legacy${i}@old.example.com` : kind === 'stranger' ? `u.idle${i}@example.com` : String(user.userName);
  return { ...user, id: `bench-${i}`, userName, active: kind !== 'inactive', meta: { resourceType: 'User', created, lastModified: created } };
}

function ssoUser(i: number, now: number): StoredSsoUser {
  const user = oktaUser('u', i);
  const email = kindOf(i) === 'stranger' ? `u.new${i}@example.com` : String(user.userName);
  const seen = new Date(now - i * 1000).toISOString();
  return {
    subject: String(user.externalId),
    email,
    emailVerified: true,
    preferredUsername: email,
    name: String(user.displayName),
    claims: { sub: user.externalId, email, email_verified: true, name: user.displayName },
    firstSeenAt: seen,
    lastSeenAt: seen,
    lastOutcome: 'refused',
    lastReason: 'not_provisioned',
    lastScimUserId: null,
  };
}

/** Median and p99 (ms) of `runs` calls of fn, after two unmeasured ones. */
async function timed(runs: number, fn: () => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < 2; i++) await fn();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    ms.push(performance.now() - start);
  }
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 50), p99: percentile(ms, 99) };
}

/** Every SSO user and every SCIM user parsed, as the whole-connection loader held them (MB of heap). */
async function wholeConnectionMB(store: Store, connectionId: string): Promise<number> {
  gc();
  const before = usedMB();
  const sso = await store.listSsoUsers(CUSTOMER);
  const scim = [];
  for (let offset = 0; ;) {
    const page = await store.listPage(connectionId, 'User', offset, 500);
    scim.push(...page.resources.map(shownCandidateOf));
    offset += page.resources.length;
    if (page.resources.length === 0 || offset >= page.total) break;
  }
  gc();
  const held = usedMB() - before;
  if (sso.length + scim.length === 0) throw new Error('nothing loaded');
  return held;
}

export async function runMatchingBench(redisUrl: string, settings: MatchingSettings, log: (s: string) => void): Promise<MatchingRow[]> {
  const client = new Redis(redisUrl);
  const store = redisStore({ client, prefix: `bench:report:${randomBytes(4).toString('hex')}:` });
  const sso = createScimSso({ store });
  const dashboard = createDashboardCore<null>(sso, { authorize: () => true });
  const render = async (query: string) => {
    const response = await dashboard.handle(null, {
      method: 'GET',
      path: `/admin/customers/${CUSTOMER}`,
      query: new URLSearchParams(query),
      mountPath: '',
      headers: {},
      secure: false,
      form: async () => ({}),
    });
    if (response?.status !== 200) throw new Error(`customer page answered ${response?.status}`);
  };
  const rows: MatchingRow[] = [];
  try {
    // What this section runs beside: earlier sections may have left Redis large and this process's heap grown.
    const redisUsed = /used_memory_human:(\S+)/.exec(await client.info('memory'))?.[1];
    gc();
    log(`  before: this process's live heap ${usedMB().toFixed(0)} MB (after a full GC), Redis ${redisUsed}`);
    const { connectionId } = await sso.createScimConnection({ customerId: CUSTOMER });
    await sso.createOidcClient({
      customerId: CUSTOMER,
      idpType: 'Okta',
      issuer: 'https://idp.example.com',
      clientId: 'bench',
      redirectUri: 'https://app.example.com/cb',
    });
    const now = Date.now();
    let loaded = 0;
    for (const size of settings.sizes) {
      const t0 = performance.now();
      const created = new Date().toISOString();
      await inParallel(loaded, size, async (i) => {
        const outcome = await store.createResource(connectionId, userSpec.toWrite(scimUser(i, created)));
        if (!outcome.ok) throw new Error(`loading SCIM user ${i}: ${JSON.stringify(outcome)}`);
      });
      await inParallel(loaded, size, (i) => store.recordSsoUser(CUSTOMER, ssoUser(i, now)));
      if (loaded === 0) {
        for (let g = 0; g < GROUPS; g++) {
          const members: StoredMember[] = Array.from({ length: GROUP_SIZE }, (_, m) => ({ value: `bench-${(g * 7919 + m * 104_729) % size}` }));
          const write = {
            id: `group-${g}`,
            kind: 'Group' as const,
            json: JSON.stringify({ displayName: `Team ${g}` }),
            indexes: [],
            members,
            displayName: `Team ${g}`,
          };
          if (!(await store.createResource(connectionId, write)).ok) throw new Error(`loading group ${g}`);
        }
      }
      loaded = size;
      const loadSeconds = (performance.now() - t0) / 1000;
      log(`  report: ${size} SCIM users + ${size} SSO users loaded (+${GROUPS} groups) in ${loadSeconds.toFixed(1)} s`);

      const runs: { ms: number; cpu: number; redis: number }[] = [];
      let peak = 0;
      let kept = 0;
      let report: Awaited<ReturnType<typeof sso.matchingReport>> | null = null;
      for (let run = 0; run < settings.reportRuns; run++) {
        report = null;
        gc();
        const before = usedMB();
        let top = before;
        const sampler = setInterval(() => (top = Math.max(top, usedMB())), 5);
        const [cpu, redisCpu, start] = [process.cpuUsage(), await redisCpuMs(client), performance.now()];
        report = await sso.matchingReport(CUSTOMER);
        const ms = performance.now() - start;
        const used = process.cpuUsage(cpu);
        runs.push({ ms, cpu: (used.user + used.system) / 1000, redis: (await redisCpuMs(client)) - redisCpu });
        clearInterval(sampler);
        top = Math.max(top, usedMB());
        gc();
        peak = Math.max(peak, top - before);
        kept = usedMB() - before;
      }
      // One more run for the live heap: a full GC before every sample (untimed: the GCs slow it down).
      gc();
      const base = usedMB();
      let live = base;
      const liveSampler = setInterval(() => (gc(), (live = Math.max(live, usedMB()))), 50);
      await sso.matchingReport(CUSTOMER);
      clearInterval(liveSampler);
      const current = report!.strategies.find((s) => s.strategy === 'OidcEmailToScimUsername')!;
      const expectAdmitted = Array.from({ length: size }, (_, i) => kindOf(i)).filter((k) => k === 'email').length;
      const correct = report!.totals.ssoUsers === size && report!.totals.scimUsers === size && current.admitted.count === expectAdmitted;
      const whole = await wholeConnectionMB(store, connectionId);
      const last = (n: number, page: number) => Math.max(0, Math.floor((n - 1) / page) * page);
      const page = await timed(settings.renders, () => render(''));
      const deep = await timed(settings.renders, () => render(`users=${last(size, 100)}&groups=${last(GROUPS, 50)}&sso=${last(size, 100)}`));
      const median = [...runs].sort((a, b) => a.ms - b.ms)[Math.floor((runs.length - 1) / 2)]!;
      const row: MatchingRow = {
        scimUsers: size,
        ssoUsers: size,
        loadSeconds,
        reportRunsMs: runs.map((r) => Math.round(r.ms)),
        reportMs: median.ms,
        reportCpuMs: median.cpu,
        redisCpuMs: median.redis,
        reportHeapPeakMB: peak,
        reportLiveHeapMB: live - base,
        reportHeapKeptMB: kept,
        wholeConnectionMB: whole,
        pageP50: page.p50,
        pageP99: page.p99,
        deepPageP50: deep.p50,
        deepPageP99: deep.p99,
        admitted: current.admitted.count,
        correct,
      };
      log(
        `  report: ${Math.round(row.reportMs)} ms (runs ${row.reportRunsMs.join(', ')}; CPU ${Math.round(median.cpu)} ms here, ${Math.round(median.redis)} ms in Redis), heap peak +${peak.toFixed(1)} MB, live +${row.reportLiveHeapMB.toFixed(1)} MB, kept ${kept.toFixed(2)} MB (whole connection: ${whole.toFixed(0)} MB); page p50 ${page.p50.toFixed(1)} ms, deep page p50 ${deep.p50.toFixed(1)} ms${correct ? '' : '  WRONG COUNTS'}`,
      );
      rows.push(row);
    }
    return rows;
  } finally {
    await sso.deleteScimConnection(CUSTOMER).catch(() => {});
    await sso.deleteOidcClient(CUSTOMER).catch(() => {});
    await client.quit();
  }
}
