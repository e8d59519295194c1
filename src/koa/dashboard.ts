/**
 * `scim-sso/koa/dashboard`: the admin dashboard as Koa middleware, on the framework-neutral dashboard
 * (src/dashboard/index.ts). `app.use(dashboard(sso, { authorize }))` serves it under `/admin`.
 */
import type { Context, Middleware, Next } from 'koa';
import { createDashboardCore, type DashboardOptions } from '../dashboard/index.js';
import type { ScimSsoCore } from '../sso.js';
import { pageRequestOf, sendPage } from './pages.js';

/** The dashboard's options on Koa: `authorize` receives the Koa context. */
export type KoaDashboardOptions = DashboardOptions<Context>;

/**
 * Koa middleware serving the dashboard under `prefix` (default '/admin', relative to where it is mounted)
 * for a scim-sso instance; other requests pass on. Throws ScimSsoConfigError on bad options.
 */
export function dashboard(sso: ScimSsoCore, options: KoaDashboardOptions = {}): Middleware {
  const core = createDashboardCore<Context>(sso, options);
  return async function scimSsoKoaDashboard(ctx: Context, next: Next) {
    const answer = await core.handle(ctx, pageRequestOf(ctx));
    if (answer === null) return next();
    sendPage(ctx, answer);
  };
}

export type { DashboardOptions } from '../dashboard/index.js';
