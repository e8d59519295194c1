/** The run's results: one object (written as JSON with --json) and its text tables. */
import type { Cost } from './cost.js';
import type { GroupScaleResult } from './groups.js';
import type { ProvisionRow } from './scale.js';
import type { MatchingRow } from './matching.js';

export interface PhaseRow {
  phase: string;
  server: string;
  status: 'ok' | 'FAILED';
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  /** Figures divided by the limit server's in the same phase of the same run (null for the limit itself or if it failed). */
  ratio: { rps: number; p50: number; p99: number } | null;
  /** CPU and Redis commands per request over the measured run (see cost.ts). */
  cost: Cost | null;
  wrong: number;
  firstWrong: string | null;
  /**
   * With several runs of the phases section (the full run makes 3): each run's figures, in run order. The
   * row's own rps, p50, p99 and ratios are then the medians of these (a ratio is the median of the runs'
   * ratios, each taken within its run); its cost is averaged over the runs' requests.
   */
  runs?: { status: 'ok' | 'FAILED'; rps: number; p50: number; p99: number; ratio: number | null }[];
}

export interface ScaleRow {
  phase: string;
  server: string;
  users: number;
  status: 'ok' | 'FAILED';
  rps: number;
  p50: number;
  p99: number;
  /** Server + Redis CPU per request (µs): the cost, whatever the machine's load. */
  cpuUs: number;
  firstWrong: string | null;
}

export interface Target {
  name: string;
  value: number | null;
  goal: string;
  met: boolean;
}

export interface Report {
  meta: Record<string, unknown>;
  phases: PhaseRow[];
  scale: ScaleRow[];
  scaleRatios: { phase: string; server: string; p50Small: number; p50Large: number; ratio: number; ratioToLimit: number; cpuRatio: number }[];
  /** scim-redis provisioned through its SCIM API over HTTP in the scale section: per step and in all. */
  scaleProvisioning: { steps: ProvisionRow[]; users: number; seconds: number; rate: number; connections: number; completed: boolean } | null;
  /** The group-scale section (bench/groups.ts). */
  groups: GroupScaleResult | null;
  guard: Record<string, unknown> | null;
  logins: Record<string, unknown> | null;
  /** The events section (bench/events.ts). */
  events: Record<string, unknown> | null;
  replicas: Record<string, unknown> | null;
  /** The matching report and customer page section (bench/matching.ts), one row per size. */
  matching: MatchingRow[];
  memory: Record<string, unknown>[];
  targets: Target[];
}

const f = (n: number | null | undefined, digits = 2) => (n === null || n === undefined || Number.isNaN(n) ? '—' : n.toFixed(digits));
const rps = (n: number) => (Number.isNaN(n) ? '—' : Math.round(n).toString());

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(headers), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

export function phaseTable(rows: PhaseRow[]): string {
  return table(
    ['phase', 'server', 'req/s', 'p50 ms', 'p99 ms', 'req/s ×limit', 'runs ×limit', 'p50 ×limit', 'p99 ×limit', 'status'],
    rows.map((r) => [
      r.phase,
      r.server,
      r.status === 'ok' ? rps(r.rps) : '—',
      r.status === 'ok' ? f(r.p50) : '—',
      r.status === 'ok' ? f(r.p99) : '—',
      f(r.ratio?.rps),
      runRatios(r),
      f(r.ratio?.p50),
      f(r.ratio?.p99),
      r.status === 'ok' ? 'ok' : `FAILED: ${r.firstWrong ?? ''}`.slice(0, 90),
    ]),
  );
}

/** Each run's req/s ratio to the limit (`0.91 0.88 0.93`), or its req/s for the limit itself. */
const runRatios = (r: PhaseRow) => (r.runs ?? []).map((x) => (x.status !== 'ok' ? 'FAILED' : r.server === 'limit' ? rps(x.rps) : f(x.ratio))).join(' ') || '—';

/**
 * Where each request's work went: server CPU, Redis CPU, round trips (messages the server wrote to Redis),
 * Redis commands as Redis counts them (scripts' inner commands included; the top three with µs per call).
 */
export function costTable(rows: PhaseRow[]): string {
  return table(
    ['phase', 'server', 'server CPU µs/req', 'redis CPU µs/req', 'round trips/req', 'redis cmds/req', 'top redis commands per req (× µs per call)'],
    rows.map((r) => [
      r.phase,
      r.server,
      f(r.cost?.serverUs, 0),
      f(r.cost?.redisUs, 0),
      r.server === 'scim-memory' ? '—' : f(r.cost?.roundTrips),
      r.server === 'scim-memory' ? '—' : f(r.cost?.redisCalls),
      r.cost?.commands || '—',
    ]),
  );
}

/**
 * One line per phase: the limit's req/s, scim-sso's (Redis, memory) req/s divided by it, and the round
 * trips and Redis commands per request of the limit and of scim-sso on Redis.
 */
export function ratioTable(rows: PhaseRow[]): string {
  const phases = [...new Set(rows.map((r) => r.phase))];
  const of = (phase: string, server: string) => rows.find((r) => r.phase === phase && r.server === server);
  const ratio = (r: PhaseRow | undefined) =>
    r?.status === 'FAILED' ? 'FAILED' : `${f(r?.ratio?.rps)}${r && (r.runs?.length ?? 0) > 1 ? ` (${runRatios(r)})` : ''}`;
  const trips = (r: PhaseRow | undefined) => (r?.cost ? `${f(r.cost.roundTrips)} / ${f(r.cost.redisCalls)}` : '—');
  return table(
    ['phase', 'limit req/s', 'scim-redis ×limit (runs)', 'scim-memory ×limit (runs)', 'round trips / cmds per req: limit', 'scim-redis'],
    phases.map((phase) => {
      const limit = of(phase, 'limit');
      return [
        phase,
        limit?.status === 'ok' ? rps(limit.rps) : (limit?.status ?? '—'),
        ratio(of(phase, 'scim-redis')),
        ratio(of(phase, 'scim-memory')),
        trips(limit),
        trips(of(phase, 'scim-redis')),
      ];
    }),
  );
}

export function scaleTable(rows: ScaleRow[], ratios: Report['scaleRatios']): string {
  const main = table(
    ['phase', 'server', 'users', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs/req', 'status'],
    rows.map((r) => [
      r.phase,
      r.server,
      String(r.users),
      r.status === 'ok' ? rps(r.rps) : '—',
      f(r.p50),
      f(r.p99),
      f(r.cpuUs, 0),
      r.status === 'ok' ? 'ok' : `FAILED: ${r.firstWrong ?? ''}`.slice(0, 80),
    ]),
  );
  const summary = table(
    ['phase', 'server', 'p50 smallest ms', 'p50 largest ms', 'p50 largest/smallest', "÷ limit's", 'CPU/req largest/smallest'],
    ratios.map((r) => [r.phase, r.server, f(r.p50Small), f(r.p50Large), f(r.ratio), r.server === 'limit' ? '—' : f(r.ratioToLimit), f(r.cpuRatio)]),
  );
  return `${main}\n\n${summary}`;
}

export function provisioningTable(steps: ProvisionRow[]): string {
  return table(
    ['users', 'seconds', 'users/s', 'POST p50 ms', 'POST p99 ms'],
    steps.map((r) => [`${r.from + 1}–${r.to}`, f(r.seconds, 1), rps(r.rate), f(r.p50), f(r.p99)]),
  );
}

export function loginTable(
  rows: { variant: string; logins: number; loginsPerSecond: number; p50: number; p99: number; wrong: number; appCpuMsPerLogin: number }[],
): string {
  const plain = rows.find((r) => r.variant === 'plain');
  return table(
    ['variant', 'logins', 'logins/s', '×plain', 'p50 ms', 'p99 ms', 'app CPU ms/login', 'wrong'],
    rows.map((r) => [
      r.variant,
      String(r.logins),
      f(r.loginsPerSecond, 1),
      f(plain ? r.loginsPerSecond / plain.loginsPerSecond : null),
      f(r.p50, 1),
      f(r.p99, 1),
      f(r.appCpuMsPerLogin),
      String(r.wrong),
    ]),
  );
}

export function matchingTable(rows: MatchingRow[]): string {
  return table(
    [
      'SCIM + SSO users',
      'report ms (runs)',
      'CPU ms: node / redis',
      'heap peak MB (garbage incl.)',
      'live heap peak MB',
      'heap kept MB',
      'whole connection MB',
      'page p50 / p99 ms',
      'last pages p50 / p99 ms',
      'counts',
    ],
    rows.map((r) => [
      `${r.scimUsers} + ${r.ssoUsers}`,
      `${Math.round(r.reportMs)} (${r.reportRunsMs.join(', ')})`,
      `${Math.round(r.reportCpuMs)} / ${Math.round(r.redisCpuMs)}`,
      f(r.reportHeapPeakMB, 1),
      f(r.reportLiveHeapMB, 1),
      f(r.reportHeapKeptMB),
      f(r.wholeConnectionMB, 0),
      `${f(r.pageP50, 1)} / ${f(r.pageP99, 1)}`,
      `${f(r.deepPageP50, 1)} / ${f(r.deepPageP99, 1)}`,
      r.correct ? 'ok' : 'WRONG',
    ]),
  );
}

export function keyValueTable(title: string, values: Record<string, unknown>): string {
  const rows = Object.entries(values).map(([k, v]) => [k, typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(3)) : JSON.stringify(v)]);
  return table([title, 'value'], rows);
}

export function memoryTable(rows: Record<string, unknown>[]): string {
  const headers = Object.keys(rows[0] ?? {});
  return table(
    headers,
    rows.map((r) => headers.map((h) => (typeof r[h] === 'number' ? (Number.isInteger(r[h]) ? String(r[h]) : (r[h] as number).toFixed(2)) : String(r[h])))),
  );
}

export function targetTable(targets: Target[]): string {
  return table(
    ['target', 'value', 'goal', 'met'],
    targets.map((t) => [t.name, f(t.value, 3), t.goal, t.met ? 'yes' : 'NO']),
  );
}
