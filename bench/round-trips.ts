/**
 * Round trips a server child makes to Redis, counted on the client side: every write to the ioredis
 * client's socket is one message the server then waits on. A single command is one write; a pipeline (or
 * MULTI) is one write for all its commands (ioredis batches them: its Pipeline class);
 * an EVALSHA is one write however many commands its script runs. Commands sent in parallel (Promise.all)
 * count once each: they are separate messages, though not sequential waits. Redis's own view (INFO
 * commandstats, every command including those run inside scripts) is in bench/cost.ts.
 */
import type { Socket } from 'node:net';
import type { Redis } from 'ioredis';

/** Starts counting the socket writes of `client` (across reconnects); answers a reader of the count. */
export function countRoundTrips(client: Redis): () => number {
  let writes = 0;
  const hooked = new WeakSet<Socket>();
  const hook = () => {
    const stream = (client as unknown as { stream?: Socket }).stream;
    if (!stream || hooked.has(stream)) return;
    hooked.add(stream);
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    stream.write = ((...args: unknown[]) => {
      writes++;
      return write(...args);
    }) as Socket['write'];
  };
  hook();
  client.on('connect', hook);
  return () => writes;
}
