/**
 * Child process: the example app's login stack (Express 5, express-session, passport, openid-client 6) with
 * the embedded demo IdP (example-app/demo-idp.ts) in the same process, like `npm run example`, on the Redis
 * store. Three ways in, one passport, one session store, one IdP client:
 *
 *   /guard/login        a Strategy from `sso.strategy()` (the guard in its verify)
 *   /plain/login        the same Strategy and Configuration (requests to the IdP through scim-sso's checked
 *                       fetch, src/guard/idp-fetch.ts) with a verify that only calls `verified(null, { sub })`
 *   /nativefetch/login  as /plain, on a Configuration with openid-client's own fetch (what the checked fetch costs)
 *   /sso/<c>/login      `sso.authRoutes()`, as the example app mounts it (re-reads the customer at each start)
 *
 * All three send PKCE, state and nonce, take `?login_hint=<sub>` and end at `/me` (the session user as JSON).
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import session from 'express-session';
import { Redis } from 'ioredis';
import * as oidc from 'openid-client';
import passport from 'passport';
import { startDemoIdp } from '../example-app/demo-idp.js';
import { redisStore } from '../src/redis.js';
// The same Strategy scim-sso builds (PKCE + state + nonce), with a pass-through verify instead of the guard.
import { StateNonceStrategy } from '../src/guard/passport.js';
import { idpFetch } from '../src/guard/idp-fetch.js';
import { serveRpc } from './child.js';
import { freePort } from './redis-server.js';
import { provision } from './provision.js';
import { unlimitedSso } from './sso-options.js';
import { oktaUser } from './users.js';

const CUSTOMER = 'bench-login';
const CLIENT = { client_id: 'bench-app', client_secret: 'bench-secret-not-for-production' };
const accounts = Number(process.env.BENCH_ACCOUNTS ?? 64);
const filler = Number(process.env.BENCH_USERS ?? 2000);

const port = await freePort();
const origin = `http://127.0.0.1:${port}`;
const redis = new Redis(process.env.BENCH_REDIS_URL!);
const sso = unlimitedSso({ store: redisStore({ client: redis, prefix: 'bench:login:' }), allowHttpIssuers: true });

// People who log in: account n is SCIM user u#n (userName = email, as Okta provisions them).
const people = Array.from({ length: accounts }, (_, n) => {
  const user = oktaUser('u', n);
  return { sub: String(user.externalId), email: String(user.userName), email_verified: true, name: String(user.displayName) };
});
const idp = await startDemoIdp({
  tenants: [
    {
      id: CUSTOMER,
      clients: [
        {
          ...CLIENT,
          redirect_uris: [`${origin}/guard/callback`, `${origin}/plain/callback`, `${origin}/nativefetch/callback`, `${origin}/sso/${CUSTOMER}/callback`],
        },
      ],
      accounts: people,
    },
  ],
});

await sso.deleteOidcClient(CUSTOMER);
await sso.deleteScimConnection(CUSTOMER);
const { token } = await sso.createScimConnection({ customerId: CUSTOMER });
await sso.createOidcClient({
  customerId: CUSTOMER,
  idpType: 'Okta',
  issuer: idp.issuer(CUSTOMER),
  clientId: CLIENT.client_id,
  clientSecret: CLIENT.client_secret,
  redirectUri: `${origin}/sso/${CUSTOMER}/callback`,
});
const ids = await provision(sso.handleScim, token, Math.max(accounts, filler));

// `plain` has the guard's Configuration (discovery, JWKS and token requests through scim-sso's outbound fetch,
// src/guard/idp-fetch.ts), so that the two differ in their verify only; `nativefetch` has openid-client's own.
const discover = (checked: boolean) =>
  oidc.discovery(new URL(idp.issuer(CUSTOMER)), CLIENT.client_id, CLIENT.client_secret, undefined, {
    execute: [oidc.allowInsecureRequests],
    ...(checked ? { [oidc.customFetch]: idpFetch(true) } : {}),
  });
for (const [name, checked] of [
  ['plain', true],
  ['nativefetch', false],
] as const) {
  const config = await discover(checked);
  passport.use(
    name,
    new StateNonceStrategy({ config, name, sessionKey: name, scope: 'openid email profile', passReqToCallback: true }, (_req, tokens, verified) =>
      verified(null, { sub: tokens.claims()!.sub }),
    ),
  );
}
passport.use('guard', await sso.strategy(CUSTOMER));
passport.serializeUser((user, done) => done(null, user));
passport.deserializeUser((user: Express.User, done) => done(null, user));

const app = express();
app.disable('x-powered-by');
app.use(sso);
app.use(session({ secret: randomBytes(16).toString('hex'), resave: false, saveUninitialized: false, cookie: { httpOnly: true, sameSite: 'lax' } }));
app.use(passport.initialize());
app.use(passport.session());
for (const name of ['guard', 'plain', 'nativefetch']) {
  const callbackURL = `${origin}/${name}/callback`;
  app.get(`/${name}/login`, (req, res, next) => {
    const loginHint = typeof req.query.login_hint === 'string' ? req.query.login_hint : undefined;
    passport.authenticate(name, { callbackURL, loginHint } as object)(req, res, next);
  });
  app.get(`/${name}/callback`, passport.authenticate(name, { callbackURL, successRedirect: '/me', failWithError: true } as object));
}
app.use(sso.authRoutes({ passport, successRedirect: '/me' })); // under /sso (the default prefix)
app.get('/me', (req, res) => void res.json(req.user ?? null));
app.use(sso.errorHandler());
app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
  console.error('login-app:', error);
  if (!res.headersSent) res.status(500).json({ error: String(error) });
});
const server: Server = await new Promise((resolve) => {
  const s = app.listen(port, '127.0.0.1', () => resolve(s));
});

serveRpc(port, { origin, customer: CUSTOMER, people: people.map((p, n) => ({ sub: p.sub, scimUserId: ids[n] })) }, {}, async () => {
  server.close();
  server.closeAllConnections();
  await idp.close();
  await sso.deleteOidcClient(CUSTOMER).catch(() => {});
  await sso.deleteScimConnection(CUSTOMER).catch(() => {});
  await redis.quit();
});
