/**
 * redis-server processes owned by the tests: the helpers global-setup.ts uses to start the shared Redis and
 * the Redis Cluster, and `RedisProcess`, a server a test can stop (SIGKILL, SHUTDOWN NOSAVE, SIGSTOP) and
 * restart on the same port to simulate an outage.
 *
 * No Redis client library here: the checks speak raw RESP over a socket, so they work before any client
 * would, and in vitest's main process too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export const INSTALL_HINT =
  'install redis-server (Debian/Ubuntu: apt-get install -y redis-server, which also installs redis-cli; ' +
  'macOS: brew install redis)';

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
