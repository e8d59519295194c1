/**
 * `npx tsx bench/page-cpu.ts [pages]`: CPU per page (`GET /Users?startIndex=…&count=100`, 2,000 users, no
 * filter or projection) of scim-sso's SCIM handler on the Redis store, in process (no HTTP): what the
 * app process spends on a page besides the socket. 8 pages in flight; the body is encoded as UTF-8 as
 * the socket write would. Not part of `npm run bench`.
 */
import { Redis } from 'ioredis';
import { redisStore } from '../src/redis.js';
import { provision } from './provision.js';
import { startRedis } from './redis-server.js';
import { unlimitedSso } from './sso-options.js';

const pages = Number(process.argv[2] ?? 6000);
const redis = await startRedis();
const client = new Redis(redis.url);
const sso = unlimitedSso({ store: redisStore({ client, prefix: 'page-cpu:' }) });
const token = 'page-cpu-0123456789-abcdefghijklmnopqrstuvwxyz';
await sso.createScimConnection({ customerId: 'page-cpu', token });
await provision(sso.handleScim, token, 2000);
const page = (i: number) =>
  sso.handleScim({
    method: 'GET',
    path: '/Users',
    query: new URLSearchParams(`startIndex=${1 + (i % 20) * 100}&count=100`),
    headers: { authorization: `Bearer ${token}` },
    body: undefined,
    baseUrl: 'http://127.0.0.1/scim/v2',
  });
const run = async (count: number) => {
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let i = next++; i < count; i = next++) {
        const response = await page(i);
        if (response.status !== 200) throw new Error(`page answered ${response.status}`);
        Buffer.from(response.body ?? '');
      }
    }),
  );
};
await run(500); // warm-up
const before = process.cpuUsage();
await run(pages);
const used = process.cpuUsage(before);
console.log(`${pages} pages of 100: ${((used.user + used.system) / pages).toFixed(0)} µs CPU per page (handler + Redis client, in process)`);
client.disconnect();
await redis.stop();
