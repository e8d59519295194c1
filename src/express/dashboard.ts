/**
 * `scim-sso/express/dashboard`: the admin dashboard as Express middleware, on the framework-neutral
 * dashboard (src/dashboard/index.ts). `app.use(dashboard(sso, { authorize }))` serves it under `/admin`.
 */
import type { Request, RequestHandler } from 'express';
import { createDashboardCore, type DashboardOptions } from '../dashboard/index.js';
import type { ScimSsoCore } from '../sso.js';
import { pageRequestOf, sendPage } from './pages.js';

/** The dashboard's options on Express: `authorize` receives Express's `req`. */
export type ExpressDashboardOptions = DashboardOptions<Request>;

/**
 * Express middleware serving the dashboard under `prefix` (default '/admin', relative to where it is
 * mounted) for a scim-sso instance; other requests pass on. Throws ScimSsoConfigError on bad options.
 */
export function dashboard(sso: ScimSsoCore, options: ExpressDashboardOptions = {}): RequestHandler {
  const core = createDashboardCore<Request>(sso, options);
  return async function scimSsoDashboard(req, res, next) {
    try {
      const answer = await core.handle(req, pageRequestOf(req));
      if (answer === null) return next();
      sendPage(res, answer);
    } catch (error) {
      next(error);
    }
  };
}

export type { DashboardOptions } from '../dashboard/index.js';
