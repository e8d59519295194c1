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
