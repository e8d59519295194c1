/**
 * A throwaway redis-server for the benchmark: a free port, no persistence, no memory limit (`maxmemory 0`,
 * `noeviction`: the 1,000,000-user scale step holds ~2.5 GB for the limit and scim-redis together, and an
 * eviction would be a wrong answer, not a slow one), stopped at the end.
 */
import { spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { Redis } from 'ioredis';

export interface BenchRedis {
  url: string;
  client: Redis;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Starts one; `args` are more redis-server arguments (`--replicaof 127.0.0.1 <port>` makes a replica). */
export async function startRedis(args: string[] = []): Promise<BenchRedis> {
  const port = await freePort();
  const proc = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory', '0', '--maxmemory-policy', 'noeviction', ...args],
    {
      stdio: 'ignore',
    },
  );
  const failed = new Promise<never>((_, reject) => {
    proc.once('error', (error) => reject(new Error(`cannot start redis-server (is it installed? apt-get install -y redis-server): ${error.message}`)));
  });
  const url = `redis://127.0.0.1:${port}`;
  await Promise.race([listening(port), failed]);
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  return {
    url,
    client,
    async stop() {
      client.disconnect();
      await new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      });
    },
  };
}

/** Resolves once something accepts connections on the port (at most 10 s). */
async function listening(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`redis-server did not listen on port ${port}`);
}
