/**
 * `scim-sso/koa/dashboard`: the admin dashboard as Koa middleware, on the framework-neutral dashboard
 * (src/dashboard/index.ts). `app.use(dashboard(sso, { authorize }))` serves it under `/admin`.
 */
import type { Context, Middleware, Next } from 'koa';
import { createDashboardCore, type DashboardOptions } from '../dashboard/index.js';
import { readForm } from '../dashboard/form.js';
import type { ScimSsoCore } from '../sso.js';

/** The dashboard's options on Koa: `authorize` receives the Koa context. */
export type KoaDashboardOptions = DashboardOptions<Context>;

/** The mount prefix koa-mount stripped from `ctx.path`, if any (as the SCIM routes compute it). */
function mountPath(ctx: Context): string {
  const original = (ctx.originalUrl ?? ctx.url).split('?')[0]!;
  return original.endsWith(ctx.path) ? original.slice(0, original.length - ctx.path.length) : '';
}

/**
 * Koa middleware serving the dashboard under `prefix` (default '/admin', relative to where it is mounted)
 * for a scim-sso instance; other requests pass on. Throws ScimSsoConfigError on bad options.
 */
export function dashboard(sso: ScimSsoCore, options: KoaDashboardOptions = {}): Middleware {
  const core = createDashboardCore<Context>(sso, options);
  return async function scimSsoKoaDashboard(ctx: Context, next: Next) {
    const answer = await core.handle(ctx, {
      method: ctx.method.toUpperCase(),
      path: ctx.path,
      query: new URLSearchParams(ctx.querystring),
      mountPath: mountPath(ctx),
      headers: ctx.req.headers,
      secure: ctx.secure,
      form: () => readForm(ctx.req, (ctx.request as { body?: unknown }).body),
    });
    if (answer === null) return next();
    ctx.status = answer.status;
    for (const [name, value] of Object.entries(answer.headers)) ctx.set(name, value);
    if (answer.cookies.length) ctx.append('Set-Cookie', answer.cookies);
    // Headers first: Koa keeps an explicit Content-Type when the body is set (and a string body keeps the 303).
    ctx.body = answer.body;
  };
}

export type { DashboardOptions } from '../dashboard/index.js';
