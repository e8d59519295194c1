/**
 * The five SCIM matching strategies (DESIGN.md "Matching strategies", PropelAuth's model): how the person
 * behind an OIDC login is found among the customer's SCIM users. Pure functions; the guard, the matching
 * report and the dashboard all use these, so they can never disagree.
 */
import { fold, localPart } from '../fold.js';

export const MATCHING_STRATEGIES = [
  'OidcSubToScimUsername',
  'OidcSubToScimExternalId',
  'OidcEmailToScimUsername',
  'OidcEmailUsernameToScimUsername',
  'OidcPreferredUsernameToScimUsername',
] as const;

export type MatchingStrategy = (typeof MATCHING_STRATEGIES)[number];

/** What the guard knows about the person logging in, from validated OIDC claims. */
export interface SsoIdentity {
  /** The subject claim (`sub`, or `oid` for Entra — see subjectClaim). */
  subject: string;
  email: string | null;
  /** `email_verified` as sent; `false` disqualifies the email, absent does not. */
  emailVerified: boolean | null;
  preferredUsername: string | null;
}

/** The parts of a SCIM user that matching looks at. */
export interface ScimCandidate {
  id: string;
  userName: string;
  externalId: string | null;
  /** RFC 7643 §4.1.1 `active`; a user provisioned without it counts as active. */
  active: boolean;
}

/** Store indexes the strategies read (the SCIM user indexes of users.ts). */
export type MatchIndex = 'userName' | 'externalId' | 'userNameLocal';

export interface StoreLookup {
  index: MatchIndex;
  value: string;
}

/** The email, unless the IdP said explicitly that it is not verified. */
function usableEmail(identity: SsoIdentity): string | null {
  if (identity.emailVerified === false) return null;
  return identity.email && identity.email.trim() !== '' ? identity.email : null;
}

const present = (value: string | null): value is string => value !== null && value.trim() !== '';

/**
 * The single index lookup that finds every SCIM user a strategy could match, or null when the SSO user
 * lacks the claim the strategy needs (then nothing can match).
 */
export function lookupFor(strategy: MatchingStrategy, identity: SsoIdentity): StoreLookup | null {
  switch (strategy) {
    case 'OidcSubToScimUsername':
      return present(identity.subject) ? { index: 'userName', value: fold(identity.subject) } : null;
    case 'OidcSubToScimExternalId':
      // externalId is case-exact (RFC 7643 §3.1): no folding.
      return present(identity.subject) ? { index: 'externalId', value: identity.subject } : null;
    case 'OidcEmailToScimUsername': {
      const email = usableEmail(identity);
      return email ? { index: 'userName', value: fold(email) } : null;
    }
    case 'OidcEmailUsernameToScimUsername': {
      const email = usableEmail(identity);
      return email ? { index: 'userNameLocal', value: fold(localPart(email)) } : null;
    }
    case 'OidcPreferredUsernameToScimUsername':
      return present(identity.preferredUsername) ? { index: 'userName', value: fold(identity.preferredUsername) } : null;
  }
}

/** Whether one SCIM user matches an SSO identity under a strategy. */
export function matches(strategy: MatchingStrategy, identity: SsoIdentity, user: ScimCandidate): boolean {
  const lookup = lookupFor(strategy, identity);
  if (!lookup) return false;
  switch (lookup.index) {
    case 'userName':
      return fold(user.userName) === lookup.value;
    case 'externalId':
      return user.externalId === lookup.value;
    case 'userNameLocal':
      return fold(localPart(user.userName)) === lookup.value;
  }
}

/** All SCIM users an identity matches under a strategy (more than one means ambiguous). */
export function findMatches(strategy: MatchingStrategy, identity: SsoIdentity, users: Iterable<ScimCandidate>): ScimCandidate[] {
  const out: ScimCandidate[] = [];
  for (const user of users) if (matches(strategy, identity, user)) out.push(user);
  return out;
}

export const isMatchingStrategy = (value: unknown): value is MatchingStrategy =>
  typeof value === 'string' && (MATCHING_STRATEGIES as readonly string[]).includes(value);
