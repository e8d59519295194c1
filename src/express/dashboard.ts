/**
 * `scim-sso/express/dashboard`: the admin dashboard as Express middleware, on the framework-neutral
 * dashboard (src/dashboard/index.ts). `app.use(dashboard(sso, { authorize }))` serves it under `/admin`.
 */
import type { Request, RequestHandler, Response } from 'express';
import { createDashboardCore, type DashboardOptions, type DashboardResponse } from '../dashboard/index.js';
import { readForm } from '../dashboard/form.js';
import type { ScimSsoCore } from '../sso.js';

/** The dashboard's options on Express: `authorize` receives Express's `req`. */
export type ExpressDashboardOptions = DashboardOptions<Request>;

function send(res: Response, answer: DashboardResponse): void {
  res.status(answer.status);
  for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
  if (answer.cookies.length) res.append('Set-Cookie', answer.cookies);
  res.end(answer.body);
}

/**
 * Express middleware serving the dashboard under `prefix` (default '/admin', relative to where it is
 * mounted) for a scim-sso instance; other requests pass on. Throws ScimSsoConfigError on bad options.
 */
export function dashboard(sso: ScimSsoCore, options: ExpressDashboardOptions = {}): RequestHandler {
  const core = createDashboardCore<Request>(sso, options);
  return async function scimSsoDashboard(req, res, next) {
    try {
      const question = req.url.indexOf('?');
      const answer = await core.handle(req, {
        method: req.method.toUpperCase(),
        path: req.path,
        query: new URLSearchParams(question === -1 ? '' : req.url.slice(question + 1)),
        mountPath: req.baseUrl,
        headers: req.headers,
        secure: req.secure,
        form: () => readForm(req, (req as { body?: unknown }).body),
      });
      if (answer === null) return next();
      send(res, answer);
    } catch (error) {
      next(error);
    }
  };
}

export type { DashboardOptions } from '../dashboard/index.js';
