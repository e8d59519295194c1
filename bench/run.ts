/**
 * `npm run bench [-- --quick] [--json FILE] [--only phases,scale,groups,guard,logins,events,replicas,report,memory] [--runs N]
 * [--scale-max N]`: scim-sso against the limit of Express + Redis on this machine, in one run. See
 * bench/README.md for how to read the output.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { medianOfRuns, runPhases, type PhaseSettings } from './main-phases.js';
import { referenceWalk, type Dataset } from './phases.js';
import { startRedis } from './redis-server.js';
import { runGuardBench, type GuardSettings } from './guard.js';
import { runLogins, type LoginSettings } from './logins.js';
import { startChild } from './child.js';
import type { MatchingRow, MatchingSettings } from './matching.js';
import { measureMemory } from './memory.js';
import {
  costTable,
  keyValueTable,
  loginTable,
  matchingTable,
  memoryTable,
  phaseTable,
  provisioningTable,
  ratioTable,
  scaleTable,
  targetTable,
  type PhaseRow,
  type Report,
} from './report.js';
import { evaluateTargets } from './targets.js';
import { runScale, type ScaleSettings } from './scale.js';
import { groupTable, runGroupScale, type GroupScaleSettings } from './groups.js';
import { loadFresh, startServers } from './servers.js';
import { emptyLength } from './load.js';
import { runEventsBench, type EventSettings } from './events.js';
import { runReplicaBench } from './replicas.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const jsonFile = args.includes('--json') ? args[args.indexOf('--json') + 1] : undefined;
const only = args.includes('--only') ? new Set((args[args.indexOf('--only') + 1] ?? '').split(',')) : null;
const wants = (section: string) => !only || only.has(section);
/** `--phase PATCH,lookup`: only the main phases whose names contain one of these (for profiling one phase). */
const phaseFilter = args.includes('--phase') ? (args[args.indexOf('--phase') + 1] ?? '').split(',') : [];
/** `--servers scim-redis,limit`: only these servers. */
const serverFilter = args.includes('--servers') ? (args[args.indexOf('--servers') + 1] ?? '').split(',') : null;
const numberOption = (name: string) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : undefined);
/** `--runs N`: runs of the phases section, reported as their median (full: 3, --quick: 1). */
const runsOption = numberOption('--runs');
/** `--scale-max N`: the scale section's largest size (full: 1,000,000; sizes are 1,000 × powers of 10). */
const scaleMax = numberOption('--scale-max');

const config = quick
  ? {
      users: 300,
      runs: 1,
      phase: { connections: 16, duration: 0.6, slices: 1, warmup: 0, deletes: 400 } satisfies PhaseSettings,
      scale: { sizes: [300, 1000, 3000], connections: 16, duration: 0.6, slices: 1, warmup: 0, provisionConnections: 16 } satisfies ScaleSettings,
      groups: { sizes: [1000, 10_000], iterations: 50 } satisfies GroupScaleSettings,
      guard: { users: 1000, calls: 300 } satisfies GuardSettings,
      logins: { concurrency: 8, warmup: 1, rounds: 2, secondsPerRound: 1, users: 300 } satisfies LoginSettings,
      events: { concurrency: 8, slices: 2, seconds: 0.5 } satisfies EventSettings,
      replicas: { concurrency: 8, slices: 2, seconds: 0.5 } satisfies EventSettings,
      report: { sizes: [2000], reportRuns: 2, renders: 20 } satisfies MatchingSettings,
    }
  : {
      users: 2000,
      runs: 3,
      phase: { connections: 16, duration: 5, slices: 4, warmup: 1, deletes: 6000 } satisfies PhaseSettings,
      scale: {
        sizes: [1000, 10_000, 100_000, 1_000_000],
        connections: 16,
        duration: 4,
        slices: 4,
        warmup: 1,
        provisionConnections: 16,
      } satisfies ScaleSettings,
      groups: { sizes: [1000, 100_000], iterations: 200 } satisfies GroupScaleSettings,
      guard: { users: 10_000, calls: 2000 } satisfies GuardSettings,
      logins: { concurrency: 8, warmup: 3, rounds: 8, secondsPerRound: 1.5, users: 2000 } satisfies LoginSettings,
      events: { concurrency: 16, slices: 6, seconds: 2 } satisfies EventSettings,
      replicas: { concurrency: 16, slices: 6, seconds: 2 } satisfies EventSettings,
      report: { sizes: [10_000, 100_000], reportRuns: 3, renders: 50 } satisfies MatchingSettings,
    };

if (runsOption !== undefined) config.runs = Math.max(1, Math.floor(runsOption));
if (scaleMax !== undefined) config.scale.sizes = config.scale.sizes.filter((n) => n <= scaleMax);

const started = Date.now();
const log = (s: string) => {
  if (!s.startsWith('\n## ')) return console.log(s);
  const [title, ...rest] = s.split('\n').slice(1);
  console.log(['', `${title}   [t+${Math.round((Date.now() - started) / 1000)} s]`, ...rest].join('\n'));
};
const redis = await startRedis();
const servers = await startServers(redis.url, serverFilter);
const report: Report = {
  meta: {
    date: new Date().toISOString(),
    quick,
    node: process.version,
    cpus: cpus().length,
    /** 1, 5 and 15 minute load averages when the run started (others share the machine). */
    loadBefore: loadavg().map((n) => Number(n.toFixed(2))),
    redis: String((await redis.client.info('server')).match(/redis_version:(\S+)/)?.[1]),
    users: config.users,
    /** Runs of the phases section; rows give the medians (bench/main-phases.ts medianOfRuns). */
    phaseRuns: config.runs,
    scaleSizes: config.scale.sizes,
    connections: config.phase.connections,
    phaseSeconds: config.phase.duration,
    /** BENCH_EMPTY_CONTENT_LENGTH=1 (bench/load.ts): GET and DELETE sent with `Content-Length: 0`. */
    emptyContentLength: emptyLength,
  },
  phases: [],
  scale: [],
  scaleRatios: [],
  scaleProvisioning: null,
  groups: null,
  guard: null,
  logins: null,
  events: null,
  replicas: null,
  matching: [],
  memory: [],
  targets: [],
};

try {
  if (wants('phases')) {
    const runs: PhaseRow[][] = [];
    for (let run = 1; run <= config.runs; run++) {
      log(`\n## Phases, run ${run} of ${config.runs}: ${config.users} users, concurrency ${config.phase.connections}, ${config.phase.duration} s each`);
      // Each run starts from freshly loaded connections (DELETE and POST of the previous run changed them).
      const data = new Map<string, Dataset>();
      for (const server of servers) {
        const dataset = await loadFresh(server, config.users);
        try {
          dataset.order = await referenceWalk(server, dataset.users);
        } catch (error) {
          log(`  ${(error as Error).message}`);
        }
        data.set(server.name, dataset);
        if (run === 1 && server.name !== 'scim-memory') report.memory.push(await measureMemory(redis.client, server, dataset.users));
      }
      runs.push(await runPhases(servers, data, redis.client, { ...config.phase, only: phaseFilter }, log));
    }
    report.phases = medianOfRuns(runs);
    const of = config.runs > 1 ? `median of ${config.runs} runs; ` : '';
    log(`\n## Phases: ${of}req/s, p50, p99 and ratios are medians, "runs ×limit" each run's ratio\n\n${phaseTable(report.phases)}`);
    log(`\nCost per request (CPU time, not wall time: robust to a busy machine; averaged over the runs)\n\n${costTable(report.phases)}`);
    log(`\nPer phase: req/s ratio to the limit (${of}each run's in brackets), round trips / Redis commands per request\n\n${ratioTable(report.phases)}`);
  }
  if (wants('scale')) {
    log(`\n## Scale: ${config.scale.sizes.join(' → ')} users in one connection, ${config.scale.duration} s per phase`);
    try {
      const scale = await runScale(servers, redis.client, config.scale, log);
      report.scale = scale.rows;
      report.scaleRatios = scale.ratios;
      report.memory.push(...scale.memory);
      const seconds = scale.provisioning.reduce((sum, r) => sum + r.seconds, 0);
      const users = scale.provisioning.reduce((sum, r) => sum + (r.to - r.from), 0);
      report.scaleProvisioning = {
        steps: scale.provisioning,
        users,
        seconds,
        rate: users / seconds,
        connections: config.scale.provisionConnections,
        completed: users === config.scale.sizes[config.scale.sizes.length - 1],
      };
      log(`\n${scaleTable(scale.rows, scale.ratios)}`);
      log(
        `\nscim-redis provisioned through its SCIM API over HTTP, concurrency ${config.scale.provisionConnections}: ${users} users in ${seconds.toFixed(1)} s, ${Math.round(users / seconds)} users/s\n\n${provisioningTable(scale.provisioning)}`,
      );
    } catch (error) {
      log(`  scale FAILED: ${(error as Error).stack ?? String(error)}`);
      report.scaleProvisioning = { steps: [], users: 0, seconds: 0, rate: NaN, connections: config.scale.provisionConnections, completed: false };
    }
  }
  if (wants('groups')) {
    log(
      `\n## Groups: one group grown to ${config.groups.sizes.join(' → ')} members with PATCHes of 1,000 (scim-redis), ${config.groups.iterations} sequential requests per figure`,
    );
    report.groups = await runGroupScale(servers, redis.client, config.groups, log);
    log(`\n${groupTable(report.groups)}`);
  }
  if (wants('guard')) {
    log(`\n## Guard: runGuard in process, Redis store, ${config.guard.users} users, ${config.guard.calls} sequential calls`);
    const guard = await runGuardBench(redis.url, config.guard, log);
    report.guard = guard;
    log(`\n${keyValueTable('guard', guard)}`);
  }
  if (wants('logins')) {
    log(`\n## Logins: full logins through the login stack with the demo IdP, concurrency ${config.logins.concurrency}`);
    const logins = await runLogins(redis.url, config.logins, log);
    const plain = logins.find((l) => l.variant === 'plain')!;
    report.logins = Object.fromEntries(logins.map((l) => [l.variant, { ...l, ratioToPlain: l.loginsPerSecond / plain.loginsPerSecond }]));
    log(`\n${loginTable(logins)}`);
  }
  if (wants('events')) {
    log(
      `\n## Events: SCIM writes (POST + PATCH) with durable events on vs off, ${config.events.slices} alternating slices of ${config.events.seconds} s each, concurrency ${config.events.concurrency}; then a consumer draining the log`,
    );
    const events = await runEventsBench(redis.url, config.events, log);
    report.events = { ...events };
    log(`\n${keyValueTable('events', report.events)}`);
  }
  if (wants('replicas')) {
    log(
      `\n## Replicas: SCIM writes (POST + PATCH) with replicaAcks (1 replica, 1 s) vs without, on a primary and replica of their own, ${config.replicas.slices} alternating slices of ${config.replicas.seconds} s each, concurrency ${config.replicas.concurrency}`,
    );
    report.replicas = { ...(await runReplicaBench(config.replicas, log)) };
    log(`\n${keyValueTable('replicas', report.replicas)}`);
  }
  if (wants('report')) {
    const sizes = config.report.sizes.map((n) => `${n} + ${n}`).join(' → ');
    log(`\n## Matching report and customer page: ${sizes} SCIM + SSO users in one customer (Redis, compiled, in a process of its own)`);
    const child = await startChild('matching', './matching-child.ts', {});
    try {
      report.matching = await child.call<MatchingRow[]>('run', redis.url, config.report);
    } finally {
      await child.stop();
    }
    log(`\n${matchingTable(report.matching)}`);
  }
  if (report.memory.length > 0) log(`\n## Memory\n\n${memoryTable(report.memory)}`);
  report.targets = evaluateTargets(report);
  log(`\n## Targets (issue 13)\n\n${targetTable(report.targets)}`);
} finally {
  await Promise.all(servers.map((s) => s.child.stop()));
  await redis.stop();
}
report.meta.seconds = Math.round((Date.now() - started) / 1000);
report.meta.loadAfter = loadavg().map((n) => Number(n.toFixed(2)));
if (jsonFile) {
  writeFileSync(jsonFile, `${JSON.stringify(report, null, 2)}\n`);
  log(`\nJSON: ${jsonFile}`);
}
log(`\nbench finished in ${report.meta.seconds} s (load average before ${String(report.meta.loadBefore)}, after ${String(report.meta.loadAfter)})`);
