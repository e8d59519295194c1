/**
 * What other frameworks than Express and Koa do to scim-sso (audit 26, with Fastify and plain node:http):
 * - a body read before scim-sso and not handed over as `req.body` (Fastify keeps its own on
 *   `request.body`) is said as such, not answered as a missing body;
 * - a request whose `originalUrl` and `url` are getters only (Fastify's) does not break the login
 *   strategy's URL;
 * - a `logout` that returns a promise and never calls back (@fastify/passport's) does not hang a refused login.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logOutQuietly, StateNonceStrategy } from '../src/guard/passport.js';
import { scimSso } from './support/sso.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

describe('a SCIM body read before scim-sso', () => {
  let server: Server;
  let origin: string;
  let token: string;
  beforeAll(async () => {
    const sso = scimSso({ rateLimit: false });
    ({ token } = await sso.createScimConnection({ customerId: 'neutral' }));
    // A framework that reads every body itself and keeps it elsewhere than req.body.
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const kept = Buffer.concat(chunks).toString('utf8');
        if (req.headers['x-hand-over'] === 'yes') Object.assign(req, { body: JSON.parse(kept) as unknown });
        void sso.handleScimRequest(req, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const post = (handOver: boolean) =>
    fetch(`${origin}/scim/v2/Users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json', 'x-hand-over': handOver ? 'yes' : 'no' },
      body: JSON.stringify({ schemas: [USER], userName: `ann-${handOver}@example.com` }),
    });

  it('says the body was read elsewhere (a 400 naming req.body), and takes it when handed over', async () => {
    const lost = await post(false);
    expect(lost.status).toBe(400);
    // Before: "a JSON request body is required", as if the client had sent none.
    expect(((await lost.json()) as { detail: string }).detail).toMatch(/read before scim-sso and not handed over: give scim-sso the parsed body as req\.body/);
    expect((await post(true)).status).toBe(201);
  });
});

describe('the login strategy under other frameworks', () => {
  it("builds the callback URL of a request whose originalUrl and url are getters only (Fastify's)", () => {
    const config = new oidc.Configuration({ issuer: 'https://idp.example', authorization_endpoint: 'https://idp.example/authorize' }, 'client');
    const strategy = new StateNonceStrategy({ config, name: 'n', passReqToCallback: true, callbackURL: 'https://app.example/sso/acme/callback' }, () => {});
    const request = {
      method: 'GET',
      headers: { host: 'app.example' },
      protocol: 'https',
      get originalUrl() {
        return '/sso/acme/callback?code=c';
      },
      get url() {
        return '/sso/acme/callback?code=c';
      },
    };
    // Before: "Cannot set property originalUrl of #<Object> which has only a getter".
    expect(strategy.currentUrl(request as never).pathname).toBe('/sso/acme/callback');
  });

  it('waits for a logout that returns a promise and never calls back', async () => {
    let loggedOut = false;
    const request = {
      isAuthenticated: () => true,
      logout: async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        loggedOut = true;
      },
    };
    // Before: never settled (the refused login's request hung).
    await logOutQuietly(request);
    expect(loggedOut).toBe(true);
  });
});
