/**
 * The SCIM matching strategies (docs/design-decisions.md §Matching strategies, after PropelAuth's model): how the person
 * behind an OIDC or SAML login is found among the customer's SCIM users. Pure functions; the guard, the
 * matching report and the dashboard all use these, so they can never disagree.
 */
import { fold, foldsEmpty, localPart } from '../fold.js';
import type { StoredSsoUser } from '../store/store.js';

/** The five strategies of an OIDC client. */
export const MATCHING_STRATEGIES = [
  'OidcSubToScimUsername',
  'OidcSubToScimExternalId',
  'OidcEmailToScimUsername',
  'OidcEmailUsernameToScimUsername',
  'OidcPreferredUsernameToScimUsername',
] as const;

/** The four strategies of a SAML connection (docs/saml.md §Matching). */
export const SAML_MATCHING_STRATEGIES = [
  'SamlNameIdToScimUsername',
  'SamlNameIdToScimExternalId',
  'SamlEmailToScimUsername',
  'SamlAttributeToScimExternalId',
] as const;

/** An OIDC client's strategy. */
export type MatchingStrategy = (typeof MATCHING_STRATEGIES)[number];
/** A SAML connection's strategy. */
export type SamlMatchingStrategy = (typeof SAML_MATCHING_STRATEGIES)[number];
/** Any connection's strategy. */
export type SsoMatchingStrategy = MatchingStrategy | SamlMatchingStrategy;

/** Every strategy, OIDC then SAML. */
export const SSO_MATCHING_STRATEGIES: readonly SsoMatchingStrategy[] = [...MATCHING_STRATEGIES, ...SAML_MATCHING_STRATEGIES];

/** Which protocol's logins a strategy reads. */
export type SsoProtocol = 'oidc' | 'saml';

/** The strategies a connection of this protocol can use. */
export const strategiesFor = (protocol: SsoProtocol): readonly SsoMatchingStrategy[] => (protocol === 'saml' ? SAML_MATCHING_STRATEGIES : MATCHING_STRATEGIES);

/** What the guard knows about the person logging in, from validated OIDC claims. */
export interface SsoIdentity {
  /** The subject claim (`sub`, or `oid` for Entra — see subjectClaim). */
  subject: string;
  email: string | null;
  /**
   * `email_verified` read by `emailVerifiedOf` (src/guard/identity.ts): true, false (any other value sent), or
   * null when the IdP sent none. False disqualifies the email; null does too under `requireVerifiedEmail`.
   */
  emailVerified: boolean | null;
  preferredUsername: string | null;
  /** SAML only: the value of the connection's match attribute (SamlAttributeToScimExternalId), else null or absent. */
  samlAttribute?: string | null;
}

/** The identity a recorded SSO user last logged in with: what the report and the Compare page match. */
export const identityOfSsoUser = (u: StoredSsoUser): SsoIdentity => ({
  subject: u.subject,
  email: u.email,
  emailVerified: u.emailVerified,
  preferredUsername: u.preferredUsername,
  samlAttribute: typeof u.claims.saml_attribute === 'string' ? u.claims.saml_attribute : null,
});

/** The parts of a SCIM user that matching looks at. */
export interface ScimCandidate {
  id: string;
  userName: string;
  externalId: string | null;
  /** RFC 7643 §4.1.1 `active`; a user provisioned without it counts as active. */
  active: boolean;
}

/** Store indexes the strategies read (the SCIM user indexes of src/scim/users.ts). */
export type MatchIndex = 'userName' | 'externalId' | 'userNameLocal';

export interface StoreLookup {
  index: MatchIndex;
  value: string;
}

/** How the email strategies treat `email_verified`; the customer's OIDC client decides (src/oidc-clients.ts). */
export interface MatchPolicy {
  /** An email counts only when `email_verified` is true; absent counts as unverified. Default false. */
  requireVerifiedEmail?: boolean;
}

/**
 * Whether a claim value is there to match on: non-empty after the one folding rule (src/fold.ts), which
 * trims ASCII whitespace only, so a value of Unicode spaces or format characters is present, and matches
 * only itself.
 */
const present = (value: string | null): value is string => value !== null && !foldsEmpty(value);

/** The email, unless the IdP said it is not verified (or said nothing, under `requireVerifiedEmail`). */
function usableEmail(identity: SsoIdentity, policy: MatchPolicy): string | null {
  if (identity.emailVerified === false) return null;
  if (policy.requireVerifiedEmail && identity.emailVerified !== true) return null;
  return present(identity.email) ? identity.email : null;
}

/**
 * The single index lookup that finds every SCIM user a strategy could match, or null when the SSO user
 * lacks the claim the strategy needs (then nothing can match).
 */
export function lookupFor(strategy: SsoMatchingStrategy, identity: SsoIdentity, policy: MatchPolicy = {}): StoreLookup | null {
  switch (strategy) {
    case 'OidcSubToScimUsername':
      return present(identity.subject) ? { index: 'userName', value: fold(identity.subject) } : null;
    case 'OidcSubToScimExternalId':
      // externalId is case-exact (RFC 7643 §3.1): no folding.
      return present(identity.subject) ? { index: 'externalId', value: identity.subject } : null;
    case 'OidcEmailToScimUsername': {
      const email = usableEmail(identity, policy);
      return email ? { index: 'userName', value: fold(email) } : null;
    }
    case 'OidcEmailUsernameToScimUsername': {
      const email = usableEmail(identity, policy);
      // An email with nothing before the @ names nobody (an empty local part would match every such userName).
      const local = email ? fold(localPart(email)) : '';
      return local ? { index: 'userNameLocal', value: local } : null;
    }
    case 'OidcPreferredUsernameToScimUsername':
      return present(identity.preferredUsername) ? { index: 'userName', value: fold(identity.preferredUsername) } : null;
    // SAML: the subject is the NameID; a signed assertion vouches for its attributes (no email_verified).
    case 'SamlNameIdToScimUsername':
      return present(identity.subject) ? { index: 'userName', value: fold(identity.subject) } : null;
    case 'SamlNameIdToScimExternalId':
      return present(identity.subject) ? { index: 'externalId', value: identity.subject } : null;
    case 'SamlEmailToScimUsername':
      return present(identity.email) ? { index: 'userName', value: fold(identity.email) } : null;
    case 'SamlAttributeToScimExternalId': {
      const value = identity.samlAttribute ?? null;
      return present(value) ? { index: 'externalId', value } : null;
    }
  }
}

/**
 * Whether two SCIM users a lookup of `index` matches are different people, whatever their `active`: the
 * local part of a userName is shared across domains (alice@corp, alice@subsidiary), where `userName` and
 * `externalId` are one person's (an inactive match beside the active one is that person's history).
 * The stores restate it (loginOutcome in src/store/login-outcome.ts, LOGIN_AND_RECORD).
 */
export const matchesDistinctPeople = (index: MatchIndex): boolean => index === 'userNameLocal';

/** The value a SCIM user has in a store index (what a lookup of that index compares to). */
export function indexValueOf(index: MatchIndex, user: ScimCandidate): string | null {
  switch (index) {
    case 'userName':
      return fold(user.userName);
    case 'externalId':
      return user.externalId;
    case 'userNameLocal':
      return fold(localPart(user.userName));
  }
}

/** Whether one SCIM user matches an SSO identity under a strategy. */
export function matches(strategy: SsoMatchingStrategy, identity: SsoIdentity, user: ScimCandidate, policy: MatchPolicy = {}): boolean {
  const lookup = lookupFor(strategy, identity, policy);
  return lookup !== null && indexValueOf(lookup.index, user) === lookup.value;
}

/** The SCIM users a lookup (of lookupFor) matches: those whose index value is the lookup's. */
export function matchesOf<C extends ScimCandidate>(lookup: StoreLookup | null, users: Iterable<C>): C[] {
  const out: C[] = [];
  if (lookup) for (const user of users) if (indexValueOf(lookup.index, user) === lookup.value) out.push(user);
  return out;
}

/** All SCIM users an identity matches under a strategy (more than one means ambiguous). */
export function findMatches<C extends ScimCandidate>(strategy: SsoMatchingStrategy, identity: SsoIdentity, users: Iterable<C>, policy: MatchPolicy = {}): C[] {
  return matchesOf(lookupFor(strategy, identity, policy), users);
}

/** Whether `value` is an OIDC strategy. */
export const isMatchingStrategy = (value: unknown): value is MatchingStrategy =>
  typeof value === 'string' && (MATCHING_STRATEGIES as readonly string[]).includes(value);

/** Whether `value` is a SAML strategy. */
export const isSamlMatchingStrategy = (value: unknown): value is SamlMatchingStrategy =>
  typeof value === 'string' && (SAML_MATCHING_STRATEGIES as readonly string[]).includes(value);

/** Whether `value` is a strategy of either protocol. */
export const isSsoMatchingStrategy = (value: unknown): value is SsoMatchingStrategy =>
  typeof value === 'string' && (SSO_MATCHING_STRATEGIES as readonly string[]).includes(value);
