/**
 * Microsoft Entra's multi-tenant endpoints (`/common`, `/organizations`, `/consumers`) answer discovery with
 * the issuer template `https://login.microsoftonline.com/{tenantid}/v2.0`, and openid-client then accepts an
 * ID token from ANY Entra tenant, taking the expected issuer from the token's own `tid`. With an email
 * matching strategy, an admin of any other tenant could set a user's unverified `email` to one of this
 * customer's addresses and log in as that person (the "nOAuth" pattern). A customer's OIDC client must name
 * that customer's own tenant: `https://login.microsoftonline.com/<tenant id>/v2.0`.
 */

/** Microsoft's sign-in hosts (public, US government, China, and the v1 token issuer). */
const ENTRA_HOST =
  /^(?:login\.microsoftonline\.(?:com|us)|login\.partner\.microsoftonline\.cn|login\.chinacloudapi\.cn|login\.windows\.net|sts\.windows\.net)$/i;
/**
 * The path segments that stand for "any tenant" rather than one tenant, and the tenant id that
 * `/consumers` declares as its issuer (every personal Microsoft account).
 */
const ANY_TENANT = new Set(['common', 'organizations', 'consumers', '9188040d-6c67-4c5b-b112-36a304b66dad']);

/** Why `issuer` cannot be a customer's issuer (an Entra endpoint that admits every tenant), or null. */
export function multiTenantIssuerProblem(issuer: string): string | null {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    return null;
  }
  let tenant = url.pathname.split('/')[1] ?? '';
  try {
    tenant = decodeURIComponent(tenant);
  } catch {
    // Not valid percent-encoding: compared as written.
  }
  tenant = tenant.toLowerCase();
  if (!ENTRA_HOST.test(url.hostname) || !ANY_TENANT.has(tenant)) return null;
  return `${issuer} is a multi-tenant Microsoft Entra endpoint: it would admit people of every Entra tenant (or every personal Microsoft account). Use the customer's own tenant, https://${url.host}/<tenant id>/v2.0`;
}

/** Why discovered metadata cannot be used for one customer (its issuer is a `{tenantid}` template), or null. */
export function templatedIssuerProblem(metadataIssuer: string, configuredIssuer: string): string | null {
  if (!metadataIssuer.includes('{tenantid}')) return null;
  return `the issuer ${configuredIssuer} is a multi-tenant endpoint (its metadata names "${metadataIssuer}"): it would admit people of every tenant. Configure the customer's own tenant issuer`;
}
