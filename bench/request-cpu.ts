/**
 * `npx tsx bench/request-cpu.ts [requests] [kinds]`: CPU per request of scim-sso's SCIM handler on the Redis
 * store, in process (no HTTP): what the app process spends on a request besides Express and the socket.
 * Kinds: lookup, absent, externalId, get, page, patch, put, post, delete (default: all; delete first provisions
 * the users it deletes); `REQUEST_CPU_STORE=memory`
 * runs them on the memory store (the SCIM layer's own cost, no client at all). 8 requests in flight; the body
 * is encoded as UTF-8 as the socket write would. Every answer's status is checked. Not part of `npm run
 * bench`: to compare two versions of a request path, run it a few times on each, alternating, or under
 * `node --cpu-prof --import tsx` for a profile of that path alone.
 *
 * `REQUEST_CPU_COLD=1`: one request at a time, each after 32 MB of memory was walked (not timed), so that
 * it starts with the CPU caches holding none of its code or data; prints the wall time per request (CPU
 * time, on the memory store). What a request costs in a server that shares its cores with the load
 * generator and Redis lies between the two figures (bench/HISTORY.md, "Session 17").
 */
import { Redis } from 'ioredis';
import { memoryStore } from '../src/index.js';
import { redisStore } from '../src/redis.js';
import type { ScimRequest } from '../src/scim/http.js';
import { provision } from './provision.js';
import { startRedis } from './redis-server.js';
import { unlimitedSso } from './sso-options.js';
import { entraActivePatch, externalIdOf, oktaPut, oktaUser, userNameOf } from './users.js';
import { bodyText } from '../src/scim/response-body.js';

const USERS = 2000;
const requests = Number(process.argv[2] ?? 6000);
const onMemory = process.env.REQUEST_CPU_STORE === 'memory';
const redis = onMemory ? null : await startRedis();
const client = redis ? new Redis(redis.url) : null;
const sso = unlimitedSso({ store: client ? redisStore({ client, prefix: 'request-cpu:' }) : memoryStore() });
const token = 'request-cpu-0123456789-abcdefghijklmnopqrstuvwxyz';
await sso.createScimConnection({ customerId: 'request-cpu', token });
const ids = await provision(sso.handleScim, token, USERS);

const request = (method: string, path: string, query = '', body?: unknown): ScimRequest => ({
  method,
  path,
  query: new URLSearchParams(query),
  headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/scim+json' } : {}) },
  body: body === undefined ? undefined : JSON.stringify(body),
  baseUrl: 'http://127.0.0.1/scim/v2',
});
const filter = (text: string) => `filter=${encodeURIComponent(text)}`;
const n = (i: number) => i % USERS;

/** Each kind: the request for the i-th call and the status it must answer. */
const KINDS: Record<string, { make: (i: number) => ScimRequest; status: number }> = {
  lookup: { make: (i) => request('GET', '/Users', filter(`userName eq "${userNameOf('u', n(i))}"`)), status: 200 },
  absent: { make: (i) => request('GET', '/Users', filter(`userName eq "nobody${i}@example.com"`)), status: 200 },
  externalId: { make: (i) => request('GET', '/Users', filter(`externalId eq "${externalIdOf('u', n(i))}"`)), status: 200 },
  get: { make: (i) => request('GET', `/Users/${ids[n(i)]}`), status: 200 },
  page: { make: (i) => request('GET', '/Users', `startIndex=${1 + (i % 20) * 100}&count=100`), status: 200 },
  patch: { make: (i) => request('PATCH', `/Users/${ids[n(i)]}`, '', entraActivePatch(Math.floor(i / USERS) % 2 === 1)), status: 204 },
  put: { make: (i) => request('PUT', `/Users/${ids[n(i)]}`, '', oktaPut('u', n(i), ids[n(i)]!, i)), status: 200 },
  post: { make: (i) => request('POST', '/Users', '', oktaUser('p', i)), status: 201 },
  delete: { make: (i) => request('DELETE', `/Users/${doomed[i]}`), status: 204 },
};
/** The users the delete kind deletes, each once (provisioned when that kind is chosen). */
let doomed: string[] = [];

const cold = process.env.REQUEST_CPU_COLD === '1';
const cacheFlusher = new Float64Array(cold ? 4 * 1024 * 1024 : 0);
/** Touches every cache line of 32 MB, evicting what the last request left in the caches. */
function flushCaches(): void {
  for (let i = 0; i < cacheFlusher.length; i += 8) cacheFlusher[i]! += 1;
}

/** Cold mode: the requests one by one, each after flushCaches; answers the nanoseconds spent in them. */
const runCold = async (kind: string, from: number, count: number): Promise<bigint> => {
  const { make, status } = KINDS[kind]!;
  let spent = 0n;
  for (let i = from; i < from + count; i++) {
    flushCaches();
    const request = make(i);
    const started = process.hrtime.bigint();
    const response = await sso.handleScim(request);
    spent += process.hrtime.bigint() - started;
    if (response.status !== status) throw new Error(`${kind} answered ${response.status}: ${response.body}`);
  }
  return spent;
};

const run = async (kind: string, from: number, count: number) => {
  const { make, status } = KINDS[kind]!;
  let next = from;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let i = next++; i < from + count; i = next++) {
        const response = await sso.handleScim(make(i));
        if (response.status !== status) throw new Error(`${kind} answered ${response.status}: ${response.body}`);
        Buffer.from(bodyText(response.body) ?? '');
      }
    }),
  );
};

const chosen = process.argv[3] ? process.argv[3].split(',') : Object.keys(KINDS);
for (const kind of chosen) {
  if (!(kind in KINDS)) throw new Error(`unknown kind ${kind}; one of ${Object.keys(KINDS).join(', ')}`);
  const count = kind === 'page' ? Math.ceil(requests / 10) : requests;
  if (kind === 'delete') doomed = await provision(sso.handleScim, token, count + Math.ceil(count / 10), (i) => oktaUser('d', i));
  await run(kind, 0, Math.ceil(count / 10)); // warm-up
  if (cold) {
    const spent = await runCold(kind, Math.ceil(count / 10), count);
    console.log(
      `${kind.padEnd(10)} ${(Number(spent) / 1000 / count).toFixed(1).padStart(7)} µs per request, caches flushed before each (${count} requests, one at a time)`,
    );
    continue;
  }
  const before = process.cpuUsage();
  await run(kind, Math.ceil(count / 10), count);
  const used = process.cpuUsage(before);
  console.log(
    `${kind.padEnd(10)} ${((used.user + used.system) / count).toFixed(1).padStart(7)} µs CPU per request (handler + Redis client, in process; ${count} requests)`,
  );
}
client?.disconnect();
await redis?.stop();
