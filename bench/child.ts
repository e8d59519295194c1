/**
 * The benchmark's servers run in child processes (so the load generator and each server have their own
 * event loop). Parent side: `startChild(entry)` forks `node <entry compiled to JavaScript>` (bench/compiled.ts:
 * as an app runs the published package, not through tsx), waits for its `{ ready, port }` message and
 * returns an RPC handle. Child side: `serveRpc(handlers)` answers calls.
 * `BENCH_CPU_PROF=<name>` (e.g. `scim-redis`) starts that child with `--cpu-prof` into bench/profiles/<name>/.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { compiledEntry } from './compiled.js';

export interface Child {
  name: string;
  port: number;
  /** Extra facts the child reported when ready (e.g. its token). */
  info: Record<string, unknown>;
  call<T = unknown>(method: string, ...args: unknown[]): Promise<T>;
  /** CPU time (user + system, µs) the child has used so far. */
  cpu(): Promise<number>;
  stop(): Promise<void>;
}

interface Reply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/** Forks bench/<entry> with `env`; resolves once it listens. */
export async function startChild(name: string, entry: string, env: Record<string, string>): Promise<Child> {
  const execArgv: string[] = [];
  if (process.env.BENCH_CPU_PROF === name) execArgv.push('--cpu-prof', `--cpu-prof-dir=${here(`./profiles/${name}`)}`);
  const proc: ChildProcess = fork(compiledEntry(entry), [], { execArgv, env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let next = 0;
  const ready = new Promise<{ port: number; info: Record<string, unknown> }>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`${name} exited (${code}) before it was ready`));
    proc.once('exit', onExit);
    proc.on('message', (raw) => {
      const message = raw as { ready?: boolean; port?: number; info?: Record<string, unknown> } & Partial<Reply>;
      if (message.ready) {
        proc.off('exit', onExit);
        resolve({ port: message.port!, info: message.info ?? {} });
        return;
      }
      const waiter = pending.get(message.id!);
      if (!waiter) return;
      pending.delete(message.id!);
      if (message.ok) waiter.resolve(message.result);
      else waiter.reject(new Error(`${name}: ${message.error}`));
    });
  });
  proc.on('exit', () => {
    for (const waiter of pending.values()) waiter.reject(new Error(`${name} exited`));
    pending.clear();
  });
  const { port, info } = await ready;
  const call = <T>(method: string, ...args: unknown[]): Promise<T> => {
    const id = next++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      proc.send({ id, method, args });
    });
  };
  return {
    name,
    port,
    info,
    call,
    cpu: () => call<number>('__cpu'),
    stop() {
      return new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        proc.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        // A clean exit (not a signal) so that --cpu-prof writes its profile.
        proc.send({ id: -1, method: '__exit', args: [] });
      });
    },
  };
}

export type Handlers = Record<string, (...args: any[]) => unknown>;

/** Child side: reports readiness and answers the parent's calls. `__exit` runs `onExit`, then exits cleanly. */
export function serveRpc(port: number, info: Record<string, unknown>, handlers: Handlers, onExit: () => Promise<void>): void {
  process.on('message', async (raw) => {
    const { id, method, args } = raw as { id: number; method: string; args: unknown[] };
    if (method === '__exit') {
      await onExit().catch(() => {});
      process.exit(0);
    }
    try {
      const handler = method === '__cpu' ? () => process.cpuUsage().user + process.cpuUsage().system : handlers[method];
      if (!handler) throw new Error(`no method ${method}`);
      process.send!({ id, ok: true, result: await handler(...args) });
    } catch (error) {
      process.send!({ id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    }
  });
  // The parent going away (crash, Ctrl-C) must not leave servers behind.
  process.on('disconnect', () => void onExit().finally(() => process.exit(0)));
  process.send!({ ready: true, port, info });
}
