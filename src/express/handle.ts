/**
 * The Express handle: the core (src/sso.ts) plus Express middleware — the handle itself serves the SCIM
 * routes (`app.use(sso)`), and it makes the login routes, the error handler and the session check.
 */
import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import type { AppVerify, GuardVerify, OidcLoginStrategy } from '../guard/contract.js';
import { internalsOf, registerInternals } from '../internal.js';
import { checkRole } from '../roles/role-mapping.js';
import type { ScimSsoCore } from '../sso.js';
import { expressAuthRoutes, expressErrorHandler, expressRequireActiveUser } from './auth.js';
import type { AuthRoutesOptions } from './types.js';
import { expressScimMiddleware } from './scim.js';

/** Where `errorHandler` and `requireActiveUser` send the browser instead of answering JSON. */
export interface RedirectOptions {
  /** A path or URL; `?error=…&reason=…` is appended. Default: a JSON answer. */
  redirectTo?: string;
}

/** A scim-sso instance on Express: Express middleware serving the SCIM routes, plus the core API and the login glue. */
export interface ScimSso extends ScimSsoCore, RequestHandler {
  /** The core's guardVerify; the app's verify receives Express's `req`. */
  guardVerify(customerId: string, verify?: AppVerify<Request>): GuardVerify;
  /** The core's strategy; the app's verify receives Express's `req`. */
  strategy(customerId: string, verify?: AppVerify<Request>): Promise<OidcLoginStrategy>;
  /** Express middleware: `GET <prefix>/:customerId/login` and `/callback` (prefix default '/sso'), on the app's passport. */
  authRoutes(options: AuthRoutesOptions): RequestHandler;
  /** Express error handler rendering ScimUserNotActive (403 JSON or redirect) and login errors; passes others on. */
  errorHandler(options?: RedirectOptions): ErrorRequestHandler;
  /** Express middleware ending the session of a user deactivated or deleted since login (one store read). */
  requireActiveUser(options?: RedirectOptions): RequestHandler;
  /**
   * Middleware letting through only a live session whose user holds `role` (from the customer's role
   * mapping, refreshed on every request); others get 403 `{ error: 'forbidden', reason: 'missing_role', role }`
   * or a redirect. Includes requireActiveUser's check (run once per request when both are mounted).
   */
  requireRole(role: string, options?: RedirectOptions): RequestHandler;
}

/** Builds the Express handle on a core instance (its internals carry over). */
export function expressHandle(core: ScimSsoCore): ScimSso {
  const internals = internalsOf(core);
  const { runtime, options } = internals;
  const middleware = expressScimMiddleware(internals.handleScim, internals.mount);
  const handle: ScimSso = Object.assign(middleware, core, {
    // The core's functions: the request the app's verify receives is the framework's (a narrower type).
    guardVerify: core.guardVerify as ScimSso['guardVerify'],
    strategy: core.strategy as ScimSso['strategy'],
    authRoutes: (authOptions: AuthRoutesOptions) => expressAuthRoutes(runtime, authOptions),
    errorHandler: (handlerOptions?: RedirectOptions) => expressErrorHandler(handlerOptions, options.retryAfterSeconds),
    requireActiveUser: (checkOptions?: RedirectOptions) => expressRequireActiveUser(runtime, checkOptions),
    requireRole: (role: string, checkOptions?: RedirectOptions) => expressRequireActiveUser(runtime, { ...checkOptions, role: checkRole(role) }),
  });
  registerInternals(handle, internals);
  return handle;
}
