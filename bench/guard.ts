/**
 * Section 4 (a, b), in this process: the login guard (`runGuard` from src/guard/guard.ts) on a Redis store
 * holding a connection of N users. (a) Redis round trips per login, counted on ioredis's `ioredis:command`
 * tracing channel: a round trip is a wave of commands sent while none was in flight (a pipeline is one);
 * those before `recordSsoUser` is called make the decision, the rest record the attempt. (b) The guard's own
 * time per login: `runGuard` timed over sequential calls, no IdP involved. Every call must admit its user.
 */
import { randomBytes } from 'node:crypto';
import { tracingChannel } from 'node:diagnostics_channel';
import { Redis } from 'ioredis';
import { runGuard, type CustomerConfig } from '../src/guard/guard.js';
import { redisStore } from '../src/redis.js';
import type { Store } from '../src/store/store.js';
import { percentile } from './load.js';
import { provision } from './provision.js';
import { unlimitedSso } from './sso-options.js';
import { oktaUser } from './users.js';

export interface GuardSettings {
  users: number;
  calls: number;
}

export interface GuardFigures {
  users: number;
  calls: number;
  decisionRoundTrips: number;
  recordRoundTrips: number;
  roundTripsPerLogin: number;
  commands: string[];
  p50: number;
  p99: number;
  mean: number;
  wrong: number;
  [key: string]: unknown;
}

const CUSTOMER = 'bench-guard';

/** Counts round-trip waves and commands while `fn` runs, split at the moment `recording()` turns true. */
async function countRoundTrips(fn: () => Promise<unknown>, recording: () => boolean) {
  const channel = tracingChannel<unknown, { command: string }>('ioredis:command');
  let inFlight = 0;
  const waves = { decision: 0, record: 0 };
  const commands: string[] = [];
  const done = () => void inFlight--;
  const handlers = {
    start: (context: { command: string }) => {
      if (inFlight === 0) waves[recording() ? 'record' : 'decision']++;
      inFlight++;
      commands.push(`${recording() ? 'record' : 'decision'}:${context.command}`);
    },
    end: () => {},
    asyncStart: () => {},
    asyncEnd: done,
    error: () => {},
  };
  channel.subscribe(handlers);
  try {
    await fn();
  } finally {
    channel.unsubscribe(handlers);
  }
  return { ...waves, commands };
}

export async function runGuardBench(redisUrl: string, settings: GuardSettings, log: (s: string) => void): Promise<GuardFigures> {
  const client = new Redis(redisUrl);
  const base = redisStore({ client, prefix: 'bench:guard:' });
  let recording = false;
  // The same store, noting when the guard moves on to recording the attempt.
  const store: Store = { ...base, recordSsoUser: (...args) => ((recording = true), base.recordSsoUser(...args)) };
  const sso = unlimitedSso({ store: base });
  try {
    await sso.deleteScimConnection(CUSTOMER);
    await sso.deleteOidcClient(CUSTOMER);
    const { token } = await sso.createScimConnection({ customerId: CUSTOMER, token: randomBytes(32).toString('base64url') });
    await sso.createOidcClient({
      customerId: CUSTOMER,
      idpType: 'Okta',
      issuer: 'https://idp.example.com',
      clientId: 'bench',
      clientSecret: 'bench-secret',
      redirectUri: 'https://app.example.com/sso/callback',
    });
    const t0 = Date.now();
    const ids = await provision(sso.handleScim, token, settings.users);
    log(`  guard: ${settings.users} users provisioned in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const config: CustomerConfig = { client: (await base.getOidcClient(CUSTOMER))!, connection: await base.getConnectionByCustomer(CUSTOMER) };
    const claims = (n: number) => {
      const user = oktaUser('u', n);
      return { sub: user.externalId, email: user.userName, email_verified: true, name: user.displayName, iss: 'https://idp.example.com' };
    };
    let wrong = 0;
    const check = (n: number, result: Awaited<ReturnType<typeof runGuard>>) => {
      if (!result.decision.admit || result.sessionUser.scimUserId !== ids[n]) wrong++;
    };

    // (a) round trips, over a few logins (they must all agree).
    const counts: Awaited<ReturnType<typeof countRoundTrips>>[] = [];
    for (let i = 0; i < 5; i++) {
      recording = false;
      const n = (i * 7919) % settings.users;
      counts.push(
        await countRoundTrips(
          async () => check(n, await runGuard(store, config, claims(n))),
          () => recording,
        ),
      );
    }
    const first = counts[counts.length - 1]!; // steady state (ioredis sends a script's first call as EVAL)
    const agree = counts.every((c) => c.decision === first.decision && c.record === first.record);

    // (b) time per login: a warm-up, then sequential timed calls.
    for (let i = 0; i < Math.min(500, settings.calls); i++) check(i % settings.users, await runGuard(base, config, claims(i % settings.users)));
    const times: number[] = [];
    for (let i = 0; i < settings.calls; i++) {
      const n = (i * 7919) % settings.users;
      const c = claims(n);
      const start = process.hrtime.bigint();
      const result = await runGuard(base, config, c);
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
      check(n, result);
    }
    times.sort((a, b) => a - b);
    return {
      users: settings.users,
      calls: settings.calls,
      decisionRoundTrips: agree ? first.decision : NaN,
      recordRoundTrips: agree ? first.record : NaN,
      roundTripsPerLogin: agree ? first.decision + first.record : NaN,
      commands: first.commands,
      p50: percentile(times, 50),
      p99: percentile(times, 99),
      mean: times.reduce((a, b) => a + b, 0) / times.length,
      wrong,
    };
  } finally {
    await sso.deleteScimConnection(CUSTOMER).catch(() => {});
    await sso.deleteOidcClient(CUSTOMER).catch(() => {});
    await client.quit();
  }
}
