/**
 * What the Express and Koa login routes share: which URL is a login step, which customer it names, the
 * strategy to run for it, and how a refusal or failure is answered. The adapters only drive passport.
 */
import { checkCustomerId } from '../connections.js';
import { ScimSsoConfigError, SsoLoginError, type ScimUserNotActive } from '../errors.js';
import { toLoginError } from './login-errors.js';
import { renderLoginError, type RenderedLoginError } from './render.js';
import type { LoginRuntime } from './passport.js';
import { strategyOf } from './guard.js';
import { samlConfigOf, samlGuardSettings, samlRuntimeFor } from './saml.js';
import type { LoginBrowser } from './login-browser.js';
import { withoutTrailingSlashes } from '../url-segment.js';

/** The OIDC steps (login, callback), and SAML's ACS and SP metadata (the login step is shared). */
export type LoginStep = 'login' | 'callback' | 'saml_acs' | 'saml_metadata';

/** The prefix option as the routes match it: '/sso' by default, no trailing slash. Throws on a malformed one. */
export function loginPrefix(prefix: unknown, where: string): string {
  if (prefix === undefined) return '/sso';
  if (typeof prefix !== 'string' || !/^(\/[A-Za-z0-9._~-]+)+\/?$/.test(prefix)) {
    throw new ScimSsoConfigError('invalid_argument', `${where}: prefix must be a path such as '/sso' (use the default unless it collides with your routes)`);
  }
  return withoutTrailingSlashes(prefix);
}

/**
 * Checks what `authRoutes` is given on either framework (`passport`: the app's passport instance, or its
 * KoaPassport) and returns the routes' prefix.
 */
export function checkAuthRoutesOptions(
  options: { passport?: { use?: unknown; authenticate?: unknown }; successRedirect?: unknown; prefix?: unknown } | undefined,
  passportName: string,
): string {
  if (!options?.passport || typeof options.passport.use !== 'function' || typeof options.passport.authenticate !== 'function') {
    throw new ScimSsoConfigError('invalid_argument', `authRoutes: pass your ${passportName} instance as { passport }`);
  }
  if (typeof options.successRedirect !== 'string') throw new ScimSsoConfigError('invalid_argument', 'authRoutes: successRedirect is required');
  return loginPrefix(options.prefix, 'authRoutes');
}

/**
 * `GET <prefix>/:customerId/login` or `/callback`, `POST <prefix>/:customerId/saml/acs`, `GET
 * <prefix>/:customerId/saml/metadata`; the customer id still percent-encoded.
 */
export function matchLoginRoute(method: string, path: string, prefix: string): { rawCustomerId: string; step: LoginStep } | null {
  if (!path.startsWith(`${prefix}/`)) return null;
  const parts = path.slice(prefix.length + 1).split('/');
  if (!parts[0]) return null;
  if (parts.length === 2 && method === 'GET' && (parts[1] === 'login' || parts[1] === 'callback')) return { rawCustomerId: parts[0], step: parts[1] };
  if (parts.length === 3 && parts[1] === 'saml') {
    if (method === 'POST' && parts[2] === 'acs') return { rawCustomerId: parts[0], step: 'saml_acs' };
    if (method === 'GET' && parts[2] === 'metadata') return { rawCustomerId: parts[0], step: 'saml_metadata' };
  }
  return null;
}

/** The Content-Type of the SAML SP metadata, the same from every adapter. */
export const SAML_METADATA_TYPE = 'application/samlmetadata+xml; charset=utf-8';

/** A passport strategy to run (the adapter hands passport `Object.create(strategy)`), or SP metadata to send. */
export type PreparedStep =
  | { ok: true; customerId: string; kind: 'passport'; strategy: object }
  | { ok: true; customerId: string; kind: 'metadata'; xml: string }
  | { ok: false; customerId: string; error: unknown };

/**
 * Decodes and checks the customer id, reads the customer's SSO connection (OIDC client or SAML connection)
 * and SCIM connection from the store (one round trip, at every step) and returns the strategy built for
 * exactly that stored connection (for SAML's ACS, over the posted `body`), or the SAML SP metadata. `browser`
 * is how SAML steps read and set their binding cookie (src/guard/saml.ts; OIDC's strategy finds the browser
 * on the request itself: src/guard/oidc-login-cookie.ts). The OIDC login step only starts logins; at the
 * callback, `req` receives the configuration for the guard. An id that is malformed or names no SSO connection
 * (OIDC client or SAML connection) is a 404 `unknown_customer`.
 *
 * Hand passport `Object.create(strategy)`, never the cached instance itself: passport sets the request's
 * `success`/`fail`/`error` on the object it is given, and concurrent requests would overwrite each other.
 */
export async function prepareLoginStep(
  runtime: LoginRuntime,
  rawCustomerId: string,
  step: LoginStep,
  req: object,
  browser: LoginBrowser,
  body?: unknown,
): Promise<PreparedStep> {
  let customerId = rawCustomerId;
  try {
    customerId = decodeURIComponent(rawCustomerId);
    checkCustomerId(customerId);
    const records = await runtime.readCustomer(customerId);
    const saml = samlConfigOf(records);
    if (saml) {
      const samlRuntime = samlRuntimeFor(runtime);
      if (step === 'saml_metadata') return { ok: true, customerId, kind: 'metadata', xml: samlRuntime.metadata(saml.saml) };
      // An unknown stored strategy refuses the login step too, before the IdP is involved (as for OIDC).
      strategyOf(samlGuardSettings(saml.saml));
      if (step === 'callback')
        throw new SsoLoginError('unknown_customer', 404, `customer "${customerId}" signs in by SAML (its ACS is <prefix>/<customerId>/saml/acs)`, customerId);
      return { ok: true, customerId, kind: 'passport', strategy: samlRuntime.strategy(saml, step === 'login' ? 'login' : 'acs', browser, body) };
    }
    if (step === 'saml_acs' || step === 'saml_metadata')
      throw new SsoLoginError('unknown_customer', 404, `no SAML connection for customer "${customerId}"`, customerId);
    const config = runtime.configOf(customerId, records);
    return {
      ok: true,
      customerId,
      kind: 'passport',
      strategy: step === 'login' ? (await runtime.routeStrategy(config)).startingOnly() : await runtime.routeStrategy(config, req),
    };
  } catch (error) {
    if (error instanceof ScimSsoConfigError || error instanceof URIError) {
      return { ok: false, customerId, error: new SsoLoginError('unknown_customer', 404, `no SSO connection for customer "${customerId.slice(0, 200)}"`, null) };
    }
    return { ok: false, customerId, error };
  }
}

/** Passport options of the login step: the IdP login hint, when the app passes `?login_hint=`. */
export function loginStepOptions(loginHint: unknown): { loginHint?: string } {
  return typeof loginHint === 'string' && loginHint !== '' ? { loginHint } : {};
}

/** The answer to a failed login step, or null when the error is not a login error (the app's handlers take it). */
export function renderLoginFailure(
  error: unknown,
  customerId: string | null,
  failureRedirect: string | undefined,
  retryAfterSeconds: number,
): RenderedLoginError | null {
  const mapped: ScimUserNotActive | SsoLoginError | null = toLoginError(error, customerId);
  return mapped ? renderLoginError(mapped, failureRedirect, retryAfterSeconds) : null;
}
