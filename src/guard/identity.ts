/**
 * From validated OIDC claims to what the guard matches on and what it records. Pure functions.
 */
import type { SsoIdentity, SsoMatchingStrategy } from '../match/strategies.js';
import type { StoredSsoUser } from '../store/store.js';

export type Claims = Record<string, unknown>;

const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

/**
 * `email_verified` as the guard counts it: true only for `true` or the string "true" in any ASCII case (some
 * IdPs send strings); false for any other value that is present (`"FALSE"`, `0`, `1`, `"yes"`, `null`, …),
 * since an IdP that sends something other than "true" has not vouched for the address; null when the claim
 * is absent (Entra never sends it). Pure.
 */
export function emailVerifiedOf(claims: Claims): boolean | null {
  if (!Object.hasOwn(claims, 'email_verified') || claims.email_verified === undefined) return null;
  const value = claims.email_verified;
  return value === true || (typeof value === 'string' && /^true$/i.test(value));
}

/** The subject: the configured claim (e.g. Entra's `oid`) when present, else `sub`. */
export function subjectOf(claims: Claims, subjectClaim: string): string | null {
  return text(claims[subjectClaim]) ?? text(claims.sub);
}

export function identityOf(claims: Claims, subjectClaim: string): SsoIdentity {
  return {
    subject: subjectOf(claims, subjectClaim) ?? '',
    email: text(claims.email),
    emailVerified: emailVerifiedOf(claims),
    preferredUsername: text(claims.preferred_username),
    samlAttribute: text(claims.saml_attribute),
  };
}

/** The claims a strategy needs; when the ID token lacks one, 'auto' claims fetch userinfo. */
export function neededClaims(strategy: SsoMatchingStrategy, subjectClaim: string): string[] {
  switch (strategy) {
    case 'OidcSubToScimUsername':
    case 'OidcSubToScimExternalId':
      return [subjectClaim === 'sub' ? 'sub' : subjectClaim];
    case 'OidcEmailToScimUsername':
    case 'OidcEmailUsernameToScimUsername':
      return ['email'];
    case 'OidcPreferredUsernameToScimUsername':
      return ['preferred_username'];
    // SAML logins fetch nothing: everything comes in the assertion.
    default:
      return [];
  }
}

export const missingClaims = (claims: Claims, needed: string[]) => needed.filter((c) => text(claims[c]) === null);

/** Claims kept on an SSO user record for the matching tool: identity and profile claims, never tokens. */
const RECORDED_CLAIMS = [
  'sub',
  'oid',
  'tid',
  'iss',
  'email',
  'email_verified',
  'preferred_username',
  'upn',
  'name',
  'given_name',
  'family_name',
  'locale',
  'zoneinfo',
  // SAML logins (src/guard/saml-claims.ts): the NameID format and the match attribute's value.
  'saml_name_id_format',
  'saml_attribute',
];

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
