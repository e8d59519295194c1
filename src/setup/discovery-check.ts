/**
 * The SSO setup form's live check: before an issuer is saved, its OpenID Connect discovery document is
 * fetched (openid-client's discovery, the same the login uses) and every failure is said in words the IT
 * admin can act on: unreachable, not an issuer, issuer mismatch, not https. Bounded by a 10 s timeout and
 * a byte cap, and only public addresses are fetched unless the instance allows local IdPs (src/net/outbound-fetch.ts).
 */
import * as oidc from 'openid-client';
import { OutboundFetchError } from '../net/outbound-fetch.js';
import { idpFetch, MAX_OIDC_ANSWER_BYTES } from '../guard/idp-fetch.js';
import { multiTenantIssuerProblem, templatedIssuerProblem } from '../guard/entra-tenant.js';
import { withoutTrailingSlashes } from '../url-segment.js';

export type IssuerCheck = { ok: true } | { ok: false; problem: string };

const DISCOVERY_TIMEOUT_SECONDS = 10;

const codeOf = (error: unknown): string | undefined => (error as { code?: unknown })?.code as string | undefined;
const causeOf = (error: unknown): unknown => (error as { cause?: unknown })?.cause;

const unreachable = (wellKnown: string) =>
  `Unreachable: could not get ${wellKnown} from the app's servers. The IdP must be on a public internet address; check the host name.`;

/** The words for a discovery failure. Pure. */
export function discoveryProblem(issuer: string, error: unknown): string {
  const wellKnown = `${withoutTrailingSlashes(issuer)}/.well-known/openid-configuration`;
  const guard = [error, causeOf(error)].find((e): e is OutboundFetchError => e instanceof OutboundFetchError);
  if (guard?.refused === 'answer') return `Refused: ${guard.message}. The discovery document must be JSON of at most ${MAX_OIDC_ANSWER_BYTES} bytes.`;
  // An address refused, a name that does not resolve and a host that does not answer read alike: the form's
  // user must not learn which names exist on the app's own network.
  if (guard) return unreachable(wellKnown);
  const code = codeOf(error);
  if (code === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED') {
    const named = (causeOf(error) as { body?: { issuer?: unknown } } | undefined)?.body?.issuer;
    const templated = typeof named === 'string' ? templatedIssuerProblem(named, issuer) : null;
    if (templated) return `Refused: ${templated}.`;
    return typeof named === 'string'
      ? `Issuer mismatch: ${wellKnown} says its issuer is "${named.slice(0, 300)}", not "${issuer}". Enter exactly "${named.slice(0, 300)}".`
      : `Issuer mismatch: the discovery document at ${wellKnown} names another issuer. Enter the issuer exactly as your IdP shows it.`;
  }
  if (code === 'OAUTH_RESPONSE_IS_NOT_CONFORM') {
    const status = (causeOf(error) as { status?: unknown } | undefined)?.status;
    return `Not an OpenID Connect issuer: ${wellKnown} answered HTTP ${typeof status === 'number' ? status : 'with an error'}. Check the issuer URL (Okta: https://<your-org>.okta.com or …/oauth2/default; Entra: https://login.microsoftonline.com/<tenant id>/v2.0).`;
  }
  if (code === 'OAUTH_RESPONSE_IS_NOT_JSON' || code === 'OAUTH_PARSE_ERROR' || code === 'OAUTH_INVALID_RESPONSE') {
    return `Not an OpenID Connect issuer: ${wellKnown} did not answer a discovery document (JSON with an issuer). Check the issuer URL.`;
  }
  const name = (error as { name?: unknown })?.name;
  if (name === 'TimeoutError' || name === 'AbortError' || codeOf(causeOf(error)) === 'UND_ERR_CONNECT_TIMEOUT') {
    return `Unreachable: ${wellKnown} did not answer within ${DISCOVERY_TIMEOUT_SECONDS} seconds.`;
  }
  const network = codeOf(causeOf(error)) ?? codeOf(causeOf(causeOf(error)));
  if (error instanceof TypeError || network) return unreachable(wellKnown);
  return `The issuer could not be checked: ${wellKnown} gave an unexpected answer.`;
}

/**
 * Fetches the issuer's discovery document; `allowHttp` only for local demo IdPs (the scimSso option
 * allowHttpIssuers), `allowPrivate` to reach loopback and private addresses (allowPrivateIdpAddresses).
 */
export async function checkIssuer(issuer: string, clientId: string, allowHttp: boolean, allowPrivate = allowHttp): Promise<IssuerCheck> {
  const url = new URL(issuer);
  if (url.protocol === 'http:' && !allowHttp) return { ok: false, problem: 'The issuer must be an https URL.' };
  const multiTenant = multiTenantIssuerProblem(issuer);
  if (multiTenant) return { ok: false, problem: `Refused: ${multiTenant}.` };
  try {
    const configuration = await oidc.discovery(url, clientId, undefined, oidc.None(), {
      timeout: DISCOVERY_TIMEOUT_SECONDS,
      // The link holder chose this URL: public addresses only (unless local IdPs are allowed), a capped answer.
      [oidc.customFetch]: idpFetch(allowPrivate),
      ...(url.protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : {}),
    });
    const templated = templatedIssuerProblem(configuration.serverMetadata().issuer, issuer);
    return templated ? { ok: false, problem: `Refused: ${templated}.` } : { ok: true };
  } catch (error) {
    return { ok: false, problem: discoveryProblem(issuer, error) };
  }
}
