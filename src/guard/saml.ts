/**
 * The guard behind SAML 2.0 logins (docs/saml.md). node-saml validates the response: the XML signature
 * (of the assertion, the response or both, as the connection requires) against the IdP's certificates,
 * a single assertion, the conditions' NotBefore/NotOnOrAfter with the connection's clock skew, the audience.
 * This file adds what node-saml leaves out: the issuer, the recipient and the destination must be the
 * connection's, the subject confirmation must be valid now and name the request, the response must answer a
 * login started in this browser within 10 minutes (its request ID is derived from a nonce and the start time
 * in the browser's cookie: nothing is stored when a login starts), and an assertion is taken once (its ID is
 * remembered in the store until its NotOnOrAfter, at most 20 minutes after its login started: replayWindowMs).
 * Then the guard runs, as for OIDC.
 *
 * The login step and the ACS are passport strategies (plain objects with `authenticate`), so the adapters
 * drive SAML logins exactly as OIDC ones.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { cookiePathOf, cookieValue, type LoginBrowser } from './login-browser.js';
import { ANONYMOUS_FAILURES_LOGGED, reportDecision, reportLoginFailure, type OnLoginRefused } from './login-report.js';
import { MAX_SAML_RESPONSE_CHARS, readSamlResponse, samlResponseOverBudget } from './saml-budget.js';
import { lookAtSamlSignatures } from './saml-signature-check.js';
import { affordableCerts } from '../saml/signing-key.js';
import { RateLimiter } from '../scim/rate-limit.js';
import { SAML, ValidateInResponseTo, type Profile } from '@node-saml/node-saml';
import { SsoLoginError } from '../errors.js';
import type { Emit } from '../events.js';
import { CACHE_LIMITS, Lru } from '../lru.js';
import { roleMappingOf, type RoleMapping } from '../roles/role-mapping.js';
import { isValidStoreId, type CustomerRecords, type Store, type StoredConnection, type SamlSignedPart, type StoredSamlConnection } from '../store/store.js';
import { MAX_SAML_CACHE_TTL_MS } from '../store/store-checks.js';
import { runGuard, strategyOf, type GuardResult, type GuardSettings } from './guard.js';
import { logOutQuietly } from './passport.js';
import { refusesThePerson, toLoginError } from './login-errors.js';
import { assertionProfile, attr, children, samlClaims, type XmlNode } from './saml-claims.js';

/** How long a login step's AuthnRequest may be answered (10 minutes): checked at the ACS, and the cookie's lifetime. */
export const SAML_REQUEST_TTL_MS = 10 * 60 * 1000;

/** The AuthnRequest IDs this app makes: `_` and 40 hex digits. Anything else in an InResponseTo was never issued. */
const REQUEST_ID = /^_[0-9a-f]{40}$/;
/**
 * A binding cookie's value as the login step makes it: a nonce (32 random bytes, base64url), `.`, the start
 * time (ms, base 36), and `.r` when the ACS started the login for an IdP-initiated response (SamlRuntime.restart).
 */
const BINDING = /^([A-Za-z0-9_-]{43})\.([0-9a-z]{1,11})(\.r)?$/;

/**
 * The AuthnRequest ID of a login started at `startedAt` (ms) with `nonce` for `customerId`: a digest of the
 * three. The ACS recomputes it from the browser's binding cookie, so a login start stores nothing (anyone may
 * start logins, and they cost no shared state), only the browser holding the nonce can answer the request,
 * and the start time cannot be altered: the IdP's signature covers the ID the response answers.
 */
export function requestIdFor(customerId: string, nonce: string, startedAt: number): string {
  return `_${createHash('sha256').update(`${customerId}\n${nonce}\n${startedAt}`).digest('hex').slice(0, 40)}`;
}

/** Hands node-saml the ID of the request being made (its instances are shared between login steps). */
const requestIdSource = new AsyncLocalStorage<string>();

function generateRequestId(): string {
  return requestIdSource.getStore() ?? `_${randomBytes(20).toString('hex')}`;
}

/** The cookie that carries a request's browser nonce: one per login started, so two tabs do not collide. */
const bindingCookie = (requestId: string) => `scimsso_saml${requestId}`;

/**
 * The binding cookie's Set-Cookie: HttpOnly, only sent to this connection's ACS path, for as long as the request
 * may be answered. Over https it is `SameSite=None; Secure`, so the IdP's cross-site POST carries it; over
 * http (local development only) it is `SameSite=Lax`, which a browser sends only when the IdP is same-site.
 */
export function bindingCookieHeader(acsUrl: string, requestId: string, value: string, maxAgeSeconds: number): string {
  const url = new URL(acsUrl);
  const site = url.protocol === 'https:' ? 'SameSite=None; Secure' : 'SameSite=Lax';
  return `${bindingCookie(requestId)}=${value}; Path=${cookiePathOf(url)}; Max-Age=${maxAgeSeconds}; HttpOnly; ${site}`;
}

/**
 * How recently the ACS may have started a login for an IdP-initiated response in a browser before it refuses
 * another such response there rather than start another (SamlRuntime.restart): 60 s, far more than an IdP
 * takes to answer a person already signed in.
 */
export const SAML_RESTART_GUARD_MS = 60_000;

/**
 * When the latest login the ACS started in this browser for `customerId` (for an IdP-initiated response,
 * SamlRuntime.restart) began (ms), from its binding cookies marked `.r` and well formed (their nonce and
 * start time derive the request ID in their name, as checkBrowser checks), or null. A login the person
 * started at the app does not count: a tile clicked after an abandoned login is still restarted. Bounded
 * as cookieValue is.
 */
export function latestRestart(customerId: string, header: string | undefined): number | null {
  if (typeof header !== 'string' || header.length > 16_384) return null;
  let latest: number | null = null;
  for (const part of header.split(';', 100)) {
    const eq = part.indexOf('=');
    const name = eq > 0 ? part.slice(0, eq).trim() : '';
    const requestId = name.startsWith(bindingCookie('')) ? name.slice(bindingCookie('').length) : '';
    const binding = REQUEST_ID.test(requestId) ? BINDING.exec(part.slice(eq + 1).trim()) : null;
    if (!binding?.[3]) continue;
    const startedAt = parseInt(binding[2]!, 36);
    if (requestIdFor(customerId, binding[1]!, startedAt) === requestId && (latest === null || startedAt > latest)) latest = startedAt;
  }
  return latest;
}

/** A customer's SAML connection with what the guard needs alongside it, read in one store round trip. */
export interface SamlCustomerConfig {
  saml: StoredSamlConnection;
  connection: StoredConnection | null;
  roleMapping: RoleMapping | null;
}

/** The guard's view of a SAML connection: SAML has no email_verified (a signed assertion vouches for its attributes). */
export const samlGuardSettings = (saml: StoredSamlConnection): GuardSettings => ({
  customerId: saml.customerId,
  matchingStrategy: saml.matchingStrategy,
  subjectClaim: 'sub',
  requireVerifiedEmail: false,
  protocol: 'saml',
});

/** Failed SAML logins a customer's activity log takes per second from one instance, and in a burst. */
export const SAML_FAILURES_LOGGED = ANONYMOUS_FAILURES_LOGGED;

const refused = (customerId: string, message: string, status = 400) =>
  new SsoLoginError('invalid_response', status, `the SAML response was refused: ${message}`, customerId);

/**
 * When node-saml refused a response whose signatures sit elsewhere than the connection's `signed` setting asks
 * (JumpCloud, Google and Entra can be set to sign the response only): which setting would take it, for the
 * refusal's message; '' otherwise. A hint only: the signature itself is checked all the same.
 */
export function signedPartHint(doc: Document, signed: SamlSignedPart): string {
  const root = doc.documentElement;
  if (!root) return '';
  const signedHere = (element: Element) => Array.from(element.childNodes).some((n) => n.nodeType === 1 && (n as Element).localName === 'Signature');
  const assertions = Array.from(root.childNodes).filter((n): n is Element => n.nodeType === 1 && (n as Element).localName === 'Assertion');
  const responseSigned = signedHere(root);
  const assertionsSigned = assertions.length > 0 && assertions.every(signedHere);
  if (signed !== 'response' && responseSigned && !assertionsSigned) {
    return " (the IdP signed the response, not the assertion: set the connection's signed to 'response', or have the IdP sign the assertion)";
  }
  if (signed !== 'assertion' && !responseSigned && assertionsSigned) {
    return " (the IdP signed the assertion, not the response: set the connection's signed to 'assertion', or have the IdP sign the response)";
  }
  return '';
}

/**
 * What the response envelope says, read from the response's XML as parsed before node-saml ran (the same
 * text node-saml checked): the request it answers and its Destination. node-saml's profile is not read for
 * them: it fills `inResponseTo` from an attribute of that name when the envelope has none.
 */
export interface Envelope {
  requestId: string | null;
  destination: string | null;
}

const envelopeOf = (doc: Document): Envelope => ({
  requestId: doc.documentElement?.getAttribute('InResponseTo') || null,
  destination: doc.documentElement?.getAttribute('Destination') || null,
});

/**
 * Checks node-saml leaves to the SP, on the SIGNED assertion it returns: issuer, recipient, destination, the
 * subject confirmation's request and validity times. Returns the assertion, its ID and how long to remember
 * it (until its NotOnOrAfter plus the clock skew).
 */
function checkAssertion(
  profile: Profile,
  saml: StoredSamlConnection,
  envelope: Envelope,
  nowMs: number,
): { assertion: XmlNode; assertionId: string; rememberMs: number } {
  const assertion = (profile.getAssertion?.() as { Assertion?: XmlNode } | undefined)?.Assertion;
  const id = attr(assertion, 'ID');
  if (!assertion || !id || !isValidStoreId(id)) throw refused(saml.customerId, 'the assertion has no usable ID');
  const issuer = children(assertion, 'Issuer')[0];
  const issuerValue = typeof issuer === 'string' ? issuer : issuer?._;
  if (issuerValue !== saml.idpEntityId) throw refused(saml.customerId, `the assertion's issuer is not the connection's IdP (${saml.idpEntityId})`);
  const confirmations = children(children(assertion, 'Subject')[0], 'SubjectConfirmation').flatMap((c) => children(c, 'SubjectConfirmationData'));
  if (confirmations.length === 0 || confirmations.some((data) => attr(data, 'Recipient') !== saml.acsUrl)) {
    throw refused(saml.customerId, `the assertion's recipient is not this connection's ACS URL`);
  }
  // When only the assertion is signed, the envelope's InResponseTo is anyone's to write: the signed
  // confirmation must name the same request (SAML 2.0 profiles §4.1.4.2), or an IdP-initiated assertion,
  // which names none, could be re-wrapped to answer a login someone else started.
  // An empty InResponseTo names no request, as envelopeOf reads the envelope's.
  if (saml.signed === 'assertion' && confirmations.some((data) => (attr(data, 'InResponseTo') || null) !== envelope.requestId)) {
    throw refused(saml.customerId, `the signed assertion's InResponseTo does not name the request the response answers`);
  }
  // The bearer confirmation's own window (often 5 minutes inside the conditions' hour): node-saml checks it
  // only beside a request cache, which scim-sso does not use (checkBrowser).
  const skewMs = saml.clockSkewSeconds * 1000;
  for (const data of confirmations) {
    const notBefore = attr(data, 'NotBefore');
    const notOnOrAfter = attr(data, 'NotOnOrAfter');
    if (notBefore !== null && !(Date.parse(notBefore) - skewMs <= nowMs))
      throw refused(saml.customerId, 'the subject confirmation is not yet valid (NotBefore)');
    if (notOnOrAfter !== null && !(nowMs < Date.parse(notOnOrAfter) + skewMs))
      throw refused(saml.customerId, 'the subject confirmation has expired (NotOnOrAfter)');
  }
  const { destination } = envelope;
  if (destination !== null && destination !== saml.acsUrl) throw refused(saml.customerId, `the response's destination is not this connection's ACS URL`);
  if (saml.signed !== 'assertion' && destination === null) throw refused(saml.customerId, 'the signed response has no Destination');
  const ends = [attr(children(assertion, 'Conditions')[0], 'NotOnOrAfter'), ...confirmations.map((d) => attr(d, 'NotOnOrAfter'))]
    .map((t) => (t ? Date.parse(t) : NaN))
    .filter((t) => Number.isFinite(t));
  // The assertion ID is remembered until the assertion expires, so replay is refused for as long as it could
  // be accepted: one without an expiry, or valid longer than the store remembers IDs, is refused.
  if (ends.length === 0) throw refused(saml.customerId, 'the assertion has no NotOnOrAfter (Conditions or SubjectConfirmationData)');
  const end = Math.max(...ends);
  const rememberMs = Math.max(1, Math.ceil(end - nowMs + saml.clockSkewSeconds * 1000));
  if (rememberMs > MAX_SAML_CACHE_TTL_MS) throw refused(saml.customerId, 'the assertion is valid for more than 24 hours');
  return { assertion, assertionId: id, rememberMs };
}

/**
 * How long an assertion ID must be remembered: until the assertion expires (rememberMs, from checkAssertion),
 * but no longer than any instance could still take a response to its login. checkBrowser refuses one more
 * than SAML_REQUEST_TTL_MS from the login's start by the instance's own clock; another SAML_REQUEST_TTL_MS
 * covers instances whose clocks differ (the same allowance checkBrowser makes). An IdP's 24-hour assertions
 * are kept 20 minutes, not 24 hours: a customer minting responses in a loop holds 72 times fewer entries.
 */
export function replayWindowMs(rememberMs: number, startedAt: number, nowMs: number): number {
  return Math.max(1, Math.min(rememberMs, startedAt + 2 * SAML_REQUEST_TTL_MS - nowMs));
}

/** The node-saml options for a connection (one instance per stored version and certificates checked with). */
function samlOptions(saml: StoredSamlConnection, idpCerts: readonly string[]): ConstructorParameters<typeof SAML>[0] {
  return {
    callbackUrl: saml.acsUrl,
    entryPoint: saml.entryPoint,
    issuer: saml.spEntityId,
    audience: saml.spEntityId,
    idpCert: [...idpCerts],
    idpIssuer: saml.idpEntityId,
    wantAssertionsSigned: saml.signed !== 'response',
    wantAuthnResponseSigned: saml.signed !== 'assertion',
    acceptedClockSkewMs: saml.clockSkewSeconds * 1000,
    // The request a response answers is checked here, from the browser's binding cookie (checkBrowser):
    // node-saml's request cache would store every login start.
    validateInResponseTo: ValidateInResponseTo.never,
    identifierFormat: null,
    disableRequestedAuthnContext: true,
    generateUniqueId: generateRequestId,
  };
}

/** A passport strategy's actions (passport sets them on the per-request object). */
interface StrategyActions {
  success(user: unknown): void;
  error(error: unknown): void;
  redirect(url: string): void;
}

/** Loads SAML connections' node-saml instances (bounded LRU per stored version) and runs the guarded ACS. */
export class SamlRuntime {
  private readonly instances: Lru<string, SAML>;
  private readonly failuresLogged: RateLimiter;

  constructor(
    readonly store: Store,
    readonly emit: Emit = () => {},
    readonly onLoginRefused?: OnLoginRefused,
  ) {
    this.instances = new Lru(CACHE_LIMITS.strategies);
    this.failuresLogged = new RateLimiter(SAML_FAILURES_LOGGED);
  }

  /**
   * The node-saml instance for exactly this stored version of the connection, checking signatures with
   * `idpCerts` (some of the connection's certificates: those that signed the response being checked).
   */
  saml(saml: StoredSamlConnection, idpCerts: readonly string[] = saml.idpCerts): SAML {
    const chosen = saml.idpCerts.map((cert) => (idpCerts.includes(cert) ? 1 : 0)).join('');
    const key = JSON.stringify([saml.customerId, saml.samlConnectionId, saml.updatedAt, chosen]);
    let found = this.instances.get(key);
    if (!found) {
      found = new SAML(samlOptions(saml, idpCerts));
      this.instances.set(key, found);
    }
    return found;
  }

  /** The SP metadata XML of a connection (entity ID, ACS URL, wants signed assertions). */
  metadata(saml: StoredSamlConnection): string {
    return this.saml(saml).generateServiceProviderMetadata(null, null);
  }

  /**
   * The IdP URL a login step redirects to. The AuthnRequest is bound to this browser without the store: a
   * random nonce goes into a cookie, and the request ID is derived from it (requestIdFor).
   */
  async loginUrl(saml: StoredSamlConnection, browser: LoginBrowser, restarted = false): Promise<string> {
    try {
      const nonce = randomBytes(32).toString('base64url');
      const startedAt = Date.now();
      const requestId = requestIdFor(saml.customerId, nonce, startedAt);
      const url = await requestIdSource.run(requestId, () => this.saml(saml).getAuthorizeUrlAsync('', undefined, {}));
      browser.setCookie(bindingCookieHeader(saml.acsUrl, requestId, `${nonce}.${startedAt.toString(36)}${restarted ? '.r' : ''}`, SAML_REQUEST_TTL_MS / 1000));
      return url;
    } catch (error) {
      throw toLoginError(error, saml.customerId) ?? error;
    }
  }

  /**
   * What the ACS does with a valid response that answers no request (an IdP-initiated login: Okta's and
   * Entra's dashboard tiles): it is never taken, since it could have been posted by anyone's page (login
   * CSRF) or replayed from anyone's browser; the browser is sent to start an SP-initiated login instead,
   * which the IdP, where the person is signed in, answers at once. A browser for which the ACS did so within
   * SAML_RESTART_GUARD_MS is refused instead: an IdP that answers the app's own request without naming it
   * would otherwise send the browser round and round.
   */
  private async restart(saml: StoredSamlConnection, browser: LoginBrowser, nowMs: number): Promise<{ restart: string }> {
    const started = latestRestart(saml.customerId, browser.cookieHeader);
    if (started !== null && Math.abs(nowMs - started) < SAML_RESTART_GUARD_MS) {
      throw refused(
        saml.customerId,
        `the response answers no request (an IdP-initiated login) although this app sent the IdP a request for it ${Math.round(Math.abs(nowMs - started) / 1000)} s ago: the IdP must answer the app's AuthnRequest with its InResponseTo; start the login from the app`,
      );
    }
    return { restart: await this.loginUrl(saml, browser, true) };
  }

  /**
   * Refuses a response that answers no login started in this browser for this customer within
   * SAML_REQUEST_TTL_MS (login CSRF, another customer's request, a stale one): the binding cookie's nonce
   * and start time must derive the request ID the response names. Clears the cookie; the assertion cache
   * makes each assertion count once whichever browser posts it. Answers when the login started.
   */
  private checkBrowser(saml: StoredSamlConnection, requestId: string, browser: LoginBrowser, nowMs: number): number {
    if (!REQUEST_ID.test(requestId)) {
      throw refused(saml.customerId, `the response's InResponseTo names no request of this app`);
    }
    const binding = BINDING.exec(cookieValue(browser.cookieHeader, bindingCookie(requestId)) ?? '');
    browser.setCookie(bindingCookieHeader(saml.acsUrl, requestId, '', 0));
    const startedAt = binding ? parseInt(binding[2]!, 36) : NaN;
    const derived = binding ? requestIdFor(saml.customerId, binding[1]!, startedAt) : null;
    if (derived === null || !timingSafeEqual(Buffer.from(derived), Buffer.from(requestId))) {
      throw refused(saml.customerId, `the response's InResponseTo does not name a login started in this browser for this customer`);
    }
    // Within 10 minutes either way: another instance's clock may run a little ahead of this one's.
    if (!(Math.abs(nowMs - startedAt) <= SAML_REQUEST_TTL_MS)) throw refused(saml.customerId, 'the login was started more than 10 minutes ago; start it again');
    return startedAt;
  }

  /**
   * Validates a posted SAMLResponse and runs the guard: the result, a login to start instead (`restart`, the
   * IdP's URL: an IdP-initiated response, see restart), or a thrown SsoLoginError / ScimUserNotActive.
   */
  async acs(config: SamlCustomerConfig, body: unknown, browser: LoginBrowser, req: object): Promise<GuardResult | { restart: string }> {
    const { saml } = config;
    const customerId = saml.customerId;
    const connectionId = config.connection?.connectionId ?? null;
    let result: GuardResult;
    try {
      const response = body && typeof body === 'object' && Object.hasOwn(body, 'SAMLResponse') ? (body as { SAMLResponse: unknown }).SAMLResponse : undefined;
      if (typeof response !== 'string' || response === '') throw refused(customerId, 'no SAMLResponse was posted');
      if (response.length > MAX_SAML_RESPONSE_CHARS) throw refused(customerId, `the SAMLResponse is larger than ${MAX_SAML_RESPONSE_CHARS} characters`, 413);
      if (!/^[A-Za-z0-9+/=\r\n]+$/.test(response)) throw refused(customerId, 'the SAMLResponse is not base64');
      const xml = Buffer.from(response, 'base64').toString('utf8');
      // SAML messages have no DTD; refusing one up front rules out entity expansion in any parser below.
      if (/<!DOCTYPE/i.test(xml)) throw refused(customerId, 'the SAMLResponse contains a DOCTYPE');
      // Parsing and signature lookups cost more than linear time in the number of nodes (src/guard/saml-budget.ts).
      const overBudget = samlResponseOverBudget(xml);
      if (overBudget) throw refused(customerId, overBudget, 413);
      const doc = readSamlResponse(xml);
      if (typeof doc === 'string') throw refused(customerId, doc);
      // Made-up signatures cost node-saml far more than a parse (src/guard/saml-signature-check.ts).
      const signatures = lookAtSamlSignatures(doc, affordableCerts(saml.idpCerts));
      if ('refused' in signatures) throw refused(customerId, signatures.refused);
      strategyOf(samlGuardSettings(saml));
      let profile: Profile | null;
      try {
        profile = (await this.saml(saml, signatures.certs).validatePostResponseAsync({ SAMLResponse: response })).profile;
      } catch (error) {
        if (toLoginError(error, customerId)?.status === 503) throw error;
        const message = error instanceof Error ? error.message.slice(0, 300) : 'invalid';
        throw refused(customerId, `${message}${signedPartHint(doc, saml.signed)}`);
      }
      if (!profile) throw refused(customerId, 'the response holds no assertion');
      const envelope = envelopeOf(doc);
      // One instant for every time check below, taken once the signature is checked.
      const nowMs = Date.now();
      const { assertion, assertionId, rememberMs } = checkAssertion(profile, saml, envelope, nowMs);
      if (envelope.requestId === null) return await this.restart(saml, browser, nowMs);
      const startedAt = this.checkBrowser(saml, envelope.requestId, browser, nowMs);
      const claims = samlClaims(assertionProfile(assertion, saml.idpEntityId), saml);
      if (typeof claims.sub !== 'string') throw new SsoLoginError('missing_claim', 401, 'the SAML assertion has no usable NameID', customerId);
      if (!(await this.store.rememberSamlAssertion(customerId, assertionId, replayWindowMs(rememberMs, startedAt, nowMs)))) {
        throw refused(customerId, 'the assertion was already used (replay)');
      }
      result = await runGuard(this.store, { client: samlGuardSettings(saml), connection: config.connection, roleMapping: config.roleMapping }, claims, {});
    } catch (error) {
      // The ACS is public: anyone may post junk to it. Failures go to the audit trail, but the customer's
      // activity log (100 entries) takes them only a few at a time, so junk cannot push out real refusals.
      const toActivityLog = this.failuresLogged.take(customerId) === 0;
      if (refusesThePerson(error)) await logOutQuietly(req);
      throw reportLoginFailure(toActivityLog ? this : { emit: this.emit }, customerId, connectionId, error);
    }
    const refusedLogin = reportDecision(this, customerId, connectionId, result);
    if (refusedLogin) {
      await logOutQuietly(req);
      throw refusedLogin;
    }
    return result;
  }

  /** The passport strategy of one login step: 'login' redirects to the IdP, 'acs' takes `body`'s SAMLResponse. */
  strategy(config: SamlCustomerConfig, step: 'login' | 'acs', browser: LoginBrowser, body?: unknown): object {
    const run = (req: object): Promise<{ redirect: string } | { user: unknown }> =>
      step === 'login'
        ? this.loginUrl(config.saml, browser).then((redirect) => ({ redirect }))
        : this.acs(config, body, browser, req).then((r) =>
            Object.hasOwn(r, 'restart') ? { redirect: (r as { restart: string }).restart } : { user: (r as GuardResult).sessionUser },
          );
    return {
      name: `scim-sso-saml:${config.saml.customerId}`,
      authenticate(this: StrategyActions, req: object) {
        run(req).then(
          (done) => ('redirect' in done ? this.redirect(done.redirect) : this.success(done.user)),
          (error: unknown) => this.error(error),
        );
      },
    };
  }
}

const runtimes = new WeakMap<object, SamlRuntime>();

/** The SAML runtime paired with an instance's OIDC runtime (one per scimSso instance, same store and events). */
export function samlRuntimeFor(owner: { store: Store; emit: Emit; options: { onLoginRefused?: OnLoginRefused } }): SamlRuntime {
  let found = runtimes.get(owner);
  if (!found) runtimes.set(owner, (found = new SamlRuntime(owner.store, owner.emit, owner.options.onLoginRefused)));
  return found;
}

/** A customer's SAML configuration from what Store.getCustomer answered, or null when it has no SAML connection. */
export function samlConfigOf(records: CustomerRecords): SamlCustomerConfig | null {
  if (!records.saml) return null;
  return { saml: records.saml, connection: records.connection, roleMapping: roleMappingOf(records.roleMapping) };
}
