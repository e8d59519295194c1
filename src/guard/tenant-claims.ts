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

/** Claim name -> the values a login's claim may have (compared case-insensitively: domains, tenant GUIDs). */
export type RequiredClaims = Readonly<Record<string, readonly string[]>>;

/** Hosts of issuers shared by every tenant, and the claim that names the tenant there. */
const SHARED_ISSUERS: ReadonlyMap<string, string> = new Map([['accounts.google.com', 'hd']]);

/** Why `claims` are not one of the customer's logins under `required` (the first claim that fails), or null. Pure. */
export function requiredClaimsProblem(claims: Claims, required: RequiredClaims | undefined): string | null {
  if (!required) return null;
  for (const [name, accepted] of Object.entries(required)) {
    const value = Object.hasOwn(claims, name) ? claims[name] : undefined;
    if (typeof value !== 'string') return `the login has no "${name}" claim, which this customer's OIDC client requires`;
    const folded = value.toLowerCase();
    if (!accepted.some((v) => v.toLowerCase() === folded)) {
      return `the login's "${name}" claim is "${value.slice(0, 200)}", which this customer's OIDC client does not accept: the person is not in the customer's tenant`;
    }
  }
  return null;
}

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
