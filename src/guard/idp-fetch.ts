/**
 * openid-client's `customFetch` for every request to a customer's IdP (discovery, JWKS, token, userinfo):
 * the outbound guard of src/net/outbound-fetch.ts, so an issuer a customer typed into the setup portal, or
 * an endpoint its discovery document names, cannot make the app's servers reach an internal address.
 */
import type * as oidc from 'openid-client';
import { MAX_IDP_ANSWER_BYTES, outboundFetch } from '../net/outbound-fetch.js';

export function idpFetch(allowPrivate: boolean): oidc.CustomFetch {
  const fetch = outboundFetch({ maxBytes: MAX_IDP_ANSWER_BYTES, allowPrivate });
  // openid-client's options are a RequestInit in all but their type.
  return (url, options) => fetch(url, options as RequestInit);
}
