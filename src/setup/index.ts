/**
 * The self-serve setup portal, framework-neutral (docs/setup-portal.md): server-rendered pages for a
 * customer's IT admin, reached through a setup link (src/setup-links.ts) and answered from the same neutral
 * request as the dashboard (src/dashboard/index.ts); src/express/setup.ts and src/koa/setup.ts only translate.
 *
 * Routes, under the portal URL's path (`setupPortalUrl`, e.g. `/setup`), per customer:
 *   GET  /:customerId/link/:token     Exchange the link for a portal session (cookie), then 303 to the overview
 *   GET  /:customerId/                Overview
 *   GET  /:customerId/scim            SCIM provisioning: base URL, token (once), status, IdP steps (?idp=)
 *   POST /:customerId/scim/token      Create the connection or rotate its token (1 h grace), then 303 (reveal once)
 *   GET  /:customerId/sso             Single sign-on: redirect URIs and the IdP form
 *   POST /:customerId/sso             Check the issuer live, then create or update the OIDC client
 *   GET  /:customerId/test            Test SSO: start form
 *   POST /:customerId/test            Start a test login (303 to the IdP)
 *   GET  /:customerId/test/callback   The test login's result (no app session, nothing recorded)
 *   GET  /:customerId/activity        Recent SCIM requests and refused logins
 *   POST /:customerId/logout          End the portal session
 */
import { checkCustomerId } from '../connections.js';
import type { DashboardRequest, DashboardResponse } from '../dashboard/index.js';
import { createFlash } from '../dashboard/flash.js';
import { ScimSsoConfigError } from '../errors.js';
import { pageHeaders, reachedOverHttps } from '../dashboard/page-headers.js';
import type { AuditEventInput } from '../events.js';
import { internalsOf } from '../internal.js';
import { checkPortalUrl, portalCustomerUrl } from '../setup-links.js';
import type { ScimSsoCore } from '../sso.js';
import { hashSetupSecret } from '../setup-links.js';
import type { SetupArea } from '../store/setup-grants.js';
import { activityPage } from './activity-page.js';
import { portalMessage, type PortalContext } from './layout.js';
import { overviewPage } from './overview-page.js';
import { statusLine } from './scim-page.js';
import { cookieLine, csrfTokenOf, csrfValid, currentSession, LINK_OPENS, openSession, SESSION_COOKIE, type Refusal } from './session.js';
import { RateLimiter } from '../scim/rate-limit.js';
import { withoutTrailingSlashes } from '../url-segment.js';
import type { Portal, PortalTurn } from './portal-turn.js';
import { scimRoute } from './scim-routes.js';
import { ssoRoute } from './sso-routes.js';
import { testLoginRoute } from './test-routes.js';

export interface SetupPortalOptions {
  /** Absolute URL of the portal (where it is mounted). Default: the scimSso option `setupPortalUrl`. */
  portalUrl?: string;
  /** The app's name on the pages and in the IdP steps. Default: 'the app'. */
  appName?: string;
  /**
   * The app's login callback for a customer, registered as the OIDC client's redirect URI when the portal
   * creates the client. Default: `<portal origin>/sso/<customerId>/callback` (authRoutes' default prefix).
   */
  loginRedirectUri?: (customerId: string) => string;
}

export type SetupRequest = DashboardRequest;
export type SetupResponse = DashboardResponse;

export interface SetupPortalCore {
  /** The absolute path the portal serves under (`/setup`). */
  readonly path: string;
  /** Answers a request under the portal's path, or resolves null when it is not the portal's (pass it on). */
  handle(request: SetupRequest): Promise<SetupResponse | null>;
}

const HTML = 'text/html; charset=utf-8';

/** The portal's pages of one setup area, by the path below the customer's that names them (a route answers null for a method it has no page for). */
const AREA_PAGES: ReadonlyMap<string, { area: SetupArea; route: (portal: Portal, turn: PortalTurn) => Promise<SetupResponse | null> }> = new Map([
  ['scim', { area: 'scim', route: scimRoute }],
  ['scim/token', { area: 'scim', route: scimRoute }],
  ['sso', { area: 'sso', route: ssoRoute }],
  ['test', { area: 'sso', route: testLoginRoute }],
  ['test/callback', { area: 'sso', route: testLoginRoute }],
]);
const ACTIVITY_LIMIT = 50;
const REFUSALS: Record<Refusal | 'none', { status: number; title: string; message: string }> = {
  none: { status: 401, title: 'Open your setup link', message: 'This page is reached through the setup link you received. Open that link again to continue.' },
  unknown: {
    status: 404,
    title: 'Setup link not valid',
    message: 'This setup link is not valid. Check that it was copied whole, or ask your contact for a new one.',
  },
  expired: { status: 410, title: 'Setup link expired', message: 'This setup link (or your setup session) has expired. Ask your contact for a new link.' },
  revoked: { status: 410, title: 'Setup link revoked', message: 'This setup link was revoked. Ask your contact for a new link.' },
  foreign_customer: {
    status: 403,
    title: 'Wrong setup link',
    message: 'This setup link or session belongs to another organisation’s setup. Open the link you received for this one.',
  },
  too_many_opens: {
    status: 429,
    title: 'Opened too often',
    message: 'This setup link was opened many times in a short while. Wait a few seconds, then open it again.',
  },
};

/** Validates the options and builds the portal of a scim-sso instance (core or framework handle). */
export function createSetupPortalCore(sso: ScimSsoCore, options: SetupPortalOptions = {}): SetupPortalCore {
  const internals = internalsOf(sso);
  const { store, runtime, emit, onError } = internals;
  const portalUrl = checkPortalUrl(options.portalUrl ?? internals.options.setupPortalUrl, 'setupPortal (set portalUrl or the scimSso option setupPortalUrl)');
  if (options.appName !== undefined && (typeof options.appName !== 'string' || options.appName.length < 1 || options.appName.length > 100)) {
    throw new ScimSsoConfigError('invalid_argument', 'setupPortal: appName must be a string of 1–100 characters');
  }
  if (options.loginRedirectUri !== undefined && typeof options.loginRedirectUri !== 'function') {
    throw new ScimSsoConfigError('invalid_argument', 'setupPortal: loginRedirectUri must be a function (customerId) => URL');
  }
  const appName = options.appName ?? 'the app';
  const origin = new URL(portalUrl).origin;
  const httpsPortal = new URL(portalUrl).protocol === 'https:';
  const portalPath = withoutTrailingSlashes(new URL(portalUrl).pathname);
  // At the root the portal would answer every path of the app (the first segment is a customer id).
  if (portalPath === '')
    throw new ScimSsoConfigError('invalid_argument', "setupPortal: the portal URL needs a path of its own, e.g. 'https://app.example.com/setup'");
  const scimBaseUrl = internals.mount.publicBaseUrl ?? `${origin}${internals.mount.basePath}`;
  const loginRedirectUri = options.loginRedirectUri ?? ((customerId: string) => `${origin}/sso/${encodeURIComponent(customerId)}/callback`);
  const keepsLog = internals.options.activityLog !== false;
  const testRedirectUri = (customerId: string) => `${portalCustomerUrl(portalUrl, customerId)}/test/callback`;
  const linkOpens = new RateLimiter(LINK_OPENS);
  const audit = (event: Omit<AuditEventInput, 'actor' | 'connectionId'> & { connectionId?: string | null }) =>
    emit({ actor: 'setup', connectionId: null, ...event });
  const portal: Portal = { sso, store, runtime, options: internals.options, scimBaseUrl, keepsLog, loginRedirectUri, testRedirectUri, audit };

  return {
    path: portalPath,
    async handle(request) {
      const absolute = `${withoutTrailingSlashes(request.mountPath)}${request.path}`;
      if (!absolute.startsWith(`${portalPath}/`)) return null;
      // The link token is in the first URL: no page may send it on as a Referer.
      const { nonce, headers } = pageHeaders('no-referrer');
      const cookies: string[] = [];
      const page = (status: number, body: string): SetupResponse => ({ status, headers: { ...headers, 'Content-Type': HTML }, cookies, body });
      const redirect = (location: string): SetupResponse => ({ status: 303, headers: { ...headers, Location: location }, cookies, body: '' });
      const fail = (status: number, title: string, message: string) => page(status, portalMessage(nonce, title, message));
      const refuse = (refusal: Refusal | 'none', customerId: string | null, retryAfter?: number) => {
        if (refusal !== 'none') audit({ type: 'setup.refused', outcome: 'failure', customerId, reason: refusal });
        const r = REFUSALS[refusal];
        const refused = fail(r.status, r.title, r.message);
        if (retryAfter !== undefined) refused.headers['Retry-After'] = String(retryAfter);
        return refused;
      };

      try {
        const method = request.method === 'HEAD' ? 'GET' : request.method;
        const segments = absolute
          .slice(portalPath.length + 1)
          .split('/')
          .map(decodeURIComponent);
        const [rawCustomerId, ...route] = segments;
        let customerId: string;
        try {
          customerId = checkCustomerId(rawCustomerId);
        } catch {
          return fail(404, 'Not found', 'No such setup page.');
        }
        const custBase = `${portalPath}/${encodeURIComponent(customerId)}`;
        // Secure whenever the portal is https, also behind a proxy the app does not trust (src/dashboard/page-headers.ts).
        const secure = httpsPortal || reachedOverHttps(request);
        const action = route.join('/');

        if (method === 'GET' && route.length === 2 && route[0] === 'link') {
          const opened = await openSession(store, linkOpens, customerId, route[1]!);
          if (!opened.ok) return refuse(opened.refusal, opened.refusal === 'foreign_customer' ? null : customerId, opened.retryAfter);
          const maxAge = Math.max(1, Math.floor((opened.session.expiresAt - Date.now()) / 1000));
          cookies.push(cookieLine(SESSION_COOKIE, opened.session.secret, custBase, maxAge, secure));
          audit({ type: 'setup.opened', outcome: 'success', customerId });
          return redirect(`${custBase}/`);
        }
        if (route.length === 0) return redirect(`${custBase}/`);

        const current = await currentSession(store, request.headers, customerId);
        if (!current.ok) return refuse(current.refusal, current.refusal === 'foreign_customer' ? null : customerId);
        const session = current.session;
        const ctx: PortalContext = { base: custBase, nonce, csrfToken: csrfTokenOf(session), customerId, appName, allow: session.allow };
        const needs = (area: SetupArea) =>
          session.allow.includes(area)
            ? null
            : fail(403, 'Not included', `This setup link does not include ${area === 'sso' ? 'single sign-on' : 'SCIM provisioning'}.`);

        let form: Record<string, unknown> = {};
        if (method === 'POST') {
          form = await request.form();
          if (!csrfValid(session, request.headers, form)) {
            audit({ type: 'setup.refused', outcome: 'failure', customerId, reason: 'csrf' });
            return fail(403, 'Forbidden', 'The form had expired or did not come from this page (invalid CSRF token). Reload the page and try again.');
          }
        } else if (method !== 'GET') {
          return fail(405, 'Method not allowed', 'Only GET and POST are used here.');
        }

        const turn: PortalTurn = {
          request,
          method: method === 'POST' ? 'POST' : 'GET',
          action,
          form,
          customerId,
          session,
          ctx,
          secure,
          headers,
          cookies,
          flash: createFlash(session.secret),
          cookieReq: { headers: request.headers, base: custBase, secure },
          setCookie: (line: string) => void cookies.push(line),
          page,
          redirect,
          fail,
        };

        if (method === 'GET' && action === '') {
          const scimAllowed = session.allow.includes('scim');
          const [connection, client, activity] = await Promise.all([
            store.getConnectionByCustomer(customerId),
            store.getOidcClient(customerId),
            scimAllowed && keepsLog ? sso.activity(customerId, { limit: 1 }) : null,
          ]);
          const scimStatus = scimAllowed && connection ? statusLine(activity ? activity.lastRequest : undefined) : null;
          return page(
            200,
            overviewPage(ctx, {
              hasConnection: connection !== null,
              hasClient: client !== null,
              issuer: client?.issuer ?? null,
              expiresAt: session.expiresAt,
              scimStatus,
            }),
          );
        }

        if (method === 'POST' && action === 'logout') {
          cookies.push(cookieLine(SESSION_COOKIE, '', custBase, 0, secure));
          // The session's grant is replaced by a copy that expires now: the cookie, if kept, opens nothing and
          // is told so for the hour a session is kept past its end (expiring at its creation, an older one was gone).
          const found = await store.getSetupGrant(hashSetupSecret(session.secret));
          if (found) await store.putSetupGrant({ ...found.grant, expiresAt: Math.max(Date.now(), found.grant.createdAt + 1) });
          audit({ type: 'setup.ended', outcome: 'success', customerId });
          return fail(200, 'Setup session ended', 'You can close this page. Open your setup link again to come back.');
        }

        const area = AREA_PAGES.get(action);
        if (area) {
          const answer = needs(area.area) ?? (await area.route(portal, turn));
          if (answer) return answer;
        }

        if (method === 'GET' && action === 'activity') {
          const activity = keepsLog ? await sso.activity(customerId, { limit: ACTIVITY_LIMIT }) : null;
          return page(200, activityPage(ctx, activity));
        }

        return fail(404, 'Not found', 'No such setup page.');
      } catch (error) {
        if (error instanceof URIError) return fail(400, 'Bad request', 'The URL is not validly percent-encoded.');
        if (error instanceof ScimSsoConfigError) {
          // A bad value, or a race with another admin or the app (a client created meanwhile): said, never a 500.
          return error.code === 'invalid_argument'
            ? fail(400, 'Bad request', error.message)
            : fail(409, 'Conflict', `${error.message}. Reload the page and try again.`);
        }
        const status = (error as { status?: unknown })?.status;
        if (typeof status === 'number' && status >= 400 && status < 500) return fail(status, 'Bad request', 'The request could not be read.');
        onError(error);
        return fail(500, 'Error', 'The setup portal failed to handle this request. Try again later.');
      }
    },
  };
}
