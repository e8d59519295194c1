/**
 * The OIDC login in progress (PKCE verifier, `state`, `nonce`, `max_age`: what openid-client's Strategy keeps
 * between the login step and the callback) travels in a cookie of its own on the login routes, instead of in
 * the app's session. A login start, which anyone may make in a loop, then stores nothing on the server: no
 * session in the app's session store, nothing in Redis (docs/oidc-and-passport.md §Where a login in progress
 * is kept).
 *
 * Cookie `scimsso_oidc_<digest of the customer id>`: Path = the redirect URI's path (only the callback
 * receives it), Max-Age = OIDC_LOGIN_TTL_MS, HttpOnly, SameSite=Lax (the IdP sends the browser back by a
 * top-level GET, which carries Lax cookies), Secure when the redirect URI is https. One per customer, as
 * the session key was: a second login started for the same customer replaces the first.
 *
 * The value holds what the session held, readable by whoever holds the browser's cookies, as a session id
 * would let them read the session: no signature or encryption (an attacker who plants cookies could plant
 * their own session id as well, and a sealed value obtained from their own login start as well).
 */
import { createHash } from 'node:crypto';
import { cookiePathOf } from './login-browser.js';

/** How long a login may take between its start and the callback (an IdP's sign-in, MFA, a password reset). */
export const OIDC_LOGIN_TTL_MS = 15 * 60_000;
/** How far ahead of the callback's clock a start may be dated: another instance's clock may run ahead. */
export const INSTANCE_CLOCK_SKEW_MS = 60_000;

/** The login state openid-client's Strategy reads at the callback (its `req.session[sessionKey]`). */
export interface OidcLoginState {
  code_verifier: string;
  state?: string;
  nonce?: string;
  max_age?: number;
}

/** PKCE verifiers (RFC 7636 §4.1), and the state and nonce this library makes (base64url, `.`, binding). */
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
const TOKEN = /^[A-Za-z0-9._~-]{1,256}$/;
/** A well-formed value is far shorter: the longest verifier, state and nonce, base64url-encoded. */
const MAX_VALUE_CHARS = 1_024;

export const oidcLoginCookieName = (customerId: string): string => `scimsso_oidc_${createHash('sha256').update(customerId).digest('base64url').slice(0, 16)}`;

/** The cookie's Set-Cookie line; an empty value with `maxAgeSeconds` 0 clears it. */
export function oidcLoginCookieHeader(customerId: string, redirectUri: string, value: string, maxAgeSeconds: number): string {
  const url = new URL(redirectUri);
  const secure = url.protocol === 'https:' ? '; Secure' : '';
  return `${oidcLoginCookieName(customerId)}=${value}; Path=${cookiePathOf(url)}; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Lax${secure}`;
}

/** The cookie value of a login state started at `startedAt` (ms). Pure. */
export function encodeOidcLogin(login: OidcLoginState, startedAt: number): string {
  return Buffer.from(JSON.stringify([login.code_verifier, login.state ?? null, login.nonce ?? null, login.max_age ?? null, startedAt])).toString('base64url');
}

/**
 * The login state in a cookie value, or null when there is none, it is malformed, or it was started more
 * than OIDC_LOGIN_TTL_MS before `now` (or more than INSTANCE_CLOCK_SKEW_MS after it). Pure.
 */
export function decodeOidcLogin(value: string | null, now: number): OidcLoginState | null {
  if (!value || value.length > MAX_VALUE_CHARS) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || parsed.length !== 5) return null;
  const [verifier, state, nonce, maxAge, startedAt] = parsed as unknown[];
  if (typeof verifier !== 'string' || !VERIFIER.test(verifier)) return null;
  if (!optional(state, (s) => typeof s === 'string' && TOKEN.test(s)) || !optional(nonce, (n) => typeof n === 'string' && TOKEN.test(n))) return null;
  if (!optional(maxAge, (m) => Number.isSafeInteger(m) && (m as number) >= 0)) return null;
  if (typeof startedAt !== 'number' || !(startedAt - now <= INSTANCE_CLOCK_SKEW_MS && now - startedAt <= OIDC_LOGIN_TTL_MS)) return null;
  return {
    code_verifier: verifier,
    ...(state === null ? {} : { state: state as string }),
    ...(nonce === null ? {} : { nonce: nonce as string }),
    ...(maxAge === null ? {} : { max_age: maxAge as number }),
  };
}

const optional = (value: unknown, valid: (value: unknown) => boolean): boolean => value === null || valid(value);
