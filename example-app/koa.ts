/**
 * The scim-sso example app on Koa 3: `npm run example:koa`. Same demo as the Express app (setup.ts), same
 * pages; sessions are server-side (koa-session with an external store), passport is the app's own KoaPassport.
 */
import { createServer } from 'node:http';
import Koa from 'koa';
import koaPassport from 'koa-passport';
import session from 'koa-session';
import type { DefaultSessionUser } from '../src/index.js';
import { scimSso } from '../src/koa/index.js';
import { setupPortal } from '../src/koa/setup.js';
import { DEMO_CUSTOMER, DEMO_PEOPLE, SAML_DEMO_CUSTOMER, SAML_DEMO_PEOPLE } from './demo-data.js';
import { startActivityFeed } from './activity.js';
import { activityPage, homePage, membersPage, mePage, refusedPage, samlLoginSection } from './pages.js';
import { memorySessionStore } from './session-store.js';
import { exitOnListenError, setUpDemo } from './setup.js';

const port = Number(process.env.PORT ?? 3000);
const demo = await setUpDemo(port, scimSso);
const { sso } = demo;
const activity = startActivityFeed(sso);

const passport = new koaPassport.KoaPassport();
passport.serializeUser((user, done) => done(null, user));
passport.deserializeUser((user: Express.User, done) => done(null, user));

const app = new Koa();
app.keys = [process.env.SESSION_SECRET ?? 'demo-session-secret-change-me'];
app.use(sso); // SCIM routes under /scim/v2 (they parse their own bodies)
app.use(session({ store: memorySessionStore(), httpOnly: true, sameSite: 'lax' }, app));
app.use(passport.initialize());
app.use(passport.session());
app.use(sso.errorHandler({ redirectTo: '/refused' }));
app.use(sso.authRoutes({ passport, successRedirect: '/me', failureRedirect: '/refused' })); // /sso/:customerId/login and /callback
// The self-serve setup portal under /setup (the setupPortalUrl of setup.ts): the setup link is the credential.
app.use(setupPortal(sso, { appName: 'the scim-sso example app' }));

const requireActive = sso.requireActiveUser({ redirectTo: '/refused' });
app.use(async (ctx, next) => {
  if (ctx.method === 'GET' && ctx.path === '/') {
    ctx.type = 'html';
    ctx.body = homePage(DEMO_CUSTOMER, DEMO_PEOPLE, ctx.state.user as DefaultSessionUser | undefined).replace(
      '</main>',
      `${samlLoginSection(SAML_DEMO_CUSTOMER, SAML_DEMO_PEOPLE, demo.samlIdp.entityId)}</main>`,
    );
  } else if (ctx.method === 'GET' && ctx.path === '/me') {
    await requireActive(ctx, async () => {
      if (ctx.accepts(['html', 'json']) === 'json') ctx.body = ctx.state.user;
      else {
        ctx.type = 'html';
        ctx.body = mePage(ctx.state.user as DefaultSessionUser);
      }
    });
  } else if (ctx.method === 'GET' && ctx.path === '/members') {
    await requireActive(ctx, async () => {
      const { customerId } = ctx.state.user as DefaultSessionUser;
      const cursor = typeof ctx.query.cursor === 'string' ? ctx.query.cursor : null;
      ctx.type = 'html';
      ctx.body = await membersPage(sso, customerId, cursor);
    });
  } else if (ctx.method === 'GET' && ctx.path === '/activity') {
    await requireActive(ctx, async () => {
      const { customerId } = ctx.state.user as DefaultSessionUser;
      ctx.type = 'html';
      ctx.body = activityPage(customerId, activity.of(customerId));
    });
  } else if (ctx.method === 'GET' && ctx.path === '/refused') {
    ctx.status = 403;
    ctx.type = 'html';
    ctx.body = refusedPage(String(ctx.query.error ?? ''), String(ctx.query.reason ?? ''));
  } else if (ctx.method === 'POST' && ctx.path === '/logout') {
    await ctx.logout();
    ctx.redirect('/');
  } else {
    await next();
  }
});

// Create the server after every middleware is mounted (docs/oidc-and-passport.md §Koa).
const server = createServer(app.callback())
  .once('error', (error) => exitOnListenError('the example app', port, 'PORT', error))
  .listen(port, '127.0.0.1', () => console.log(demo.banner('koa')));

async function shutdown() {
  server.close();
  await demo.close();
  process.exit(0);
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
