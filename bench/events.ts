/**
 * Section "events", in this process, on Redis (docs/events.md): (a) SCIM write throughput with durable
 * events on against off — two instances on one Redis (own prefixes), driven with the write mix of
 * bench/write-mix.ts (POST a user, PATCH it, alternating slices);
 * (b) consumer throughput: a consumer group with a no-op handler draining a backlog of logged events.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { redisStore } from '../src/redis.js';
import { unlimitedSso, type BenchSso } from './sso-options.js';
import { alternatingWrites, type WriteMixSettings } from './write-mix.js';

/** Concurrency, slices per variant and seconds per slice of the write mix (bench/write-mix.ts). */
export type EventSettings = WriteMixSettings;

export interface EventFigures {
  writesPerSecondOn: number;
  writesPerSecondOff: number;
  ratioOnToOff: number;
  consumedEvents: number;
  consumedPerSecond: number;
}

async function instance(url: string, durableEvents: boolean): Promise<{ sso: BenchSso; token: string; client: Redis }> {
  const client = new Redis(url);
  const sso = unlimitedSso({ store: redisStore({ client, prefix: `bench-events-${randomBytes(4).toString('hex')}:` }), durableEvents });
  const { token } = await sso.createScimConnection({ customerId: `events-${durableEvents ? 'on' : 'off'}` });
  return { sso, token, client };
}

export async function runEventsBench(url: string, settings: EventSettings, log: (s: string) => void): Promise<EventFigures> {
  const on = await instance(url, true);
  const off = await instance(url, false);
  try {
    const rates = await alternatingWrites(on, off, settings);
    const writesPerSecondOn = rates.a;
    const writesPerSecondOff = rates.b;
    log(`  writes/s with events ${writesPerSecondOn.toFixed(0)}, without ${writesPerSecondOff.toFixed(0)}`);

    // (b) The backlog: everything (a) logged, drained by one consumer.
    const customerId = 'events-on';
    let logged = 0;
    for (let after: string | undefined; ;) {
      const page = await on.sso.events.read(customerId, { after, limit: 1000 });
      if (page.events.length === 0) break;
      logged += page.events.length;
      after = page.next ?? undefined;
    }
    let handled = 0;
    const started = performance.now();
    const consumer = on.sso.events.consume({ group: 'bench', batchSize: 500, pollIntervalMs: 5, handler: () => void handled++ });
    while (handled < logged) await new Promise((resolve) => setTimeout(resolve, 5));
    const elapsed = (performance.now() - started) / 1000;
    await consumer.stop();
    log(`  consumer: ${handled} events in ${elapsed.toFixed(2)} s`);
    return {
      writesPerSecondOn,
      writesPerSecondOff,
      ratioOnToOff: writesPerSecondOn / writesPerSecondOff,
      consumedEvents: handled,
      consumedPerSecond: handled / elapsed,
    };
  } finally {
    on.client.disconnect();
    off.client.disconnect();
  }
}
