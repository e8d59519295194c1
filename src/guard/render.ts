/**
 * How login refusals and failures reach the browser, framework-neutral: 403 JSON
 * `{ error: 'ScimUserNotActive', reason }` (or 400/401/404/503 `{ error: <code>, message }`), or, when a
 * page is configured, a redirect to it with `?error=…&reason=…`.
 */
import { ScimUserNotActive, SsoLoginError } from '../errors.js';

export interface RenderedLoginError {
  status: number;
  headers: Record<string, string>;
  /** A JSON body, or undefined for a redirect. */
  body?: Record<string, string>;
}

/** Appends query parameters to a configured page URL (absolute or path). */
export function withQuery(target: string, params: Record<string, string>): string {
  const url = new URL(target, 'http://placeholder.invalid');
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return target.startsWith('http://') || target.startsWith('https://') ? url.href : `${url.pathname}${url.search}${url.hash}`;
}

/** `retryAfterSeconds` goes out as `Retry-After` on a 503 or 429 (the `retryAfterSeconds` option). */
export function renderLoginError(error: ScimUserNotActive | SsoLoginError, redirectTo?: string, retryAfterSeconds = 5): RenderedLoginError {
  const params: Record<string, string> = error instanceof ScimUserNotActive ? { error: 'ScimUserNotActive', reason: error.reason } : { error: error.code };
  const headers: Record<string, string> = error.status === 503 || error.status === 429 ? { 'Retry-After': String(retryAfterSeconds) } : {};
  if (redirectTo) return { status: 302, headers: { ...headers, Location: withQuery(redirectTo, params) } };
  const body = error instanceof ScimUserNotActive ? params : { ...params, message: error.message };
  return { status: error.status, headers: { ...headers, 'Cache-Control': 'no-store' }, body };
}

/**
 * A request `requireActiveUser` turned away, with 401: a session ended because the SCIM user is no longer
 * active (`error=ScimUserNotActive&reason=…`), or no session at all (`error=unauthenticated`).
 */
export function renderSessionEnded(reason: string, redirectTo?: string): RenderedLoginError {
  const params: Record<string, string> = reason === 'not_logged_in' ? { error: 'unauthenticated' } : { error: 'ScimUserNotActive', reason };
  if (redirectTo) return { status: 302, headers: { Location: withQuery(redirectTo, params) } };
  return { status: 401, headers: { 'Cache-Control': 'no-store' }, body: params };
}
