import { createServer } from 'node:http';
import Koa from 'koa';
import koaPassport from 'koa-passport';
import session from 'koa-session';
import { Redis } from 'ioredis';
import { scimSso } from 'scim-sso/koa';
import { redisStore } from 'scim-sso/redis';

const env = (name: string) => process.env[name] || (console.error(`Set ${name}: see the README`), process.exit(1));
const port = Number(process.env.PORT ?? 3000), appUrl = process.env.APP_URL ?? `http://127.0.0.1:${port}`;
const issuer = env('OIDC_ISSUER'), clientId = env('OIDC_CLIENT_ID'), clientSecret = env('OIDC_CLIENT_SECRET');
const redisUrl = env('REDIS_URL'), sessionSecret = env('SESSION_SECRET'); // all read before anything is written
const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, commandTimeout: 2000 }); // an outage: 503s, not waits
const sso = scimSso({
  store: redisStore({ client: redis, prefix: 'scim:' }), // every key it writes starts with the prefix (this is the default)
  allowHttpIssuers: new URL(issuer).hostname === '127.0.0.1', // plain http only for a local demo IdP
});

// Once per customer, as in the Express example: the token is printed only when the connection is created.
if (await sso.fetchScimConnection('acme')) console.log('acme has a SCIM token already (sso.rotateScimToken makes a new one)');
else console.log(`SCIM base URL: ${appUrl}/scim/v2 token: ${(await sso.createScimConnection({ customerId: 'acme' })).token}`);
const oidc = { idpType: 'Okta', issuer, clientId, clientSecret, redirectUri: `${appUrl}/sso/acme/callback` } as const;
if (await sso.fetchOidcClient('acme')) await sso.updateOidcClient('acme', oidc);
else await sso.createOidcClient({ customerId: 'acme', ...oidc });

// Sessions live in Redis and the cookie holds only their id: koa-session's default keeps the whole session in
// a cookie the browser can read, which would expose the session user's groups and roles.
const sessions = {
  get: async (id: string) => JSON.parse((await redis.get(`app:session:${id}`)) ?? 'null'),
  set: async (id: string, value: unknown, maxAge: number) => void (await redis.set(`app:session:${id}`, JSON.stringify(value), 'PX', maxAge)),
  destroy: async (id: string) => void (await redis.del(`app:session:${id}`)),
};

const passport = new koaPassport.KoaPassport();
passport.serializeUser((user, done) => done(null, user));
passport.deserializeUser((user: Express.User, done) => done(null, user));

const app = new Koa();
app.keys = [sessionSecret];
app.use(sso);                                                 // SCIM 2.0 under /scim/v2
app.use(session({ store: sessions, httpOnly: true, sameSite: 'lax' }, app));
app.use(passport.initialize());
app.use(passport.session());
app.use(sso.errorHandler({ redirectTo: '/login-refused' }));  // renders ScimUserNotActive thrown below it
app.use(sso.authRoutes({ passport, successRedirect: '/app', failureRedirect: '/login-refused' })); // under /sso
const requireActive = sso.requireActiveUser({ redirectTo: '/login-refused' });
app.use(async (ctx, next) => {
  if (ctx.path === '/app') await requireActive(ctx, async () => { ctx.body = ctx.state.user; });
  else if (ctx.path === '/login-refused') { ctx.status = 403; ctx.body = ctx.query; } // { error, reason }
  else await next();
});
createServer(app.callback())                                  // create the server after mounting middleware
  .listen(port, () => console.log(`Log in at ${appUrl}/sso/acme/login`));
