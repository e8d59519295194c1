/**
 * The setup portal's session: the link token (in the URL once) is exchanged for a portal session whose
 * secret lives only in an HttpOnly cookie, so the token leaves the address bar, the history and every form.
 * The session is a store grant (src/store/setup-grants.ts) held as its hash: scoped to the link's customer
 * and areas, ending with the link or after SESSION_HOURS, and ended at once by revokeSetupLinks.
 *
 * Cookie `scim_sso_setup`: Path = the customer's portal path, HttpOnly, SameSite=Lax (the Test SSO callback
 * arrives as a top-level navigation from the IdP and must carry it), Secure over https.
 * CSRF: every form carries a token derived from the session secret (SHA-256, domain-separated); a POST
 * without it, or labelled cross-site by `Sec-Fetch-Site`, is refused.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { readCookie } from '../dashboard/csrf.js';
import { hashSetupSecret, newSetupSecret, SETUP_TOKEN } from '../setup-links.js';
import type { SetupArea, StoredSetupGrant } from '../store/setup-grants.js';
import type { Store } from '../store/store.js';
import type { RateLimit, RateLimiter } from '../scim/rate-limit.js';

export const SESSION_COOKIE = 'scim_sso_setup';
/** The longest a portal session lasts (it also ends with its link). */
export const SESSION_HOURS = 8;

export interface PortalSession {
  customerId: string;
  allow: SetupArea[];
  /** The session secret (from the cookie): keys the CSRF token, the token reveal and the test login. */
  secret: string;
  expiresAt: number;
}

/** Why a link or session was refused (the page and the audit event say it). */
export type Refusal = 'unknown' | 'expired' | 'revoked' | 'foreign_customer' | 'too_many_opens';

/**
 * Opens of one link, per instance: 20 at once, then one every 6 s. Each open stores a session, so this bounds
 * what one link holder can add to the shared store (audit 24: 5,000 opens in 4 s, each kept a week then).
 */
export const LINK_OPENS: RateLimit = { requestsPerSecond: 1 / 6, burst: 20 };

export const cookieLine = (name: string, value: string, path: string, maxAgeSeconds: number, secure: boolean): string =>
  [`${name}=${value}`, `Path=${path}`, `Max-Age=${maxAgeSeconds}`, 'HttpOnly', 'SameSite=Lax', ...(secure ? ['Secure'] : [])].join('; ');

/**
 * Exchanges a link token for a new session of the same customer; the refusal otherwise. `opens` counts the
 * opens of each valid link (only a valid link's holder can use up its opens, never someone who merely knows
 * the customer id); `retryAfter` is in seconds.
 */
export async function openSession(
  store: Store,
  opens: RateLimiter,
  customerId: string,
  token: string,
  now = Date.now(),
): Promise<{ ok: true; session: PortalSession } | { ok: false; refusal: Refusal; retryAfter?: number }> {
  if (!SETUP_TOKEN.test(token)) return { ok: false, refusal: 'unknown' };
  const found = await store.getSetupGrant(hashSetupSecret(token));
  if (!found || found.grant.kind !== 'link') return { ok: false, refusal: 'unknown' };
  if (found.grant.customerId !== customerId) return { ok: false, refusal: 'foreign_customer' };
  if (found.status !== 'valid') return { ok: false, refusal: found.status };
  const retryAfter = opens.take(found.grant.hash, now);
  if (retryAfter > 0) return { ok: false, refusal: 'too_many_opens', retryAfter };
  const secret = newSetupSecret();
  const grant: StoredSetupGrant = {
    hash: hashSetupSecret(secret),
    kind: 'session',
    customerId,
    allow: found.grant.allow,
    createdAt: now,
    expiresAt: Math.min(found.grant.expiresAt, now + SESSION_HOURS * 3600_000),
    linkHash: found.grant.hash,
  };
  await store.putSetupGrant(grant);
  return { ok: true, session: { customerId, allow: grant.allow, secret, expiresAt: grant.expiresAt } };
}

/** The session the request's cookie names, when it is valid and of this customer; else why not. */
export async function currentSession(
  store: Store,
  headers: IncomingHttpHeaders,
  customerId: string,
): Promise<{ ok: true; session: PortalSession } | { ok: false; refusal: Refusal | 'none' }> {
  const secret = readCookie({ headers }, SESSION_COOKIE);
  if (!secret || !SETUP_TOKEN.test(secret)) return { ok: false, refusal: 'none' };
  const found = await store.getSetupGrant(hashSetupSecret(secret));
  if (!found || found.grant.kind !== 'session') return { ok: false, refusal: 'unknown' };
  if (found.grant.customerId !== customerId) return { ok: false, refusal: 'foreign_customer' };
  if (found.status !== 'valid') return { ok: false, refusal: found.status };
  // The link behind the session too: a session opened from a link that a revocation raced counts as revoked
  // with it.
  const link = found.grant.linkHash === null ? null : await store.getSetupGrant(found.grant.linkHash);
  if (link?.status === 'revoked') return { ok: false, refusal: 'revoked' };
  return { ok: true, session: { customerId, allow: found.grant.allow, secret, expiresAt: found.grant.expiresAt } };
}

/** The CSRF token of a session's forms. */
export const csrfTokenOf = (session: PortalSession): string => createHash('sha256').update(`scim-sso-setup-csrf.v1\0${session.secret}`).digest('base64url');

/** Whether a POST carries the session's CSRF token and is not labelled cross-site. */
export function csrfValid(session: PortalSession, headers: IncomingHttpHeaders, form: Record<string, unknown>): boolean {
  const site = headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return false;
  const sent = form._csrf;
  if (typeof sent !== 'string') return false;
  const expected = Buffer.from(csrfTokenOf(session));
  const actual = Buffer.from(sent);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
