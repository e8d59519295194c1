/**
 * The guard inside passport + openid-client. A per-customer openid-client Strategy whose verify step runs
 * the guard after the tokens are validated and before passport logs the user in (docs/oidc-and-passport.md §The openid-client Strategy).
 *
 * Freshness (docs/login-freshness.md): both login steps read the customer's OIDC client from the store, and
 * the strategy that runs is the one built for exactly that stored version (cached per `oidcClientId` and
 * `updatedAt`, never invalidated by "this instance made the change"). The login step binds its `state` to
 * the client's issuer, client id and redirect URI; a callback whose login began under other values is
 * refused as `invalid_response`. Every cache here is a bounded LRU (src/lru.ts).
 */
import { templatedIssuerProblem } from './entra-tenant.js';
import { DISCOVERY_ADDRESS_PROBLEM, isDiscoveryAddress } from './discovery-address.js';
import { idpFetch } from './idp-fetch.js';
import { discoveryMetadataFetch } from './discovery-document.js';
import { ANONYMOUS_FAILURES_LOGGED, reportDecision, reportLoginFailure, type OnLoginRefused } from './login-report.js';
import { createHash } from 'node:crypto';
import * as oidc from 'openid-client';
import { Strategy, type StrategyOptionsWithRequest, type VerifyFunctionWithRequest } from 'openid-client/passport';
import { ScimSsoConfigError, SsoLoginError } from '../errors.js';
import { CACHE_LIMITS, Lru } from '../lru.js';
import { roleMappingOf } from '../roles/role-mapping.js';
import type { CustomerRecords, Store, StoredOidcClient } from '../store/store.js';
import { matchPolicyOf, runGuard, strategyOf, type CustomerConfig, type GuardResult } from './guard.js';
import type { AppVerify, GuardVerify, LoginRequest, OidcLoginStrategy, PassportDone, SessionUser } from './contract.js';
import { mergeClaims, missingClaims, neededClaims, tokenOriginProblem, withoutDeepClaims, type Claims } from './identity.js';
import { refusesThePerson, toLoginError } from './login-errors.js';
import { RateLimiter } from '../scim/rate-limit.js';
import { storedClientProblem } from './tenant-claims.js';
import type { Emit } from '../events.js';
import { targetPath } from '../url-segment.js';
import { browserOfRequest, cookieValue, type LoginBrowser } from './login-browser.js';
import {
  decodeOidcLogins,
  encodeOidcLogins,
  OIDC_LOGIN_TTL_MS,
  oidcLoginCookieHeader,
  oidcLoginCookieName,
  PENDING_LOGINS,
  type OidcLoginState,
  type PendingLogin,
} from './oidc-login-cookie.js';

type Tokens = Parameters<VerifyFunctionWithRequest>[1];
/** The request type openid-client's Strategy methods take (passport's). */
type StrategyRequest = Parameters<Strategy['authorizationRequestParams']>[0];

export type { AppVerify } from './contract.js';

/** Strategy names and session keys are per customer: issuers sharing a host must not collide (docs/oidc-and-passport.md §The openid-client Strategy). */
export const strategyName = (customerId: string) => `scim-sso:${customerId}`;

/**
 * What an authorization request depends on: the client record (a deleted and re-created client is another
 * one), its issuer, client id and redirect URI. A login started under one binding cannot be completed under
 * another. The secret, scopes and matching settings are not part of it: they may change mid-login and the
 * callback then uses the new ones. Pure.
 */
export function clientBinding(client: Pick<StoredOidcClient, 'oidcClientId' | 'issuer' | 'clientId' | 'redirectUri'>): string {
  return createHash('sha256')
    .update(JSON.stringify(['scim-sso.binding.v1', client.oidcClientId, client.issuer, client.clientId, client.redirectUri]))
    .digest('base64url')
    .slice(0, 22);
}

/** The binding a `state` made by StateNonceStrategy carries (`<random>.<binding>`), or null. Pure. */
export function bindingOfState(state: unknown): string | null {
  if (typeof state !== 'string') return null;
  const dot = state.lastIndexOf('.');
  return dot === -1 ? null : state.slice(dot + 1);
}

type SessionHolder = { session?: Record<string, unknown> };
type StrategyActions = { error(error: unknown): void; redirect(url: string, status?: number): void };

/**
 * openid-client's Strategy, sending `state` and `nonce` as well as PKCE (by default it sends only PKCE).
 * With a `binding` (clientBinding), the state carries it, and a callback whose saved state was made under
 * another binding is refused before any token request. Where the request lets a Set-Cookie reach the
 * browser (Express, Koa), the login state travels in a cookie instead of the session
 * (src/guard/oidc-login-cookie.ts).
 */
export class StateNonceStrategy extends Strategy {
  // Plain properties, not #private ones: passport runs each request on Object.create(strategy), which
  // inherits properties but cannot read the original's #private fields.
  protected readonly stateSessionKey: string | undefined;
  protected readonly binding: string | undefined;
  protected readonly boundCustomerId: string | null;
  protected readonly callbackUri: string | undefined;

  constructor(options: StrategyOptionsWithRequest, verify: VerifyFunctionWithRequest, bound?: { binding: string; customerId: string }) {
    super(options, verify);
    this.stateSessionKey = options.sessionKey;
    this.binding = bound?.binding;
    this.boundCustomerId = bound?.customerId ?? null;
    this.callbackUri = options.callbackURL === undefined ? undefined : String(options.callbackURL);
  }

  /**
   * This strategy for a login step: it starts a login whatever the query holds. openid-client finishes a
   * login at any URL whose query carries `code`, `error` or `response`, which at the login step would skip
   * what the callback route does (its redirect, its error answers, dropping the previous session's data).
   */
  startingOnly(): StateNonceStrategy {
    return Object.create(this, { shouldInitiateAuthRequest: { value: () => true } }) as StateNonceStrategy;
  }

  /**
   * openid-client's URL of the request (protocol, host, then `originalUrl`), from the path of an
   * absolute-form request target (`GET http://host/sso/acme/login`): prefixed with the origin as it was, it
   * made no URL, and the login routes answered 500.
   */
  override currentUrl(req: StrategyRequest): URL {
    const original = req as StrategyRequest & { originalUrl?: string };
    const target = targetPath(original.originalUrl ?? req.url ?? '/');
    // Defined, not assigned: Fastify's request has `originalUrl` and `url` as getters only, and assigning
    // them threw (a 500 at every login step; audit 26).
    return super.currentUrl(Object.create(req, { originalUrl: { value: target }, url: { value: target } }) as StrategyRequest);
  }

  override authorizationRequestParams<T extends Parameters<Strategy['authorizationRequestParams']>[1]>(req: StrategyRequest, options: T) {
    const params = new URLSearchParams(super.authorizationRequestParams(req, options) ?? undefined);
    params.set('state', this.binding ? `${oidc.randomState()}.${this.binding}` : oidc.randomState());
    params.set('nonce', oidc.randomNonce());
    return params;
  }

  override authenticate<T extends Parameters<Strategy['authenticate']>[1]>(
    this: ThisParameterType<Strategy['authenticate']>,
    req: StrategyRequest,
    options: T,
  ): void {
    const self = this as unknown as StateNonceStrategy & StrategyActions;
    // openid-client's own errors (a tampered state, an IdP error, a refused code) reach the app as the
    // documented SsoLoginError, whatever framework drives the strategy: only authRoutes mapped them before.
    if (typeof self.error === 'function') {
      const reportError = self.error.bind(self);
      self.error = (error: unknown) => reportError(toLoginError(error, self.boundCustomerId) ?? error);
    }
    const session = (req as unknown as SessionHolder).session;
    const key = self.stateSessionKey;
    const url = self.currentUrl(req);
    const initiating = self.shouldInitiateAuthRequest(req, url, options);
    const browser = browserOfRequest(req);
    // The redirect URI the IdP returns to (openid-client's choice too): the cookie's Path is its folder.
    const redirectUri = String((options as { callbackURL?: unknown }).callbackURL ?? self.callbackUri ?? '');
    if (session && key && browser && URL.canParse(redirectUri)) self.keepLoginInCookie(session, key, browser, url, redirectUri, initiating);
    if (self.binding && key && session && !initiating) {
      const saved = session[key] as { code_verifier?: unknown; state?: unknown } | undefined;
      // No saved state at all is openid-client's own failure ("Unable to verify authorization request state").
      if (saved?.code_verifier && bindingOfState(saved.state) !== self.binding) {
        delete session[key];
        return self.error(
          new SsoLoginError(
            'invalid_response',
            400,
            "the login was started under another configuration of the customer's OIDC client (issuer, client id or redirect URI changed); start again",
            self.boundCustomerId,
          ),
        );
      }
    }
    return Strategy.prototype.authenticate.call(this, req, options);
  }

  /**
   * With a browser to set cookies on, the session only passes the login state between openid-client and the
   * cookie, in the same tick. At the start the state leaves the session for the cookie before the redirect
   * (or is dropped when the start fails). At the callback the login the returned `state` names is taken out
   * of the cookie (each login is good for one callback) and put in the session just before openid-client
   * takes it. The session is left as it was, so a session middleware saves nothing for a login start. A
   * callback whose login is not in the cookie uses what the session holds (a login started where no cookie
   * could be set, or before an upgrade).
   */
  private keepLoginInCookie(session: Record<string, unknown>, key: string, browser: LoginBrowser, url: URL, redirectUri: string, initiating: boolean): void {
    const self = this as unknown as StateNonceStrategy & StrategyActions;
    const value = cookieValue(browser.cookieHeader, oidcLoginCookieName(key));
    const write = (pending: PendingLogin[]) =>
      browser.setCookie(
        pending.length
          ? oidcLoginCookieHeader(key, redirectUri, encodeOidcLogins(pending), OIDC_LOGIN_TTL_MS / 1000)
          : oidcLoginCookieHeader(key, redirectUri, '', 0),
      );
    if (initiating) {
      const [redirect, fail] = [self.redirect.bind(self), self.error.bind(self)];
      self.redirect = (location, status) => {
        const login = session[key] as OidcLoginState | undefined;
        delete session[key];
        if (login?.code_verifier) {
          const now = Date.now();
          write([{ login, startedAt: now }, ...decodeOidcLogins(value, now).slice(0, PENDING_LOGINS - 1)]);
        }
        redirect(location, status);
      };
      self.error = (error) => {
        delete session[key];
        fail(error);
      };
      return;
    }
    if (value === null) return;
    const pending = decodeOidcLogins(value, Date.now());
    const returned = url.searchParams.get('state');
    const taken = pending.find(({ login }) => login.state === returned);
    if (!taken) return;
    write(pending.filter((entry) => entry !== taken));
    session[key] = taken.login;
  }
}

export interface LoginRuntimeOptions {
  /** Allow `http://` issuers: for tests and local demo IdPs only. */
  allowHttpIssuers: boolean;
  /** Let requests to IdPs reach loopback and private addresses (src/net/outbound-fetch.ts). Default: allowHttpIssuers. */
  allowPrivateIdpAddresses?: boolean;
  /** `Retry-After` seconds of a login 503 (the store or the IdP is unreachable). */
  retryAfterSeconds: number;
  /** The instance default for clients whose `requireVerifiedEmail` is null (identity.ts). */
  requireVerifiedEmail?: boolean;
  /** Smaller cache capacities (tests of the bounds); default CACHE_LIMITS. */
  cacheLimits?: { discoveries?: number; strategies?: number };
  /** Told of every refused or failed login, OIDC or SAML (the activity log, src/activity/recorder.ts). */
  onLoginRefused?: OnLoginRefused;
}

/** The node request under an Express request or a koa-passport mock request (whose Koa context is `req.ctx`). */
const requestKey = (req: object): object => (req as { ctx?: { req?: object } }).ctx?.req ?? req;

/**
 * The configuration error behind a discovery whose document names another issuer than the one configured
 * (openid-client: OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED on `issuer`), e.g. an Okta issuer copied with a
 * trailing slash: every login of the customer fails until the issuer is fixed, so the message says how.
 */
function issuerMismatch(error: unknown, client: StoredOidcClient): SsoLoginError | null {
  const details = (error as { code?: string; cause?: { attribute?: unknown; body?: { issuer?: unknown } } } | null) ?? {};
  if (details.code !== 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED' || details.cause?.attribute !== 'issuer') return null;
  const declared = String(details.cause.body?.issuer ?? '').slice(0, 300);
  // A `{tenantid}` template is no issuer to enter: the configured one is a multi-tenant endpoint.
  const templated = templatedIssuerProblem(declared, client.issuer);
  if (templated) return new SsoLoginError('idp_error', 400, templated, client.customerId, { cause: error });
  return new SsoLoginError(
    'idp_error',
    400,
    `the identity provider declares the issuer "${declared}", not the configured "${client.issuer}": set the customer's OIDC issuer to exactly what the IdP declares (a trailing slash counts)`,
    client.customerId,
    { cause: error },
  );
}

/** Loads what logins need (customer configuration, IdP discovery, strategies) and keeps bounded caches of it. */
export class LoginRuntime {
  /**
   * openid-client Configurations, one per customer, for the issuer, client id and secret it was made for
   * (`fingerprint`): a customer whose settings change replaces its entry, so no customer holds more than one.
   */
  private readonly discoveries: Lru<string, { fingerprint: string; configuration: Promise<oidc.Configuration> }>;
  /** Strategies, one per customer, for the stored client version it was built for (`oidcClientId`, `updatedAt`). */
  private readonly strategies: Lru<string, { version: string; strategy: StateNonceStrategy }>;
  /** The configuration a login route read for this request, handed to the verify step (no second read). */
  private readonly readForRequest = new WeakMap<object, CustomerConfig>();
  private readonly outsidersLogged = new RateLimiter(ANONYMOUS_FAILURES_LOGGED);

  constructor(
    readonly store: Store,
    readonly options: LoginRuntimeOptions,
    readonly emit: Emit = () => {},
  ) {
    this.discoveries = new Lru(options.cacheLimits?.discoveries ?? CACHE_LIMITS.discoveries);
    this.strategies = new Lru(options.cacheLimits?.strategies ?? CACHE_LIMITS.strategies);
  }

  /** How many entries the caches hold (tests check the bounds). */
  get cacheSizes(): { discoveries: number; strategies: number } {
    return { discoveries: this.discoveries.size, strategies: this.strategies.size };
  }

  /**
   * Reads the customer's OIDC client, SCIM connection and role mapping afresh, in one store round trip. Both login steps
   * do this, so a client, connection, strategy or deprovisioning change made through any instance applies
   * to the very next login step.
   */
  async load(customerId: string): Promise<CustomerConfig> {
    return this.configOf(customerId, await this.readCustomer(customerId));
  }

  /** The customer's records (SCIM connection, OIDC client or SAML connection, role mapping) in one round trip. */
  async readCustomer(customerId: string): Promise<CustomerRecords> {
    try {
      return await this.store.getCustomer(customerId);
    } catch (error) {
      throw toLoginError(error, customerId) ?? error;
    }
  }

  /** The OIDC configuration in a customer's records; a customer without an OIDC client is a 404. */
  configOf(customerId: string, customer: CustomerRecords): CustomerConfig {
    if (!customer.client) throw new SsoLoginError('unknown_customer', 404, `customer "${customerId}" has no OIDC client`, customerId);
    // An unknown stored strategy refuses both login steps (before the IdP is involved), not a fallback.
    strategyOf(customer.client);
    // So do settings refused since the client was stored (src/guard/tenant-claims.ts storedClientProblem).
    const refused = storedClientProblem(customer.client);
    if (refused) {
      throw new SsoLoginError(
        'unsupported_strategy',
        503,
        `the OIDC client of customer "${customerId}" is refused: ${refused}; every login is refused until updateOidcClient fixes it`,
        customerId,
      );
    }
    return { client: customer.client, connection: customer.connection, roleMapping: roleMappingOf(customer.roleMapping) };
  }

  /** openid-client's configuration for a client, from cached discovery. */
  configuration(client: StoredOidcClient): Promise<oidc.Configuration> {
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([client.issuer, client.clientId, client.clientSecret]))
      .digest('base64url');
    const cached = this.discoveries.get(client.customerId);
    let pending = cached?.fingerprint === fingerprint ? cached.configuration : undefined;
    if (!pending) {
      // openid-client skips its issuer comparison for an address holding /.well-known/ (it takes it for the
      // discovery document's own URL): the configured issuer must be the one the IdP declares.
      if (isDiscoveryAddress(client.issuer)) {
        return Promise.reject(new SsoLoginError('idp_error', 400, DISCOVERY_ADDRESS_PROBLEM, client.customerId));
      }
      const insecure = client.issuer.startsWith('http:');
      if (insecure && !this.options.allowHttpIssuers) {
        return Promise.reject(
          new SsoLoginError('idp_error', 400, `issuer ${client.issuer} is not https (set allowHttpIssuers only for local testing)`, client.customerId),
        );
      }
      const started = oidc
        .discovery(new URL(client.issuer), client.clientId, client.clientSecret ?? undefined, client.clientSecret ? undefined : oidc.None(), {
          ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}),
          // Discovery, JWKS, token and userinfo requests: public addresses only (src/net/outbound-fetch.ts).
          // The discovery document reaches openid-client as its metadata only (src/guard/discovery-document.ts).
          [oidc.customFetch]: discoveryMetadataFetch(idpFetch(this.options.allowPrivateIdpAddresses ?? this.options.allowHttpIssuers), client.customerId),
        })
        .then((configuration) => {
          // A `{tenantid}` issuer (Entra's multi-tenant endpoints) admits every tenant (src/guard/entra-tenant.ts).
          const problem = templatedIssuerProblem(configuration.serverMetadata().issuer, client.issuer);
          if (problem) throw new SsoLoginError('idp_error', 400, problem, client.customerId);
          return configuration;
        });
      pending = started;
      const entry = { fingerprint, configuration: started };
      this.discoveries.set(client.customerId, entry);
      // A failed discovery is not cached: the next login retries.
      started.catch(() => this.discoveries.deleteIf(client.customerId, entry));
    }
    return pending.catch((error: unknown) => {
      // Anything else discovery threw (openid-client rethrows a TypeError for an issuer that is no URL) is a
      // document the guard cannot use: the IdP's fault, never a 500.
      throw (
        issuerMismatch(error, client) ??
        toLoginError(error, client.customerId) ??
        new SsoLoginError('idp_error', 400, "the identity provider's discovery document could not be used", client.customerId, { cause: error })
      );
    });
  }

  /**
   * The login routes' strategy for a configuration just read from the store: the one built for exactly this
   * stored client version, with the state bound to it. `req` (the callback's request) receives the
   * configuration so the guard does not read it a second time.
   */
  async routeStrategy(config: CustomerConfig, req?: object): Promise<StateNonceStrategy> {
    const { client } = config;
    if (req) this.readForRequest.set(requestKey(req), config);
    const version = JSON.stringify([client.oidcClientId, client.updatedAt]);
    const cached = this.strategies.get(client.customerId);
    if (cached?.version === version) return cached.strategy;
    const strategy = await this.build(client, this.guardVerify(client.customerId));
    this.strategies.set(client.customerId, { version, strategy });
    return strategy;
  }

  private async build(client: StoredOidcClient, verify: VerifyFunctionWithRequest): Promise<StateNonceStrategy> {
    const name = strategyName(client.customerId);
    return new StateNonceStrategy(
      {
        config: await this.configuration(client),
        name,
        sessionKey: name,
        callbackURL: client.redirectUri,
        scope: client.scopes.join(' '),
        passReqToCallback: true,
      },
      verify,
      { binding: clientBinding(client), customerId: client.customerId },
    );
  }

  /**
   * The claims the guard matches on: ID token claims, plus userinfo when configured or when a needed claim is
   * missing. Refuses an ID token that the customer's client as stored now did not receive (tokenOriginProblem).
   */
  async claims(client: StoredOidcClient, tokens: Tokens): Promise<Claims> {
    const fromToken = withoutDeepClaims((tokens.claims() ?? {}) as Claims);
    // The issuer as configured decides without a fetch; the one discovery names, from the cached
    // configuration, only when the token names another (openid-client lets Microsoft's hosts declare another
    // issuer than the one configured; elsewhere the two are equal and this second look finds nothing new).
    let origin = tokenOriginProblem(fromToken, [client.issuer], client.clientId);
    if (origin) origin = tokenOriginProblem(fromToken, [client.issuer, (await this.configuration(client)).serverMetadata().issuer], client.clientId);
    if (origin) throw new SsoLoginError('invalid_response', 400, origin, client.customerId);
    const strategy = strategyOf(client);
    const missing = client.claimsSource === 'auto' ? missingClaims(fromToken, neededClaims(strategy, client.subjectClaim)) : [];
    const wantUserinfo = client.claimsSource === 'userinfo' || missing.length > 0;
    if (!wantUserinfo || typeof fromToken.sub !== 'string') return fromToken;
    const userinfo = withoutDeepClaims((await oidc.fetchUserInfo(await this.configuration(client), tokens.access_token, fromToken.sub)) as Claims);
    return mergeClaims(fromToken, userinfo, client.claimsSource === 'userinfo', missing, client.subjectClaim, Object.keys(client.requiredClaims ?? {}));
  }

  /** A verify function (passReqToCallback form) that runs the guard, then the app's verify or the default session user. */
  guardVerify(customerId: string, appVerify?: AppVerify<never>): VerifyFunctionWithRequest {
    return async (req, tokens, verified) => {
      let result: GuardResult;
      let connectionId: string | null = null;
      try {
        const handed = this.readForRequest.get(requestKey(req));
        if (handed) this.readForRequest.delete(requestKey(req));
        const config = handed?.client.customerId === customerId ? handed : await this.load(customerId);
        connectionId = config.connection?.connectionId ?? null;
        const policy = matchPolicyOf(config.client, this.options.requireVerifiedEmail);
        result = await runGuard(this.store, config, await this.claims(config.client, tokens), policy);
      } catch (error) {
        // Logins of outsiders (any account of a shared issuer) reach the activity log a few at a time.
        const outsider = error instanceof SsoLoginError && error.code === 'outside_tenant' && this.outsidersLogged.take(customerId) !== 0;
        const reporters = outsider ? { emit: this.emit } : { emit: this.emit, onLoginRefused: this.options.onLoginRefused };
        if (refusesThePerson(error)) await logOutQuietly(req);
        return verified(reportLoginFailure(reporters, customerId, connectionId, error));
      }
      const refused = reportDecision({ emit: this.emit, onLoginRefused: this.options.onLoginRefused }, customerId, connectionId, result);
      if (refused) {
        await logOutQuietly(req);
        return verified(refused);
      }
      if (appVerify) return (appVerify as AppVerify<object>)(req, tokens, result, keepingContract(result, verified as PassportDone));
      return verified(null, result.sessionUser);
    };
  }

  /**
   * A ready Strategy for the customer as its OIDC client is stored now (discovery cached, PKCE + state +
   * nonce bound to the client, the guard inside). An app that registers it must build it again when the
   * client changes; authRoutes does that by itself.
   */
  async strategy(customerId: string, appVerify?: AppVerify<never>): Promise<Strategy> {
    const { client } = await this.load(customerId);
    return this.build(client, this.guardVerify(customerId, appVerify));
  }
}

/**
 * The `verified` an app's verify receives: a user that does not carry the guard's customerId, connectionId
 * and scimUserId (src/guard/contract.ts SessionUser) fails the login with a ScimSsoConfigError (the app's
 * bug, answered by its error handler) instead of being logged in and then refused on every request.
 */
function keepingContract(result: GuardResult, done: PassportDone): PassportDone {
  return (error, user, info) => {
    if (error || !user) return done(error, user, info);
    const u = user as Partial<Record<keyof SessionUser, unknown>>;
    const s = result.sessionUser;
    if (u.customerId !== s.customerId || (u.connectionId ?? null) !== s.connectionId || (u.scimUserId ?? null) !== s.scimUserId) {
      return done(
        new ScimSsoConfigError(
          'invalid_argument',
          `verify: the user passed to verified() must keep customerId, connectionId and scimUserId of result.sessionUser (spread result.sessionUser into it); customer "${s.customerId}"`,
        ),
      );
    }
    return done(null, user, info);
  };
}

/** The public (framework-neutral) form of a runtime's guard verify. */
export const asGuardVerify = (verify: VerifyFunctionWithRequest): GuardVerify => verify as unknown as GuardVerify;
/** The public (framework-neutral) form of a runtime's Strategy. */
export const asLoginStrategy = (strategy: Strategy): OidcLoginStrategy => strategy as unknown as OidcLoginStrategy;

/** A refused login must not leave a session the browser already had (docs/oidc-and-passport.md §The openid-client Strategy). */
export async function logOutQuietly(req: LoginRequest | object): Promise<void> {
  const r = req as { isAuthenticated?: () => boolean; logout?: (done: (err?: unknown) => void) => unknown };
  if (typeof r.logout !== 'function' || !r.isAuthenticated?.()) return;
  // passport's logout calls back; @fastify/passport's returns a promise and never calls back (it hung).
  await new Promise<void>((resolve) => {
    const returned = r.logout!(() => resolve());
    if (returned instanceof Promise)
      returned.then(
        () => resolve(),
        () => resolve(),
      );
  });
}
