/** Starts the three servers of a run, each in its own child process, and loads users into them. */
import { startChild, type Child } from './child.js';
import type { Dataset, Target } from './phases.js';
import type { KnownUser } from './users.js';

export interface Server extends Target {
  child: Child;
}

export const SERVER_NAMES = ['limit', 'scim-redis', 'scim-memory'] as const;

export async function startServers(redisUrl: string, only: string[] | null = null): Promise<Server[]> {
  const specs: { name: string; entry: string; env: Record<string, string> }[] = [
    { name: 'limit', entry: './limit-server.ts', env: { BENCH_PREFIX: 'bench:limit:' } },
    { name: 'scim-redis', entry: './scim-server.ts', env: { BENCH_STORE: 'redis', BENCH_PREFIX: 'bench:scim:' } },
    { name: 'scim-memory', entry: './scim-server.ts', env: { BENCH_STORE: 'memory' } },
  ];
  const children = await Promise.all(
    specs.filter((s) => !only || only.includes(s.name)).map((s) => startChild(s.name, s.entry, { ...s.env, BENCH_REDIS_URL: redisUrl })),
  );
  return children.map((child) => ({
    name: child.name,
    child,
    token: String(child.info.token),
    baseUrl: `http://127.0.0.1:${child.port}${String(child.info.basePath)}`,
  }));
}

/** Empties the server's connection and loads `count` users (tag `u`), returning what the load generator needs. */
export async function loadFresh(server: Server, count: number): Promise<Dataset> {
  await server.child.call('reset');
  return { users: await loadMore(server, 0, count), order: [], created: [] };
}

/** Adds users u#from … u#(from+count-1). */
export async function loadMore(server: Server, from: number, count: number): Promise<KnownUser[]> {
  const users: KnownUser[] = [];
  // Slices keep each RPC reply (and the child's memory spike) small.
  for (let start = 0; start < count; start += 10_000) {
    users.push(...(await server.child.call<KnownUser[]>('load', 'u', from + start, Math.min(10_000, count - start))));
  }
  return users;
}
