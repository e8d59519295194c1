/**
 * Child process: scim-sso's SCIM routes on Express 5, exactly as an app mounts them
 * (`app.use(scimSso({ store }))`), on the Redis store (BENCH_STORE=redis, BENCH_REDIS_URL, BENCH_PREFIX) or
 * the memory store. RPC: `load` provisions users through the SCIM handler itself (so they are written
 * exactly the way scim-sso writes them), `reset` empties the connection, `keys` names its Redis keys.
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import express from 'express';
import { Redis } from 'ioredis';
import { memoryStore } from '../src/index.js';
import { redisStore } from '../src/redis.js';
import { serveRpc } from './child.js';
import { unlimitedSso } from './sso-options.js';
import { provision } from './provision.js';
import { countRoundTrips } from './round-trips.js';
import { externalIdOf, oktaUser, userNameOf, type KnownUser } from './users.js';

const BENCH_CUSTOMER = 'bench';

const kind = process.env.BENCH_STORE === 'memory' ? 'memory' : 'redis';
const prefix = process.env.BENCH_PREFIX ?? 'bench:scim:';
const redis = kind === 'redis' ? new Redis(process.env.BENCH_REDIS_URL!) : null;
const roundTrips = redis ? countRoundTrips(redis) : () => 0;
const store = redis ? redisStore({ client: redis, prefix }) : memoryStore();
const token = randomBytes(32).toString('base64url');

const sso = unlimitedSso({ store });
let connectionId = (await sso.createScimConnection({ customerId: BENCH_CUSTOMER, token })).connectionId;

const app = express();
app.disable('x-powered-by');
app.use(sso);
const server: Server = await new Promise((resolve) => {
  const s = app.listen(0, '127.0.0.1', () => resolve(s));
});
const port = (server.address() as { port: number }).port;

/** Creates users tag#from … tag#(from+count-1) through the SCIM handler. */
async function load(tag: string, from: number, count: number): Promise<KnownUser[]> {
  const ids = await provision(sso.handleScim, token, count, (i) => oktaUser(tag, from + i));
  return ids.map((id, i) => ({ id, userName: userNameOf(tag, from + i), externalId: externalIdOf(tag, from + i) }));
}

serveRpc(
  port,
  { token, basePath: sso.options.basePath, store: kind, prefix },
  {
    load,
    async reset() {
      await sso.deleteScimConnection(BENCH_CUSTOMER);
      connectionId = (await sso.createScimConnection({ customerId: BENCH_CUSTOMER, token })).connectionId;
    },
    /** The connection's hash tag: every key of its users lives under `<prefix>{c:<id>}:`. */
    connectionTag: () => `${prefix}{c:${connectionId}}:`,
    roundTrips,
  },
  async () => {
    server.close();
    await redis?.quit();
  },
);
