/**
 * What the Express and Koa login routes share: which URL is a login step, which customer it names, the
 * strategy to run for it, and how a refusal or failure is answered. The adapters only drive passport.
 */
import { checkCustomerId } from '../connections.js';
import { ScimSsoConfigError, SsoLoginError, type ScimUserNotActive } from '../errors.js';
import { toLoginError } from './login-errors.js';
import { renderLoginError, type RenderedLoginError } from './render.js';
import type { OidcRuntime, StateNonceStrategy } from './passport.js';

export type LoginStep = 'login' | 'callback';

/** The prefix option as the routes match it: '/sso' by default, no trailing slash. Throws on a malformed one. */
export function loginPrefix(prefix: unknown, where: string): string {
  if (prefix === undefined) return '/sso';
  if (typeof prefix !== 'string' || !/^(\/[A-Za-z0-9._~-]+)+\/?$/.test(prefix)) {
    throw new ScimSsoConfigError('invalid_argument', `${where}: prefix must be a path such as '/sso' (use the default unless it collides with your routes)`);
  }
  return prefix.replace(/\/+$/, '');
}

/** `<prefix>/:customerId/login` or `/callback` (GET only); the customer id still percent-encoded. */
export function matchLoginRoute(method: string, path: string, prefix: string): { rawCustomerId: string; step: LoginStep } | null {
  if (method !== 'GET' || !path.startsWith(`${prefix}/`)) return null;
  const parts = path.slice(prefix.length + 1).split('/');
  if (parts.length !== 2 || !parts[0] || (parts[1] !== 'login' && parts[1] !== 'callback')) return null;
  return { rawCustomerId: parts[0], step: parts[1] };
}

export type PreparedStep = { ok: true; customerId: string; strategy: StateNonceStrategy } | { ok: false; customerId: string; error: unknown };

/**
 * Decodes and checks the customer id, reads the customer's OIDC client and SCIM connection from the store
 * (one round trip, at both steps) and returns the strategy built for exactly that stored client. At the
 * callback, `req` receives the configuration for the guard. An id that is malformed or names no OIDC client
 * is a 404 `unknown_customer`.
 *
 * Hand passport `Object.create(strategy)`, never the cached instance itself: passport sets the request's
 * `success`/`fail`/`error` on the object it is given, and concurrent requests would overwrite each other.
 */
export async function prepareLoginStep(runtime: OidcRuntime, rawCustomerId: string, step: LoginStep, req: object): Promise<PreparedStep> {
  let customerId = rawCustomerId;
  try {
    customerId = decodeURIComponent(rawCustomerId);
    checkCustomerId(customerId);
    const config = await runtime.load(customerId);
    return { ok: true, customerId, strategy: await runtime.routeStrategy(config, step === 'callback' ? req : undefined) };
  } catch (error) {
    if (error instanceof ScimSsoConfigError || error instanceof URIError) {
      return { ok: false, customerId, error: new SsoLoginError('unknown_customer', 404, `no OIDC client for customer "${customerId.slice(0, 200)}"`, null) };
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
