/**
 * `npx tsx --expose-gc bench/large-holders.ts <memory|redis> [holders] [chars] [runs]`: one login guard run
 * (runGuard, in process) over `holders` users of `chars` more characters of JSON each, sharing one externalId,
 * the last one active: the app's CPU and wall time per login, the JSON.parse calls of texts over 10,000
 * characters and what they parsed, and the heap's peak over the login (a 1 ms sampler; after a GC with
 * `--expose-gc`). Redis: `REDIS_URL` or 127.0.0.1:6379, under a key prefix of its own, deleted at the end.
 * Defaults: 100 users of 800,000 characters, 3 runs. Not part of `npm run bench`: the cost of a login over
 * large holders (docs/round-trips.md, "Large users"); run it on two versions, alternating, to compare them.
 */
import { Redis } from 'ioredis';
import { memoryStore } from '../src/index.js';
import { runGuard } from '../src/guard/guard.js';
import { redisStore } from '../src/redis.js';
import { bodyText } from '../src/scim/response-body.js';
import { unlimitedSso } from './sso-options.js';

const [kind = 'memory', holders = '100', chars = '800000', runs = '3'] = process.argv.slice(2);
if (kind !== 'memory' && kind !== 'redis') throw new Error('usage: bench/large-holders.ts <memory|redis> [holders] [chars] [runs]');
const client = kind === 'redis' ? new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379') : null;
const store = client ? redisStore({ client, prefix: `large-holders-bench-${process.pid}:` }) : memoryStore();
const sso = unlimitedSso({ store, maxBodyBytes: 2_000_000 });
const customerId = 'large-holders';
const { token } = await sso.createScimConnection({ customerId });
const connection = (await store.getConnectionByCustomer(customerId))!;
for (let i = 0; i < Number(holders); i++) {
  const user = {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName: `h${i}@large.test`,
    externalId: 'shared',
    active: i === Number(holders) - 1,
  };
  const response = await sso.handleScim({
    method: 'POST',
    path: '/Users',
    query: new URLSearchParams(),
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
    body: JSON.stringify({ ...user, notes: 'n'.repeat(Number(chars)) }),
    baseUrl: 'http://127.0.0.1/scim/v2',
  });
  if (response.status !== 201) throw new Error(`POST answered ${response.status}: ${bodyText(response.body)}`);
}

const parse = JSON.parse;
let parses = 0;
let parsed = 0;
JSON.parse = ((text: string, reviver?: Parameters<typeof parse>[1]) => {
  if (typeof text === 'string' && text.length > 10_000) {
    parses++;
    parsed += text.length;
  }
  return parse(text, reviver);
}) as typeof JSON.parse;
const client2 = { customerId, matchingStrategy: 'OidcSubToScimExternalId', subjectClaim: 'sub' } as const;
for (let run = 0; run < Number(runs); run++) {
  parses = parsed = 0;
  (globalThis as { gc?: () => void }).gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  let peak = heapBefore;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 1);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const result = await runGuard(store, { client: client2, connection }, { sub: 'shared' });
  const wall = performance.now() - started;
  const used = process.cpuUsage(cpu);
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().heapUsed);
  console.log(
    `${kind} ${holders} × ${chars} chars: admitted ${result.decision.admit}, CPU ${((used.user + used.system) / 1000).toFixed(1)} ms, ` +
      `wall ${wall.toFixed(1)} ms, ${parses} large parses (${(parsed / 1e6).toFixed(1)} M chars), heap peak +${((peak - heapBefore) / 1e6).toFixed(1)} MB`,
  );
}
JSON.parse = parse;
await store.deleteConnection(connection.connectionId);
client?.disconnect();
