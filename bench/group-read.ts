/**
 * `npx tsx bench/group-read.ts [memory|redis] [express|koa] [members]`: how long one `GET /Groups/<id>` of a
 * group of that many members (default 100,000) holds the server's event loop, as a tenant's neighbours feel
 * it. The server runs in a child process (Express or Koa, the memory store or a redis-server of its own)
 * and measures the largest gap of a 5 ms interval timer per request; this process builds the group with
 * PATCHes of 1,000 members (values only, as Entra sends them), then reads it four times each with all
 * members, `attributes=members.value` and `excludedAttributes=members.display`, checking every answer
 * (status, member count, `Content-Length` against the bytes received). Not part of `npm run bench`; the
 * figures are in docs/limits.md §Large answers.
 */
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { startRedis } from './redis-server.js';

const [storeKind = 'memory', framework = 'express', membersArg = '100000'] = process.argv.slice(2);
const TOKEN = 'group-read-0123456789-abcdefghijklmnopqrstuvwxyz';

/** The child: a server with the SCIM routes and `/__loop`, which answers the largest gap since it was last asked. */
async function serve(): Promise<void> {
  const { memoryStore } = await import('../src/index.js');
  const { redisStore } = await import('../src/redis.js');
  const { Redis } = await import('ioredis');
  const url = process.env.GROUP_READ_REDIS;
  const store = url ? redisStore({ client: new Redis(url), prefix: 'group-read:' }) : memoryStore();
  const options = { store, rateLimit: { requestsPerSecond: 1e9, burst: 1e9 } };
  let largestGap = 0;
  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    largestGap = Math.max(largestGap, now - last - 5);
    last = now;
  }, 5);
  const report = () => {
    const answer = JSON.stringify({ ms: Math.round(largestGap) });
    largestGap = 0;
    return answer;
  };
  let server: Server;
  let sso: { createScimConnection(input: { customerId: string; token: string }): Promise<unknown> };
  if (framework === 'koa') {
    const Koa = (await import('koa')).default;
    const { scimSso } = await import('../src/koa/index.js');
    const handle = scimSso(options);
    sso = handle;
    const app = new Koa();
    app.use(async (ctx, next) => {
      if (ctx.path !== '/__loop') return next();
      ctx.body = report();
    });
    app.use(handle);
    server = app.listen(0, '127.0.0.1');
  } else {
    const express = (await import('express')).default;
    const { scimSso } = await import('../src/express/index.js');
    const handle = scimSso(options);
    sso = handle;
    const app = express();
    app.get('/__loop', (_req, res) => {
      res.send(report());
    });
    app.use(handle);
    server = app.listen(0, '127.0.0.1');
  }
  await new Promise((resolve) => server.once('listening', resolve));
  await sso.createScimConnection({ customerId: 'group-read', token: TOKEN });
  process.send!({ port: (server.address() as { port: number }).port });
}

async function measure(): Promise<void> {
  const redis = storeKind === 'redis' ? await startRedis() : null;
  const child = fork(new URL(import.meta.url).pathname, process.argv.slice(2), {
    env: { ...process.env, GROUP_READ_CHILD: '1', ...(redis && { GROUP_READ_REDIS: redis.url }) },
    execArgv: ['--import', 'tsx'],
  });
  try {
    const { port } = await new Promise<{ port: number }>((resolve) => child.once('message', resolve as never));
    const base = `http://127.0.0.1:${port}/scim/v2`;
    const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/scim+json' };
    const group = { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Everyone' };
    const { id } = (await (await fetch(`${base}/Groups`, { method: 'POST', headers, body: JSON.stringify(group) })).json()) as { id: string };
    const members = Number(membersArg);
    for (let i = 0; i < members; i += 1000) {
      const value = Array.from({ length: Math.min(1000, members - i) }, () => ({ value: randomUUID() }));
      const patch = { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'add', path: 'members', value }] };
      const answer = await fetch(`${base}/Groups/${id}`, { method: 'PATCH', headers, body: JSON.stringify(patch) });
      if (answer.status !== 204) throw new Error(`PATCH answered ${answer.status}`);
    }
    const largestGap = async () => ((await (await fetch(`http://127.0.0.1:${port}/__loop`)).json()) as { ms: number }).ms;
    await new Promise((resolve) => setTimeout(resolve, 300));
    await largestGap();
    for (const query of ['', '?attributes=members.value', '?excludedAttributes=members.display']) {
      const gaps: number[] = [];
      let bytes = 0;
      let ms = 0;
      for (let run = 0; run < 4; run++) {
        const started = performance.now();
        const answer = await fetch(`${base}/Groups/${id}${query}`, { headers });
        const body = Buffer.from(await answer.arrayBuffer());
        ms = performance.now() - started;
        bytes = body.length;
        if (answer.status !== 200) throw new Error(`GET answered ${answer.status}`);
        if ((JSON.parse(body.toString('utf8')) as { members: unknown[] }).members.length !== members) throw new Error('members missing');
        if (Number(answer.headers.get('content-length')) !== bytes) throw new Error('Content-Length does not match the body');
        await new Promise((resolve) => setTimeout(resolve, 100));
        gaps.push(await largestGap());
      }
      console.log(
        `${storeKind} ${framework} ${members} members GET${query}: ${(bytes / 1e6).toFixed(1)} MB in ${ms.toFixed(0)} ms; event loop held ${gaps.join(', ')} ms`,
      );
    }
  } finally {
    child.kill();
    await redis?.stop();
  }
}

await (process.env.GROUP_READ_CHILD ? serve() : measure());
