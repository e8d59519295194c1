/**
 * The entry points (issue 12): the framework-free core, the Express and Koa handles built on it, what is
 * kept off the public handles, the store required in production, the same default login prefix on both
 * frameworks (an app's own `/<x>/login` stays the app's), and the SessionUser contract at compile time.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Koa from 'koa';
import { afterEach, describe, expect, it } from 'vitest';
import { createScimSso, memoryStore, ScimSsoConfigError, type AppVerify, type SessionUser } from '../src/index.js';
import { scimSso as expressScimSso } from '../src/express/index.js';
import { scimSso as koaScimSso } from '../src/koa/index.js';
import { internalsOf } from '../src/internal.js';

const FACTORIES = { core: createScimSso, express: expressScimSso, koa: koaScimSso };
const INTERNALS = ['store', 'handleScim', 'options', 'runtime', 'koa', 'koaAuthRoutes', 'dashboard'];

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; origin: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('entry points', () => {
  const saved = process.env.NODE_ENV;
  afterEach(() => {
    process.env.NODE_ENV = saved;
  });

  it.each(Object.entries(FACTORIES))(
    '%s: the management API on the handle, internals off it (reachable through src/internal.ts only)',
    async (_name, factory) => {
      const sso = factory({});
      for (const name of INTERNALS) expect(name in sso, name).toBe(false);
      expect(typeof sso.createScimConnection).toBe('function');
      expect(typeof sso.matchingReport).toBe('function');
      expect(sso.basePath).toBe('/scim/v2');
      expect(internalsOf(sso).store.kind).toBe('memory');
      expect(() => internalsOf({})).toThrow(ScimSsoConfigError);
    },
  );

  it.each(Object.entries(FACTORIES))(
    '%s: with NODE_ENV=production, no store throws a ScimSsoConfigError saying what to do; memoryStore() stays allowed',
    (_name, factory) => {
      process.env.NODE_ENV = 'production';
      expect(() => factory({})).toThrow(ScimSsoConfigError);
      expect(() => factory({})).toThrow(/redisStore\(\{ client \}\).*memoryStore\(\) explicitly/);
      expect(() => factory({ store: memoryStore() })).not.toThrow();
    },
  );

  it('the core serves SCIM on plain Node http and leaves other requests to the caller', async () => {
    const sso = createScimSso({ store: memoryStore() });
    const { token } = await sso.createScimConnection({ customerId: 'plain' });
    const { server, origin } = await listen((req, res) => {
      void sso.handleScimRequest(req, res).then((served) => {
        if (!served) res.writeHead(418).end();
      });
    });
    try {
      const users = await fetch(`${origin}/scim/v2/Users`, { headers: { authorization: `Bearer ${token}` } });
      expect(users.status).toBe(200);
      expect(await users.json()).toMatchObject({ totalResults: 0 });
      expect((await fetch(`${origin}/scim/v2/Users`)).status).toBe(401);
      expect((await fetch(`${origin}/other`)).status).toBe(418);
    } finally {
      server.close();
    }
  });

  it('the Express and Koa handles are their framework middleware serving SCIM (app.use(scimSso(options)))', async () => {
    const onExpress = expressScimSso({});
    const onKoa = koaScimSso({});
    const app = express();
    app.use(onExpress);
    const koa = new Koa();
    koa.use(onKoa);
    const servers = [await listen(app), await listen(koa.callback())];
    try {
      for (const [i, sso] of [onExpress, onKoa].entries()) {
        const { token } = await sso.createScimConnection({ customerId: `mw-${i}` });
        const res = await fetch(`${servers[i]!.origin}/scim/v2/Users`, { headers: { authorization: `Bearer ${token}` } });
        expect(res.status).toBe(200);
      }
    } finally {
      for (const s of servers) s.server.close();
    }
  });

  it("login routes default to /sso on both frameworks: the app's own /admin/login after them is the app's", async () => {
    const passport = { use: () => passport, authenticate: () => () => {} };
    const onExpress = expressScimSso({});
    const app = express();
    app.use(onExpress.authRoutes({ passport, successRedirect: '/' }));
    app.get('/admin/login', (_req, res) => void res.send('app'));
    const onKoa = koaScimSso({});
    const koa = new Koa();
    koa.use(onKoa.authRoutes({ passport, successRedirect: '/' }));
    koa.use(async (ctx) => void (ctx.path === '/admin/login' ? (ctx.body = 'app') : (ctx.status = 404)));
    const servers = [await listen(app), await listen(koa.callback())];
    try {
      for (const { origin } of servers) {
        const own = await fetch(`${origin}/admin/login`);
        expect([own.status, await own.text()]).toEqual([200, 'app']);
        const sso = await fetch(`${origin}/sso/nobody/login`);
        expect([sso.status, await sso.json()]).toEqual([404, expect.objectContaining({ error: 'unknown_customer' })]);
      }
      expect(() => onExpress.authRoutes({ passport, successRedirect: '/', prefix: 'sso' })).toThrow(/prefix/);
      expect(() => onKoa.authRoutes({ passport, successRedirect: '/', prefix: '/a b' })).toThrow(/prefix/);
    } finally {
      for (const s of servers) s.server.close();
    }
  });
});

/** Compile-time only (never called): the SessionUser contract an app's verify must keep. */
export function sessionUserContract(): AppVerify[] {
  const keeps: AppVerify = (_req, _tokens, result, verified) => verified(null, { ...result.sessionUser, role: 'admin' });
  const refuses: AppVerify = (_req, _tokens, _result, verified) => verified(null, false);
  // @ts-expect-error dropping customerId, connectionId and scimUserId does not compile
  const drops: AppVerify = (_req, _tokens, result, verified) => verified(null, { email: result.identity.email });
  // @ts-expect-error neither does dropping scimUserId alone
  const dropsOne: AppVerify = (_req, _tokens, result, verified) => verified(null, { customerId: result.customerId, connectionId: null });
  const contract: SessionUser = { customerId: 'c', connectionId: null, scimUserId: null };
  void contract;
  return [keeps, refuses, drops, dropsOne];
}
