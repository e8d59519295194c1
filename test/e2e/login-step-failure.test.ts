/**
 * A login that fails while its first step runs, inside the strategy (here the SAML AuthnRequest cannot be
 * made), goes where `failureRedirect` says on both adapters, as a failure at the callback does; on Express
 * it went to the app's error handler instead. The failure is injected into SamlRuntime.loginUrl: no IdP
 * this project can run fails at that point.
 */
import { createServer, type Server } from 'node:http';
import express from 'express';
import session from 'express-session';
import Koa from 'koa';
import koaPassport from 'koa-passport';
import koaSession from 'koa-session';
import { Passport } from 'passport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SsoLoginError } from '../../src/errors.js';
import { SamlRuntime } from '../../src/guard/saml.js';
import { memoryStore } from '../../src/store/memory.js';
import { memorySessionStore } from '../../example-app/session-store.js';
import { ADAPTERS } from '../support/adapters.js';
import { testSamlIdp } from '../support/saml-idp.js';
import { scimSso } from '../support/sso.js';

const CUSTOMER = 'step-fails';

describe.each(ADAPTERS)('a login step failing inside the strategy (%s)', (adapter) => {
  let server: Server;
  let origin: string;
  const unexpected: unknown[] = [];
  const loginUrl = SamlRuntime.prototype.loginUrl;

  beforeAll(async () => {
    const sso = scimSso({ store: memoryStore(), allowHttpIssuers: true });
    const routes = { successRedirect: '/me', failureRedirect: '/login-failed' };
    let handler: Parameters<typeof createServer>[1];
    if (adapter === 'express') {
      const passport = new Passport();
      const app = express()
        .use(session({ secret: 'step-fails-secret', resave: false, saveUninitialized: false }))
        .use(passport.initialize())
        .use(passport.session())
        .use(sso.authRoutes({ passport, ...routes }))
        .use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
          unexpected.push(error);
          res.status(500).end();
        });
      handler = app;
    } else {
      const passport = new koaPassport.KoaPassport();
      const app = new Koa();
      app.keys = ['step-fails-secret'];
      app.on('error', (error) => unexpected.push(error));
      app
        .use(koaSession({ store: memorySessionStore() }, app))
        .use(passport.initialize())
        .use(passport.session())
        .use(sso.koa.authRoutes({ passport, ...routes }));
      handler = app.callback();
    }
    server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    await sso.createSamlConnection({
      customerId: CUSTOMER,
      idpType: 'Okta',
      idpMetadataXml: testSamlIdp().metadata(),
      acsUrl: `${origin}/sso/${CUSTOMER}/saml/acs`,
    });
    SamlRuntime.prototype.loginUrl = async () => {
      throw new SsoLoginError('idp_unreachable', 503, 'injected: the AuthnRequest could not be made', CUSTOMER);
    };
  });
  afterAll(() => {
    SamlRuntime.prototype.loginUrl = loginUrl;
    server?.close();
  });

  it('redirects to failureRedirect with the error, not to the app’s error handler', async () => {
    const res = await fetch(`${origin}/sso/${CUSTOMER}/login`, { redirect: 'manual' });
    await res.arrayBuffer();
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/login-failed?error=idp_unreachable');
    expect(unexpected).toEqual([]);
  });
});
