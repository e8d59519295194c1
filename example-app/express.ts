/**
 * The scim-sso example app (Express). `npm run example` starts it on PORT (default 3000) with the memory
 * store, or with Redis when REDIS_URL is set, creates the demo customer's SCIM connection, and prints
 * `SCIM base URL: <url> token: <token>`. With SCIM_TOKEN set, that token belongs to a separate, empty
 * customer ("conformance") and the printed line is that connection's — the conformance suites need an
 * empty connection.
 */
import express from 'express';
import { Redis } from 'ioredis';
import { memoryStore, redisStore, scimSso } from '../src/index.js';

const port = Number(process.env.PORT ?? 3000);
const redisUrl = process.env.REDIS_URL;
const redis = redisUrl ? new Redis(redisUrl) : null;
const store = redis ? redisStore({ client: redis, prefix: 'scim-sso-example:' }) : memoryStore();
const sso = scimSso({ store });

/** Demo data is recreated at every start, so a persistent Redis never carries yesterday's run. */
async function freshConnection(customerId: string, token?: string) {
  await sso.deleteScimConnection(customerId);
  return sso.createScimConnection({ customerId, displayName: customerId, ...(token ? { token } : {}) });
}

const demo = await freshConnection('acme');
const conformance = process.env.SCIM_TOKEN ? await freshConnection('conformance', process.env.SCIM_TOKEN) : null;

const app = express();
app.use(sso);
app.get('/', (_req, res) => {
  res.type('text/plain').send('scim-sso example app. SCIM routes are under /scim/v2.\n');
});

const server = app.listen(port, '127.0.0.1', () => {
  const base = `http://127.0.0.1:${port}${sso.options.basePath}`;
  console.log(`store: ${store.kind}`);
  if (conformance) console.log(`demo customer acme token: ${demo.token}`);
  console.log(`SCIM base URL: ${base} token: ${(conformance ?? demo).token}`);
});

async function shutdown() {
  server.close();
  await redis?.quit();
  process.exit(0);
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
