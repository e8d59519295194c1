/**
 * Test SSO: the IT admin logs in through their IdP with the customer's stored OIDC client, and the portal
 * shows what the login guard would decide, creating NO session in the app and recording nothing. It never
 * goes through the app's login routes: the IdP returns to the portal's own redirect URI
 * (`<portal>/<customerId>/test/callback`, which the admin registers next to the app's), and the code is
 * exchanged here with openid-client (PKCE + state + nonce). The state, nonce and verifier travel in a
 * cookie sealed (AES-256-GCM) under a key derived from the portal session's secret: a callback reaching
 * another session, or no session, cannot open it. It is good for TEST_MINUTES and for one callback.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import * as oidc from 'openid-client';
import { readCookie } from '../dashboard/csrf.js';
import type { LoginRuntime } from '../guard/passport.js';
import type { Claims } from '../guard/identity.js';
import type { StoredOidcClient } from '../store/store.js';
import { cookieLine, type PortalSession } from './session.js';

export const TEST_COOKIE = 'scim_sso_setup_test';
export const TEST_MINUTES = 10;

interface Pending {
  state: string;
  nonce: string;
  verifier: string;
  /** The stored client version the login began with (a changed client must start again). */
  client: string;
  at: number;
}

const keyOf = (session: PortalSession) => createHash('sha256').update(`scim-sso-setup-test.v1\0${session.secret}`).digest();
const versionOf = (client: StoredOidcClient) => `${client.oidcClientId}\0${client.updatedAt}`;

function seal(session: PortalSession, pending: Pending): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyOf(session), iv);
  const sealed = Buffer.concat([cipher.update(JSON.stringify(pending), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
}

function open(session: PortalSession, value: string): Pending | null {
  try {
    const raw = Buffer.from(value, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', keyOf(session), raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    const parsed = JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')) as Pending;
    return typeof parsed.state === 'string' && typeof parsed.nonce === 'string' && typeof parsed.verifier === 'string' ? parsed : null;
  } catch {
    return null;
  }
}

/** An http(s) origin made of a host name or address and a port only: nothing a CSP parser reads as syntax. */
const PLAIN_ORIGIN = /^https?:\/\/(?:[a-z0-9-]+(?:\.[a-z0-9-]+)*\.?|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/**
 * The origin the test login's form redirects to (the IdP's authorization endpoint), for CSP form-action:
 * browsers check that redirect against the policy of the page that submitted the form. The issuer's
 * origin when discovery fails now (the start then reports the failure). Null when the origin is not a plain
 * host: the discovery document is the IdP's, and a host such as `idp.test;sandbox` would add a directive.
 */
export async function authorizationOrigin(runtime: LoginRuntime, client: StoredOidcClient): Promise<string | null> {
  let origin = new URL(client.issuer).origin;
  try {
    const endpoint = (await runtime.configuration(client)).serverMetadata().authorization_endpoint;
    if (endpoint) origin = new URL(endpoint).origin;
  } catch {
    // Said when the test starts.
  }
  return PLAIN_ORIGIN.test(origin) ? origin : null;
}

/** Starts a test login: the IdP's authorization URL, and the sealed cookie to set. */
export async function startTestLogin(
  runtime: LoginRuntime,
  client: StoredOidcClient,
  session: PortalSession,
  redirectUri: string,
  cookiePath: string,
  secure: boolean,
  loginHint: string | null,
): Promise<{ location: string; cookie: string }> {
  const config = await runtime.configuration(client);
  const verifier = oidc.randomPKCECodeVerifier();
  const pending: Pending = { state: oidc.randomState(), nonce: oidc.randomNonce(), verifier, client: versionOf(client), at: Date.now() };
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: client.scopes.join(' '),
    state: pending.state,
    nonce: pending.nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    ...(loginHint ? { login_hint: loginHint } : {}),
  });
  return { location: url.href, cookie: cookieLine(TEST_COOKIE, seal(session, pending), cookiePath, TEST_MINUTES * 60, secure) };
}

export type TestLoginResult = { ok: true; claims: Claims } | { ok: false; problem: string };

/**
 * Finishes a test login at the callback: the code exchanged, the ID token validated (issuer, audience,
 * signature, nonce, state, PKCE), the claims read as the guard reads them. `callbackUrl` is the registered
 * redirect URI with the callback's query.
 */
export async function finishTestLogin(
  runtime: LoginRuntime,
  client: StoredOidcClient,
  session: PortalSession,
  headers: IncomingHttpHeaders,
  callbackUrl: URL,
): Promise<TestLoginResult> {
  const value = readCookie({ headers }, TEST_COOKIE);
  const pending = value ? open(session, value) : null;
  if (!pending || Date.now() - pending.at > TEST_MINUTES * 60_000) {
    return { ok: false, problem: `This test login was not started from this setup session, or took more than ${TEST_MINUTES} minutes. Start it again.` };
  }
  if (pending.client !== versionOf(client)) return { ok: false, problem: 'The SSO settings changed during the test login. Start it again.' };
  const idpError = callbackUrl.searchParams.get('error');
  if (idpError) {
    const description = callbackUrl.searchParams.get('error_description');
    return { ok: false, problem: `Your IdP refused the login: ${idpError.slice(0, 100)}${description ? ` (${description.slice(0, 300)})` : ''}.` };
  }
  try {
    const config = await runtime.configuration(client);
    const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
      pkceCodeVerifier: pending.verifier,
      expectedState: pending.state,
      expectedNonce: pending.nonce,
      idTokenExpected: true,
    });
    return { ok: true, claims: await runtime.claims(client, tokens) };
  } catch (error) {
    const message = error instanceof Error ? error.message : 'unknown error';
    return {
      ok: false,
      problem: `The login could not be completed: ${message.slice(0, 300)}. Check the client id and secret, and that the test redirect URI is registered in your IdP.`,
    };
  }
}

/** Clears the test cookie (it is good for one callback). */
export const clearTestCookie = (cookiePath: string, secure: boolean): string => cookieLine(TEST_COOKIE, '', cookiePath, 0, secure);
