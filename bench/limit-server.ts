/**
 * Child process: the LIMIT server. Bare Express 5 + ioredis doing per request the least any correct
 * Redis-backed SCIM server could do, with no SCIM semantics beyond what the bench checks (no validation,
 * schemas, groups or projections). The bearer token is a static secret compared in process (no Redis round
 * trip). Keys (`<p>` = BENCH_PREFIX):
 *
 *   <p>u                HASH  id -> the user's JSON exactly as GET returns it
 *   <p>m                HASH  id -> `<version>\t<created>\t<folded userName>\t<externalId>` (write bookkeeping)
 *   <p>i:userName       HASH  folded userName -> id (uniqueness: claimed with HSETNX)
 *   <p>i:externalId     HASH  externalId -> id
 *   <p>order            ZSET  id scored by <p>seq (creation order, for pages)
 *   <p>seq              STRING creation counter
 *
 * Round trips per request (commands inside a script in brackets; see the plan table in bench/README.md):
 *
 *   lookup      1  EVALSHA find [HGET index, HGET u]
 *   GET by id   1  HGET u
 *   page        1  EVALSHA page [ZCARD, ZRANGE, HMGET u]
 *   create      1  EVALSHA create [HSETNX i:userName, INCR seq, ZADD, HSET u, HSET m, HSET i:externalId]
 *   PATCH       2  pipeline HGET u + HGET m (read), then EVALSHA replace with the version read (compare-and-set);
 *                  the PATCH operations are evaluated in the app, so they need the stored user first
 *   PUT         1  EVALSHA replace without a version: the app sends the whole user split around meta.created,
 *                  the script keeps the stored created, moves changed index entries, bumps the version
 *   DELETE      1  EVALSHA delete [HGET m, HDEL u, HDEL m, ZREM, HDEL both index entries]
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { Redis } from 'ioredis';
import { serveRpc } from './child.js';
import { countRoundTrips } from './round-trips.js';
import { oktaUser, type KnownUser } from './users.js';

const prefix = process.env.BENCH_PREFIX ?? 'bench:limit:';
const redis = new Redis(process.env.BENCH_REDIS_URL!);
const roundTrips = countRoundTrips(redis);
const token = createHash('sha256').update(randomUUID()).digest('base64url');
const tokenDigest = createHash('sha256').update(`Bearer ${token}`).digest();
const K = {
  users: `${prefix}u`,
  meta: `${prefix}m`,
  order: `${prefix}order`,
  seq: `${prefix}seq`,
  userName: `${prefix}i:userName`,
  externalId: `${prefix}i:externalId`,
};
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const SCIM_JSON = 'application/scim+json';

/** KEYS: u, m, order, seq, i:userName, i:externalId (one key set, so every script is one call). */
const KEYS = [K.users, K.meta, K.order, K.seq, K.userName, K.externalId] as const;
const SCRIPTS = {
  // ARGV: index (1 = userName, 2 = externalId), value → the user's JSON or nil
  limitFind: `local id = redis.call('HGET', KEYS[4 + tonumber(ARGV[1])], ARGV[2])
if not id then return false end
return redis.call('HGET', KEYS[1], id)`,
  // ARGV: startIndex - 1, count → { total, rows }
  limitPage: `local total = redis.call('ZCARD', KEYS[3])
local count = tonumber(ARGV[2])
if count == 0 then return { total, {} } end
local ids = redis.call('ZRANGE', KEYS[3], ARGV[1], tonumber(ARGV[1]) + count - 1)
if #ids == 0 then return { total, {} } end
return { total, redis.call('HMGET', KEYS[1], unpack(ids)) }`,
  // ARGV: id, folded userName, externalId ('' = none), json, created → 1, or 0 when the userName is taken
  limitCreate: `if redis.call('HSETNX', KEYS[5], ARGV[2], ARGV[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[3], redis.call('INCR', KEYS[4]), ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
redis.call('HSET', KEYS[2], ARGV[1], '1\\t' .. ARGV[5] .. '\\t' .. ARGV[2] .. '\\t' .. ARGV[3])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[6], ARGV[3], ARGV[1]) end
return 1`,
  // ARGV: id, expected version ('' = any), folded userName, externalId, JSON before created, JSON after created
  // → created, or 0 (not found), -1 (version changed), -2 (userName taken)
  limitReplace: `local m = redis.call('HGET', KEYS[2], ARGV[1])
if not m then return 0 end
local v, created, un, ex = string.match(m, '^(%d+)\\t([^\\t]*)\\t([^\\t]*)\\t(.*)$')
if ARGV[2] ~= '' and ARGV[2] ~= v then return -1 end
if ARGV[3] ~= un then
  if redis.call('HSETNX', KEYS[5], ARGV[3], ARGV[1]) == 0 then return -2 end
  redis.call('HDEL', KEYS[5], un)
end
if ARGV[4] ~= ex then
  if ex ~= '' then redis.call('HDEL', KEYS[6], ex) end
  if ARGV[4] ~= '' then redis.call('HSET', KEYS[6], ARGV[4], ARGV[1]) end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[5] .. created .. ARGV[6])
redis.call('HSET', KEYS[2], ARGV[1], (tonumber(v) + 1) .. '\\t' .. created .. '\\t' .. ARGV[3] .. '\\t' .. ARGV[4])
return created`,
  // ARGV: id → 1, or 0 (not found)
  limitDelete: `local m = redis.call('HGET', KEYS[2], ARGV[1])
if not m then return 0 end
local un, ex = string.match(m, '^%d+\\t[^\\t]*\\t([^\\t]*)\\t(.*)$')
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[5], un)
if ex ~= '' then redis.call('HDEL', KEYS[6], ex) end
return 1`,
} as const;
type ScriptName = keyof typeof SCRIPTS;
for (const [name, lua] of Object.entries(SCRIPTS)) redis.defineCommand(name, { lua, numberOfKeys: KEYS.length });
const script = (name: ScriptName, ...args: (string | number)[]) =>
  (redis as unknown as Record<ScriptName, (...a: (string | number)[]) => Promise<unknown>>)[name](...KEYS, ...args);

const fold = (s: string) => s.normalize('NFC').toLowerCase();
const str = (v: unknown) => (typeof v === 'string' ? v : '');

/** The stored JSON of `user`, split around meta.created (the replace script puts the stored one between). */
function storedParts(user: Record<string, unknown>, id: string, now = new Date().toISOString()): [string, string] {
  const body = JSON.stringify({ ...user, id, password: undefined, groups: undefined, meta: undefined });
  return [`${body.slice(0, -1)},"meta":{"resourceType":"User","created":"`, `","lastModified":"${now}"}}`];
}
const list = (total: number, startIndex: number, items: string[]) =>
  `{"schemas":["${LIST}"],"totalResults":${total},"startIndex":${startIndex},"itemsPerPage":${items.length},"Resources":[${items.join(',')}]}`;
const send = (res: Response, status: number, body?: string) => {
  res.status(status).type(SCIM_JSON);
  res.end(body);
};
const notFound = (res: Response) => send(res, 404, '{"status":"404"}');
const conflict = (res: Response) => send(res, 409, '{"status":"409","scimType":"uniqueness"}');

const app = express();
app.disable('x-powered-by');
app.disable('etag');
app.use(express.json({ type: ['application/json', SCIM_JSON] }));
app.use((req: Request, res: Response, next: NextFunction) => {
  // Digests have equal lengths, so timingSafeEqual compares them in constant time.
  const presented = createHash('sha256')
    .update(req.get('authorization') ?? '')
    .digest();
  if (!timingSafeEqual(presented, tokenDigest)) return send(res, 401, '{"status":"401"}');
  next();
});

const FILTER = /^(userName|externalId) eq "([^"]*)"$/;

app.get('/scim/v2/Users', async (req, res) => {
  const filter = typeof req.query.filter === 'string' ? FILTER.exec(req.query.filter) : null;
  if (filter) {
    const [, attribute, value] = filter as unknown as [string, 'userName' | 'externalId', string];
    const json = (await script('limitFind', attribute === 'userName' ? 1 : 2, attribute === 'userName' ? fold(value) : value)) as string | null;
    return send(res, 200, list(json === null ? 0 : 1, 1, json === null ? [] : [json]));
  }
  const startIndex = Math.max(1, Number(req.query.startIndex ?? 1));
  const count = Math.min(1000, Math.max(0, Number(req.query.count ?? 100)));
  const [total, rows] = (await script('limitPage', startIndex - 1, count)) as [number, (string | null)[]];
  send(
    res,
    200,
    list(
      total,
      startIndex,
      rows.filter((j): j is string => j !== null),
    ),
  );
});

app.post('/scim/v2/Users', async (req, res) => {
  const user = req.body as Record<string, unknown>;
  const id = randomUUID();
  const now = new Date().toISOString();
  const [head, tail] = storedParts(user, id, now);
  const json = head + now + tail;
  if ((await script('limitCreate', id, fold(str(user.userName)), str(user.externalId), json, now)) === 0) return conflict(res);
  send(res, 201, json);
});

app.get('/scim/v2/Users/:id', async (req, res) => {
  const json = await redis.hget(K.users, req.params.id);
  if (json === null) return notFound(res);
  send(res, 200, json);
});

/** The outcome of the replace script: sends the error and answers null, or answers the stored created. */
function replaced(res: Response, reply: unknown): string | null {
  if (reply === 0) notFound(res);
  else if (reply === -2) conflict(res);
  else if (typeof reply === 'string') return reply;
  return null;
}

app.patch('/scim/v2/Users/:id', async (req, res) => {
  const id = req.params.id;
  const operations = (req.body as { Operations: { path: string; value: unknown }[] }).Operations;
  // Read, apply, compare-and-set on the version read; a concurrent write in between means read again.
  for (;;) {
    const [[, json], [, meta]] = (await redis.pipeline().hget(K.users, id).hget(K.meta, id).exec()) as [[null, string | null], [null, string | null]];
    if (json === null || meta === null) return notFound(res);
    const user = JSON.parse(json) as Record<string, unknown>;
    for (const op of operations) {
      if (op.path === 'active') user.active = op.value === true || op.value === 'True';
    }
    const version = meta.slice(0, meta.indexOf('\t'));
    const [head, tail] = storedParts(user, id);
    const reply = await script('limitReplace', id, version, fold(str(user.userName)), str(user.externalId), head, tail);
    if (reply === -1) continue;
    if (replaced(res, reply) !== null) res.status(204).end();
    return;
  }
});

app.put('/scim/v2/Users/:id', async (req, res) => {
  const user = req.body as Record<string, unknown>;
  const [head, tail] = storedParts(user, req.params.id);
  const created = replaced(res, await script('limitReplace', req.params.id, '', fold(str(user.userName)), str(user.externalId), head, tail));
  if (created !== null) send(res, 200, head + created + tail);
});

app.delete('/scim/v2/Users/:id', async (req, res) => {
  if ((await script('limitDelete', req.params.id)) === 0) return notFound(res);
  res.status(204).end();
});

const server: Server = await new Promise((resolve) => {
  const s = app.listen(0, '127.0.0.1', () => resolve(s));
});

/** Writes users tag#from … in pipelines of 500 (the limit's own bulk path). */
async function load(tag: string, from: number, count: number): Promise<KnownUser[]> {
  const out: KnownUser[] = [];
  for (let start = 0; start < count; start += 500) {
    const n = Math.min(count, start + 500) - start;
    let seq = (await redis.incrby(K.seq, n)) - n;
    const pipeline = redis.pipeline();
    for (let i = start; i < start + n; i++) {
      const user = oktaUser(tag, from + i);
      const id = randomUUID();
      const known = { id, userName: user.userName as string, externalId: user.externalId as string };
      const now = new Date().toISOString();
      const [head, tail] = storedParts(user, id, now);
      pipeline
        .hset(K.users, id, head + now + tail)
        .hset(K.meta, id, `1\t${now}\t${fold(known.userName)}\t${known.externalId}`)
        .hset(K.userName, fold(known.userName), id)
        .hset(K.externalId, known.externalId, id)
        .zadd(K.order, ++seq, id);
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
      await redis.unlink(...Object.values(K));
    },
    connectionTag: () => prefix,
    roundTrips,
  },
  async () => {
    server.close();
    await redis.quit();
  },
);
