import express from 'express';
import session from 'express-session';
import passport from 'passport';
import { Redis } from 'ioredis';
import { scimSso } from 'scim-sso/express';
import { redisStore } from 'scim-sso/redis';

const env = (name: string) => process.env[name] || (console.error(`Set ${name}: see the README`), process.exit(1));
const port = Number(process.env.PORT ?? 3000), appUrl = process.env.APP_URL ?? `http://127.0.0.1:${port}`;
const issuer = env('OIDC_ISSUER'), clientId = env('OIDC_CLIENT_ID'), clientSecret = env('OIDC_CLIENT_SECRET');
const redisUrl = env('REDIS_URL'), sessionSecret = env('SESSION_SECRET'); // all read before anything is written
const sso = scimSso({
  store: redisStore({ client: new Redis(redisUrl, { maxRetriesPerRequest: 1, commandTimeout: 2000 }) }), // an outage: 503s, not waits
  allowHttpIssuers: new URL(issuer).hostname === '127.0.0.1', // plain http only for a local demo IdP
});

// Once per customer (in your app: from its admin UI). The token is shown once, so only a new connection prints it.
if (await sso.fetchScimConnection('acme')) console.log('acme has a SCIM token already (sso.rotateScimToken makes a new one)');
else console.log(`SCIM base URL: ${appUrl}/scim/v2 token: ${(await sso.createScimConnection({ customerId: 'acme' })).token}`);
const oidc = { idpType: 'Okta', issuer, clientId, clientSecret, redirectUri: `${appUrl}/sso/acme/callback` } as const;
if (await sso.fetchOidcClient('acme')) await sso.updateOidcClient('acme', oidc);
else await sso.createOidcClient({ customerId: 'acme', ...oidc });

passport.serializeUser((user, done) => done(null, user));
passport.deserializeUser((user: Express.User, done) => done(null, user));

const app = express();
app.use(sso);                                   // SCIM 2.0 under /scim/v2 (parses its own bodies)
app.use(session({ secret: sessionSecret, resave: false, saveUninitialized: false }));
app.use(passport.initialize());
app.use(passport.session());
app.use(sso.authRoutes({ passport, successRedirect: '/app', failureRedirect: '/login-refused' })); // under /sso
app.get('/app', sso.requireActiveUser({ redirectTo: '/login-refused' }), (req, res) => {
  res.json(req.user); // { customerId, connectionId, scimUserId, userName, subject, email, groups, roles }
});
app.get('/login-refused', (req, res) => res.status(403).json(req.query)); // { error, reason }: render your own page
app.use(sso.errorHandler({ redirectTo: '/login-refused' }));
app.listen(port, (error) => {
  if (error) throw error; // e.g. the port is taken
  console.log(`Log in at ${appUrl}/sso/acme/login`); // deactivated in Okta → refused, and logged out of live sessions
});
