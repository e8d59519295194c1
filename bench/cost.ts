/**
 * Where a phase's work went, independent of how busy the shared machine was: CPU time of the server process
 * and of redis-server per request, and the Redis commands per request (from INFO commandstats), measured
 * over the timed part of a phase only (the bench's own checks run outside it).
 */
import type { Redis } from 'ioredis';
import type { Child } from './child.js';

export interface Snapshot {
  serverCpuUs: number;
  /** Messages the server wrote to Redis (bench/round-trips.ts). */
  roundTrips: number;
  redisCpuUs: number;
  commands: Map<string, { calls: number; usec: number }>;
}

export interface Cost {
  /** Server process CPU per request (µs). */
  serverUs: number;
  /** redis-server CPU per request (µs). */
  redisUs: number;
  /** Redis commands per request as Redis counts them (INFO commandstats): EVALSHA and each command its script runs. */
  redisCalls: number;
  /** Round trips per request: messages the server wrote to Redis (a pipeline or a script is one). */
  roundTrips: number;
  /** e.g. `evalsha 2.00×652µs` — calls per request × server time per call. */
  commands: string;
}

export async function snapshot(redis: Redis, child: Child): Promise<Snapshot> {
  const [serverCpuUs, roundTrips, cpu, stats] = await Promise.all([
    child.cpu(),
    child.call<number>('roundTrips'),
    redis.info('cpu'),
    redis.info('commandstats'),
  ]);
  const num = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(cpu)?.[1] ?? 0);
  const commands = new Map<string, { calls: number; usec: number }>();
  for (const m of stats.matchAll(/cmdstat_([^:]+):calls=(\d+),usec=(\d+)/g)) commands.set(m[1]!, { calls: Number(m[2]), usec: Number(m[3]) });
  return { serverCpuUs, roundTrips, redisCpuUs: (num('used_cpu_user') + num('used_cpu_sys')) * 1e6, commands };
}

/** What happened between two snapshots. */
export function delta(before: Snapshot, after: Snapshot): Snapshot {
  const commands = new Map<string, { calls: number; usec: number }>();
  for (const [name, a] of after.commands) {
    const b = before.commands.get(name) ?? { calls: 0, usec: 0 };
    if (a.calls > b.calls) commands.set(name, { calls: a.calls - b.calls, usec: a.usec - b.usec });
  }
  return {
    serverCpuUs: after.serverCpuUs - before.serverCpuUs,
    roundTrips: after.roundTrips - before.roundTrips,
    redisCpuUs: after.redisCpuUs - before.redisCpuUs,
    commands,
  };
}

/** The sum of several deltas (slices of one phase). */
export function total(deltas: Snapshot[]): Snapshot {
  const zero: Snapshot = { serverCpuUs: 0, roundTrips: 0, redisCpuUs: 0, commands: new Map() };
  return deltas.reduce((acc, d) => {
    for (const [name, c] of d.commands) {
      const a = acc.commands.get(name) ?? { calls: 0, usec: 0 };
      acc.commands.set(name, { calls: a.calls + c.calls, usec: a.usec + c.usec });
    }
    return {
      serverCpuUs: acc.serverCpuUs + d.serverCpuUs,
      roundTrips: acc.roundTrips + d.roundTrips,
      redisCpuUs: acc.redisCpuUs + d.redisCpuUs,
      commands: acc.commands,
    };
  }, zero);
}

/** The cost per request of a delta; the snapshot commands themselves (INFO) are left out. */
export function costOf(d: Snapshot, requests: number): Cost {
  const per = (n: number) => n / Math.max(1, requests);
  // INFO is the snapshots' own; stragglers of the previous server's last requests round to nothing.
  const lines = [...d.commands].filter(([name, c]) => name !== 'info' && per(c.calls) >= 0.01).map(([name, c]) => ({ name, ...c }));
  lines.sort((x, y) => y.usec - x.usec);
  return {
    serverUs: per(d.serverCpuUs),
    redisUs: per(d.redisCpuUs),
    redisCalls: per(lines.reduce((sum, l) => sum + l.calls, 0)),
    roundTrips: per(d.roundTrips),
    commands: lines
      .slice(0, 3)
      .map((l) => `${l.name} ${per(l.calls).toFixed(2)}×${(l.usec / l.calls).toFixed(0)}µs`)
      .join(', '),
  };
}
