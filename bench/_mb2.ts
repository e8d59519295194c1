import { Redis } from 'ioredis';
import { redisStore } from '../src/redis.js';
import { unlimitedSso } from './sso-options.js';
import { provision } from './provision.js';
const r = new Redis('redis://127.0.0.1:6379/6');
await r.flushdb();
const store = redisStore({ client: r, prefix: 'mb2:' });
const sso = unlimitedSso({ store, activityLog: false });
const token = 'scim_abcdefghijklmnopqrstuvwxyz0123456789ABCDEF';
const { connectionId } = await sso.createScimConnection({ customerId: 'bench', token });
const ids = await provision(sso.handleScim, token, 2000);
async function run(name: string, fn: (i: number) => Promise<unknown>, n = 20000) {
  await r.config('RESETSTAT');
  let i = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (i < n) await fn(i++);
    }),
  );
  const info = await r.info('commandstats');
  console.log(
    name,
    info
      .split('\n')
      .filter((l) => /evalsha|hget|zscore/.test(l))
      .map((l) => l.trim().replace(/,rejected.*/, ''))
      .join(' | '),
  );
}
for (let k = 0; k < 2; k++) {
  await run('get   ', (i) => store.getResource(connectionId, 'User', ids[i % ids.length]!));
  await run('lookup', (i) => store.findByIndex(connectionId, 'User', 'userName', `u.user${i % 2000}@example.com`));
}
const row = await r.hgetall(`mb2:{c:${connectionId}}:u:r`);
const first = Object.values(row)[0]!;
console.log('row bytes', first.length, first.slice(0, 200));
console.log(await r.keys('mb2:*'));
await r.quit();
