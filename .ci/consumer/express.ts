// An Express-only app: koa is not installed. SCIM routes, login routes, session check, dashboard, setup portal.
import type { AddressInfo } from 'node:net';
import express from 'express';
import { memoryStore, type AppVerify, type DefaultSessionUser } from 'scim-sso';
import { scimSso, type ScimSso } from 'scim-sso/express';
import { dashboard } from 'scim-sso/express/dashboard';
import { setupPortal } from 'scim-sso/express/setup';

const sso: ScimSso = scimSso({ store: memoryStore(), setupPortalUrl: 'https://app.example.com/setup' });
const { token } = await sso.createScimConnection({ customerId: 'acme' });
// Passport is only needed at run time by authRoutes; this stand-in has its shape.
const passport = { use: () => passport, authenticate: () => (_req: unknown, _res: unknown, next: () => void) => next() };
const verify: AppVerify<express.Request> = (req, _tokens, result, verified) => verified(null, { ...result.sessionUser, ip: req.ip });

const app = express();
app.use(sso);
app.use(sso.authRoutes({ passport, successRedirect: '/me' })); // /sso/...: leaves the app's /admin/login alone
app.get('/admin/login', (_req, res) => void res.send('app login page'));
app.use(dashboard(sso, { authorize: (req) => req.get('x-admin') === 'yes' })); // /admin
app.use(setupPortal(sso)); // /setup
// req.user is passport's (its types are not installed here).
app.get('/me', sso.requireActiveUser(), (req, res) => void res.json((req as { user?: DefaultSessionUser }).user));
app.use(sso.errorHandler());
const server = app.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const statuses = await Promise.all([
  fetch(`${origin}/scim/v2/Users`, { headers: { authorization: `Bearer ${token}` } }),
  fetch(`${origin}/sso/nobody/login`),
  fetch(`${origin}/admin/login`),
  fetch(`${origin}/admin/`, { headers: { 'x-admin': 'yes' } }),
  fetch(`${origin}/me`),
  fetch(`${origin}/setup/acme/`),
]).then((responses) => responses.map((r) => r.status).join(' '));
server.close();
if (statuses !== '200 404 200 200 401 401') throw new Error(`express: ${statuses}`);
void sso.guardVerify('acme', verify);
console.log('express ok');
