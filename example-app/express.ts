/**
 * The scim-sso example app on Express: `npm run example`. The demo (store, embedded IdP, customer, people)
 * is set up in setup.ts; this file only wires Express, sessions, passport and the admin dashboard.
 *
 * Admin dashboard: `/admin`, behind a demo admin login (`/admin/login`, one password printed at startup,
 * or DEMO_ADMIN_PASSWORD). `authorize` checks the `demoAdmin` flag of the express-session.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import express from 'express';
import session from 'express-session';
import passport from 'passport';
import type { DefaultSessionUser } from '../src/index.js';
import { scimSso } from '../src/express/index.js';
import { dashboard } from '../src/express/dashboard.js';
import { setupPortal } from '../src/express/setup.js';
import { DEMO_CUSTOMER, DEMO_PEOPLE, MISMATCHED_PEOPLE, SAML_DEMO_CUSTOMER, SAML_DEMO_PEOPLE } from './demo-data.js';
import { startActivityFeed } from './activity.js';
import { activityPage, homePage, membersPage, mePage, refusedPage, samlLoginSection } from './pages.js';
import { exitOnListenError, setUpDemo } from './setup.js';

const port = Number(process.env.PORT ?? 3000);
const demo = await setUpDemo(port, scimSso);
const { sso } = demo;
const activity = startActivityFeed(sso);
const adminPassword = process.env.DEMO_ADMIN_PASSWORD || randomBytes(12).toString('base64url');

declare module 'express-session' {
  interface SessionData {
    demoAdmin?: boolean;
  }
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
app.use(sso.authRoutes({ passport, successRedirect: '/me', failureRedirect: '/refused' })); // /sso/:customerId/login, /callback (OIDC), /saml/acs and /saml/metadata (SAML)

app.get('/', (req, res) => {
  res
    .type('html')
    .send(
      homePage(DEMO_CUSTOMER, DEMO_PEOPLE, req.user as DefaultSessionUser | undefined).replace(
        '</main>',
        `${samlLoginSection(SAML_DEMO_CUSTOMER, SAML_DEMO_PEOPLE, demo.samlIdp.entityId)}${adminSection(req.session?.demoAdmin === true)}</main>`,
      ),
    );
});

// The demo admin login. It is outside the dashboard (which refuses everyone `authorize` rejects).
const digest = (value: string) => createHash('sha256').update(value).digest();
const crossSite = (req: express.Request) => (req.get('sec-fetch-site') ?? 'same-origin') !== 'same-origin';
app.get('/admin/login', (req, res) => {
  res.type('html').send(adminLoginPage(req.query.failed === '1'));
});
app.post('/admin/login', express.urlencoded({ extended: false, limit: '2kb' }), (req, res, next) => {
  const password = typeof req.body?.password === 'string' ? req.body.password : '';
  if (crossSite(req) || !timingSafeEqual(digest(password), digest(adminPassword))) return res.redirect(303, '/admin/login?failed=1');
  // A new session id at privilege change (no session fixation).
  req.session.regenerate((error) => {
    if (error) return next(error);
    req.session.demoAdmin = true;
    req.session.save((saveError) => (saveError ? next(saveError) : res.redirect(303, '/admin/')));
  });
});
app.post('/admin/logout', (req, res, next) => {
  if (crossSite(req)) return res.status(403).end();
  req.session.destroy((error) => (error ? next(error) : res.redirect(303, '/')));
});
// The dashboard under /admin (its default prefix); the demo's own /admin/login and /admin/logout are above it.
app.use(dashboard(sso, { authorize: (req) => req.session?.demoAdmin === true, loginUrl: '/admin/login', csrfSecret: process.env.DASHBOARD_CSRF_SECRET }));
// The self-serve setup portal under /setup (the setupPortalUrl of setup.ts): the setup link is the credential.
app.use(setupPortal(sso, { appName: 'the scim-sso example app' }));
app.get('/me', sso.requireActiveUser({ redirectTo: '/refused' }), (req, res) => {
  if (req.accepts(['html', 'json']) === 'json') return res.json(req.user);
  res.type('html').send(mePage(req.user as DefaultSessionUser));
});
app.get('/members', sso.requireActiveUser({ redirectTo: '/refused' }), async (req, res, next) => {
  try {
    const { customerId } = req.user as DefaultSessionUser;
    const cursor = typeof req.query.cursor === 'string' ? req.query.cursor : null;
    res.type('html').send(await membersPage(sso, customerId, cursor));
  } catch (error) {
    next(error);
  }
});
app.get('/activity', sso.requireActiveUser({ redirectTo: '/refused' }), (req, res) => {
  const { customerId } = req.user as DefaultSessionUser;
  res.type('html').send(activityPage(customerId, activity.of(customerId)));
});
app.get('/refused', (req, res) => {
  res
    .status(403)
    .type('html')
    .send(refusedPage(String(req.query.error ?? ''), String(req.query.reason ?? '')));
});
app.post('/logout', (req, res, next) => req.logout((error) => (error ? next(error) : res.redirect('/'))));
app.use(sso.errorHandler({ redirectTo: '/refused' }));

// Express 5 hands a listen error (a taken port) to this callback: exit non-zero rather than print the banner.
const server = app.listen(port, '127.0.0.1', (error?: Error) => {
  if (error) exitOnListenError('the example app', port, 'PORT', error);
  console.log(
    demo.banner('express', [
      `admin dashboard: ${demo.origin}/admin/login demo admin password: ${adminPassword}`,
      `affected by the default matching strategy: ${MISMATCHED_PEOPLE.map((p) => p.account.name).join(', ')} (see SCIM Matching for ${DEMO_CUSTOMER})`,
    ]),
  );
});

async function shutdown() {
  server.close();
  await demo.close();
  process.exit(0);
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);

function adminLoginPage(failed: boolean): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo admin login · scim-sso example</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:30rem;margin:2rem auto;padding:0 1rem}input,button{font:inherit;padding:.3rem .5rem}
:focus-visible{outline:3px solid #f5a524;outline-offset:2px}</style></head>
<body><main><h1>Demo admin login</h1>
${failed ? '<p role="alert">Wrong password.</p>' : ''}
<p>The password is printed by <code>npm run example</code> at startup.</p>
<form method="post" action="/admin/login"><label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Log in</button></form><p><a href="/">Home</a></p></main></body></html>`;
}

// The dashboard's pages have no logout of their own (src/dashboard): the admin session ends here, on the home page.
const adminSection = (loggedIn: boolean) => `<h2>Admin dashboard</h2>
${loggedIn ? '<form method="post" action="/admin/logout"><p>You are logged in to the admin dashboard. <button>Log out of the admin dashboard</button></p></form>' : ''}
<p><a href="/admin/">The admin dashboard</a> (demo admin password printed at startup) shows customers, SCIM users and SSO users,
and the SCIM Matching tool. ${MISMATCHED_PEOPLE.map((p) => p.account.name).join(' and ')} are locked out by the default strategy
(their email is not their SCIM userName): switch to <code>OidcSubToScimExternalId</code>, Save, then log in as them:</p>
<ul>${MISMATCHED_PEOPLE.map((p) => `<li><a class="button" href="/sso/${DEMO_CUSTOMER}/login?login_hint=${encodeURIComponent(p.account.sub)}">Log in as ${p.account.name}</a></li>`).join('')}</ul>`;
