/**
 * The OIDC login in progress (PKCE verifier, `state`, `nonce`, `max_age`: what openid-client's Strategy keeps
 * between the login step and the callback) travels in a cookie of its own instead of the app's session,
 * wherever passport's request lets a Set-Cookie reach the browser (Express, Koa: the login routes and
 * `sso.strategy()` alike; browserOfRequest in src/guard/login-browser.ts). A login start, which anyone may
 * make in a loop, then stores nothing on the server: no session in the app's session store, nothing in Redis
 * (docs/oidc-and-passport.md §Where a login in progress is kept).
 *
 * Cookie `scimsso_oidc_<digest of the Strategy's session key>` (one per customer: the key is
 * `scim-sso:<customerId>`): Path = the folder of the redirect URI (`<prefix>/<customerId>/` on the login
 * routes: the customer's login step and callback receive it, no other route), Max-Age = OIDC_LOGIN_TTL_MS,
 * HttpOnly, SameSite=Lax (the IdP sends the browser back by a top-level GET, which carries Lax cookies),
 * Secure when the redirect URI is https. It holds the customer's last PENDING_LOGINS logins under way in
 * this browser, so two tabs do not undo each other; the callback takes the one its `state` names.
 *
 * The value holds what the session held, readable by whoever holds the browser's cookies, as a session id
 * would let them read the session: no signature or encryption (an attacker who plants cookies could plant
 * their own session id as well, and a sealed value obtained from their own login start as well).
 */
import { createHash } from 'node:crypto';
import { cookieFolderOf } from './login-browser.js';

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

/** Logins of one customer a browser may have under way at once (two tabs, a tile clicked twice): the newest. */
export const PENDING_LOGINS = 3;

/** A login under way: its state, and when it started (ms). */
export interface PendingLogin {
  login: OidcLoginState;
  startedAt: number;
}

/** PKCE verifiers (RFC 7636 §4.1), and the state and nonce this library makes (base64url, `.`, binding). */
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
const TOKEN = /^[A-Za-z0-9._~-]{1,256}$/;
/** Far more than PENDING_LOGINS of this library's logins take (about 250 characters each), within a browser's 4 KB. */
const MAX_VALUE_CHARS = 3_072;

export const oidcLoginCookieName = (sessionKey: string): string => `scimsso_oidc_${createHash('sha256').update(sessionKey).digest('base64url').slice(0, 16)}`;

/** The cookie's Set-Cookie line; an empty value with `maxAgeSeconds` 0 clears it. */
export function oidcLoginCookieHeader(sessionKey: string, redirectUri: string, value: string, maxAgeSeconds: number): string {
  const url = new URL(redirectUri);
  const secure = url.protocol === 'https:' ? '; Secure' : '';
  return `${oidcLoginCookieName(sessionKey)}=${value}; Path=${cookieFolderOf(url)}; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Lax${secure}`;
}

/** The cookie value of logins under way, newest first. Pure. */
export function encodeOidcLogins(pending: readonly PendingLogin[]): string {
  const tuples = pending.map(({ login, startedAt }) => [login.code_verifier, login.state ?? null, login.nonce ?? null, login.max_age ?? null, startedAt]);
  return Buffer.from(JSON.stringify(tuples)).toString('base64url');
}

/**
 * The logins under way in a cookie value, newest first: none when there is no value or it is malformed; an
 * entry that is malformed, or started more than OIDC_LOGIN_TTL_MS before `now` (or more than
 * INSTANCE_CLOCK_SKEW_MS after it), is left out. At most PENDING_LOGINS. Pure.
 */
export function decodeOidcLogins(value: string | null, now: number): PendingLogin[] {
  if (!value || value.length > MAX_VALUE_CHARS) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  const pending: PendingLogin[] = [];
  for (const entry of parsed.slice(0, PENDING_LOGINS)) {
    const read = pendingLogin(entry, now);
    if (read) pending.push(read);
  }
  return pending;
}

function pendingLogin(entry: unknown, now: number): PendingLogin | null {
  if (!Array.isArray(entry) || entry.length !== 5) return null;
  const [verifier, state, nonce, maxAge, startedAt] = entry as unknown[];
  if (typeof verifier !== 'string' || !VERIFIER.test(verifier)) return null;
  if (!optional(state, (s) => typeof s === 'string' && TOKEN.test(s)) || !optional(nonce, (n) => typeof n === 'string' && TOKEN.test(n))) return null;
  if (!optional(maxAge, (m) => Number.isSafeInteger(m) && (m as number) >= 0)) return null;
  if (typeof startedAt !== 'number' || !(startedAt - now <= INSTANCE_CLOCK_SKEW_MS && now - startedAt <= OIDC_LOGIN_TTL_MS)) return null;
  const login: OidcLoginState = {
    code_verifier: verifier,
    ...(state === null ? {} : { state: state as string }),
    ...(nonce === null ? {} : { nonce: nonce as string }),
    ...(maxAge === null ? {} : { max_age: maxAge as number }),
  };
  return { login, startedAt };
}

const optional = (value: unknown, valid: (value: unknown) => boolean): boolean => value === null || valid(value);
