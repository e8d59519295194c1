// A Koa-only app: express is not installed. SCIM routes, login routes, session check, dashboard, setup portal.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { memoryStore, type AppVerify } from 'scim-sso';
import { scimSso, type KoaLoginRequest, type KoaScimSso } from 'scim-sso/koa';
import { dashboard } from 'scim-sso/koa/dashboard';
import { setupPortal } from 'scim-sso/koa/setup';

const sso: KoaScimSso = scimSso({ store: memoryStore(), setupPortalUrl: 'https://app.example.com/setup' });
const { token } = await sso.createScimConnection({ customerId: 'acme' });
// koa-passport is only needed at run time by authRoutes; this stand-in has its shape.
const passport = { use: () => passport, authenticate: () => async (_ctx: Koa.Context, next: Koa.Next) => next() };
const verify: AppVerify<KoaLoginRequest> = (req, _tokens, result, verified) => verified(null, { ...result.sessionUser, ip: req.ctx.ip });

const app = new Koa();
app.use(sso);
app.use(sso.errorHandler());
app.use(sso.authRoutes({ passport, successRedirect: '/me' })); // /sso/...: leaves the app's /admin/login alone
const requireActive = sso.requireActiveUser();
app.use(async (ctx, next) => {
  if (ctx.path === '/admin/login') ctx.body = 'app login page';
  else if (ctx.path === '/me') await requireActive(ctx, async () => void (ctx.body = ctx.state.user));
  else await next();
});
app.use(dashboard(sso, { authorize: (ctx) => ctx.get('x-admin') === 'yes' })); // /admin
app.use(setupPortal(sso)); // /setup
const server = createServer(app.callback()).listen(0, '127.0.0.1');
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
if (statuses !== '200 404 200 200 401 401') throw new Error(`koa: ${statuses}`);
void sso.guardVerify('acme', verify);
console.log('koa ok');
