/**
 * The scim-sso example app on Express: `npm run example`. The demo (store, embedded IdP, customer, people)
 * is set up in setup.ts; this file only wires Express, sessions and passport.
 */
import express from 'express';
import session from 'express-session';
import passport from 'passport';
import type { SessionUser } from '../src/index.js';
import { DEMO_CUSTOMER, DEMO_PEOPLE } from './demo-data.js';
import { homePage, mePage, refusedPage } from './pages.js';
import { setUpDemo } from './setup.js';

const port = Number(process.env.PORT ?? 3000);
const demo = await setUpDemo(port);
const { sso } = demo;

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

const server = app.listen(port, '127.0.0.1', () => console.log(demo.banner('express')));

async function shutdown() {
  server.close();
  await demo.close();
  process.exit(0);
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
