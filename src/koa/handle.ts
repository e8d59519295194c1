/**
 * The Koa handle: the core (src/sso.ts) plus Koa middleware — the handle itself serves the SCIM routes
 * (`app.use(sso)`, as on Express), and it makes the login routes, the error handler and the session check.
 */
import type { Context, Middleware, Next } from 'koa';
import type { AppVerify, GuardVerify, LoginRequest, OidcLoginStrategy } from '../guard/contract.js';
import { internalsOf, registerInternals } from '../internal.js';
import { checkRole } from '../roles/role-mapping.js';
import type { ScimSsoCore } from '../sso.js';
import { koaAuthRoutes, koaErrorHandler, koaRequireActiveUser } from './auth.js';
import { koaScimMiddleware } from './scim.js';
import type { KoaAuthRoutesOptions } from './types.js';

/** Where `errorHandler` and `requireActiveUser` send the browser instead of answering JSON. */
export interface KoaRedirectOptions {
  /** A path or URL; `?error=…&reason=…` is appended. Default: a JSON answer. */
  redirectTo?: string;
}

/** The request koa-passport hands a verify function: its Koa context is `req.ctx`. */
export interface KoaLoginRequest extends LoginRequest {
  readonly ctx: Context;
}

/** A scim-sso instance on Koa: Koa middleware serving the SCIM routes, plus the core API and the login glue. */
export interface KoaScimSso extends ScimSsoCore {
  /** Koa middleware: serves the SCIM routes under `basePath` and passes every other request on. */
  (ctx: Context, next: Next): Promise<void>;
  /** The core's guardVerify; the app's verify receives koa-passport's request (`req.ctx` is the Koa context). */
  guardVerify(customerId: string, verify?: AppVerify<KoaLoginRequest>): GuardVerify;
  /** The core's strategy; the app's verify receives koa-passport's request. */
  strategy(customerId: string, verify?: AppVerify<KoaLoginRequest>): Promise<OidcLoginStrategy>;
  /** Koa middleware: `GET <prefix>/:customerId/login` and `/callback` (prefix default '/sso'), on the app's KoaPassport. */
  authRoutes(options: KoaAuthRoutesOptions): Middleware;
  /** Koa middleware rendering ScimUserNotActive and login errors thrown downstream; rethrows the rest. */
  errorHandler(options?: KoaRedirectOptions): Middleware;
  /** Koa middleware ending the session of a user deprovisioned since login (one store read). */
  requireActiveUser(options?: KoaRedirectOptions): Middleware;
  /**
   * Middleware letting through only a live session whose user holds `role` (from the customer's role
   * mapping, refreshed on every request); others get 403 `{ error: 'forbidden', reason: 'missing_role', role }`
   * or a redirect. Includes requireActiveUser's check (run once per request when both are mounted).
   */
  requireRole(role: string, options?: KoaRedirectOptions): Middleware;
}

/** Builds the Koa handle on a core instance (its internals carry over). */
export function koaHandle(core: ScimSsoCore): KoaScimSso {
  const internals = internalsOf(core);
  const { runtime, options } = internals;
  const scim = koaScimMiddleware(internals.handleScim, internals.mount);
  const middleware = (ctx: Context, next: Next): Promise<void> => scim(ctx, next) as Promise<void>;
  const handle: KoaScimSso = Object.assign(middleware, core, {
    // The core's functions: the request the app's verify receives is the framework's (a narrower type).
    guardVerify: core.guardVerify as KoaScimSso['guardVerify'],
    strategy: core.strategy as KoaScimSso['strategy'],
    authRoutes: (authOptions: KoaAuthRoutesOptions) => koaAuthRoutes(runtime, authOptions),
    errorHandler: (handlerOptions?: KoaRedirectOptions) => koaErrorHandler(handlerOptions, options.retryAfterSeconds),
    requireActiveUser: (checkOptions?: KoaRedirectOptions) => koaRequireActiveUser(runtime, checkOptions),
    requireRole: (role: string, checkOptions?: KoaRedirectOptions) => koaRequireActiveUser(runtime, { ...checkOptions, role: checkRole(role) }),
  });
  registerInternals(handle, internals);
  return handle;
}
