/**
 * Section "events", in this process, on Redis (docs/events.md): (a) SCIM write throughput with durable
 * events on against off — two instances on one Redis (own prefixes), driven through `handleScim` with the
 * same mix (POST a user, PATCH it), in alternating slices so that load from other processes hits both alike;
 * (b) consumer throughput: a consumer group with a no-op handler draining a backlog of logged events.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { redisStore } from '../src/redis.js';
import { unlimitedSso, type BenchSso } from './sso-options.js';
import { entraActivePatch, oktaUser } from './users.js';
import { bodyText } from '../src/scim/response-body.js';

export interface EventSettings {
  /** Concurrent writers per slice. */
  concurrency: number;
  /** Slices per variant (alternating on, off, on, off…). */
  slices: number;
  /** Seconds per slice. */
  seconds: number;
}

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

/** Writes (POST then PATCH of a user) for `seconds` with `concurrency` writers; answers the writes done. */
async function writeFor(target: { sso: BenchSso; token: string }, tag: string, settings: EventSettings, counter: { n: number }): Promise<number> {
  const until = Date.now() + settings.seconds * 1000;
  let writes = 0;
  const send = (method: string, path: string, body: unknown) =>
    target.sso.handleScim({
      method,
      path,
      query: new URLSearchParams(),
      headers: { authorization: `Bearer ${target.token}`, 'content-type': 'application/scim+json' },
      body: Buffer.from(JSON.stringify(body)),
      baseUrl: 'http://bench/scim/v2',
    });
  await Promise.all(
    Array.from({ length: settings.concurrency }, async () => {
      while (Date.now() < until) {
        const created = await send('POST', '/Users', oktaUser(tag, counter.n++));
        if (created.status !== 201) throw new Error(`bench events: POST answered ${created.status}`);
        const id = (JSON.parse(bodyText(created.body)!) as { id: string }).id;
        const patched = await send('PATCH', `/Users/${id}`, entraActivePatch(false));
        if (patched.status >= 300) throw new Error(`bench events: PATCH answered ${patched.status}`);
        writes += 2;
      }
    }),
  );
  return writes;
}

export async function runEventsBench(url: string, settings: EventSettings, log: (s: string) => void): Promise<EventFigures> {
  const on = await instance(url, true);
  const off = await instance(url, false);
  const totals = { on: 0, off: 0 };
  const counter = { n: 0 };
  try {
    // Warm both up first (JIT, script cache, connection pools): not counted.
    for (const target of [on, off]) await writeFor(target, 'warm', { ...settings, seconds: Math.min(1, settings.seconds) }, counter);
    for (let slice = 0; slice < settings.slices * 2; slice++) {
      const variant = slice % 2 === 0 ? 'on' : 'off';
      totals[variant] += await writeFor(variant === 'on' ? on : off, `ev${variant}`, settings, counter);
    }
    const seconds = settings.slices * settings.seconds;
    const writesPerSecondOn = totals.on / seconds;
    const writesPerSecondOff = totals.off / seconds;
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
