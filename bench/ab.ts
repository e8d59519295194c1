/**
 * `npx tsx bench/ab.ts <other checkout> [phase] [store]`: this work tree's SCIM server against the same
 * server built from another checkout of scim-sso, with the limit server as the control, in alternating
 * slices. For two versions of a request path on this shared 2-core VM it is steadier than two runs of
 * `npm run bench`, though a run can still swing by 0.1: repeat it (bench/HISTORY.md, "Session 17").
 *
 *   git worktree add ../base HEAD && ln -s "$PWD/node_modules" ../base/node_modules
 *   npx tsx bench/ab.ts ../base absent memory
 *
 * Phases: lookup, absent, externalId, get, page (the read phases of bench/phases.ts); store: memory or
 * redis. Each server runs compiled in its own child process (bench/child.ts of its own checkout), on one
 * redis-server. Prints per server the req/s, the server process's CPU µs per request, and both divided by
 * the limit's: the CPU ratio moves least with the machine's load.
 */
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startChild, type Child } from './child.js';
import { runLoad } from './load.js';
import * as phases from './phases.js';
import { startRedis } from './redis-server.js';
import type { Server } from './servers.js';
import { loadFresh } from './servers.js';

const [otherCheckout, phaseName = 'lookup', store = 'memory'] = process.argv.slice(2);
if (!otherCheckout) throw new Error('usage: npx tsx bench/ab.ts <other checkout> [lookup|absent|externalId|get|page] [memory|redis]');
const PHASES: Record<string, (data: phases.Dataset) => phases.Phase> = {
  lookup: phases.lookupUserName,
  absent: () => phases.lookupAbsent(),
  externalId: phases.lookupExternalId,
  get: phases.getById,
  page: (data) => phases.pageWalk(data),
};
const phaseOf = PHASES[phaseName];
if (!phaseOf) throw new Error(`unknown phase ${phaseName}; one of ${Object.keys(PHASES).join(', ')}`);
const ROUNDS = 4;
const SLICE_SECONDS = 4;

const other = (await import(pathToFileURL(join(resolve(otherCheckout), 'bench/child.ts')).href)) as { startChild: typeof startChild };
const redis = await startRedis();
const asServer = (child: Child): Server => ({
  name: child.name,
  child,
  token: String(child.info.token),
  baseUrl: `http://127.0.0.1:${child.port}${String(child.info.basePath)}`,
});
const scimEnv = (prefix: string) => ({ BENCH_STORE: store, BENCH_REDIS_URL: redis.url, BENCH_PREFIX: prefix });
const servers = [
  asServer(await startChild('limit', './limit-server.ts', { BENCH_PREFIX: 'bench:ab-limit:', BENCH_REDIS_URL: redis.url })),
  asServer(await startChild('this tree', './scim-server.ts', scimEnv('bench:ab-this:'))),
  asServer(await other.startChild('other', './scim-server.ts', scimEnv('bench:ab-other:'))),
];

const data = new Map<Server, phases.Dataset>();
for (const server of servers) {
  const loaded = await loadFresh(server, 2000);
  if (phaseName === 'page') loaded.order = await phases.referenceWalk(server, loaded.users);
  data.set(server, loaded);
}

const totals = new Map<Server, { requests: number; cpu: number; seconds: number }>();
for (let round = 0; round < ROUNDS; round++) {
  // The two scim-sso servers swap places every round, so neither always follows the limit.
  const order = round % 2 === 0 ? servers : [servers[0]!, servers[2]!, servers[1]!];
  for (const server of order) {
    const phase = phaseOf(data.get(server)!);
    const before = await server.child.cpu();
    const result = await runLoad({
      baseUrl: server.baseUrl,
      token: server.token,
      next: phase.next,
      connections: 16,
      duration: SLICE_SECONDS,
      warmup: round === 0 ? 1 : 0,
    });
    const cpu = (await server.child.cpu()) - before;
    if (result.failed) throw new Error(`${server.name}: ${result.firstWrong}`);
    const total = totals.get(server) ?? { requests: 0, cpu: 0, seconds: 0 };
    totals.set(server, { requests: total.requests + result.requests, cpu: total.cpu + cpu, seconds: total.seconds + result.seconds });
  }
}

const limit = totals.get(servers[0]!)!;
const rows = servers.map((server) => {
  const t = totals.get(server)!;
  const cpuPerRequest = t.cpu / t.requests;
  return {
    server: server.name,
    'req/s': Math.round(t.requests / t.seconds),
    '×limit': +(t.requests / t.seconds / (limit.requests / limit.seconds)).toFixed(3),
    'CPU µs/req': +cpuPerRequest.toFixed(1),
    'CPU ÷ limit': +(cpuPerRequest / (limit.cpu / limit.requests)).toFixed(3),
  };
});
console.log(`${phaseName} on ${store}, ${ROUNDS} rounds of ${SLICE_SECONDS} s per server`);
console.table(rows);
for (const server of servers) await server.child.stop();
await redis.stop();
