/**
 * The public, framework-neutral types of the login guard: the request a login step runs on, the session user
 * contract an app's `verify` must keep, and the verify functions scim-sso hands to passport. No framework or
 * passport types: the core entry (src/index.ts) exports these, and the Express and Koa entries narrow the
 * request type (src/express/index.ts, src/koa/index.ts).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { TokenEndpointResponse, TokenEndpointResponseHelpers } from 'openid-client';
import type { GuardDecision } from '../match/decide.js';
import type { SsoIdentity, SsoMatchingStrategy } from '../match/strategies.js';
import type { SessionGroup } from '../roles/role-mapping.js';

/**
 * The request a login step runs on, as the guard sees it: Express's `req`, or on Koa the request object
 * koa-passport builds (whose Koa context is `req.ctx`). Only what every framework has.
 */
export interface LoginRequest {
  readonly method?: string;
  readonly url?: string;
  readonly headers?: IncomingHttpHeaders;
  /** The session the login state lives in (express-session, koa-session). */
  session?: unknown;
}

/** The token endpoint response of a login (openid-client's, with its `claims()` helper). */
export type LoginTokens = TokenEndpointResponse & TokenEndpointResponseHelpers;

/**
 * What the session must hold for `requireActiveUser` to find the person's SCIM user with one store read:
 * the three ids of the guard's `result.sessionUser`, unchanged. An app's `verify` may add fields (spread
 * `result.sessionUser` into its own user); a user without these fields does not compile, and at run time a
 * user whose ids differ from the guard's fails the login instead of being locked out on every request.
 */
export interface SessionUser {
  customerId: string;
  /** The paired SCIM connection at login, or null when the customer had none. */
  connectionId: string | null;
  /** The admitted SCIM user, or null when the customer had no SCIM connection. */
  scimUserId: string | null;
}

/** The session user scim-sso logs in when the app passes no `verify`: the contract plus who logged in. */
export interface DefaultSessionUser extends SessionUser {
  userName: string | null;
  subject: string;
  /**
   * The IdP's `email` claim (a SAML connection's email attribute); null without one, and null when the IdP
   * says it has not verified it (`email_verified` present and not true). Entra never sends `email_verified`,
   * so its `email` is kept as the IdP gives it.
   */
  email: string | null;
  /**
   * The SCIM groups the person is a direct member of, at login; `requireActiveUser` refreshes them on
   * every request (empty without a SCIM connection). At most about 16,000 bytes of them
   * (SESSION_GROUPS_BYTES, src/guard/guard.ts), in order: the session store keeps them with every session.
   */
  groups: SessionGroup[];
  /** Present (true) when `groups` leaves some out; `roles` come from all of them. The directory API lists them all. */
  groupsTruncated?: true;
  /** The app roles the customer's role mapping gives those groups, highest precedence first; refreshed likewise. */
  roles: string[];
}

/** The SCIM user handed to the app after an admitted login. */
export interface ScimUserView {
  id: string;
  userName: string;
  externalId: string | null;
  active: boolean;
  /** The whole SCIM resource as stored (without derived groups). */
  resource: Record<string, unknown>;
}

/** What the guard decided for one login. */
export interface GuardResult {
  customerId: string;
  strategy: SsoMatchingStrategy;
  identity: SsoIdentity;
  decision: GuardDecision;
  scimUser: ScimUserView | null;
  sessionUser: DefaultSessionUser;
}

/**
 * Passport's `done` as an app's verify calls it: an error, or the user to log in (a SessionUser, with any
 * fields the app adds), or `false` to refuse.
 */
export type VerifiedCallback = <User extends SessionUser>(error: unknown, user?: User | false) => void;

/** The app's own verify, called after an admitted login with the guard's result. */
export type AppVerify<Req extends object = LoginRequest> = (req: Req, tokens: LoginTokens, result: GuardResult, verified: VerifiedCallback) => void;

/** Passport's `done` as openid-client's Strategy hands it to a verify function. */
export type PassportDone = (error: unknown, user?: SessionUser | false, info?: object | string) => void;

/**
 * A verify function in openid-client's `passReqToCallback` form with the guard inside: pass it to
 * `new Strategy({ ..., passReqToCallback: true }, verify)` of `openid-client/passport`.
 */
export type GuardVerify<Req extends object = LoginRequest> = (req: Req, tokens: LoginTokens, done: PassportDone) => void;

/**
 * An openid-client passport Strategy for one customer (an instance of `openid-client/passport`'s `Strategy`),
 * ready for `passport.use(strategy.name, strategy)`.
 */
export interface OidcLoginStrategy {
  readonly name: string;
  authenticate(req: LoginRequest, options?: object): void;
}
