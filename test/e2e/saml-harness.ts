/**
 * SAML logins on the end-to-end harness (test/e2e/harness.ts): customers whose SSO connection is a SAML
 * connection to the in-process samlify IdP (test/support/saml-idp.ts), and a login that runs as a browser
 * does: `GET /sso/<customer>/login` → the IdP (which reads the AuthnRequest) → a form POST of the IdP's
 * response to `/sso/<customer>/saml/acs` → `/me`.
 */
import type { SamlConnection } from '../../src/index.js';
import type { IdpType } from '../../src/store/store.js';
import type { SamlMatchingStrategy } from '../../src/match/strategies.js';
import type { Browser } from '../support/browser.js';
import { testSamlIdp, type SamlAnswer, type SamlSp, type TestSamlIdp } from '../support/saml-idp.js';
import type { HttpResult, LoginHarness, ScimClient } from './harness.js';

export interface SamlCustomer {
  customerId: string;
  connectionId: string | null;
  sp: SamlSp;
  idp: TestSamlIdp;
  instance: number;
  scim: ScimClient;
  connection: SamlConnection;
}

export interface SamlCustomerOptions {
  customerId: string;
  idpType: IdpType;
  matchingStrategy?: SamlMatchingStrategy;
  signed?: 'assertion' | 'response' | 'both';
  /** Which instance's origin the ACS URL names. Default 0. */
  instance?: number;
  idp?: TestSamlIdp;
}

export const samlPaths = {
  acs: (customerId: string) => `/sso/${encodeURIComponent(customerId)}/saml/acs`,
  metadata: (customerId: string) => `/sso/${encodeURIComponent(customerId)}/saml/metadata`,
};

export async function samlCustomer(h: LoginHarness, options: SamlCustomerOptions): Promise<SamlCustomer> {
  const n = options.instance ?? 0;
  const { sso, origin } = await h.instance(n);
  const idp = options.idp ?? testSamlIdp();
  const scim = await sso.createScimConnection({ customerId: options.customerId });
  const acsUrl = `${origin}${samlPaths.acs(options.customerId)}`;
  const connection = await sso.createSamlConnection({
    customerId: options.customerId,
    idpType: options.idpType,
    idpMetadataXml: idp.metadata(),
    acsUrl,
    ...(options.matchingStrategy ? { matchingStrategy: options.matchingStrategy } : {}),
    ...(options.signed ? { signed: options.signed } : {}),
  });
  return {
    customerId: options.customerId,
    connectionId: scim.connectionId,
    sp: { entityId: connection.spEntityId, acsUrl },
    idp,
    instance: n,
    scim: h.scim(scim.token, n),
    connection,
  };
}

async function parse(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return text;
  }
}

/** The browser's cookies for an instance, as a Cookie header (to post from the same browser to another instance). */
export async function cookieHeaderOf(h: LoginHarness, browser: Browser, instance = 0): Promise<string> {
  const { origin } = await h.instance(instance);
  return Object.entries(browser.cookies(origin))
    .map(([name, value]) => `${name}=${value}`)
    .join('; ');
}

/** Starts a login at the app; answers the AuthnRequest ID the IdP received. */
export async function startSamlLogin(h: LoginHarness, browser: Browser, customer: SamlCustomer, instance = customer.instance): Promise<string> {
  const { origin } = await h.instance(instance);
  const response = await browser.fetch(`${origin}/sso/${encodeURIComponent(customer.customerId)}/login`);
  await response.body?.cancel();
  const location = response.headers.get('location');
  if (response.status !== 302 || !location) throw new Error(`saml login step answered ${response.status}`);
  return customer.idp.requestIdOf(location, customer.sp);
}

/** POSTs a SAMLResponse to the customer's ACS on an instance, as the IdP's auto-submitting form does; follows to `/me`. */
export async function postToAcs(
  h: LoginHarness,
  browser: Browser,
  customer: SamlCustomer,
  samlResponse: string,
  instance = customer.instance,
  /** Cookies to send besides the browser's own (the test Browser keys cookies by port; browsers do not). */
  cookie?: string,
): Promise<HttpResult> {
  const { origin } = await h.instance(instance);
  const url = `${origin}${samlPaths.acs(customer.customerId)}`;
  const result = await browser.navigate(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
    body: new URLSearchParams({ SAMLResponse: samlResponse }).toString(),
  });
  return { status: result.response.status, body: await parse(result.response), url: result.url, headers: result.response.headers };
}

/** A whole login: the login step, the IdP's answer (with the request's InResponseTo unless the answer names one), the ACS. */
export async function samlLogin(
  h: LoginHarness,
  browser: Browser,
  customer: SamlCustomer,
  answer: SamlAnswer,
  instance = customer.instance,
): Promise<HttpResult & { samlResponse: string }> {
  const requestId = await startSamlLogin(h, browser, customer, instance);
  const samlResponse = await customer.idp.respond(customer.sp, { inResponseTo: requestId, ...answer });
  return { ...(await postToAcs(h, browser, customer, samlResponse, instance)), samlResponse };
}
