/**
 * From validated OIDC claims to what the guard matches on and what it records. Pure functions.
 */
import type { MatchingStrategy, SsoIdentity } from '../match/strategies.js';
import type { StoredSsoUser } from '../store/store.js';

export type Claims = Record<string, unknown>;

const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

/** `email_verified` as a boolean, or null when absent (some IdPs send the string "true"). */
function verified(value: unknown): boolean | null {
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  return null;
}

/** The subject: the configured claim (e.g. Entra's `oid`) when present, else `sub`. */
export function subjectOf(claims: Claims, subjectClaim: string): string | null {
  return text(claims[subjectClaim]) ?? text(claims.sub);
}

export function identityOf(claims: Claims, subjectClaim: string): SsoIdentity {
  return {
    subject: subjectOf(claims, subjectClaim) ?? '',
    email: text(claims.email),
    emailVerified: verified(claims.email_verified),
    preferredUsername: text(claims.preferred_username),
  };
}

/** The claims a strategy needs; when the ID token lacks one, 'auto' claims fetch userinfo. */
export function neededClaims(strategy: MatchingStrategy, subjectClaim: string): string[] {
  switch (strategy) {
    case 'OidcSubToScimUsername':
    case 'OidcSubToScimExternalId':
      return [subjectClaim === 'sub' ? 'sub' : subjectClaim];
    case 'OidcEmailToScimUsername':
    case 'OidcEmailUsernameToScimUsername':
      return ['email'];
    case 'OidcPreferredUsernameToScimUsername':
      return ['preferred_username'];
  }
}

export const missingClaims = (claims: Claims, needed: string[]) => needed.filter((c) => text(claims[c]) === null);

/** Claims kept on an SSO user record for the matching tool: identity and profile claims, never tokens. */
const RECORDED_CLAIMS = ['sub', 'oid', 'tid', 'iss', 'email', 'email_verified', 'preferred_username', 'upn', 'name', 'given_name', 'family_name', 'locale', 'zoneinfo'];

export function ssoUserRecord(
  claims: Claims,
  identity: SsoIdentity,
  outcome: { admitted: boolean; reason: string | null; scimUserId: string | null },
  now = new Date().toISOString(),
): StoredSsoUser {
  const kept: Record<string, unknown> = {};
  for (const name of RECORDED_CLAIMS) if (claims[name] !== undefined) kept[name] = claims[name];
  return {
    subject: identity.subject,
    email: identity.email,
    emailVerified: identity.emailVerified,
    preferredUsername: identity.preferredUsername,
    name: text(claims.name),
    claims: kept,
    firstSeenAt: now,
    lastSeenAt: now,
    lastOutcome: outcome.admitted ? 'admitted' : 'refused',
    lastReason: outcome.reason,
    lastScimUserId: outcome.scimUserId,
  };
}
