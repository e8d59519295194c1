/**
 * A TCP proxy in front of the test Redis that can lose a reply: once armed with a marker, it passes the
 * command holding that marker to Redis, lets Redis apply it, then drops both connections before the reply
 * reaches the client, as a network failure between the two would. Not a fake Redis: every command reaches
 * the real server.
 */
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

export interface RedisProxy {
  /** The proxy's address, for a client: `redis://127.0.0.1:<port>`. */
  url: string;
  /** Drops the connections right after the `nth` next command that holds `marker` has reached Redis. */
  loseReplyTo(marker: string, nth?: number): void;
  /** How many times a command holding `marker` has passed since `count` was called for it. */
  count(marker: string): () => number;
  close(): Promise<void>;
}

export async function redisProxy(upstreamUrl: string): Promise<RedisProxy> {
  const upstream = new URL(upstreamUrl);
  let armed: { marker: string; left: number } | null = null;
  const seen = new Map<string, number>();
  const sockets = new Set<Socket>();
  const server = createServer((down) => {
    const up = connect(Number(upstream.port || 6379), upstream.hostname);
    let dropping = false;
    for (const socket of [down, up]) sockets.add(socket);
    const end = () => {
      for (const socket of [down, up]) {
        socket.destroy();
        sockets.delete(socket);
      }
    };
    down.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      for (const [marker, n] of seen) if (text.includes(marker)) seen.set(marker, n + 1);
      up.write(chunk);
      if (armed !== null && text.includes(armed.marker) && --armed.left === 0) {
        armed = null;
        dropping = true;
        // Redis applies it in well under 50 ms; the reply never reaches the client.
        setTimeout(end, 50);
      }
    });
    up.on('data', (chunk: Buffer) => {
      if (!dropping) down.write(chunk);
    });
    for (const socket of [down, up]) {
      socket.on('error', end);
      socket.on('close', end);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `redis://127.0.0.1:${(server.address() as AddressInfo).port}`,
    loseReplyTo(marker, nth = 1) {
      armed = { marker, left: nth };
    },
    count(marker) {
      seen.set(marker, 0);
      return () => seen.get(marker) ?? 0;
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
