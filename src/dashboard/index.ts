/**
 * The admin dashboard, framework-neutral: server-rendered pages (no build step) answered from a neutral
 * request (`DashboardRequest`); the Express and Koa adapters (src/express/dashboard.ts,
 * src/koa/dashboard.ts) only translate. Every request is refused (403) unless `authorize(req)` resolves to
 * exactly `true`; without `authorize`, everyone is refused. POSTs also need the CSRF token (csrf.ts).
 *
 * Routes (relative to the dashboard's prefix, default `/admin`):
 *   GET  /                                   Customers
 *   GET  /customers/:customerId              A customer: connection, client, SCIM users, groups, SSO users
 *   POST /customers/:customerId/scim-token   Rotate the SCIM token (answers with the new token, once)
 *   GET  /customers/:customerId/matching     SCIM Matching (?strategy= to preview one)
 *   GET  /customers/:customerId/matching.json  The matching report as JSON
 *   POST /customers/:customerId/matching     Save the strategy (updateOidcClient), then 303 to the page
 *   GET  /customers/:customerId/compare?subject=…  Compare one SSO user with the candidate SCIM users
 *   GET  /customers/:customerId/roles        Roles: the role mapping (IdP groups → app roles)
 *   POST /customers/:customerId/roles        Save the role mapping (setRoleMapping), then 303 to the page
 */
import { checkCustomerId } from '../connections.js';
import { ScimSsoConfigError } from '../errors.js';
import { internalsOf } from '../internal.js';
import type { ScimSsoCore } from '../sso.js';
import { offsetParam, type DashboardApi } from './api.js';
import { createFlash } from './flash.js';
import { FORM_LIMIT_BYTES, ROLES_FORM_LIMIT_BYTES } from './form.js';
import { pageHeaders, reachedOverHttps } from './page-headers.js';
import { createCsrf } from './csrf.js';
import { CUSTOMER_ROUTES } from './customer-routes.js';
import type { DashboardRequest, DashboardResponse } from './exchange.js';
import { customersPage, loadCustomerRows } from './customers-page.js';
import { enc, html, type SafeHtml } from './html.js';
import { messagePage, type PageContext } from './layout.js';
import { withoutTrailingSlashes } from '../url-segment.js';

/** The options of the dashboard; `Req` is the framework's request (Express `req`, Koa `ctx`). */
export interface DashboardOptions<Req = unknown> {
  /**
   * Decides who may use the dashboard: only a (resolved) `true` lets a request through. Required: without
   * it every request is refused with 403. Throwing or rejecting refuses too (and is reported to onError).
   */
  authorize?: (req: Req) => boolean | Promise<boolean>;
  /** HMAC key of the CSRF tokens, at least 32 characters; the same on every instance. Default: random per process. */
  csrfSecret?: string;
  /** Where the 403 page links to for logging in (e.g. `/admin/login`). */
  loginUrl?: string;
  /**
   * Path prefix of the dashboard, relative to where the middleware is mounted (as `basePath` of the SCIM
   * routes and `prefix` of the login routes are). Default: '/admin'.
   */
  prefix?: string;
}

export type { DashboardRequest, DashboardResponse } from './exchange.js';

export interface DashboardCore<Req> {
  /** The prefix requests must be under (`/admin`). */
  readonly prefix: string;
  /** Answers a request whose path is under the prefix, or resolves null when it is not (pass it on). */
  handle(raw: Req, request: DashboardRequest): Promise<DashboardResponse | null>;
}

export { DEFAULT_GRACE_SECONDS } from './customer-routes.js';

const HTML = 'text/html; charset=utf-8';

/** The prefix option: '/admin' by default, no trailing slash. Throws on a malformed one. */
function dashboardPrefix(prefix: unknown): string {
  if (prefix === undefined) return '/admin';
  if (typeof prefix !== 'string' || !/^(\/[A-Za-z0-9._~-]+)+\/?$/.test(prefix)) {
    throw new ScimSsoConfigError('invalid_argument', "dashboard: prefix must be a path such as '/admin'");
  }
  return withoutTrailingSlashes(prefix);
}

/** Validates the options and builds the dashboard of a scim-sso instance (core or framework handle). */
export function createDashboardCore<Req>(sso: ScimSsoCore, options: DashboardOptions<Req> = {}): DashboardCore<Req> {
  const internals = internalsOf(sso);
  if (options.authorize !== undefined && typeof options.authorize !== 'function') {
    throw new ScimSsoConfigError('invalid_argument', 'dashboard: authorize must be a function (req) => boolean | Promise<boolean>');
  }
  if (options.loginUrl !== undefined && (typeof options.loginUrl !== 'string' || !/^(\/(?!\/)|https?:\/\/)/.test(options.loginUrl))) {
    throw new ScimSsoConfigError('invalid_argument', 'dashboard: loginUrl must be a path or an http(s) URL');
  }
  const prefix = dashboardPrefix(options.prefix);
  const api: DashboardApi = {
    fetchScimConnection: sso.fetchScimConnection,
    fetchOidcClient: sso.fetchOidcClient,
    updateOidcClient: sso.updateOidcClient,
    fetchSamlConnection: sso.fetchSamlConnection,
    updateSamlConnection: sso.updateSamlConnection,
    rotateScimToken: sso.rotateScimToken,
    matchingReport: sso.matchingReport,
    fetchRoleMapping: sso.fetchRoleMapping,
    setRoleMapping: sso.setRoleMapping,
    activity: sso.activity,
    store: internals.store,
    options: internals.options,
  };
  const onError = internals.onError;
  const csrf = createCsrf(options.csrfSecret);
  const flash = createFlash(options.csrfSecret);
  const { authorize, loginUrl } = options;

  /** The path below the prefix ('/' for the prefix itself), or null when the request is not the dashboard's. */
  const below = (path: string): string | null => {
    if (path === prefix) return '/';
    return path.startsWith(`${prefix}/`) ? path.slice(prefix.length) : null;
  };

  return {
    prefix,
    async handle(raw, request) {
      const path = below(request.path);
      if (path === null) return null;
      const base = `${withoutTrailingSlashes(request.mountPath)}${prefix}`;
      const { nonce, headers } = pageHeaders('same-origin');
      const cookies: string[] = [];
      const cookieReq = { headers: request.headers, base, secure: reachedOverHttps(request) };
      const setCookie = (line: string) => void cookies.push(line);
      const page = (status: number, body: string): DashboardResponse => ({ status, headers: { ...headers, 'Content-Type': HTML }, cookies, body });
      const json = (status: number, body: unknown): DashboardResponse => ({
        status,
        headers: { ...headers, 'Content-Type': 'application/json; charset=utf-8' },
        cookies,
        body: JSON.stringify(body),
      });
      const redirect = (location: string): DashboardResponse => ({ status: 303, headers: { ...headers, Location: location }, cookies, body: '' });
      const fail = (status: number, title: string, message: string | SafeHtml) => page(status, messagePage({ base, nonce }, title, message));
      const ctx = (): PageContext => ({ base, nonce, csrfToken: csrf.issue(cookieReq, setCookie) });

      let allowed = false;
      if (authorize) {
        try {
          allowed = (await authorize(raw)) === true;
        } catch (error) {
          onError(error);
        }
      }
      if (!allowed) {
        const body = html`The dashboard is only for administrators.${loginUrl ? html` <a href="${loginUrl}">Log in</a>.` : ''}`;
        return fail(403, 'Forbidden', body);
      }

      try {
        const method = request.method === 'HEAD' ? 'GET' : request.method;
        const segments = path.split('/').slice(1).map(decodeURIComponent);
        if (path.endsWith('/') && segments.length > 1) segments.pop();
        const [first, rawCustomerId, action, ...rest] = segments;
        let form: Record<string, unknown> = {};
        if (method !== 'GET') {
          // The Roles form sends the whole mapping back; the largest one allowed is far over other forms' cap.
          form = await request.form(action === 'roles' ? ROLES_FORM_LIMIT_BYTES : FORM_LIMIT_BYTES);
          if (!csrf.verify(cookieReq, form)) {
            return fail(403, 'Forbidden', 'The form had expired or did not come from this dashboard (invalid CSRF token). Reload the page and try again.');
          }
        }
        if (method === 'GET' && segments.length === 1 && first === '') {
          const find = request.query.get('find') ?? '';
          return page(200, customersPage(ctx(), await loadCustomerRows(api, offsetParam(request.query.get('customers')), find)));
        }
        if (first !== 'customers' || rawCustomerId === undefined || rest.length > 0) return fail(404, 'Not found', 'No such dashboard page.');
        const customerId = checkCustomerId(rawCustomerId);
        const route = CUSTOMER_ROUTES.get(action === undefined ? method : `${method} ${action}`);
        if (!route) return fail(404, 'Not found', 'No such dashboard page.');
        return await route({
          api,
          customerId,
          customerUrl: `${base}/customers/${enc(customerId)}`,
          query: request.query,
          form,
          ctx,
          flash,
          cookieReq,
          setCookie,
          page,
          json,
          redirect,
          fail,
        });
      } catch (error) {
        if (error instanceof ScimSsoConfigError) {
          const notFound = error.code === 'connection_not_found' || error.code === 'oidc_client_not_found' || error.code === 'invalid_argument';
          return fail(notFound ? 404 : 400, notFound ? 'Not found' : 'Bad request', error.message);
        }
        if (error instanceof URIError) return fail(400, 'Bad request', 'The URL is not validly percent-encoded.');
        const status = (error as { status?: unknown })?.status;
        if (status === 413) return fail(413, 'Too large', 'The form is larger than this page accepts.');
        if (typeof status === 'number' && status >= 400 && status < 500) return fail(status, 'Bad request', 'The request could not be read.');
        onError(error);
        return fail(500, 'Error', 'The dashboard failed to handle this request.');
      }
    },
  };
}
