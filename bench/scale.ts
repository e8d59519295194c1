/**
 * Section 2: the read phases at growing sizes of one connection (1,000 → 10,000 → 100,000 → 1,000,000
 * users in the full run), the limit and scim-redis loaded incrementally and measured in alternating slices.
 * scim-redis is provisioned through its SCIM API over HTTP at concurrency 16 (every answer checked, the
 * rate reported per step and over the whole load); the limit writes its own users in pipelines. Phases at
 * each size: lookup userName, GET by id, pages spread over the whole connection, and the deepest pages (the
 * last 1,000 users). Reported per phase and server: p50(largest)/p50(smallest) as measured; the same
 * divided by the limit's (which cancels the machine getting busier or quieter between sizes, minutes
 * apart); and the ratio of CPU per request (server + Redis), which does not depend on the machine's load.
 */
import type { Redis } from 'ioredis';
import { measureAcross, type SliceSettings } from './main-phases.js';
import { measureMemory, type MemoryRow } from './memory.js';
import { deepPages, getById, lookupUserName, pageSpread, referenceWalk, type Dataset, type Phase } from './phases.js';
import { provisionHttp } from './provision.js';
import type { Report, ScaleRow } from './report.js';
import { loadMore, type Server } from './servers.js';

export interface ScaleSettings extends SliceSettings {
  sizes: number[];
  /** Concurrency of the HTTP provisioning of scim-redis (issue 13: 16). */
  provisionConnections: number;
}

/** One step of scim-redis's provisioning over HTTP. */
export interface ProvisionRow {
  from: number;
  to: number;
  seconds: number;
  /** Users per second. */
  rate: number;
  p50: number;
  p99: number;
}

export const SCALE_PHASES = ['lookup userName', 'GET by id', 'page spread', 'deep page'] as const;

export async function runScale(
  allServers: Server[],
  redis: Redis,
  settings: ScaleSettings,
  log: (s: string) => void,
): Promise<{ rows: ScaleRow[]; ratios: Report['scaleRatios']; memory: MemoryRow[]; provisioning: ProvisionRow[] }> {
  // The memory store is left out: the question is whether the Redis layout stays O(1) per lookup and O(page) per page.
  const servers = allServers.filter((s) => s.name !== 'scim-memory');
  const rows: ScaleRow[] = [];
  const provisioning: ProvisionRow[] = [];
  const data = new Map<string, Dataset>();
  for (const server of servers) {
    await server.child.call('reset');
    data.set(server.name, { users: [], order: [], created: [] });
  }
  for (const size of settings.sizes) {
    const orderErrors = new Map<string, string>();
    for (const server of servers) {
      const d = data.get(server.name)!;
      const t0 = Date.now();
      const from = d.users.length;
      if (server.name === 'scim-redis') {
        const loaded = await provisionHttp(server, 'u', from, size - from, settings.provisionConnections);
        for (const u of loaded.users) d.users.push(u);
        const row = { from, to: size, seconds: loaded.seconds, rate: loaded.rate, p50: loaded.p50, p99: loaded.p99 };
        provisioning.push(row);
        log(
          `  scim-redis: provisioned users ${from + 1}–${size} over HTTP at concurrency ${settings.provisionConnections}: ${Math.round(row.rate)} users/s (${row.seconds.toFixed(1)} s, POST p50 ${row.p50.toFixed(2)} ms, p99 ${row.p99.toFixed(2)} ms), every answer a 201`,
        );
      } else {
        for (const u of await loadMore(server, from, size - from)) d.users.push(u);
      }
      d.order = [];
      try {
        d.order = await referenceWalk(server, d.users, size > 10_000 ? 1000 : 100);
      } catch (error) {
        orderErrors.set(server.name, (error as Error).message);
      }
      const used = /used_memory_human:(\S+)/.exec(await redis.info('memory'))?.[1];
      log(`  ${server.name}: loaded to ${size} users (and walked once) in ${((Date.now() - t0) / 1000).toFixed(1)} s; redis-server holds ${used}`);
    }
    const kinds: [(typeof SCALE_PHASES)[number], (d: Dataset) => Phase][] = [
      ['lookup userName', lookupUserName],
      ['GET by id', getById],
      ['page spread', (d) => pageSpread(d)],
      ['deep page', (d) => deepPages(d)],
    ];
    for (const [name, make] of kinds) {
      const skip = (s: Server) => name.includes('page') && orderErrors.has(s.name);
      const measured = await measureAcross(
        servers,
        servers.map((s) => (skip(s) ? null : make(data.get(s.name)!))),
        redis,
        settings,
      );
      for (const [i, server] of servers.entries()) {
        const m = measured[i];
        const row: ScaleRow = m
          ? {
              phase: name,
              server: server.name,
              users: size,
              status: m.result.failed ? 'FAILED' : 'ok',
              rps: m.result.rps,
              p50: m.result.p50,
              p99: m.result.p99,
              cpuUs: m.cost.serverUs + m.cost.redisUs,
              firstWrong: m.result.firstWrong,
            }
          : {
              phase: name,
              server: server.name,
              users: size,
              status: 'FAILED',
              rps: NaN,
              p50: NaN,
              p99: NaN,
              cpuUs: NaN,
              firstWrong: orderErrors.get(server.name) ?? null,
            };
        rows.push(row);
        log(
          `  ${name.padEnd(16)} ${server.name.padEnd(12)} ${String(size).padStart(7)} users: ${row.status === 'ok' ? `${Math.round(row.rps)} req/s, p50 ${row.p50.toFixed(2)} ms, ${row.cpuUs.toFixed(0)} µs CPU/req` : `FAILED: ${row.firstWrong}`}`,
        );
      }
    }
  }
  const memory: MemoryRow[] = [];
  for (const server of servers) memory.push(await measureMemory(redis, server, data.get(server.name)!.users));

  const [smallest, largest] = [settings.sizes[0]!, settings.sizes[settings.sizes.length - 1]!];
  const find = (server: string, phase: string, users: number) =>
    rows.find((r) => r.server === server && r.phase === phase && r.users === users && r.status === 'ok');
  const ratios: Report['scaleRatios'] = [];
  for (const server of servers) {
    for (const phase of SCALE_PHASES) {
      const [small, large] = [find(server.name, phase, smallest), find(server.name, phase, largest)];
      const [limitSmall, limitLarge] = [find('limit', phase, smallest), find('limit', phase, largest)];
      if (!small || !large) continue;
      const ratio = large.p50 / small.p50;
      const limitRatio = limitSmall && limitLarge ? limitLarge.p50 / limitSmall.p50 : NaN;
      ratios.push({
        phase,
        server: server.name,
        p50Small: small.p50,
        p50Large: large.p50,
        ratio,
        ratioToLimit: ratio / limitRatio,
        cpuRatio: large.cpuUs / small.cpuUs,
      });
    }
  }
  return { rows, ratios, memory, provisioning };
}
