/**
 * From validated OIDC claims to what the guard matches on and what it records. Pure functions.
 */
import type { SsoIdentity, SsoMatchingStrategy } from '../match/strategies.js';
import { isSsoSubject } from '../store/sso-records.js';
import type { StoredSsoUser } from '../store/store.js';

export type Claims = Record<string, unknown>;

/** The longest copy of a claim an SSO user record keeps in `claims`, the SAML match attribute aside (longer values are left out). */
export const MAX_RECORDED_CLAIM_CHARS = 256;

const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

/**
 * A claim the guard matches on or records apart from the subject (email, preferred_username, name, the
 * SAML match attribute): as the subject, at most 1,000 characters without control characters or lone
 * surrogates, else absent. The IdP is the customer's, and its answer may be up to 1 MB: what it sends
 * must not make a record, or the pages that list records, that large.
 */
const claimText = (value: unknown): string | null => (isSsoSubject(value) ? value : null);

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

/**
 * Whether a strategy matches on the subject and the claims lack the configured subject claim: such a login is
 * refused (`missing_claim`), never matched on `sub` instead, which for Entra is pairwise (it matches nobody,
 * and files the person under a second identity) and for a Generic IdP is another claim than the one the
 * customer chose. Strategies on other claims only file the person under `sub` then.
 */
export function lacksSubjectClaim(strategy: SsoMatchingStrategy, claims: Claims, subjectClaim: string): boolean {
  const onSubject = strategy === 'OidcSubToScimUsername' || strategy === 'OidcSubToScimExternalId';
  return onSubject && subjectClaim !== 'sub' && text(claims[subjectClaim]) === null;
}

export function identityOf(claims: Claims, subjectClaim: string): SsoIdentity {
  return {
    subject: subjectOf(claims, subjectClaim) ?? '',
    email: claimText(claims.email),
    emailVerified: emailVerifiedOf(claims),
    preferredUsername: claimText(claims.preferred_username),
    samlAttribute: claimText(claims.saml_attribute),
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

/** The needed claims the guard could not use as sent (absent, or refused by claimText), which 'auto' then asks userinfo for. */
export const missingClaims = (claims: Claims, needed: string[]) => needed.filter((c) => claimText(claims[c]) === null);

/**
 * Why an ID token's claims show it was not issued to this client of this issuer (`issuers`: the issuer as
 * configured and as its discovery document names it), or null. openid-client checks this against the
 * configuration the Strategy was built with; an app that builds its own Strategy and calls `guardVerify`
 * may build it from another client (the customer's previous IdP, another customer's), and the guard reads
 * the customer's client as stored now (audit 26). Pure.
 */
export function tokenOriginProblem(claims: Claims, issuers: readonly string[], clientId: string): string | null {
  const iss = Object.hasOwn(claims, 'iss') ? claims.iss : undefined;
  if (typeof iss !== 'string' || !issuers.includes(iss)) return `the ID token's issuer is not this customer's OIDC issuer (${issuers[0]})`;
  const aud = Object.hasOwn(claims, 'aud') ? claims.aud : undefined;
  const audiences = Array.isArray(aud) ? aud : [aud];
  if (!audiences.includes(clientId)) return "the ID token was not issued to this customer's OIDC client id";
  return null;
}

/** The deepest a claim's value may nest: real claims nest two or three levels (`address`, Entra's `_claim_sources`). */
export const MAX_CLAIM_DEPTH = 16;

/**
 * The claims whose values nest at most MAX_CLAIM_DEPTH levels; deeper ones are left out. Such a claim is
 * nobody's identity, and code that serialises claims recursively (JSON.stringify included) overflows the
 * stack at a few thousand levels: one customer's IdP sending one answered its logins and Test SSO with 500
 * (audit 28). Walked without recursion, and only an object with such a claim is copied. Pure.
 */
export function withoutDeepClaims(claims: Claims): Claims {
  let kept: Claims | null = null;
  for (const name of Object.keys(claims)) {
    if (nestsWithin(claims[name], MAX_CLAIM_DEPTH)) continue;
    kept ??= Object.fromEntries(Object.entries(claims));
    delete kept[name];
  }
  return kept ?? claims;
}

function nestsWithin(value: unknown, levels: number): boolean {
  const pending: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    if (next.value === null || typeof next.value !== 'object') continue;
    if (next.depth >= levels) return false;
    for (const child of Object.values(next.value)) pending.push({ value: child, depth: next.depth + 1 });
  }
  return true;
}

/** Claims a merge keeps besides those the guard reads: more than the Test SSO page lists (40). */
export const MERGED_OTHER_CLAIMS = 64;

/**
 * The claims of the ID token and of userinfo together. The validated ID token wins for claims both carry,
 * except when userinfo is the configured source (`userinfoWins`), and except for the needed claims the
 * token carried in a form the guard cannot use (`missing`: what userinfo was asked for). Kept: the claims the
 * guard reads (the subject claim and RECORDED_CLAIMS), and the first MERGED_OTHER_CLAIMS others, for the Test
 * SSO page: the IdP is the customer's, and spreading 100,000 claims of a userinfo answer held the event loop
 * 60-85 ms (audit 24). Pure.
 */
export function mergeClaims(
  fromToken: Claims,
  userinfo: Claims,
  userinfoWins: boolean,
  missing: readonly string[],
  subjectClaim = 'sub',
  required: readonly string[] = [],
): Claims {
  const [first, second] = userinfoWins ? [userinfo, fromToken] : [fromToken, userinfo];
  const merged: Claims = {};
  const take = (name: string) => {
    if (name === '__proto__') return; // an own key JSON.parse can make; assigned, it would set merged's prototype
    if (Object.hasOwn(first, name)) merged[name] = first[name];
    else if (Object.hasOwn(second, name)) merged[name] = second[name];
  };
  for (const name of [subjectClaim, ...required, ...RECORDED_CLAIMS]) take(name);
  let others = 0;
  for (const source of [first, second]) {
    for (const name in source) {
      if (others >= MERGED_OTHER_CLAIMS) break;
      if (name === '__proto__' || !Object.hasOwn(source, name) || Object.hasOwn(merged, name)) continue;
      take(name);
      others++;
    }
  }
  if (!userinfoWins) for (const name of missing) if (Object.hasOwn(userinfo, name)) merged[name] = userinfo[name];
  // An email is as verified as a source that gave that same email says: the token's email_verified never
  // vouches for an email only userinfo gave (nor the other way round). When both gave it, the one that wins
  // the merge speaks first, and the other when it says nothing.
  if (merged.email !== undefined) {
    const order = userinfoWins ? [userinfo, fromToken] : [fromToken, userinfo];
    const vouching = order.find((source) => Object.hasOwn(source, 'email') && source.email === merged.email && Object.hasOwn(source, 'email_verified'));
    if (vouching) merged.email_verified = vouching.email_verified;
    else delete merged.email_verified;
  }
  return merged;
}

/**
 * Claims kept on an SSO user record for the matching tool: identity and profile claims, never tokens. Each
 * is kept when it is a boolean, a finite number, or a string that claimText accepts within
 * MAX_RECORDED_CLAIM_CHARS; anything else (objects, arrays, long strings) is left out, so a record stays
 * within MAX_SSO_RECORD_BYTES (src/store/sso-records.ts) whatever the IdP sends.
 */
export const RECORDED_CLAIMS: readonly string[] = [
  'sub',
  'oid',
  'tid',
  // Google's Workspace domain (absent for personal accounts): the tenant a Google client requires.
  'hd',
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
  for (const name of RECORDED_CLAIMS) {
    if (!Object.hasOwn(claims, name)) continue;
    const value = claims[name];
    // The SAML match attribute is read back from the copy by the matching report and the compare page
    // (src/match/report.ts), so it is kept as long as matching takes it.
    const longest = name === 'saml_attribute' ? Infinity : MAX_RECORDED_CLAIM_CHARS;
    const recordable =
      typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value)) || (claimText(value) !== null && (value as string).length <= longest);
    if (recordable) kept[name] = value;
  }
  return {
    subject: identity.subject,
    email: identity.email,
    emailVerified: identity.emailVerified,
    preferredUsername: identity.preferredUsername,
    name: claimText(claims.name),
    claims: kept,
    firstSeenAt: now,
    lastSeenAt: now,
    lastOutcome: outcome.admitted ? 'admitted' : 'refused',
    lastReason: outcome.reason,
    lastScimUserId: outcome.scimUserId,
  };
}
