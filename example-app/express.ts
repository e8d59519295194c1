/**
 * The scim-sso example app (Express). `npm run example` starts, in one process:
 *  - an embedded demo OpenID provider (oidc-provider) with the demo customer's accounts;
 *  - this app on PORT (default 3000), with SCIM routes at /scim/v2, SSO at /sso/:customerId/login, and
 *    pages showing each guard outcome. Memory store by default, Redis when REDIS_URL is set.
 * It prints `SCIM base URL: <url> token: <token>`. With SCIM_TOKEN set, that token belongs to a separate,
 * empty customer ("conformance"), as the conformance suites need.
 */
import express from 'express';
import session from 'express-session';
import { Redis } from 'ioredis';
import passport from 'passport';
import { memoryStore, redisStore, scimSso, type SessionUser } from '../src/index.js';
import { DEMO_CLIENT, DEMO_CUSTOMER, DEMO_PEOPLE, oktaUserBody } from './demo-data.js';
import { startDemoIdp } from './demo-idp.js';
import { homePage, mePage, refusedPage } from './pages.js';

const port = Number(process.env.PORT ?? 3000);
const origin = `http://127.0.0.1:${port}`;
const redis = process.env.REDIS_URL ? new Redis(process.env.REDIS_URL) : null;
const store = redis ? redisStore({ client: redis, prefix: 'scim-sso-example:' }) : memoryStore();
// allowHttpIssuers: the demo IdP runs on http://127.0.0.1. Never set it in production.
const sso = scimSso({ store, allowHttpIssuers: true });

const idp = await startDemoIdp({
  port: Number(process.env.IDP_PORT ?? 0),
  tenants: [
    {
      id: DEMO_CUSTOMER,
      clients: [{ ...DEMO_CLIENT, redirect_uris: [`${origin}/sso/${DEMO_CUSTOMER}/callback`] }],
      accounts: DEMO_PEOPLE.map((p) => p.account),
    },
  ],
});

/** Demo data is recreated at every start, so a persistent Redis never carries an old run. */
async function resetCustomer(customerId: string) {
  await sso.deleteOidcClient(customerId);
  await sso.deleteScimConnection(customerId);
}

await resetCustomer(DEMO_CUSTOMER);
const demo = await sso.createScimConnection({ customerId: DEMO_CUSTOMER, displayName: 'Acme Inc.' });
await sso.createOidcClient({
  customerId: DEMO_CUSTOMER,
  idpType: 'Okta',
  issuer: idp.issuer(DEMO_CUSTOMER),
  clientId: DEMO_CLIENT.client_id,
  clientSecret: DEMO_CLIENT.client_secret,
  redirectUri: `${origin}/sso/${DEMO_CUSTOMER}/callback`,
});

// Provision the demo people the way an IdP would: through the SCIM routes, with the connection's token.
async function scim(method: string, path: string, body: unknown) {
  const response = await sso.handleScim({
    method,
    path,
    query: new URLSearchParams(),
    headers: { authorization: `Bearer ${demo.token}`, 'content-type': 'application/scim+json' },
    body: JSON.stringify(body),
    baseUrl: `${origin}${sso.options.basePath}`,
  });
  return JSON.parse(response.body ?? 'null') as { id: string };
}
for (const person of DEMO_PEOPLE) {
  if (person.scim === 'none') continue;
  const user = await scim('POST', '/Users', oktaUserBody(person.account));
  if (person.scim === 'deactivated') {
    await scim('PATCH', `/Users/${user.id}`, { Operations: [{ op: 'replace', value: { active: false } }] });
  }
}

let conformanceToken: string | null = null;
if (process.env.SCIM_TOKEN) {
  await resetCustomer('conformance');
  conformanceToken = (await sso.createScimConnection({ customerId: 'conformance', token: process.env.SCIM_TOKEN })).token;
}

passport.serializeUser((user, done) => done(null, user));
passport.deserializeUser((user: Express.User, done) => done(null, user));

const app = express();
app.use(sso); // SCIM routes under /scim/v2 (they parse their own bodies)
app.use(
  session({
    // The demo keeps sessions in memory; use a shared store (e.g. connect-redis) with several instances.
    secret: process.env.SESSION_SECRET ?? 'demo-session-secret-change-me',
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'lax' },
  }),
);
app.use(passport.initialize());
app.use(passport.session());
app.use('/sso', sso.authRoutes({ passport, successRedirect: '/me', failureRedirect: '/refused' }));

app.get('/', (req, res) => {
  res.type('html').send(homePage(DEMO_CUSTOMER, DEMO_PEOPLE, req.user as SessionUser | undefined));
});
app.get('/me', sso.requireActiveUser({ redirectTo: '/refused' }), (req, res) => {
  if (req.accepts(['html', 'json']) === 'json') return res.json(req.user);
  res.type('html').send(mePage(req.user as SessionUser));
});
app.get('/refused', (req, res) => {
  res.status(403).type('html').send(refusedPage(String(req.query.error ?? ''), String(req.query.reason ?? '')));
});
app.post('/logout', (req, res, next) => req.logout((error) => (error ? next(error) : res.redirect('/'))));
app.use(sso.errorHandler({ redirectTo: '/refused' }));

const server = app.listen(port, '127.0.0.1', () => {
  console.log(`store: ${store.kind}`);
  console.log(`demo IdP: ${idp.issuer(DEMO_CUSTOMER)}`);
  console.log(`example app: ${origin}/  (log in as Alice, Bob or Carol)`);
  if (conformanceToken) console.log(`demo customer ${DEMO_CUSTOMER} token: ${demo.token}`);
  console.log(`SCIM base URL: ${origin}${sso.options.basePath} token: ${conformanceToken ?? demo.token}`);
});

async function shutdown() {
  server.close();
  await idp.close();
  await redis?.quit();
  process.exit(0);
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
