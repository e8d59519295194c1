/**
 * One load phase: autocannon at a fixed concurrency for a fixed duration (or a fixed request count), with
 * every response checked. `next()` builds each request and returns the check for its response; a check
 * returns null when the answer is right, or what was wrong. Latencies are kept in full precision (autocannon's
 * own histogram has 1 ms resolution, too coarse for sub-millisecond requests).
 */
import autocannon, { type RequestSpec } from 'autocannon';

export interface Req {
  method: string;
  path: string;
  body?: string;
  /** Checks the response; returns null if it is right, else a description of what is wrong. */
  check(status: number, body: string, headers: Record<string, string>): string | null;
}

export interface PhaseResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  /** Wrong answers (and transport errors): any makes the phase FAILED. */
  wrong: number;
  firstWrong: string | null;
  failed: boolean;
  /** Measured seconds and every latency (ms), so that slices of one phase can be merged. */
  seconds: number;
  latencies: number[];
}

/** One result from several slices of the same phase (see main-phases.ts). */
export function merge(results: PhaseResult[]): PhaseResult {
  const latencies = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const seconds = results.reduce((sum, r) => sum + r.seconds, 0);
  const wrong = results.reduce((sum, r) => sum + r.wrong, 0);
  return {
    requests: latencies.length,
    rps: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    wrong,
    firstWrong: results.find((r) => r.firstWrong)?.firstWrong ?? null,
    failed: wrong > 0,
    seconds,
    latencies,
  };
}

export interface LoadOptions {
  baseUrl: string;
  token: string;
  next: () => Req;
  connections: number;
  duration?: number;
  amount?: number;
  /** Seconds of the same load before measuring (not scored, still checked). */
  warmup?: number;
  /** Called just before and just after the measured run (after the warm-up). */
  around?: { before(): Promise<void>; after(): Promise<void> };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/**
 * BENCH_EMPTY_CONTENT_LENGTH=1: requests without a body (GET, DELETE) carry `Content-Length: 0`. Off by
 * default, since IdPs' clients send none; with none, scim-sso answers `Connection: close`
 * (settleUnreadBody in src/scim/mount.ts), and the phase measures a new TCP connection per request.
 */
export const emptyLength = process.env.BENCH_EMPTY_CONTENT_LENGTH === '1';

export async function runLoad(options: LoadOptions): Promise<PhaseResult> {
  const url = new URL(options.baseUrl);
  let wrong = 0;
  let firstWrong: string | null = null;
  const flag = (what: string) => {
    wrong++;
    firstWrong ??= what;
  };
  const request: RequestSpec = {
    setupRequest(spec, context) {
      const req = options.next();
      context.req = req;
      const out = { ...spec, method: req.method, path: url.pathname + req.path, body: req.body ?? '' };
      return req.body === undefined && emptyLength ? { ...out, headers: { ...out.headers, 'content-length': '0' } } : out;
    },
    onResponse(status, body, context, headers) {
      const req = context.req as Req | undefined;
      if (!req) return flag(`response ${status} without a request`);
      const problem = req.check(status, body, headers);
      if (problem) flag(`${req.method} ${req.path}: ${problem}`);
    },
  };
  const common = {
    url: url.origin,
    connections: options.connections,
    headers: { authorization: `Bearer ${options.token}`, 'content-type': 'application/scim+json', accept: 'application/scim+json' },
    requests: [request],
    timeout: 30,
    sampleInt: 100, // stop within 0.1 s of the duration (the default 1 s tick overshoots short slices)
  };
  if (options.warmup) await autocannon({ ...common, duration: options.warmup });
  const latencies: number[] = [];
  await options.around?.before();
  const instance = autocannon({
    ...common,
    ...(options.amount ? { amount: options.amount } : { duration: options.duration ?? 5 }),
  });
  const started = process.hrtime.bigint();
  let last = started;
  instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => {
    latencies.push(ms);
    last = process.hrtime.bigint();
  });
  const result = await instance;
  await options.around?.after();
  // From the start to the last response: autocannon's own duration runs on to its next 1 s tick.
  const seconds = Number(last - started) / 1e9;
  const errors = result.errors + result.timeouts;
  if (errors > 0) flag(`${errors} transport errors or timeouts`);
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    rps: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    wrong,
    firstWrong,
    failed: wrong > 0,
    seconds,
    latencies,
  };
}
