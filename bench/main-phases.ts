/**
 * Section 2: every phase against every server. A phase is cut into slices that alternate between the
 * servers (limit, scim-redis, scim-memory, limit, …), so that on a shared machine each server sees the same
 * mix of quiet and busy moments, and the ratios compare like with like.
 */
import type { Redis } from 'ioredis';
import { costOf, delta, snapshot, total, type Cost, type Snapshot } from './cost.js';
import { merge, runLoad, type PhaseResult } from './load.js';
import * as P from './phases.js';
import type { Dataset } from './phases.js';
import type { PhaseRow } from './report.js';
import type { Server } from './servers.js';

export interface PhaseSettings extends SliceSettings {
  /** DELETE requests per server (a fixed count: each deletes a user). */
  deletes: number;
  /** Only the phases whose name contains one of these (case-insensitive); all when empty. */
  only?: string[];
}

function plan(server: Server, data: Dataset, settings: PhaseSettings): P.Phase[] {
  return [
    P.lookupUserName(data),
    P.lookupAbsent(),
    P.lookupExternalId(data),
    P.getById(data),
    P.pageWalk(data),
    P.create(data, `post-${server.name}`),
    P.patchActive(data, server),
    P.put(data, 'u', server),
    P.remove(data, server, settings.deletes),
  ];
}

export interface SliceSettings {
  connections: number;
  /** Measured seconds per phase and server, cut into `slices`. */
  duration: number;
  slices: number;
  /** Unmeasured seconds before a server's first slice of a phase. */
  warmup: number;
}

/**
 * Runs one phase on several servers (phases[s] on servers[s]; null = skip) in `slices` alternating slices;
 * returns each server's merged result and its CPU/Redis cost per request.
 */
export async function measureAcross(
  servers: Server[],
  phases: (P.Phase | null)[],
  redis: Redis,
  settings: SliceSettings,
): Promise<({ result: PhaseResult; cost: Cost } | null)[]> {
  const slices = servers.map(() => [] as PhaseResult[]);
  const costs = servers.map(() => [] as Snapshot[]);
  for (let slice = 0; slice < settings.slices; slice++) {
    for (const [s, server] of servers.entries()) {
      const phase = phases[s];
      if (!phase) continue;
      const marks: Snapshot[] = [];
      const mark = async () => void marks.push(await snapshot(redis, server.child));
      slices[s]!.push(
        await runLoad({
          baseUrl: server.baseUrl,
          token: server.token,
          next: phase.next,
          connections: settings.connections,
          ...(phase.amount
            ? { amount: Math.max(settings.connections, Math.floor(phase.amount / settings.slices)) }
            : { duration: settings.duration / settings.slices, warmup: slice === 0 ? settings.warmup : 0 }),
          around: { before: mark, after: mark },
        }),
      );
      costs[s]!.push(delta(marks[0]!, marks[1]!));
    }
  }
  return servers.map((_, s) => {
    if (!phases[s]) return null;
    const result = merge(slices[s]!);
    return { result, cost: costOf(total(costs[s]!), result.requests) };
  });
}

export async function runPhases(
  servers: Server[],
  data: Map<string, Dataset>,
  redis: Redis,
  settings: PhaseSettings,
  log: (s: string) => void,
): Promise<PhaseRow[]> {
  const selected = (phase: P.Phase) => !settings.only?.length || settings.only.some((o) => phase.name.toLowerCase().includes(o.toLowerCase()));
  const plans = servers.map((s) => plan(s, data.get(s.name)!, settings).filter(selected));
  const rows: PhaseRow[] = [];
  for (let i = 0; i < (plans[0]?.length ?? 0); i++) {
    const skip = servers.map((server) => plans[0]![i]!.name.startsWith('page walk') && data.get(server.name)!.order.length === 0);
    const measured = await measureAcross(
      servers,
      plans.map((p, s) => (skip[s] ? null : p[i]!)),
      redis,
      settings,
    );
    const group: PhaseRow[] = [];
    for (const [s, server] of servers.entries()) {
      const phase = plans[s]![i]!;
      const m = measured[s];
      if (!m) {
        group.push(failedRow(phase.name, server.name, 'the reference walk failed (see above)'));
        continue;
      }
      const after = m.result.failed ? null : await phase.verify?.();
      group.push({
        phase: phase.name,
        server: server.name,
        status: m.result.failed || after ? 'FAILED' : 'ok',
        requests: m.result.requests,
        rps: m.result.rps,
        p50: m.result.p50,
        p99: m.result.p99,
        ratio: null,
        cost: m.cost,
        wrong: m.result.wrong + (after ? 1 : 0),
        firstWrong: m.result.firstWrong ?? after ?? null,
      });
    }
    const limit = group.find((r) => r.server === 'limit');
    for (const row of group) {
      if (limit && limit.status === 'ok' && row !== limit && row.status === 'ok') {
        row.ratio = { rps: row.rps / limit.rps, p50: row.p50 / limit.p50, p99: row.p99 / limit.p99 };
      }
      const ratio = row.ratio ? ` (${row.ratio.rps.toFixed(2)}× limit)` : '';
      log(
        `  ${row.phase.padEnd(28)} ${row.server.padEnd(12)} ${row.status === 'ok' ? `${Math.round(row.rps)} req/s${ratio}, p50 ${row.p50.toFixed(2)} ms, p99 ${row.p99.toFixed(2)} ms` : `FAILED: ${row.firstWrong}`}`,
      );
      rows.push(row);
    }
  }
  return rows;
}

export function failedRow(phase: string, server: string, why: string): PhaseRow {
  return { phase, server, status: 'FAILED', requests: 0, rps: NaN, p50: NaN, p99: NaN, ratio: null, cost: null, wrong: 1, firstWrong: why };
}

const median = (values: number[]): number => {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/**
 * Several runs of the phases section (each alternating the servers slice by slice) as one row per phase
 * and server: req/s, p50 and p99 are the medians of the runs', each ratio to the limit the median of the
 * runs' ratios (a run's ratio compares slices taken side by side), cost per request the average over
 * every run's requests, and `runs` keeps each run's figures. A phase that failed in any run is FAILED.
 */
export function medianOfRuns(runs: PhaseRow[][]): PhaseRow[] {
  if (runs.length === 1) return runs[0]!.map((row) => ({ ...row, runs: [runFigures(row)] }));
  return runs[0]!.map((first) => {
    const same = runs.map((rows) => rows.find((r) => r.phase === first.phase && r.server === first.server)!).filter(Boolean);
    const failed = same.find((r) => r.status !== 'ok');
    const requests = same.reduce((sum, r) => sum + r.requests, 0);
    const ratios = same.map((r) => r.ratio).filter((r): r is NonNullable<PhaseRow['ratio']> => r !== null);
    const costs = same.filter((r) => r.cost !== null);
    const weighted = (pick: (c: Cost) => number) =>
      costs.reduce((sum, r) => sum + pick(r.cost!) * r.requests, 0) /
      Math.max(
        1,
        costs.reduce((sum, r) => sum + r.requests, 0),
      );
    const middle = [...costs].sort((a, b) => (a.ratio?.rps ?? a.rps) - (b.ratio?.rps ?? b.rps))[Math.floor(costs.length / 2)];
    return {
      phase: first.phase,
      server: first.server,
      status: failed ? 'FAILED' : 'ok',
      requests,
      rps: median(same.map((r) => r.rps)),
      p50: median(same.map((r) => r.p50)),
      p99: median(same.map((r) => r.p99)),
      ratio:
        failed || ratios.length < same.length
          ? null
          : { rps: median(ratios.map((r) => r.rps)), p50: median(ratios.map((r) => r.p50)), p99: median(ratios.map((r) => r.p99)) },
      cost:
        costs.length === 0
          ? null
          : {
              serverUs: weighted((c) => c.serverUs),
              redisUs: weighted((c) => c.redisUs),
              redisCalls: weighted((c) => c.redisCalls),
              roundTrips: weighted((c) => c.roundTrips),
              commands: middle?.cost?.commands ?? '',
            },
      wrong: same.reduce((sum, r) => sum + r.wrong, 0),
      firstWrong: failed?.firstWrong ?? null,
      runs: same.map(runFigures),
    };
  });
}

const runFigures = (row: PhaseRow): NonNullable<PhaseRow['runs']>[number] => ({
  status: row.status,
  rps: row.rps,
  p50: row.p50,
  p99: row.p99,
  ratio: row.ratio?.rps ?? null,
});
