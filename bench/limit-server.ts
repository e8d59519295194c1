/**
 * Child process: the LIMIT server. Bare Express 5 + ioredis doing only the Redis commands each SCIM request
 * needs, with no SCIM semantics (no validation, normalisation, schemas, versions, groups or projections):
 *
 *   every request   GET <p>token:<sha256 of the bearer token>
 *   lookup          HGET <p>i:<userName|externalId> value → id, then HGET <p>u id
 *   create          HSETNX <p>i:userName (the uniqueness claim), then one pipeline: HSET <p>u, HSET
 *                   <p>i:externalId, ZADD <p>order
 *   get by id       HGET <p>u id
 *   PATCH           HGET, then HSET
 *   PUT             HSET
 *   page            one pipeline ZCARD + ZRANGE, then one pipeline of HGETs
 *   delete          one pipeline HDEL <p>u + ZREM <p>order
 *
 * Responses are the stored JSON as is (lists concatenated), so the load generator's checks hold for both.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { Redis } from 'ioredis';
import { serveRpc } from './child.js';
import { oktaUser, type KnownUser } from './users.js';

const prefix = process.env.BENCH_PREFIX ?? 'bench:limit:';
const redis = new Redis(process.env.BENCH_REDIS_URL!);
const token = createHash('sha256').update(randomUUID()).digest('base64url');
const K = {
  token: `${prefix}token:${createHash('sha256').update(token).digest('hex')}`,
  users: `${prefix}u`,
  order: `${prefix}order`,
  userName: `${prefix}i:userName`,
  externalId: `${prefix}i:externalId`,
};
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const SCIM_JSON = 'application/scim+json';
let seq = 0;

const fold = (s: string) => s.normalize('NFC').toLowerCase();
const stored = (user: Record<string, unknown>, id: string, now = new Date().toISOString()) =>
  JSON.stringify({ ...user, id, password: undefined, groups: undefined, meta: { resourceType: 'User', created: now, lastModified: now } });
const list = (total: number, startIndex: number, items: string[]) =>
  `{"schemas":["${LIST}"],"totalResults":${total},"startIndex":${startIndex},"itemsPerPage":${items.length},"Resources":[${items.join(',')}]}`;
const send = (res: Response, status: number, body?: string) => {
  res.status(status).type(SCIM_JSON);
  res.end(body);
};

async function setToken() {
  await redis.set(K.token, JSON.stringify({ connectionId: 'limit', customerId: 'bench' }));
}
await setToken();

const app = express();
app.disable('x-powered-by');
app.disable('etag');
app.use(express.json({ type: ['application/json', SCIM_JSON] }));
app.use(async (req: Request, res: Response, next: NextFunction) => {
  const bearer = /^Bearer (\S+)$/.exec(req.get('authorization') ?? '')?.[1];
  const key = bearer ? `${prefix}token:${createHash('sha256').update(bearer).digest('hex')}` : null;
  if (!key || (await redis.get(key)) === null) return send(res, 401, '{"status":"401"}');
  next();
});

const FILTER = /^(userName|externalId) eq "([^"]*)"$/;

app.get('/scim/v2/Users', async (req, res) => {
  const filter = typeof req.query.filter === 'string' ? FILTER.exec(req.query.filter) : null;
  if (filter) {
    const [, attribute, value] = filter as unknown as [string, 'userName' | 'externalId', string];
    const id = await redis.hget(K[attribute], attribute === 'userName' ? fold(value) : value);
    const json = id === null ? null : await redis.hget(K.users, id);
    return send(res, 200, list(json === null ? 0 : 1, 1, json === null ? [] : [json]));
  }
  const startIndex = Math.max(1, Number(req.query.startIndex ?? 1));
  const count = Math.min(1000, Math.max(0, Number(req.query.count ?? 100)));
  const [[, total], [, ids]] = (await redis
    .pipeline()
    .zcard(K.order)
    .zrange(K.order, String(startIndex - 1), String(startIndex + count - 2))
    .exec()) as [[null, number], [null, string[]]];
  if (count === 0) ids.length = 0;
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.hget(K.users, id);
  const rows = ids.length === 0 ? [] : ((await pipeline.exec()) as [null, string | null][]);
  send(
    res,
    200,
    list(
      total,
      startIndex,
      rows.map(([, json]) => json).filter((j): j is string => j !== null),
    ),
  );
});

app.post('/scim/v2/Users', async (req, res) => {
  const user = req.body as Record<string, unknown>;
  const id = randomUUID();
  if ((await redis.hsetnx(K.userName, fold(String(user.userName)), id)) === 0) return send(res, 409, '{"status":"409","scimType":"uniqueness"}');
  const json = stored(user, id);
  const write = redis.pipeline().hset(K.users, id, json).zadd(K.order, ++seq, id);
  if (typeof user.externalId === 'string') write.hset(K.externalId, user.externalId, id);
  await write.exec();
  send(res, 201, json);
});

app.get('/scim/v2/Users/:id', async (req, res) => {
  const json = await redis.hget(K.users, req.params.id);
  send(res, json === null ? 404 : 200, json ?? '{"status":"404"}');
});

app.patch('/scim/v2/Users/:id', async (req, res) => {
  const json = await redis.hget(K.users, req.params.id);
  if (json === null) return send(res, 404, '{"status":"404"}');
  const user = JSON.parse(json) as Record<string, unknown> & { meta: Record<string, unknown> };
  for (const op of (req.body as { Operations: { path: string; value: unknown }[] }).Operations) {
    if (op.path === 'active') user.active = op.value === true || op.value === 'True';
  }
  user.meta.lastModified = new Date().toISOString();
  await redis.hset(K.users, req.params.id, JSON.stringify(user));
  res.status(204).end();
});

app.put('/scim/v2/Users/:id', async (req, res) => {
  const json = stored(req.body as Record<string, unknown>, req.params.id);
  await redis.hset(K.users, req.params.id, json);
  send(res, 200, json);
});

app.delete('/scim/v2/Users/:id', async (req, res) => {
  const [[, removed]] = (await redis.pipeline().hdel(K.users, req.params.id).zrem(K.order, req.params.id).exec()) as [[null, number]];
  if (removed === 0) return send(res, 404, '{"status":"404"}');
  res.status(204).end();
});

const server: Server = await new Promise((resolve) => {
  const s = app.listen(0, '127.0.0.1', () => resolve(s));
});

/** Writes users tag#from … in pipelines of 500 (the limit's own bulk path). */
async function load(tag: string, from: number, count: number): Promise<KnownUser[]> {
  const out: KnownUser[] = [];
  for (let start = 0; start < count; start += 500) {
    const pipeline = redis.pipeline();
    for (let i = start; i < Math.min(count, start + 500); i++) {
      const user = oktaUser(tag, from + i);
      const id = randomUUID();
      const known = { id, userName: user.userName as string, externalId: user.externalId as string };
      pipeline.hset(K.users, id, stored(user, id)).hset(K.userName, fold(known.userName), id).hset(K.externalId, known.externalId, id).zadd(K.order, ++seq, id);
      out.push(known);
    }
    await pipeline.exec();
  }
  return out;
}

serveRpc(
  (server.address() as { port: number }).port,
  { token, basePath: '/scim/v2', store: 'limit', prefix },
  {
    load,
    async reset() {
      await redis.unlink(K.users, K.order, K.userName, K.externalId);
      seq = 0;
      await setToken();
    },
    connectionTag: () => prefix,
  },
  async () => {
    server.close();
    await redis.quit();
  },
);
