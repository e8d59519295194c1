/**
 * `npm run bench [-- --quick] [--json FILE] [--only phases,scale,groups,guard,logins,report]`: scim-sso against the
 * limit of Express + Redis on this machine, in one run. See bench/README.md for how to read the output.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { runPhases, type PhaseSettings } from './main-phases.js';
import { referenceWalk, type Dataset } from './phases.js';
import { startRedis } from './redis-server.js';
import { runGuardBench, type GuardSettings } from './guard.js';
import { runLogins, type LoginSettings } from './logins.js';
import { runMatchingBench, type MatchingSettings } from './matching.js';
import { measureMemory } from './memory.js';
import { costTable, keyValueTable, loginTable, matchingTable, memoryTable, phaseTable, ratioTable, scaleTable, targetTable, type Report } from './report.js';
import { evaluateTargets } from './targets.js';
import { runScale, type ScaleSettings } from './scale.js';
import { groupTable, runGroupScale, type GroupScaleSettings } from './groups.js';
import { loadFresh, startServers } from './servers.js';
import { emptyLength } from './load.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const jsonFile = args.includes('--json') ? args[args.indexOf('--json') + 1] : undefined;
const only = args.includes('--only') ? new Set((args[args.indexOf('--only') + 1] ?? '').split(',')) : null;
const wants = (section: string) => !only || only.has(section);
/** `--phase PATCH,lookup`: only the main phases whose names contain one of these (for profiling one phase). */
const phaseFilter = args.includes('--phase') ? (args[args.indexOf('--phase') + 1] ?? '').split(',') : [];
/** `--servers scim-redis,limit`: only these servers. */
const serverFilter = args.includes('--servers') ? (args[args.indexOf('--servers') + 1] ?? '').split(',') : null;

const config = quick
  ? {
      users: 300,
      phase: { connections: 16, duration: 0.6, slices: 1, warmup: 0, deletes: 400 } satisfies PhaseSettings,
      scale: { sizes: [300, 1000, 3000], connections: 16, duration: 0.6, slices: 1, warmup: 0 } satisfies ScaleSettings,
      groups: { sizes: [1000, 10_000], iterations: 50 } satisfies GroupScaleSettings,
      guard: { users: 1000, calls: 300 } satisfies GuardSettings,
      logins: { concurrency: 8, warmup: 1, rounds: 2, secondsPerRound: 1, users: 300 } satisfies LoginSettings,
      report: { sizes: [2000], reportRuns: 2, renders: 20 } satisfies MatchingSettings,
    }
  : {
      users: 2000,
      phase: { connections: 16, duration: 5, slices: 4, warmup: 1, deletes: 6000 } satisfies PhaseSettings,
      scale: { sizes: [1000, 10_000, 100_000], connections: 16, duration: 4, slices: 4, warmup: 1 } satisfies ScaleSettings,
      groups: { sizes: [1000, 100_000], iterations: 200 } satisfies GroupScaleSettings,
      guard: { users: 10_000, calls: 2000 } satisfies GuardSettings,
      logins: { concurrency: 8, warmup: 3, rounds: 8, secondsPerRound: 1.5, users: 2000 } satisfies LoginSettings,
      report: { sizes: [10_000, 100_000], reportRuns: 3, renders: 50 } satisfies MatchingSettings,
    };

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
    connections: config.phase.connections,
    phaseSeconds: config.phase.duration,
    /** BENCH_EMPTY_CONTENT_LENGTH=1 (bench/load.ts): GET and DELETE sent with `Content-Length: 0`. */
    emptyContentLength: emptyLength,
  },
  phases: [],
  scale: [],
  scaleRatios: [],
  groups: null,
  guard: null,
  logins: null,
  matching: [],
  memory: [],
  targets: [],
};

try {
  if (wants('phases')) {
    log(`\n## Phases: ${config.users} users, concurrency ${config.phase.connections}, ${config.phase.duration} s each`);
    const data = new Map<string, Dataset>();
    for (const server of servers) {
      const dataset = await loadFresh(server, config.users);
      try {
        dataset.order = await referenceWalk(server, dataset.users);
      } catch (error) {
        log(`  ${(error as Error).message}`);
      }
      data.set(server.name, dataset);
      if (server.name !== 'scim-memory') report.memory.push(await measureMemory(redis.client, server, dataset.users));
    }
    report.phases = await runPhases(servers, data, redis.client, { ...config.phase, only: phaseFilter }, log);
    log(`\n${phaseTable(report.phases)}`);
    log(`\nCost per request (CPU time, not wall time: robust to a busy machine)\n\n${costTable(report.phases)}`);
    log(`\nPer phase: req/s ratio to the limit, round trips / Redis commands per request\n\n${ratioTable(report.phases)}`);
  }
  if (wants('scale')) {
    log(`\n## Scale: ${config.scale.sizes.join(' → ')} users in one connection, ${config.scale.duration} s per phase`);
    const scale = await runScale(servers, redis.client, config.scale, log);
    report.scale = scale.rows;
    report.scaleRatios = scale.ratios;
    report.memory.push(...scale.memory);
    log(`\n${scaleTable(scale.rows, scale.ratios)}`);
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
  if (wants('report')) {
    const sizes = config.report.sizes.map((n) => `${n} + ${n}`).join(' → ');
    log(`\n## Matching report and customer page: ${sizes} SCIM + SSO users in one customer (Redis, in process)`);
    report.matching = await runMatchingBench(redis.url, config.report, log);
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
