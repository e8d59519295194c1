/**
 * Maps what can go wrong in an OIDC login to a well-defined error, so IdP and token problems answer
 * 400/401/503 with a clear code — never a 500 (docs/oidc-and-passport.md §The openid-client Strategy lists these failure routes).
 */
import * as oidc from 'openid-client';
import { ScimUserNotActive, SsoLoginError } from '../errors.js';
import { isStoreUnavailable } from '../store/unavailable.js';
import { OutboundFetchError } from '../net/outbound-fetch.js';

const NETWORK = /ECONNREFUSED|ENOTFOUND|ETIMEDOUT|ECONNRESET|EAI_[A-Z]+|getaddrinfo|fetch failed|socket hang up/;

function isNetworkError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const cause = (error as { cause?: unknown }).cause;
  return NETWORK.test(error.message) || (cause instanceof Error && NETWORK.test(`${cause.message} ${(cause as { code?: string }).code ?? ''}`));
}

function isTimeout(error: unknown): boolean {
  const { name, code } = (error ?? {}) as { name?: unknown; code?: unknown };
  return name === 'TimeoutError' || code === 'OAUTH_TIMEOUT';
}

/**
 * Whether a login failed because of who logged in, after the IdP authenticated them in this browser: a
 * person outside the customer's tenant (`outside_tenant`), or one the IdP vouched for without the claim the
 * customer matches on (`missing_claim`). Such a refusal ends the session the browser already had, as a
 * ScimUserNotActive refusal does (docs/oidc-and-passport.md); a failure of the IdP, the network or the store
 * leaves it alone.
 */
export function refusesThePerson(error: unknown): boolean {
  return error instanceof SsoLoginError && (error.code === 'outside_tenant' || error.code === 'missing_claim');
}

/** Turns a login failure into ScimUserNotActive / SsoLoginError; returns null for errors that are not login errors. */
export function toLoginError(error: unknown, customerId: string | null = null): ScimUserNotActive | SsoLoginError | null {
  if (error instanceof ScimUserNotActive || error instanceof SsoLoginError) return error;
  // openid-client wraps what its fetch threw: the error and its cause are both looked at below.
  const cause = (error as { cause?: unknown } | null)?.cause;
  // A refusal the guard's own fetch made (src/guard/discovery-document.ts) stands.
  if (cause instanceof SsoLoginError) return cause;
  // A customer id in the URL that is not validly percent-encoded names no customer.
  if (error instanceof URIError) return new SsoLoginError('unknown_customer', 404, 'the customer id in the URL is not validly percent-encoded', customerId);
  // passport's own AuthenticationError (`failWithError`) carries no reason: a failed state check or a denial.
  if (error instanceof Error && error.name === 'AuthenticationError') return failureToLoginError(undefined, customerId ?? '');
  if (error instanceof oidc.AuthorizationResponseError) {
    const code = error.error === 'access_denied' ? 'access_denied' : 'idp_error';
    return new SsoLoginError(
      code,
      code === 'access_denied' ? 401 : 400,
      `the identity provider answered ${error.error}${error.error_description ? `: ${error.error_description}` : ''}`,
      customerId,
      { cause: error },
    );
  }
  if (error instanceof oidc.ResponseBodyError) {
    return new SsoLoginError('token_exchange_failed', 400, `the identity provider refused the code: ${error.error}`, customerId, { cause: error });
  }
  if (error instanceof oidc.WWWAuthenticateChallengeError) {
    return new SsoLoginError('token_exchange_failed', 401, 'the identity provider rejected the client credentials', customerId, { cause: error });
  }
  if (isStoreUnavailable(error)) {
    return new SsoLoginError('store_unavailable', 503, 'the user store is unavailable; the login was refused', customerId, { cause: error });
  }
  const refusedFetch = [error, cause].find((e): e is OutboundFetchError => e instanceof OutboundFetchError);
  if (refusedFetch && refusedFetch.refused !== 'name') {
    const what = refusedFetch.refused === 'answer' ? 'answer' : 'address';
    return new SsoLoginError('idp_error', 400, `the identity provider's ${what} was refused: ${refusedFetch.message}`, customerId, { cause: error });
  }
  // A host name refused for what it resolves to answers as one that does not resolve or answer: the IdP's
  // discovery document names the hosts, and telling the two apart would let whoever controls it probe which
  // names exist on the app's own network (the setup portal's discovery check does not tell them apart
  // either). The cause, kept on the error, names the host for the app's logs.
  // A timeout (openid-client's own, or the signal's reason our fetch rejects with) is an IdP not answering.
  if (refusedFetch || isNetworkError(error) || [error, cause].some(isTimeout)) {
    return new SsoLoginError('idp_unreachable', 503, 'the identity provider could not be reached', customerId, { cause: error });
  }
  if (error instanceof oidc.ClientError || (error instanceof Error && /^OAUTH_/.test((error as { code?: string }).code ?? ''))) {
    return new SsoLoginError(
      'invalid_response',
      400,
      `the login response failed validation: ${error instanceof Error ? error.message : 'invalid'}`,
      customerId,
      { cause: error },
    );
  }
  return null;
}

/** A passport `fail(info)` (missing or replayed state, access_denied) as an SsoLoginError. */
export function failureToLoginError(info: unknown, customerId: string): SsoLoginError {
  const details = (info ?? {}) as { message?: string; error?: string };
  if (details.error === 'access_denied') {
    return new SsoLoginError('access_denied', 401, `the identity provider denied access: ${details.message ?? 'access_denied'}`, customerId);
  }
  return new SsoLoginError('invalid_response', 400, details.message ?? 'the login could not be verified; start again', customerId);
}
