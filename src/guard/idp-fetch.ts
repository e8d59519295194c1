/**
 * openid-client's `customFetch` for every request to a customer's IdP (discovery, JWKS, token, userinfo):
 * the outbound guard of src/net/outbound-fetch.ts, so an issuer a customer typed into the setup portal, or
 * an endpoint its discovery document names, cannot make the app's servers reach an internal address.
 */
import type * as oidc from 'openid-client';
import { outboundFetch } from '../net/outbound-fetch.js';

/**
 * The largest answer of a customer's OIDC IdP read during a login (discovery, JWKS, token, userinfo): real
 * ones are a few KB. openid-client parses an ID token's claims and undici a userinfo answer in one step each:
 * at the 1 MB bound used until 2026-12-06, 70,000 claims held the event loop 35-144 ms for every
 * tenant (audit 24); at 256 KB a few ms.
 */
export const MAX_OIDC_ANSWER_BYTES = 256 * 1024;

export function idpFetch(allowPrivate: boolean): oidc.CustomFetch {
  const fetch = outboundFetch({ maxBytes: MAX_OIDC_ANSWER_BYTES, allowPrivate });
  // openid-client's options are a RequestInit in all but their type.
  return (url, options) => fetch(url, options as RequestInit);
}
