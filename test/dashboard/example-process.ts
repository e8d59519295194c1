/**
 * Runs the Express example app (`npm run example`'s script) as a child process on a free port, with the
 * memory store, and reads what it prints: the origin, the SCIM line and the demo admin password.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../support/redis-process.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ExampleApp {
  origin: string;
  adminPassword: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts the example app, on another free port when the one picked was taken before the app could listen on
 * it: freePort's port is free when it answers, and a test file running beside this one (a redis-server, a
 * demo IdP on port 0) can take it first; the app then exits saying so.
 */
export async function startExampleApp(timeoutMs = 60_000): Promise<ExampleApp> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnFreePort(timeoutMs);
    } catch (error) {
      if (attempt >= 3 || !(error instanceof PortTakenError)) throw error;
    }
  }
}

class PortTakenError extends Error {}

async function startOnFreePort(timeoutMs: number): Promise<ExampleApp> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), IDP_PORT: '0' };
  for (const name of ['REDIS_URL', 'SCIM_TOKEN', 'DEMO_ADMIN_PASSWORD']) delete env[name];
  // Its own process group, so stopping it stops tsx's child too.
  const child: ChildProcess = spawn(`${ROOT}node_modules/.bin/tsx`, ['example-app/express.ts'], {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone: nothing to kill.
      }
    }, 5_000);
    await exited;
    clearTimeout(timer);
  };

  const started = Date.now();
  while (!/SCIM base URL: \S+ token: \S+/.test(output)) {
    if (child.exitCode !== null) {
      const Failure = /cannot listen on 127\.0\.0\.1:\d+: port \d+ is already in use/.test(output) ? PortTakenError : Error;
      throw new Failure(`the example app exited (${child.exitCode}):\n${output}`);
    }
    if (Date.now() - started > timeoutMs) {
      await stop();
      throw new Error(`the example app printed no "SCIM base URL" line in ${timeoutMs} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const password = /demo admin password: (\S+)/.exec(output)?.[1];
  if (!password) {
    await stop();
    throw new Error(`the example app printed no demo admin password:\n${output}`);
  }
  return { origin: `http://127.0.0.1:${port}`, adminPassword: password, output: () => output, stop };
}
