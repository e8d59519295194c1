/**
 * The guard inside passport + openid-client. A per-customer openid-client Strategy whose verify step runs
 * the guard after the tokens are validated and before passport logs the user in (oidc-passport.md).
 * Discovery is cached per issuer and client; each customer's configuration is re-read at every login start,
 * so changes to an OIDC client apply from the next login, on every app instance.
 */
import * as oidc from 'openid-client';
import { Strategy, type VerifyFunctionWithRequest } from 'openid-client/passport';
import type { Request } from 'express';
import { SsoLoginError } from '../errors.js';
import { isMatchingStrategy } from '../match/strategies.js';
import type { Store, StoredOidcClient } from '../store/store.js';
import { refusal, runGuard, type CustomerConfig, type GuardResult } from './guard.js';
import { missingClaims, neededClaims, type Claims } from './identity.js';
import { toLoginError } from './login-errors.js';
import type { Emit } from '../events.js';

type Tokens = Parameters<VerifyFunctionWithRequest>[1];
type Verified = Parameters<VerifyFunctionWithRequest>[2];

/** The app's own verify, called after an admitted login with the guard's result. */
export type AppVerify = (req: Request, tokens: Tokens, result: GuardResult, verified: Verified) => void;

/** Strategy names and session keys are per customer: issuers sharing a host must not collide (oidc-passport.md). */
export const strategyName = (customerId: string) => `scim-sso:${customerId}`;

/** openid-client's Strategy, sending `state` and `nonce` as well as PKCE (by default it sends only PKCE). */
export class StateNonceStrategy extends Strategy {
  override authorizationRequestParams<T extends Parameters<Strategy['authorizationRequestParams']>[1]>(req: Request, options: T) {
    const params = new URLSearchParams(super.authorizationRequestParams(req, options) ?? undefined);
    params.set('state', oidc.randomState());
    params.set('nonce', oidc.randomNonce());
    return params;
  }
}

export interface OidcRuntimeOptions {
  /** Allow `http://` issuers: for tests and local demo IdPs only. */
  allowHttpIssuers: boolean;
  /** `Retry-After` seconds of a login 503 (the store or the IdP is unreachable). */
  retryAfterSeconds: number;
}

/** Loads and caches what logins need: customer configuration, IdP discovery, strategies. */
export class OidcRuntime {
  private readonly discoveries = new Map<string, Promise<oidc.Configuration>>();
  private readonly customers = new Map<string, CustomerConfig>();

  constructor(
    readonly store: Store,
    readonly options: OidcRuntimeOptions,
    readonly emit: Emit = () => {},
  ) {}

  /**
   * Reads the customer's OIDC client and SCIM connection afresh, in one store round trip. The guard does
   * this at every callback, so a connection, strategy or deprovisioning change made through any instance
   * applies to the very next login.
   */
  async load(customerId: string): Promise<CustomerConfig> {
    let customer;
    try {
      customer = await this.store.getCustomer(customerId);
    } catch (error) {
      throw toLoginError(error, customerId) ?? error;
    }
    if (!customer.client) throw new SsoLoginError('unknown_customer', 404, `customer "${customerId}" has no OIDC client`, customerId);
    const config = { client: customer.client, connection: customer.connection };
    this.customers.set(customerId, config);
    return config;
  }

  /** The configuration this instance read last (for building strategies), or a fresh read. */
  async current(customerId: string): Promise<CustomerConfig> {
    return this.customers.get(customerId) ?? this.load(customerId);
  }

  forget(customerId: string): void {
    this.customers.delete(customerId);
  }

  /** openid-client's configuration for a client, from cached discovery. */
  configuration(client: StoredOidcClient): Promise<oidc.Configuration> {
    const key = JSON.stringify([client.issuer, client.clientId, client.clientSecret]);
    let pending = this.discoveries.get(key);
    if (!pending) {
      const insecure = client.issuer.startsWith('http:');
      if (insecure && !this.options.allowHttpIssuers) {
        return Promise.reject(new SsoLoginError('idp_error', 400, `issuer ${client.issuer} is not https (set allowHttpIssuers only for local testing)`, client.customerId));
      }
      pending = oidc.discovery(new URL(client.issuer), client.clientId, client.clientSecret ?? undefined, client.clientSecret ? undefined : oidc.None(), {
        ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}),
      });
      this.discoveries.set(key, pending);
      // A failed discovery is not cached: the next login retries.
      pending.catch(() => this.discoveries.delete(key));
    }
    return pending.catch((error: unknown) => {
      throw toLoginError(error, client.customerId) ?? error;
    });
  }

  /** The claims the guard matches on: ID token claims, plus userinfo when configured or when a needed claim is missing. */
  async claims(client: StoredOidcClient, tokens: Tokens): Promise<Claims> {
    const fromToken = (tokens.claims() ?? {}) as Claims;
    const strategy = isMatchingStrategy(client.matchingStrategy) ? client.matchingStrategy : 'OidcEmailToScimUsername';
    const wantUserinfo =
      client.claimsSource === 'userinfo' ||
      (client.claimsSource === 'auto' && missingClaims(fromToken, neededClaims(strategy, client.subjectClaim)).length > 0);
    if (!wantUserinfo || typeof fromToken.sub !== 'string') return fromToken;
    const userinfo = (await oidc.fetchUserInfo(await this.configuration(client), tokens.access_token, fromToken.sub)) as Claims;
    // The validated ID token wins over userinfo for claims both carry, except when userinfo is the configured source.
    return client.claimsSource === 'userinfo' ? { ...fromToken, ...userinfo } : { ...userinfo, ...fromToken };
  }

  /** A verify function (passReqToCallback form) that runs the guard, then the app's verify or the default session user. */
  guardVerify(customerId: string, appVerify?: AppVerify): VerifyFunctionWithRequest {
    return async (req, tokens, verified) => {
      let result: GuardResult;
      let connectionId: string | null = null;
      try {
        const config = await this.load(customerId);
        connectionId = config.connection?.connectionId ?? null;
        result = await runGuard(this.store, config, await this.claims(config.client, tokens));
      } catch (error) {
        const mapped = toLoginError(error, customerId);
        this.emit({ type: 'login.failed', actor: 'login', outcome: 'failure', customerId, connectionId, reason: mapped?.code ?? 'error' });
        return verified(mapped ?? error);
      }
      const refused = refusal(result);
      this.emit({
        type: refused ? 'login.refused' : 'login.admitted',
        actor: 'login',
        outcome: refused ? 'failure' : 'success',
        customerId,
        connectionId,
        subject: result.identity.subject,
        strategy: result.strategy,
        ...(result.scimUser ? { resourceType: 'User' as const, resourceId: result.scimUser.id } : {}),
        ...(refused ? { reason: refused.reason } : {}),
      });
      if (refused) {
        await logOutQuietly(req);
        return verified(refused);
      }
      if (appVerify) return appVerify(req, tokens, result, verified);
      return verified(null, result.sessionUser);
    };
  }

  /** A ready Strategy for the customer: discovery cached, PKCE + state + nonce, the guard inside. */
  async strategy(customerId: string, appVerify?: AppVerify): Promise<Strategy> {
    const { client } = await this.current(customerId);
    const config = await this.configuration(client);
    return new StateNonceStrategy(
      {
        config,
        name: strategyName(customerId),
        sessionKey: strategyName(customerId),
        callbackURL: client.redirectUri,
        scope: client.scopes.join(' '),
        passReqToCallback: true,
      },
      this.guardVerify(customerId, appVerify),
    );
  }
}

/** A refused login must not leave a session the browser already had (oidc-passport.md). */
export async function logOutQuietly(req: Request): Promise<void> {
  const r = req as Request & { isAuthenticated?: () => boolean; logout?: (done: (err?: unknown) => void) => void };
  if (typeof r.logout !== 'function' || !r.isAuthenticated?.()) return;
  await new Promise<void>((resolve) => r.logout!(() => resolve()));
}
