/**
 * Event-loop delay over a test run, measured with `perf_hooks.monitorEventLoopDelay` (issue 10: no single
 * request may block the event loop for more than 50 ms). The numbers are REPORTED — printed and written to
 * test-artifacts/ — never asserted: timing thresholds do not go into the test suite.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export interface EventLoopReport {
  label: string;
  samples: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  /** The longest blocks seen, with what was running (when the caller names its steps). */
  worstSteps: { step: string; ms: number }[];
}

const ms = (ns: number) => Math.round((ns / 1e6) * 10) / 10;

/**
 * Starts sampling (10 ms resolution). `step(name)` marks what runs from now on (a request, or the test's
 * own code); a block is blamed on the step that ran for most of it. Callers should yield to the event loop
 * between requests (see {@link yieldToEventLoop}), or a synchronous store never lets the monitor sample.
 */
export function startEventLoopMonitor(label: string) {
  const histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  let steps: { name: string; at: number }[] = [{ name: 'start', at: performance.now() }];
  let lastTick = performance.now();
  const worst: { step: string; ms: number }[] = [];
  // A 10 ms interval timer: a late tick means the loop was blocked in the window since the last tick.
  const timer = setInterval(() => {
    const now = performance.now();
    const late = now - lastTick - 10;
    if (late > 20) {
      const share = new Map<string, number>();
      steps.forEach((s, i) => {
        const from = Math.max(s.at, lastTick);
        const to = i + 1 < steps.length ? steps[i + 1]!.at : now;
        if (to > from) share.set(s.name, (share.get(s.name) ?? 0) + (to - from));
      });
      const [blamed = 'unknown'] = [...share.entries()].sort((a, b) => b[1] - a[1])[0] ?? [];
      worst.push({ step: blamed, ms: Math.round(late) });
      worst.sort((a, b) => b.ms - a.ms);
      worst.length = Math.min(worst.length, 10);
    }
    lastTick = now;
    steps = steps.filter((s, i) => i === steps.length - 1 || steps[i + 1]!.at > now - 1);
  }, 10);
  timer.unref();
  return {
    step(name: string) {
      steps.push({ name, at: performance.now() });
    },
    /** Stops sampling, prints the report and writes it to test-artifacts/event-loop-<file>.json. */
    stop(file: string): EventLoopReport {
      histogram.disable();
      clearInterval(timer);
      const report: EventLoopReport = {
        label,
        samples: histogram.count,
        p50Ms: ms(histogram.percentile(50)),
        p99Ms: ms(histogram.percentile(99)),
        maxMs: ms(histogram.max),
        meanMs: ms(histogram.mean),
        worstSteps: worst,
      };
      console.log(
        `[event loop] ${label}: p50 ${report.p50Ms} ms, p99 ${report.p99Ms} ms, max ${report.maxMs} ms over ${report.samples} samples; worst: ${worst
          .slice(0, 3)
          .map((w) => `${w.step} (${w.ms} ms)`)
          .join('; ')}`,
      );
      mkdirSync('test-artifacts', { recursive: true });
      writeFileSync(`test-artifacts/event-loop-${file}.json`, `${JSON.stringify(report, null, 2)}\n`);
      return report;
    },
  };
}

/** Lets timers (and the monitor) run between a test's requests: the library's own yield (src/event-loop.ts). */
export { yieldToEventLoop } from '../../src/event-loop.js';

/** A setImmediate ticker: how many turns of the event loop other callbacks got since it started, until stopped. */
export function startTurnCounter(): { turns(): number; stop(): void } {
  let turns = 0;
  let running = true;
  const tick = () => {
    turns++;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  return { turns: () => turns, stop: () => void (running = false) };
}

/** Runs `work` while a setImmediate ticker counts how often other callbacks got the event loop meanwhile. */
export async function ticksDuring<T>(work: () => Promise<T>): Promise<{ result: T; ticks: number }> {
  const counter = startTurnCounter();
  try {
    const result = await work();
    return { result, ticks: counter.turns() };
  } finally {
    counter.stop();
  }
}
