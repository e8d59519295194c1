/**
 * redis-server processes owned by the tests: the helpers global-setup.ts uses to start the shared Redis and
 * the Redis Cluster, and `RedisProcess`, a server a test can stop (SIGKILL, SHUTDOWN NOSAVE, SIGSTOP) and
 * restart on the same port to simulate an outage.
 *
 * No Redis client library here: the checks speak raw RESP over a socket, so they work before any client
 * would, and in vitest's main process too.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export const INSTALL_HINT =
  'install redis-server (Debian/Ubuntu: apt-get install -y redis-server, which also installs redis-cli; ' + 'macOS: brew install redis)';

/** The absolute path of `binary` on PATH, or null. */
export function onPath(binary: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, binary);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return null;
}

/** Whether something can listen on 127.0.0.1:port right now. */
export function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A port the OS considers free on 127.0.0.1 (free when asked: another process may take it later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A free port whose Redis Cluster bus port (port + 10000, the default of every Redis version) is free too.
 * `avoid` holds ports already handed out, so that three nodes never collide with each other's bus ports.
 */
export async function freeClusterPort(avoid: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = await freePort();
    const bus = port + 10_000;
    if (bus > 65_535 || avoid.has(port) || avoid.has(bus)) continue;
    if (await canListen(bus)) {
      avoid.add(port);
      avoid.add(bus);
      return port;
    }
  }
  throw new Error('no free port pair (port, port + 10000) found for a Redis Cluster node');
}

/**
 * Sends one inline command (e.g. `CLUSTER INFO`) over a fresh socket and resolves with the reply's text:
 * a simple string, an error (`-ERR …`), an integer, or a bulk string's content; null when the server
 * cannot be reached or does not answer within `timeoutMs`.
 */
export function rawCommand(port: number, command: string, host = '127.0.0.1', timeoutMs = 1000): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    let reply = Buffer.alloc(0);
    let done = false;
    const finish = (value: string | null) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(timeoutMs);
    socket.on('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk: Buffer) => {
      reply = Buffer.concat([reply, chunk]);
      const eol = reply.indexOf('\r\n');
      if (eol < 0) return;
      const head = reply.subarray(0, eol).toString('utf8');
      if (head.startsWith('$')) {
        const length = Number(head.slice(1));
        if (length < 0) return finish('');
        if (reply.length >= eol + 2 + length) finish(reply.subarray(eol + 2, eol + 2 + length).toString('utf8'));
        return;
      }
      finish(head.startsWith('+') || head.startsWith(':') ? head.slice(1) : head);
    });
    socket.on('timeout', () => finish(null));
    socket.on('error', () => finish(null));
    socket.on('close', () => finish(null));
  });
}

/** True when a raw PING on the port gets PONG. */
export async function ping(port: number, host = '127.0.0.1'): Promise<boolean> {
  return (await rawCommand(port, 'PING', host, 500)) === 'PONG';
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Spawns `redis-server` with `args` and resolves once it answers PING on `port`; rejects (with its output)
 * if it exits first or does not answer within `timeoutMs`.
 */
export async function spawnRedisServer(binary: string, port: number, args: string[], timeoutMs = 10_000): Promise<ChildProcess> {
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    if (output.length < 20_000) output += chunk.toString('utf8');
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`redis-server on port ${port} exited early (${child.exitCode ?? child.signalCode}): ${output.slice(-2000)}`);
    }
    if (await ping(port)) return child;
    await sleep(20);
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not answer PING on port ${port} within ${timeoutMs} ms: ${output.slice(-2000)}`);
}

/** Stops a child: SIGTERM, then SIGKILL if it is still running after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(graceMs)]);
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await exited;
  }
}

export interface RedisProcessOptions {
  /**
   * 'aof': `--appendonly yes --appendfsync always` in the process's own tmp dir, so every acknowledged
   * write survives a SIGKILL and a restart finds the data again. 'none': no persistence (a restart is empty).
   * Default 'aof'.
   */
  persistence?: 'aof' | 'none';
  /** More redis-server arguments (`--replicaof 127.0.0.1 <port>` makes a replica). */
  args?: string[];
}

/**
 * A redis-server a test owns: start on a free port, stop it the hard way, restart it on the SAME port (so
 * a client configured with that port reconnects on its own). `close()` kills it and removes its tmp dir.
 */
export class RedisProcess {
  readonly port: number;
  readonly dir: string;
  readonly #binary: string;
  readonly #args: string[];
  #child: ChildProcess | null = null;

  private constructor(binary: string, port: number, dir: string, options: RedisProcessOptions) {
    this.#binary = binary;
    this.port = port;
    this.dir = dir;
    this.#args = ['--dir', dir, '--save', ''];
    this.#args.push(...(options.persistence === 'none' ? ['--appendonly', 'no'] : ['--appendonly', 'yes', '--appendfsync', 'always']));
    this.#args.push(...(options.args ?? []));
  }

  /** Starts a new server on a free port. */
  static async start(options: RedisProcessOptions = {}): Promise<RedisProcess> {
    const binary = onPath('redis-server');
    if (!binary) throw new Error(`RedisProcess needs redis-server: ${INSTALL_HINT}`);
    const dir = await mkdtemp(join(tmpdir(), 'scim-sso-redis-'));
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const proc = new RedisProcess(binary, await freePort(), dir, options);
      try {
        await proc.restart();
        return proc;
      } catch (error) {
        lastError = error; // most likely the port was taken meanwhile: try another
      }
    }
    await rm(dir, { recursive: true, force: true });
    throw lastError;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.#child !== null && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** (Re)starts the server on its port, with the data its AOF kept; resolves when it answers PING. */
  async restart(): Promise<void> {
    if (this.running) throw new Error('RedisProcess.restart: the server is still running');
    this.#child = await spawnRedisServer(this.#binary, this.port, this.#args);
  }

  /**
   * Stops the server: 'kill' = SIGKILL (a crash: connections reset, nothing flushed beyond what
   * appendfsync already did), 'shutdown' = SHUTDOWN NOSAVE (a clean stop that writes no snapshot).
   * Resolves when the process has exited.
   */
  async stop(how: 'kill' | 'shutdown' = 'kill'): Promise<void> {
    const child = this.#child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (how === 'kill') child.kill('SIGKILL');
    else await rawCommand(this.port, 'SHUTDOWN NOSAVE');
    await exited;
  }

  /** SIGSTOP: the server keeps its sockets but answers nothing (a hung server or a partition without RST). */
  pause(): void {
    this.#child?.kill('SIGSTOP');
  }

  /** SIGCONT after pause(). */
  resume(): void {
    this.#child?.kill('SIGCONT');
  }

  /** Kills the server and removes its directory. */
  async close(): Promise<void> {
    if (this.#child && this.running) {
      this.resume();
      await this.stop('kill');
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** One node of a Redis Cluster, as ioredis's `new Cluster(nodes)` takes it. */
export interface ClusterNodeAddress {
  host: string;
  port: number;
}

/** cluster-node-timeout while the cluster forms, and once it is up (Redis's default). */
const FORMING_NODE_TIMEOUT_MS = 1_000;
const RUNNING_NODE_TIMEOUT_MS = 15_000;

function run(binary: string, args: string[], timeoutMs: number): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(binary, args, { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}${error && !stdout && !stderr ? String(error) : ''}` });
    });
  });
}

/** Resolves when every port answers CLUSTER INFO with cluster_state:ok; rejects after `timeoutMs` or when `failed()` says so. */
export async function waitClusterOk(ports: number[], timeoutMs: number, failed: () => Error | null = () => null): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const infos = await Promise.all(ports.map((port) => rawCommand(port, 'CLUSTER INFO')));
    const error = failed();
    if (error) throw error;
    if (infos.every((info) => info?.includes('cluster_state:ok'))) return;
    if (Date.now() > deadline) {
      throw new Error(`the Redis Cluster did not reach cluster_state:ok within ${timeoutMs} ms:\n${infos.join('\n---\n')}`);
    }
    await sleep(25);
  }
}

/**
 * A 3-master Redis Cluster of child processes (no replicas, no persistence, loopback only), with the
 * nodes' `nodes-<port>.conf` in a tmp dir of its own: `start()` spawns the nodes, runs
 * `redis-cli --cluster create … --cluster-replicas 0 --cluster-yes` and resolves once every node says
 * cluster_state:ok (about 2 s: a new master waits 2 s before declaring itself writable). A test can kill
 * a node and restart it (same port, same nodes.conf: it rejoins with its slots).
 */
export class RedisClusterProcess {
  readonly nodes: ClusterNodeAddress[];
  /** Milliseconds from start() to a ready cluster. */
  readonly startupMs: number;
  readonly #server: string;
  readonly #dir: string;
  readonly #persistence: 'aof' | 'none';
  readonly #ports: number[];
  readonly #children: (ChildProcess | null)[];
  #cli: Promise<{ code: number; output: string }> | null;

  private constructor(
    server: string,
    dir: string,
    persistence: 'aof' | 'none',
    ports: number[],
    children: ChildProcess[],
    cli: Promise<{ code: number; output: string }>,
    startupMs: number,
  ) {
    this.#server = server;
    this.#dir = dir;
    this.#persistence = persistence;
    this.#ports = ports;
    this.#children = children;
    this.#cli = cli;
    this.startupMs = startupMs;
    this.nodes = ports.map((port) => ({ host: '127.0.0.1', port }));
  }

  static #args(dir: string, port: number, nodeTimeoutMs: number, persistence: 'aof' | 'none'): string[] {
    return [
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      `nodes-${port}.conf`,
      '--cluster-node-timeout',
      String(nodeTimeoutMs),
      '--dir',
      join(dir, String(port)), // one dir per node: nodes.conf and the AOF are per node
      '--save',
      '',
      ...(persistence === 'aof' ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
    ];
  }

  /**
   * Starts the cluster. `serverBinary`/`cliBinary` default to redis-server/redis-cli on PATH; a missing
   * redis-cli is an error that says how to install it. `persistence: 'aof'` (appendfsync always) keeps
   * each node's data across kill() + restart(); default 'none'.
   */
  static async start(options: { serverBinary?: string; cliBinary?: string; persistence?: 'aof' | 'none' } = {}): Promise<RedisClusterProcess> {
    const persistence = options.persistence ?? 'none';
    const started = Date.now();
    const server = options.serverBinary ?? onPath('redis-server');
    if (!server) throw new Error(`a Redis Cluster needs redis-server: ${INSTALL_HINT}`);
    const cliBinary = options.cliBinary ?? onPath('redis-cli');
    if (!cliBinary) {
      throw new Error(
        `a Redis Cluster needs redis-cli to create it: ${INSTALL_HINT}; on Debian/Ubuntu redis-cli alone comes with ` +
          'apt-get install -y redis-tools. Or point the tests at a running cluster with REDIS_CLUSTER_NODES=host:port,host:port,host:port.',
      );
    }
    const dir = await mkdtemp(join(tmpdir(), 'scim-sso-cluster-'));
    const children: ChildProcess[] = [];
    let cli: Promise<{ code: number; output: string }> | null = null;
    try {
      const taken = new Set<number>();
      const ports: number[] = [];
      for (let i = 0; i < 3; i++) ports.push(await freeClusterPort(taken));
      await Promise.all(ports.map((port) => mkdir(join(dir, String(port)))));
      // A short node timeout while the cluster forms makes the nodes ping each other every 0.5 s, so all
      // three learn the whole slot map at once instead of after up to ~10 s of random gossip.
      const spawned = await Promise.allSettled(
        ports.map((port) => spawnRedisServer(server, port, RedisClusterProcess.#args(dir, port, FORMING_NODE_TIMEOUT_MS, persistence))),
      );
      for (const result of spawned) if (result.status === 'fulfilled') children.push(result.value);
      const refused = spawned.find((r) => r.status === 'rejected');
      if (refused) throw (refused as PromiseRejectedResult).reason;
      const addresses = ports.map((port) => `127.0.0.1:${port}`);
      // redis-cli assigns the slots and introduces the nodes within a few ms, sleeps 1 s, then polls once a
      // second until the nodes agree. It changes nothing after that (no replicas), so start() goes on as
      // soon as every node says cluster_state:ok, and redis-cli finishes its check meanwhile (close() awaits it).
      cli = run(cliBinary, ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], 30_000);
      let created: { code: number; output: string } | null = null;
      void cli.then((result) => (created = result));
      await waitClusterOk(ports, 20_000, () => {
        const done = created as { code: number; output: string } | null;
        return done && done.code !== 0
          ? new Error(`redis-cli --cluster create ${addresses.join(' ')} failed (exit ${done.code}):\n${done.output.slice(-3000)}`)
          : null;
      });
      // A 1 s timeout would let a node stalled by a busy CI machine be voted failed (CLUSTERDOWN for a while).
      for (const port of ports) {
        const reply = await rawCommand(port, `CONFIG SET cluster-node-timeout ${RUNNING_NODE_TIMEOUT_MS}`);
        if (reply !== 'OK') throw new Error(`CONFIG SET cluster-node-timeout on port ${port} answered ${reply}`);
      }
      return new RedisClusterProcess(server, dir, persistence, ports, children, cli, Date.now() - started);
    } catch (error) {
      await cli;
      await Promise.all(children.map((child) => stopChild(child)));
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** The index (0-2) of the node listening on `port`. */
  indexOf(port: number): number {
    return this.#ports.indexOf(port);
  }

  /** SIGKILLs node `index` (0-2); resolves when it has exited. */
  async kill(index: number): Promise<void> {
    const child = this.#children[index];
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
    this.#children[index] = null;
  }

  /** Restarts a killed node on its port with its nodes.conf (its slots; its data only with persistence 'aof'). */
  async restart(index: number): Promise<void> {
    if (this.#children[index]) throw new Error(`RedisClusterProcess.restart: node ${index} is running`);
    const port = this.#ports[index]!;
    this.#children[index] = await spawnRedisServer(this.#server, port, RedisClusterProcess.#args(this.#dir, port, RUNNING_NODE_TIMEOUT_MS, this.#persistence));
  }

  /** Resolves when every node says cluster_state:ok. */
  waitOk(timeoutMs = 20_000): Promise<void> {
    return waitClusterOk(this.#ports, timeoutMs);
  }

  /** Stops every node and removes the tmp dir; returns redis-cli's result when it failed after start(). */
  async close(): Promise<{ code: number; output: string } | null> {
    const check = await this.#cli;
    this.#cli = null;
    await Promise.all(this.#children.map((child) => (child ? stopChild(child) : Promise.resolve())));
    await rm(this.#dir, { recursive: true, force: true });
    return check && check.code !== 0 ? check : null;
  }
}
