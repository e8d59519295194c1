/**
 * Claims a customer's logins must carry (an OIDC client's `requiredClaims`: claim name -> accepted values),
 * for IdPs whose one issuer serves every tenant. Google's `https://accounts.google.com` signs ID tokens for
 * every Google account, Workspace or personal, for any app's client: without its `hd` claim (the account's
 * Workspace domain) required, a person outside the customer, with a personal Google account on one of the
 * customer's addresses or, under the email-username or preferred-username strategies, with any Google
 * account, was matched to one of the customer's SCIM users and admitted (audit 26). Entra's shared
 * endpoints are refused outright (src/guard/entra-tenant.ts); Google has no per-tenant issuer, so its
 * clients must require `hd` instead.
 */
import type { Claims } from './identity.js';

/**
 * Claim name -> the values a login's claim may have, compared with ASCII letters folded (domains, tenant
 * GUIDs; folding beyond ASCII would let a Kelvin sign stand for a k). A claim that is a list passes when one
 * of its strings is accepted.
 */
export type RequiredClaims = Readonly<Record<string, readonly string[]>>;

/** Hosts of issuers shared by every tenant, and the claim that names the tenant there. */
const SHARED_ISSUERS: ReadonlyMap<string, string> = new Map([['accounts.google.com', 'hd']]);

/** Why `claims` are not one of the customer's logins under `required` (the first claim that fails), or null. Pure. */
export function requiredClaimsProblem(claims: Claims, required: RequiredClaims | undefined): string | null {
  if (!required) return null;
  for (const [name, accepted] of Object.entries(required)) {
    const value = Object.hasOwn(claims, name) ? claims[name] : undefined;
    if (value === undefined) return `the login has no "${name}" claim, which this customer's OIDC client requires`;
    const values = (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
    if (values.length === 0) return `the login's "${name}" claim holds no string, and this customer's OIDC client requires one`;
    const allowed = new Set(accepted.map(foldAscii));
    if (!values.some((v) => allowed.has(foldAscii(v)))) {
      return `the login's "${name}" claim is ${JSON.stringify(value).slice(0, 200)}, which this customer's OIDC client does not accept: the person is not in the customer's tenant`;
    }
  }
  return null;
}

/** ASCII letters lower-cased, nothing else changed. */
const foldAscii = (text: string): string => text.replace(/[A-Z]/g, (c) => c.toLowerCase());

/** Why a client of `issuer` must require more claims than `required` (a shared issuer's tenant claim), or null. Pure. */
export function sharedIssuerProblem(issuer: string, required: RequiredClaims | undefined): string | null {
  let host: string;
  try {
    host = new URL(issuer).hostname.toLowerCase().replace(/\.$/, '');
  } catch {
    return null;
  }
  const tenantClaim = SHARED_ISSUERS.get(host);
  if (tenantClaim === undefined || (required?.[tenantClaim]?.length ?? 0) > 0) return null;
  return `${issuer} signs logins for every account it has, not only the customer's: set requiredClaims: { ${tenantClaim}: ['<the customer's domain>'] } so that only the customer's accounts log in`;
}

/**
 * Claims refused as an OIDC client's subjectClaim (compared case-insensitively): people or admins set them,
 * and no IdP vouches for them as it does for an email with `email_verified` (which the subject strategies do
 * not read): matched on, they would let anyone whose IdP profile says so log in as that user (audit 26).
 */
const UNVERIFIED_SUBJECT_CLAIMS: ReadonlySet<string> = new Set([
  'email',
  'email_verified',
  'mail',
  'preferred_username',
  'username',
  'login',
  'upn',
  'unique_name',
  'name',
  'nickname',
  'given_name',
  'family_name',
  'phone_number',
]);

/** Why `name` cannot be a subject claim, or null. Pure. */
export function subjectClaimProblem(name: string): string | null {
  if (!UNVERIFIED_SUBJECT_CLAIMS.has(name.toLowerCase())) return null;
  return `subjectClaim must be an identifier the IdP assigns (sub, oid, an employee id): "${name}" can be set by people and is not checked as verified`;
}

/**
 * Why a stored OIDC client cannot be used for logins, or null: settings that creating or updating it refuses
 * now, kept by a client stored before (Google's issuer without `hd` required, a subject claim people set).
 * Such a client refuses every login until it is updated, rather than admit outsiders as it did. Pure.
 */
export function storedClientProblem(client: { issuer: string; subjectClaim: string; requiredClaims?: RequiredClaims }): string | null {
  return sharedIssuerProblem(client.issuer, client.requiredClaims) ?? subjectClaimProblem(client.subjectClaim);
}
