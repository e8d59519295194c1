/**
 * `npx tsx bench/many-groups.ts [groups]` (default 20,000): how long one user listed in many groups holds
 * Redis. A user's derived `groups` are built inside one script per read (and per write of that user), about
 * 3 µs of Lua per group; nothing caps the groups one user may be in (README, "Known limitations"). Prints the
 * wall time and size of a GET and a PATCH of that user, and what Redis's SLOWLOG recorded (scripts over
 * 10 ms). Not part of `npm run bench`.
 */
import { Redis } from 'ioredis';
import { redisStore } from '../src/redis.js';
import { scimRequest } from '../test/support/sso.js';
import { startRedis } from './redis-server.js';
import { unlimitedSso } from './sso-options.js';

const groups = Number(process.argv[2] ?? 20_000);
const redis = await startRedis();
const client = new Redis(redis.url);
const sso = unlimitedSso({ store: redisStore({ client, prefix: 'many-groups:' }) });
const { token } = await sso.createScimConnection({ customerId: 'many-groups' });
const send = async (method: string, path: string, body?: unknown) => {
  const response = await sso.handleScim(scimRequest(token, method, path, { body }));
  return { status: response.status, bytes: response.body?.length ?? 0, body: response.body ? (JSON.parse(response.body) as { id?: string }) : null };
};

const user = await send('POST', '/Users', { userName: 'member-of-many@example.test' });
const id = user.body!.id!;
const started = performance.now();
for (let i = 0; i < groups; i += 64) {
  const batch = Array.from({ length: Math.min(64, groups - i) }, (_, j) =>
    send('POST', '/Groups', { displayName: `group ${i + j}`, members: [{ value: id }] }),
  );
  for (const created of await Promise.all(batch)) if (created.status !== 201) throw new Error(`group create answered ${created.status}`);
}
console.log(`${groups} groups with the user in them, created in ${((performance.now() - started) / 1000).toFixed(1)} s`);

await client.config('SET', 'slowlog-log-slower-than', '10000');
await client.slowlog('RESET');
const patch = { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'title', value: 'Lead' }] };
for (const [method, body] of [
  ['GET', undefined],
  ['PATCH', patch],
] as const) {
  const at = performance.now();
  const answer = await send(method, `/Users/${id}`, body);
  console.log(`${method} /Users/<id>: ${answer.status}, ${(performance.now() - at).toFixed(1)} ms, ${answer.bytes} bytes`);
}
const slow = (await client.slowlog('GET', 10)) as [number, number, number, string[]][];
for (const [, , micros, command] of slow.reverse()) console.log(`SLOWLOG: ${command[0]} held Redis ${(micros / 1000).toFixed(1)} ms`);
client.disconnect();
await redis.stop();
