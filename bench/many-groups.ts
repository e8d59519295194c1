/**
 * `npx tsx bench/many-groups.ts [groups] [users]` (defaults: 1,000, the default `quota.maxGroupsPerMember`,
 * and 100): what users in the most groups allowed cost. `users` users each join `groups` groups; then one
 * user's GET and PATCH, a page of all of them (`count=100`) twice and every page of a walk by `itemsPerPage` are sent, and for each
 * the longest Redis script (SLOWLOG, scripts of 1 ms or more), the event loop's longest stall
 * (monitorEventLoopDelay) and the answer's size are printed. A user's derived `groups` are built inside a
 * script on every read (docs/groups.md); `maxGroupsPerMember` bounds one user, GROUP_IDS_PER_SCRIPT each script.
 * Not part of `npm run bench`.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { redisStore } from '../src/redis.js';
import { bodyText } from '../src/scim/response-body.js';
import { scimRequest } from '../test/support/sso.js';
import { startRedis } from './redis-server.js';
import { unlimitedSso } from './sso-options.js';

const groups = Number(process.argv[2] ?? 1_000);
const userCount = Number(process.argv[3] ?? 100);
const redis = await startRedis();
const client = new Redis(redis.url);
const sso = unlimitedSso({ store: redisStore({ client, prefix: 'many-groups:' }), quota: { maxGroupsPerMember: groups } });
const { token } = await sso.createScimConnection({ customerId: 'many-groups' });
/** One request through the SCIM handler; the answer is parsed only when asked (8 MB take the bench itself ~50 ms). */
const send = async (method: string, path: string, options: { body?: unknown; query?: string } = {}) => {
  const response = await sso.handleScim(scimRequest(token, method, path, options));
  const text = bodyText(response.body) ?? '';
  return {
    status: response.status,
    bytes: text.length,
    text,
    get body() {
      return text ? (JSON.parse(text) as Record<string, unknown>) : null;
    },
  };
};
/** A ListResponse's itemsPerPage, read without parsing the whole answer. */
const itemsPerPage = (text: string) => Number(/"itemsPerPage":(\d+)/.exec(text)?.[1]);

const ids: string[] = [];
for (let i = 0; i < userCount; i++) ids.push((await send('POST', '/Users', { body: { userName: `member-of-many-${i}@example.test` } })).body!.id as string);
const started = performance.now();
for (let i = 0; i < groups; i += 16) {
  const batch = Array.from({ length: Math.min(16, groups - i) }, (_, j) =>
    send('POST', '/Groups', { body: { displayName: `group ${i + j}`, members: ids.map((value) => ({ value })) } }),
  );
  for (const created of await Promise.all(batch)) if (created.status !== 201) throw new Error(`group create answered ${created.status}`);
}
console.log(`${userCount} users in ${groups} groups each, created in ${((performance.now() - started) / 1000).toFixed(1)} s`);
const over = await send('POST', '/Groups', { body: { displayName: 'one too many', members: [{ value: ids[0] }] } });
console.log(`one more group for a user at the limit: ${over.status} ${String(over.body?.detail ?? '')}`);

// Scripts of 1 ms or more (every command a script runs is logged too, so a threshold of 0 would push the
// scripts themselves out of the log).
await client.config('SET', 'slowlog-log-slower-than', '1000');
await client.config('SET', 'slowlog-max-len', '10000');
const loop = monitorEventLoopDelay({ resolution: 1 });
/** Runs `request`, then prints its longest Redis command and event-loop stall. */
async function measure(label: string, request: () => Promise<string>): Promise<void> {
  await client.slowlog('RESET');
  loop.reset();
  loop.enable();
  const at = performance.now();
  const what = await request();
  const ms = performance.now() - at;
  loop.disable();
  const log = (await client.slowlog('GET', 10_000)) as [number, number, number, string[]][];
  const scripts = log.filter(([, , , command]) => command[0]?.toUpperCase().startsWith('EVAL'));
  const longest = Math.max(0, ...scripts.map(([, , micros]) => micros)) / 1000;
  console.log(
    `${label}: ${what}, ${ms.toFixed(1)} ms; longest script ${longest.toFixed(1)} ms (${scripts.length} of 1 ms or more); event loop max ${(loop.max / 1e6).toFixed(1)} ms`,
  );
}

const patch = { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'title', value: 'Lead' }] };
await measure('GET /Users/<id>', async () => {
  const answer = await send('GET', `/Users/${ids[0]}`);
  return `${answer.status}, ${(answer.body!.groups as unknown[]).length} groups, ${answer.bytes} bytes`;
});
await measure('PATCH /Users/<id>', async () => `${(await send('PATCH', `/Users/${ids[0]}`, { body: patch })).status}`);
for (const time of ['first', 'second']) {
  await measure(`GET /Users?count=100 (${time} time)`, async () => {
    const answer = await send('GET', '/Users', { query: 'count=100' });
    return `${answer.status}, itemsPerPage ${itemsPerPage(answer.text)}, ${answer.bytes} bytes`;
  });
}
// The walk: each page measured on its own (between pages the bench holds 8 MB answers of its own).
let seen = 0;
for (let startIndex = 1, page = 1; startIndex <= userCount; page++) {
  let got = 0;
  await measure(`walk, page ${page} (startIndex=${startIndex})`, async () => {
    const answer = await send('GET', '/Users', { query: `startIndex=${startIndex}&count=100` });
    got = itemsPerPage(answer.text);
    return `${answer.status}, itemsPerPage ${got}, ${answer.bytes} bytes`;
  });
  seen += got;
  startIndex += got;
}
console.log(`the walk saw ${seen} of ${userCount} users`);
client.disconnect();
await redis.stop();
