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
 * Both start in parallel; the cluster takes about 2 s, most of it `redis-cli --cluster create` waiting for
 * the nodes to agree. Setup runs once per vitest process: a second call (another project) reuses them.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { freeClusterPort, freePort, INSTALL_HINT, onPath, rawCommand, spawnRedisServer, stopChild } from './redis-process.js';

/** One node of the test Redis Cluster, as ioredis's `new Cluster(nodes)` takes it. */
export interface ClusterNode {
  host: string;
  port: number;
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    redisClusterNodes: ClusterNode[];
  }
}

const MISSING =
  'Tests need Redis: set REDIS_URL=redis://host:port, or install redis-server ' +
  '(Debian/Ubuntu: apt-get install -y redis-server; macOS: brew install redis)';

const MISSING_CLI =
  'The Redis Cluster tests need redis-cli to create the cluster: ' +
  `${INSTALL_HINT}; on Debian/Ubuntu redis-cli alone comes with apt-get install -y redis-tools. ` +
  'Or point the tests at a running cluster with REDIS_CLUSTER_NODES=host:port,host:port,host:port.';

/** cluster-node-timeout while the cluster forms, and for the test run (Redis's default). */
const FORMING_NODE_TIMEOUT_MS = 1_000;
const RUNNING_NODE_TIMEOUT_MS = 15_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

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

function run(binary: string, args: string[], timeoutMs: number): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(binary, args, { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}${error && !stdout && !stderr ? String(error) : ''}` });
    });
  });
}

/** Starts three cluster-enabled masters, creates the cluster, and waits until every node says ok. */
async function startCluster(serverBinary: string, cliBinary: string): Promise<{ nodes: ClusterNode[]; stop: Stop; ms: number }> {
  const started = Date.now();
  const dir = await mkdtemp(join(tmpdir(), 'scim-sso-cluster-'));
  const children: ChildProcess[] = [];
  let cli: Promise<{ code: number; output: string }> | null = null;
  const stop: Stop = async () => {
    // redis-cli's final check, if still running: it ends on its own (30 s timeout at most).
    const check = await cli;
    if (check && check.code !== 0) console.warn(`[global-setup] redis-cli --cluster create ended with exit ${check.code}:\n${check.output.slice(-2000)}`);
    await Promise.all(children.map((child) => stopChild(child)));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const taken = new Set<number>();
    const ports: number[] = [];
    for (let i = 0; i < 3; i++) ports.push(await freeClusterPort(taken));
    const args = (port: number) => [
      '--cluster-enabled', 'yes',
      '--cluster-config-file', `nodes-${port}.conf`,
      '--dir', dir,
      '--save', '',
      '--appendonly', 'no',
      // Short while the cluster forms: nodes then ping each other every 0.5 s, so all three learn the whole
      // slot map in ~0.1 s instead of up to ~10 s of random gossip. Raised back to the default once ok.
      '--cluster-node-timeout', String(FORMING_NODE_TIMEOUT_MS),
    ];
    children.push(...(await Promise.all(ports.map((port) => spawnRedisServer(serverBinary, port, args(port))))));
    console.log("DBG spawned", Date.now() - started);
    const addresses = ports.map((port) => `127.0.0.1:${port}`);
    // redis-cli assigns the slots and introduces the nodes within a few ms, sleeps 1 s, then polls once a
    // second until the nodes agree. It changes nothing after that (no replicas), so setup
    // goes on as soon as every node says cluster_state:ok (about 2 s after start: a master waits 2 s before
    // declaring itself writable), and redis-cli finishes its check in the background (awaited at teardown).
    const creating = run(cliBinary, ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], 30_000);
    let created: { code: number; output: string } | null = null;
    void creating.then((result) => (created = result));
    cli = creating;
    const deadline = Date.now() + 20_000;
    for (;;) {
      const infos = await Promise.all(ports.map((port) => rawCommand(port, 'CLUSTER INFO')));
      const failed = created as { code: number; output: string } | null;
      if (failed && failed.code !== 0) {
        throw new Error(`redis-cli --cluster create ${addresses.join(' ')} failed (exit ${failed.code}):\n${failed.output.slice(-3000)}`);
      }
      if (infos.every((info) => info?.includes("cluster_state:ok"))) { console.log("DBG ok", Date.now() - started, created === null); break; }
      if (Date.now() > deadline) {
        throw new Error(`the test Redis Cluster did not reach cluster_state:ok within 20 s:\n${infos.join('\n---\n')}`);
      }
      await sleep(25);
    }
    // A 1 s timeout would let a node stalled by a busy CI machine be voted failed (CLUSTERDOWN for a while).
    for (const port of ports) {
      const reply = await rawCommand(port, `CONFIG SET cluster-node-timeout ${RUNNING_NODE_TIMEOUT_MS}`);
      if (reply !== 'OK') throw new Error(`CONFIG SET cluster-node-timeout on port ${port} answered ${reply}`);
    }
    return { nodes: ports.map((port) => ({ host: '127.0.0.1', port })), stop, ms: Date.now() - started };
  } catch (error) {
    await stop();
    throw error;
  }
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
  if (needServer && !serverBinary) throw new Error(MISSING);

  const redis = process.env.REDIS_URL
    ? Promise.resolve({ url: process.env.REDIS_URL, stop: async () => {} })
    : startRedis(serverBinary!);
  const cluster = (async () => {
    if (process.env.REDIS_CLUSTER_NODES) return { nodes: parseClusterNodes(process.env.REDIS_CLUSTER_NODES), stop: async () => {} };
    const cliBinary = onPath('redis-cli');
    if (!cliBinary) throw new Error(MISSING_CLI);
    const result = await startCluster(serverBinary!, cliBinary);
    if (process.env.SCIM_SSO_TEST_VERBOSE || process.env.CI) {
      console.log(`[global-setup] Redis Cluster: 3 masters on ${result.nodes.map((n) => n.port).join(', ')}, ready in ${result.ms} ms`);
    }
    return result;
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
