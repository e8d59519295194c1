/**
 * `npx tsx bench/customers-page.ts [customers] [memory|redis]`: the dashboard's Customers page when the app
 * has that many customers (default 10,000), each with a SCIM connection and an OIDC client. Renders the
 * first page three times through the framework-neutral dashboard handler (no HTTP) and prints the time of
 * each render and the largest gap of a 1 ms interval timer during it: how long the render held the event
 * loop. On Redis it starts a redis-server of its own. Not part of `npm run bench`; the figures are in
 * README.md ("SCIM Matching: the report and the admin dashboard").
 */
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { createDashboardCore } from '../src/dashboard/index.js';
import { createScimSso, memoryStore } from '../src/index.js';
import { redisStore } from '../src/redis.js';
import { startRedis } from './redis-server.js';

const [customersArg = '10000', storeKind = 'memory'] = process.argv.slice(2);
const customers = Number(customersArg);
const redis = storeKind === 'redis' ? await startRedis() : null;
const client = redis ? new Redis(redis.url) : null;
const store = client ? redisStore({ client, prefix: 'customers-page:' }) : memoryStore();
const sso = createScimSso({ store });
const dashboard = createDashboardCore<null>(sso, { authorize: () => true });

const loadStarted = performance.now();
for (let from = 0; from < customers; from += 200) {
  await Promise.all(
    Array.from({ length: Math.min(200, customers - from) }, async (_, i) => {
      const customerId = `customer-${String(from + i).padStart(7, '0')}`;
      await sso.createScimConnection({ customerId });
      await sso.createOidcClient({
        customerId,
        idpType: 'Okta',
        issuer: 'https://idp.example.com',
        clientId: `client-${from + i}`,
        redirectUri: 'https://app.example.com/cb',
      });
    }),
  );
}
console.log(`${customers} customers on the ${storeKind} store, loaded in ${(performance.now() - loadStarted).toFixed(0)} ms`);

let last = performance.now();
let largestGap = 0;
const ticker = setInterval(() => {
  const now = performance.now();
  largestGap = Math.max(largestGap, now - last);
  last = now;
}, 1);
try {
  for (let run = 0; run < 3; run++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    largestGap = 0;
    last = performance.now();
    const started = performance.now();
    const response = await dashboard.handle(null, {
      method: 'GET',
      path: '/admin/',
      query: new URLSearchParams(),
      mountPath: '',
      headers: {},
      secure: false,
      form: async () => ({}),
    });
    const ms = performance.now() - started;
    // The gap that ends with the render is only seen by the timer's next tick.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const bytes = typeof response?.body === 'string' ? response.body.length : 0;
    if (response?.status !== 200 || !String(response.body).includes(`${customers} customers`))
      throw new Error(`the Customers page answered ${response?.status}`);
    console.log(`render ${run + 1}: ${ms.toFixed(0)} ms, ${(bytes / 1024).toFixed(0)} KB, event loop held at most ${largestGap.toFixed(1)} ms`);
  }
} finally {
  clearInterval(ticker);
  client?.disconnect();
  await redis?.stop();
}
