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
import { privateIdpAddressesAllowed } from '../options.js';
import { checkCustomerId } from '../connections.js';
import { DEFAULT_GRACE_SECONDS, type DashboardRequest, type DashboardResponse } from '../dashboard/index.js';
import { createFlash } from '../dashboard/flash.js';
import { ScimSsoConfigError } from '../errors.js';
import { pageHeaders, reachedOverHttps } from '../dashboard/page-headers.js';
import type { AuditEventInput } from '../events.js';
import { internalsOf } from '../internal.js';
import { isMatchingStrategy, type MatchingStrategy } from '../match/strategies.js';
import { DEFAULT_STRATEGY } from '../oidc-clients.js';
import { hashToken } from '../scim/auth.js';
import { checkPortalUrl, portalCustomerUrl } from '../setup-links.js';
import type { ScimSsoCore } from '../sso.js';
import { hashSetupSecret } from '../setup-links.js';
import type { SetupArea } from '../store/setup-grants.js';
import { activityPage } from './activity-page.js';
import { checkIssuer } from './discovery-check.js';
import { idpOfType, isSetupIdp } from './idp-steps.js';
import { portalMessage, type PortalContext } from './layout.js';
import { overviewPage } from './overview-page.js';
import { scimPage, statusLine } from './scim-page.js';
import { cookieLine, csrfTokenOf, csrfValid, currentSession, LINK_OPENS, openSession, SESSION_COOKIE, type Refusal } from './session.js';
import { RateLimiter } from '../scim/rate-limit.js';
import { samlSsoPage, ssoPage, type SsoFormValues } from './sso-page.js';
import { authorizationOrigin, clearTestCookie, finishTestLogin, startTestLogin } from './test-login.js';
import { testResultPage, testStartPage } from './test-page.js';
import { evaluateTestLogin } from './test-evaluation.js';
import { parseSsoForm, withWorkspaceDomains } from './sso-form.js';
import { withoutTrailingSlashes } from '../url-segment.js';

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

        const flash = createFlash(session.secret);
        const cookieReq = { headers: request.headers, base: custBase, secure };
        const setCookie = (line: string) => void cookies.push(line);
        const clientIdp = async () => {
          const client = await store.getOidcClient(customerId);
          const strategy: MatchingStrategy =
            client && isMatchingStrategy(client.matchingStrategy) ? client.matchingStrategy : DEFAULT_STRATEGY[client?.idpType ?? 'Okta'];
          return { client, strategy, idp: idpOfType(client?.idpType) };
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

        if (action === 'scim' || action === 'scim/token') {
          const refused = needs('scim');
          if (refused) return refused;
          if (method === 'POST' && action === 'scim/token') {
            const existing = await sso.fetchScimConnection(customerId);
            let token: string;
            try {
              token = existing
                ? (await sso.rotateScimToken(customerId, { graceSeconds: DEFAULT_GRACE_SECONDS })).token
                : (await sso.createScimConnection({ customerId })).token;
            } catch (error) {
              if (error instanceof ScimSsoConfigError && (error.code === 'rotation_conflict' || error.code === 'connection_exists')) {
                return fail(
                  409,
                  'Conflict',
                  'Someone else changed the SCIM token at the same moment. Open the SCIM page again and issue a new token if you need one.',
                );
              }
              throw error;
            }
            const connection = await store.getConnectionByCustomer(customerId);
            audit({ type: 'setup.scim_token_issued', outcome: 'success', customerId, connectionId: connection?.connectionId ?? null });
            // POST → 303 → GET: the token is shown once; a reload shows it no more.
            flash.put(cookieReq, setCookie, `${custBase}/scim`, token, hashToken(token));
            return redirect(`${custBase}/scim`);
          }
          if (method === 'GET' && action === 'scim') {
            const [connection, { strategy, idp }, activity] = await Promise.all([
              sso.fetchScimConnection(customerId),
              clientIdp(),
              keepsLog ? sso.activity(customerId, { limit: 1 }) : null,
            ]);
            const tokenHash = flash.pending(cookieReq) ? ((await store.getConnectionByCustomer(customerId))?.tokenHash ?? null) : null;
            const revealedToken = flash.take(cookieReq, setCookie, `${custBase}/scim`, tokenHash);
            const asked = request.query.get('idp');
            return page(
              200,
              scimPage(ctx, {
                scimBaseUrl,
                hasConnection: connection !== null,
                previousTokenExpiresAt: connection?.previousTokenExpiresAt ?? null,
                revealedToken,
                idp: isSetupIdp(asked) ? asked : idp,
                strategy,
                lastRequest: activity ? activity.lastRequest : undefined,
                graceHours: DEFAULT_GRACE_SECONDS / 3600,
              }),
            );
          }
        }

        if (action === 'sso') {
          const refused = needs('sso');
          if (refused) return refused;
          // A SAML customer: the app manages its connection; the portal shows the SP values and changes nothing.
          const saml = await sso.fetchSamlConnection(customerId);
          if (saml)
            return method === 'GET'
              ? page(200, samlSsoPage(ctx, saml))
              : fail(409, 'Conflict', 'This organisation signs in by SAML; the app manages its SAML connection.');
          const redirectUri = loginRedirectUri(customerId);
          const uris = { redirectUri, testRedirectUri: testRedirectUri(customerId) };
          if (method === 'GET') {
            return page(200, ssoPage(ctx, { client: await sso.fetchOidcClient(customerId), ...uris, saved: request.query.get('saved') === '1' }));
          }
          const parsed = parseSsoForm(form);
          const again = async (status: number, error: string, values: SsoFormValues) =>
            page(status, ssoPage(ctx, { client: await sso.fetchOidcClient(customerId), ...uris, values, error }));
          if (!parsed.ok) {
            audit({ type: 'setup.oidc_client_rejected', outcome: 'failure', customerId, reason: 'invalid_form' });
            return again(400, parsed.error, parsed.values);
          }
          const { values, clientSecret, scopes, workspaceDomains } = parsed;
          const stored = await store.getOidcClient(customerId);
          if (stored?.clientSecret && !clientSecret && (stored.issuer !== values.issuer || stored.clientId !== values.clientId)) {
            // The stored secret belongs to one IdP application: kept for another issuer or client ID, the next
            // token request would hand it to whoever runs that issuer (anyone holding a setup link).
            audit({ type: 'setup.oidc_client_rejected', outcome: 'failure', customerId, reason: 'secret_required' });
            return again(
              400,
              'The issuer or client ID changed: enter the client secret of that application (the stored secret is kept only for the same issuer and client ID).',
              values,
            );
          }
          const check = await checkIssuer(values.issuer, values.clientId, internals.options.allowHttpIssuers, privateIdpAddressesAllowed(internals.options));
          if (!check.ok) {
            audit({ type: 'setup.oidc_client_rejected', outcome: 'failure', customerId, reason: 'discovery_failed' });
            return again(400, check.problem, values);
          }
          const settings = {
            idpType: values.idpType as 'Okta' | 'MicrosoftEntra' | 'Generic',
            issuer: values.issuer,
            clientId: values.clientId,
            scopes,
            requiredClaims: withWorkspaceDomains(stored?.requiredClaims ?? {}, workspaceDomains),
          };
          try {
            if (stored) {
              await sso.updateOidcClient(customerId, { ...settings, ...(clientSecret ? { clientSecret } : {}) });
            } else {
              await sso.createOidcClient({ customerId, ...settings, redirectUri, ...(clientSecret ? { clientSecret } : {}) });
            }
          } catch (error) {
            // A setting the client refuses (Google's issuer without a Workspace domain): said on the form.
            if (!(error instanceof ScimSsoConfigError) || error.code !== 'invalid_argument') throw error;
            audit({ type: 'setup.oidc_client_rejected', outcome: 'failure', customerId, reason: 'invalid_form' });
            return again(400, error.message.replace(/^(?:create|update)OidcClient: /, ''), values);
          }
          audit({ type: 'setup.oidc_client_saved', outcome: 'success', customerId });
          return redirect(`${custBase}/sso?saved=1`);
        }

        if (action === 'test' || action === 'test/callback') {
          const refused = needs('sso');
          if (refused) return refused;
          const client = await store.getOidcClient(customerId);
          // The start form's POST answers a redirect to the IdP, which CSP form-action must allow.
          if (client) {
            const target = await authorizationOrigin(runtime, client);
            if (target) headers['Content-Security-Policy'] = headers['Content-Security-Policy']!.replace("form-action 'self'", `form-action 'self' ${target}`);
          }
          if (method === 'GET' && action === 'test') return page(200, testStartPage(ctx, testRedirectUri(customerId), client !== null));
          if (!client) return page(409, testStartPage(ctx, testRedirectUri(customerId), false));
          if (method === 'POST' && action === 'test') {
            const hint = typeof form.loginHint === 'string' && form.loginHint.length <= 300 ? form.loginHint.trim() : '';
            let started;
            try {
              started = await startTestLogin(runtime, client, session, testRedirectUri(customerId), custBase, secure, hint || null);
            } catch {
              return page(
                502,
                testStartPage(
                  ctx,
                  testRedirectUri(customerId),
                  true,
                  'Your IdP could not be reached to start the login (its discovery document failed). Check the issuer on the Single sign-on page.',
                ),
              );
            }
            cookies.push(started.cookie);
            return redirect(started.location);
          }
          if (method === 'GET' && action === 'test/callback') {
            cookies.push(clearTestCookie(custBase, secure));
            const callbackUrl = new URL(testRedirectUri(customerId));
            callbackUrl.search = request.query.toString();
            const finished = await finishTestLogin(runtime, client, session, request.headers, callbackUrl);
            if (!finished.ok) {
              audit({ type: 'setup.test_login', outcome: 'failure', customerId, reason: 'login_failed' });
              return page(400, testStartPage(ctx, testRedirectUri(customerId), true, finished.problem));
            }
            const connection = await store.getConnectionByCustomer(customerId);
            const { strategy, idp } = await clientIdp();
            const {
              identity,
              current: now,
              result,
            } = await evaluateTestLogin(
              store,
              connection?.connectionId ?? null,
              client,
              finished.claims,
              strategy,
              idp,
              internals.options.requireVerifiedEmail,
            );
            // As the page says: refused before matching, or the current strategy's decision.
            const reason = result.refusedFirst?.code ?? (now.decision.admit ? null : now.decision.reason);
            audit({
              type: 'setup.test_login',
              outcome: reason === null ? 'success' : 'failure',
              customerId,
              connectionId: connection?.connectionId ?? null,
              subject: identity.subject,
              strategy,
              ...(reason === null ? {} : { reason }),
            });
            return page(200, testResultPage(ctx, result));
          }
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
