/**
 * `npx tsx bench/shared-values.ts [users] [maxResourcesPerValue]` (defaults: 20,000 and the default quota,
 * 100): what users sharing one externalId and one email cost. Creates `users` users that all send the same
 * externalId and email (past the quota the values are crowded: the users are stored, counted but not listed),
 * printing the create script's time as the value's holders grow, then the longest Redis script (SLOWLOG) of a
 * filter on each shared value (400 tooMany once crowded). A lookup by a value reads every user it lists, and
 * adding a listed holder rewrites the value's index entry (docs/storage-limits.md, "Crowded values"). Not
 * part of `npm run bench`.
 */
import { Redis } from 'ioredis';
import { redisStore } from '../src/redis.js';
import { scimRequest } from '../test/support/sso.js';
import { startRedis } from './redis-server.js';
import { unlimitedSso } from './sso-options.js';
import { bodyText } from '../src/scim/response-body.js';

const users = Number(process.argv[2] ?? 20_000);
const perValue = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
const redis = await startRedis();
const client = new Redis(redis.url);
const quota = perValue === undefined ? undefined : { maxResourcesPerValue: perValue };
const sso = unlimitedSso({ store: redisStore({ client, prefix: 'shared:' }), ...(quota ? { quota } : {}) });
const { token } = await sso.createScimConnection({ customerId: 'shared' });
const send = async (method: string, path: string, options: { body?: unknown; query?: string } = {}) => {
  const response = await sso.handleScim(scimRequest(token, method, path, options));
  return { status: response.status, body: bodyText(response.body) ? (JSON.parse(bodyText(response.body)!) as Record<string, unknown>) : null };
};
const shared = (i: number) => ({ userName: `u${i}@d${i}.example`, externalId: 'shared', emails: [{ value: 'team@example.test' }] });

await client.config('SET', 'slowlog-log-slower-than', '0');
await client.config('SET', 'slowlog-max-len', '1000');
/** The longest script Redis ran since the last call. */
async function longestScriptMs(): Promise<number> {
  const log = (await client.slowlog('GET', 1000)) as [number, number, number, string[]][];
  await client.slowlog('RESET');
  return Math.max(0, ...log.filter(([, , , command]) => String(command[0]).toUpperCase().startsWith('EVAL')).map(([, , micros]) => micros)) / 1000;
}

const statuses = new Map<number, number>();
const started = performance.now();
for (let i = 0; i < users; i += 64) {
  const batch = await Promise.all(Array.from({ length: Math.min(64, users - i) }, (_, j) => send('POST', '/Users', { body: shared(i + j) })));
  for (const { status } of batch) statuses.set(status, (statuses.get(status) ?? 0) + 1);
  if ((i / 64) % 60 === 0) {
    await longestScriptMs();
    const probe = await send('POST', '/Users', { body: shared(users + i) });
    console.log(`after ${i} users: one more create answered ${probe.status}, its script ${(await longestScriptMs()).toFixed(2)} ms`);
  }
}
console.log(`${users} creates in ${((performance.now() - started) / 1000).toFixed(1)} s: ${[...statuses].map(([s, n]) => `${n}× ${s}`).join(', ')}`);
for (const filter of ['externalId eq "shared"', 'emails.value eq "team@example.test"']) {
  await longestScriptMs();
  const answer = await send('GET', '/Users', { query: `filter=${encodeURIComponent(filter)}&count=10` });
  console.log(
    `filter=${filter}: ${answer.status}, totalResults ${String(answer.body?.totalResults)}; longest script ${(await longestScriptMs()).toFixed(1)} ms`,
  );
}
client.disconnect();
await redis.stop();
