/**
 * Cross-site request forgery protection for the dashboard's POSTs: a signed double-submit cookie, with no
 * dependence on the app's session machinery (it works beside express-session, cookie-session, passport or
 * none of them).
 *
 * - The dashboard sets its own cookie `scim_sso_dashboard_csrf` holding a random nonce (HttpOnly,
 *   SameSite=Strict, Path = the dashboard's mount path, Secure over https, 8 hours).
 * - Every form carries `_csrf` = HMAC-SHA256(key, nonce). A POST must send that cookie and a matching
 *   `_csrf` field (or `X-CSRF-Token` header); the comparison is constant-time.
 * - A cross-site page can neither read the token nor (knowing the key is server-side) forge one for a
 *   nonce it planted by cookie injection; and a POST that a browser labels `Sec-Fetch-Site` other than
 *   same-origin is refused outright.
 *
 * The key is `csrfSecret` when given (set it, the same on every instance, when several instances serve
 * the dashboard), else a random per-process key: tokens then end with the process, which only means a
 * reload of the page.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { ScimSsoConfigError } from '../errors.js';

export const CSRF_COOKIE = 'scim_sso_dashboard_csrf';
export const CSRF_FIELD = '_csrf';
export const CSRF_HEADER = 'x-csrf-token';
const MAX_AGE_SECONDS = 8 * 60 * 60;
const NONCE = /^[A-Za-z0-9_-]{43}$/;

/** What the CSRF and flash cookies need of a request (src/dashboard/index.ts builds it for every framework). */
export interface CookieRequest {
  readonly headers: IncomingHttpHeaders;
  /** The dashboard's absolute base path (`/admin`): the cookies' Path. */
  readonly base: string;
  /** Whether the browser reached the app over https (cookies get `Secure`). */
  readonly secure: boolean;
}

/** Collects the `Set-Cookie` lines of a response. */
export type SetCookie = (line: string) => void;

export interface Csrf {
  /** The token for this request's forms; sets the nonce cookie when the browser has none. */
  issue(req: CookieRequest, setCookie: SetCookie): string;
  /** Whether a state-changing request carries a valid token (in its form or its `X-CSRF-Token` header). */
  verify(req: CookieRequest, form: Record<string, unknown>): boolean;
}

/** Reads one cookie from the Cookie header (no cookie-parser needed). */
export function readCookie(req: { readonly headers: IncomingHttpHeaders }, name: string): string | null {
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

export function createCsrf(secret?: string): Csrf {
  if (secret !== undefined && (typeof secret !== 'string' || secret.length < 32)) {
    throw new ScimSsoConfigError('invalid_argument', 'dashboard csrfSecret must be a string of at least 32 characters');
  }
  const key = secret ?? randomBytes(32);
  const sign = (nonce: string) => createHmac('sha256', key).update(`scim-sso-dashboard-csrf.v1.${nonce}`).digest('base64url');
  const nonceOf = (req: CookieRequest) => {
    const value = readCookie(req, CSRF_COOKIE);
    return value && NONCE.test(value) ? value : null;
  };

  return {
    issue(req, setCookie) {
      let nonce = nonceOf(req);
      if (!nonce) {
        nonce = randomBytes(32).toString('base64url');
        const attributes = [
          `${CSRF_COOKIE}=${nonce}`,
          `Path=${req.base || '/'}`,
          `Max-Age=${MAX_AGE_SECONDS}`,
          'HttpOnly',
          'SameSite=Strict',
          ...(req.secure ? ['Secure'] : []),
        ];
        setCookie(attributes.join('; '));
      }
      return sign(nonce);
    },
    verify(req, form) {
      const site = req.headers['sec-fetch-site'];
      if (site !== undefined && site !== 'same-origin') return false;
      const nonce = nonceOf(req);
      const header = req.headers[CSRF_HEADER];
      const sent = typeof form[CSRF_FIELD] === 'string' ? (form[CSRF_FIELD] as string) : header;
      if (!nonce || typeof sent !== 'string') return false;
      const expected = Buffer.from(sign(nonce));
      const actual = Buffer.from(sent);
      return actual.length === expected.length && timingSafeEqual(actual, expected);
    },
  };
}
