/**
 * vitest globalSetup. Provides to every test file:
 *
 * - `redisUrl`: REDIS_URL when set; otherwise a throwaway redis-server (no persistence, loopback only) on
 *   a free port, stopped after the run.
 * - `redisClusterNodes`: the nodes of a 3-master Redis Cluster. REDIS_CLUSTER_NODES=host:port,host:port,…
 *   when set; otherwise three `redis-server --cluster-enabled yes` children on free ports (tmp dir for their
 *   nodes-<port>.conf, no persistence, loopback only), joined with `redis-cli --cluster create` and ready
 *   (`cluster_state:ok` on every node) before any test runs. Stopped and their dir removed after the run.
 *
 * Both start in parallel; the cluster takes about 2 s (a new master waits 2 s before declaring itself
 * writable; see RedisClusterProcess in redis-process.ts). Setup runs once per vitest process: a second call
 * (another project) reuses what the first started. CI=1 or SCIM_SSO_TEST_VERBOSE=1 prints the startup time.
 */
import type { TestProject } from 'vitest/node';
import { freePort, INSTALL_HINT, onPath, RedisClusterProcess, spawnRedisServer, stopChild, type ClusterNodeAddress } from './redis-process.js';

/** One node of the test Redis Cluster, as ioredis's `new Cluster(nodes)` takes it. */
export type ClusterNode = ClusterNodeAddress;

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    redisClusterNodes: ClusterNode[];
  }
}

const MISSING =
  'Tests need Redis: set REDIS_URL=redis://host:port, or install redis-server ' + '(Debian/Ubuntu: apt-get install -y redis-server; macOS: brew install redis)';

const MISSING_FOR_CLUSTER =
  'REDIS_URL is set, but the Redis Cluster tests need a cluster: set REDIS_CLUSTER_NODES=host:port,host:port,host:port, ' +
  'or install redis-server so that the tests start one (Debian/Ubuntu: apt-get install -y redis-server; macOS: brew install redis)';

const MISSING_CLI =
  'The Redis Cluster tests need redis-cli to create the cluster: ' +
  `${INSTALL_HINT}; on Debian/Ubuntu redis-cli alone comes with apt-get install -y redis-tools. ` +
  'Or point the tests at a running cluster with REDIS_CLUSTER_NODES=host:port,host:port,host:port.';

type Stop = () => Promise<void>;

async function startRedis(binary: string): Promise<{ url: string; stop: Stop }> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      const child = await spawnRedisServer(binary, port, ['--save', '', '--appendonly', 'no']);
      return { url: `redis://127.0.0.1:${port}`, stop: () => stopChild(child) };
    } catch (error) {
      lastError = error; // the port may have been taken meanwhile: try another
    }
  }
  throw lastError;
}

/**
 * A test Redis Cluster, tried up to three times: a port found free may be taken before its node binds it
 * (a node's bus port too), and once in a while (not reproduced since) a start failed with nothing else
 * running. Each failure is printed, so that a flaky start shows in the log instead of passing unseen.
 */
async function startCluster(serverBinary: string, cliBinary: string): Promise<RedisClusterProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await RedisClusterProcess.start({ serverBinary, cliBinary });
    } catch (error) {
      if (attempt === 3) throw error;
      console.warn(`[global-setup] Redis Cluster start ${attempt} of 3 failed, trying again: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

/** Parses REDIS_CLUSTER_NODES (`host:port,host:port`). */
function parseClusterNodes(value: string): ClusterNode[] {
  const nodes = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((entry) => {
      const match = /^(.+):(\d{1,5})$/.exec(entry);
      const port = match ? Number(match[2]) : NaN;
      if (!match || port < 1 || port > 65_535) {
        throw new Error(`REDIS_CLUSTER_NODES: "${entry}" is not host:port (expected host:port,host:port,…)`);
      }
      return { host: match[1]!.replace(/^\[(.*)\]$/, '$1'), port };
    });
  if (nodes.length === 0) throw new Error('REDIS_CLUSTER_NODES is set but lists no node (expected host:port,host:port,…)');
  return nodes;
}

interface Started {
  redisUrl: string;
  clusterNodes: ClusterNode[];
  stop: Stop;
}

/** Everything this process started, shared by every call of setup (vitest calls it once per project). */
let shared: { started: Promise<Started>; users: number } | null = null;

async function startAll(): Promise<Started> {
  const stops: Stop[] = [];
  const stopAll: Stop = async () => {
    await Promise.all(stops.map((stop) => stop().catch(() => {})));
  };
  const needServer = !process.env.REDIS_URL || !process.env.REDIS_CLUSTER_NODES;
  const serverBinary = needServer ? onPath('redis-server') : null;
  if (needServer && !serverBinary) throw new Error(process.env.REDIS_URL ? MISSING_FOR_CLUSTER : MISSING);

  const redis = process.env.REDIS_URL ? Promise.resolve({ url: process.env.REDIS_URL, stop: async () => {} }) : startRedis(serverBinary!);
  const cluster = (async () => {
    if (process.env.REDIS_CLUSTER_NODES) return { nodes: parseClusterNodes(process.env.REDIS_CLUSTER_NODES), stop: async () => {} };
    const cliBinary = onPath('redis-cli');
    if (!cliBinary) throw new Error(MISSING_CLI);
    const cluster = await startCluster(serverBinary!, cliBinary);
    if (process.env.SCIM_SSO_TEST_VERBOSE || process.env.CI) {
      console.log(`[global-setup] Redis Cluster: 3 masters on ${cluster.nodes.map((n) => n.port).join(', ')}, ready in ${cluster.startupMs} ms`);
    }
    const stop: Stop = async () => {
      const failed = await cluster.close();
      if (failed) console.warn(`[global-setup] redis-cli --cluster create ended with exit ${failed.code}:\n${failed.output.slice(-2000)}`);
    };
    return { nodes: cluster.nodes, stop };
  })();
  const [r, c] = await Promise.allSettled([redis, cluster]);
  if (r.status === 'fulfilled') stops.push(r.value.stop);
  if (c.status === 'fulfilled') stops.push(c.value.stop);
  if (r.status === 'rejected' || c.status === 'rejected') {
    await stopAll();
    throw r.status === 'rejected' ? r.reason : (c as PromiseRejectedResult).reason;
  }
  return { redisUrl: r.value.url, clusterNodes: c.value.nodes, stop: stopAll };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (!shared) shared = { started: startAll(), users: 0 };
  const current = shared;
  current.users++;
  let started: Started;
  try {
    started = await current.started;
  } catch (error) {
    if (shared === current) shared = null;
    throw error;
  }
  project.provide('redisUrl', started.redisUrl);
  project.provide('redisClusterNodes', started.clusterNodes);
  let tornDown = false;
  return async () => {
    if (tornDown) return;
    tornDown = true;
    if (--current.users > 0) return;
    if (shared === current) shared = null;
    await started.stop();
  };
}
