/**
 * What an app's own calls throw while Redis cannot be reached (src/store/unavailable.ts reportingUnavailable):
 * a StoreUnavailableError carrying ioredis's error as its `cause`, whichever error ioredis raised (with the
 * offline queue off a command fails at once with "Stream isn't writeable"; with it on, after the retries,
 * MaxRetriesPerRequestError), from configuration calls, the directory API and the event API alike. Errors
 * that are not outages pass as they are. The "outage" is a port nothing listens on; the SCIM routes' 503s
 * and the guard's refusals during a real server's crash are in test/reliability/outage.test.ts.
 */
import { createServer } from 'node:net';
import { Redis, type RedisOptions } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { scimSso } from '../support/sso.js';
import { redisStore } from '../../src/store/redis.js';
import { reportingUnavailable, StoreUnavailableError } from '../../src/store/unavailable.js';

/** A local port nothing listens on (taken, then let go). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const clients: Redis[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.disconnect();
});

async function unreachableSso(options: RedisOptions) {
  const client = new Redis({ port: await closedPort(), host: '127.0.0.1', connectTimeout: 500, retryStrategy: () => 50, ...options });
  client.on('error', () => {}); // connection refusals, reported on every retry
  clients.push(client);
  return scimSso({ store: redisStore({ client, prefix: 'outage-errors:' }) });
}

const CALLS = {
  fetchScimConnection: (sso: ReturnType<typeof scimSso>) => sso.fetchScimConnection('acme'),
  createScimConnection: (sso: ReturnType<typeof scimSso>) => sso.createScimConnection({ customerId: 'acme' }),
  'directory.listUsers': (sso: ReturnType<typeof scimSso>) => sso.directory.listUsers('acme'),
  'events.read': (sso: ReturnType<typeof scimSso>) => sso.events.read('acme'),
  fetchOidcClient: (sso: ReturnType<typeof scimSso>) => sso.fetchOidcClient('acme'),
};

describe.each([
  ['the offline queue off', { enableOfflineQueue: false, maxRetriesPerRequest: 1 }],
  ['the offline queue on', { enableOfflineQueue: true, maxRetriesPerRequest: 1 }],
] as const)('Redis unreachable, %s', (_, options) => {
  it.each(Object.keys(CALLS))('%s throws StoreUnavailableError with the client error as its cause', async (name) => {
    const sso = await unreachableSso(options);
    const error: unknown = await CALLS[name as keyof typeof CALLS](sso).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StoreUnavailableError);
    const cause = (error as StoreUnavailableError).cause;
    expect(cause).toBeInstanceOf(Error);
    expect(cause).not.toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).message).toContain((cause as Error).message);
  });
});

it('lets errors that are not outages through as they are', async () => {
  const sso = await unreachableSso({ enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  // An argument the store refuses before it sends anything: the same TypeError as with Redis up.
  const error: unknown = await sso.store.getResource('not an id', 'User', 'x').then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TypeError);
  expect(error).not.toBeInstanceOf(StoreUnavailableError);
});

it('does not take a refused argument for an outage, whatever its message quotes', async () => {
  const wrapped = reportingUnavailable({
    refuse: async () => {
      throw new TypeError('requiredClaims.READONLY must name claims'); // READONLY is also a Redis outage reply
    },
  });
  const error: unknown = await wrapped.refuse().then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TypeError);
  expect(error).not.toBeInstanceOf(StoreUnavailableError);
});
