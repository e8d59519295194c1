/**
 * The factory: parse the options once, wire the store, the SCIM handler, the login guard and the
 * management API, and return a handle that is itself Express middleware (`app.use(sso)`).
 */
import type { ErrorRequestHandler, RequestHandler, Router } from 'express';
import type { Strategy, VerifyFunctionWithRequest } from 'openid-client/passport';
import { connectionManager } from './connections.js';
import { checkCustomerId } from './connections.js';
import { expressAuthRoutes, expressErrorHandler, expressRequireActiveUser, type AuthRoutesOptions } from './express-auth.js';
import { expressScimMiddleware } from './express.js';
import type { Middleware as KoaMiddleware } from 'koa';
import { koaAuthRoutes, koaErrorHandler, koaRequireActiveUser, koaScimMiddleware, type KoaAuthRoutesOptions } from './koa.js';
import { OidcRuntime, type AppVerify } from './guard/passport.js';
import { oidcClientManager } from './oidc-clients.js';
import { matchingReport } from './match/report-loader.js';
import type { MatchingReport } from './match/report.js';
import { createEmitter } from './events.js';
import { createDashboard, type DashboardOptions } from './dashboard/index.js';
import { parseOptions, type ResolvedOptions, type ScimSsoOptions } from './options.js';
import { createScimHandler, type ScimHandler } from './scim/handler.js';
import { memoryStore } from './store/memory.js';
import type { Store, StoredSsoUser } from './store/store.js';

export type ScimSso = RequestHandler &
  ReturnType<typeof connectionManager> &
  ReturnType<typeof oidcClientManager> & {
    /** The resolved options (defaults applied). */
    readonly options: Readonly<ResolvedOptions>;
    /** The store in use. */
    readonly store: Store;
    /** The framework-neutral SCIM handler, for adapters and tests. */
    readonly handleScim: ScimHandler;
    /** An openid-client passport verify (passReqToCallback form) with the guard inside, for a Strategy the app builds. */
    guardVerify(customerId: string, verify?: AppVerify): VerifyFunctionWithRequest;
    /** A ready openid-client Strategy for the customer (discovery cached, PKCE + state + nonce, the guard inside). */
    strategy(customerId: string, verify?: AppVerify): Promise<Strategy>;
    /** Express router: `GET /:customerId/login` and `GET /:customerId/callback` for every customer. */
    authRoutes(options: AuthRoutesOptions): RequestHandler;
    /** Express error handler rendering ScimUserNotActive (403 JSON or redirect) and login errors. */
    errorHandler(options?: { redirectTo?: string }): ErrorRequestHandler;
    /** Express middleware ending the session of a user deactivated or deleted since login (one store read). */
    requireActiveUser(options?: { redirectTo?: string }): RequestHandler;
    /** Every login attempt through the customer's OIDC client, most recent first. */
    listSsoUsers(customerId: string): Promise<StoredSsoUser[]>;
    /** The SCIM Matching report: all five strategies evaluated on the customer's SSO and SCIM users, with a recommendation. */
    matchingReport(customerId: string): Promise<MatchingReport>;
    /** Koa middleware serving the SCIM routes under `basePath` (same behaviour as `app.use(sso)`). */
    koa(): KoaMiddleware;
    /** Koa middleware: `GET <prefix>/:customerId/login` and `/callback`, on the app's KoaPassport. */
    koaAuthRoutes(options: KoaAuthRoutesOptions): KoaMiddleware;
    /** Koa middleware rendering ScimUserNotActive and login errors thrown downstream. */
    koaErrorHandler(options?: { redirectTo?: string }): KoaMiddleware;
    /** Koa middleware ending the session of a user deprovisioned since login (one store read). */
    koaRequireActiveUser(options?: { redirectTo?: string }): KoaMiddleware;
    /** Express router of the admin dashboard (`app.use('/admin', sso.dashboard({ authorize }))`); refuses everyone without `authorize`. */
    dashboard(options?: DashboardOptions): Router;
  };

/** Creates a scim-sso instance. Throws ScimSsoConfigError('invalid_options') on bad options. */
export function scimSso(input: ScimSsoOptions = {}): ScimSso {
  const options = parseOptions(input);
  const store = options.store ?? memoryStore();
  const onError = options.onError ?? ((error: unknown) => console.error('[scim-sso] unexpected error', error));
  const emit = createEmitter(options.onEvent, onError);
  const handleScim = createScimHandler({
    store,
    rateLimit: options.rateLimit || null,
    emit,
    paging: { defaultCount: options.defaultPageSize, maxCount: options.maxPageSize },
    filterLimits: { maxLength: options.maxFilterLength, maxDepth: options.maxFilterDepth },
    maxPatchOperations: options.maxPatchOperations,
    quota: options.quota,
    maxBodyBytes: options.maxBodyBytes,
    retryAfterSeconds: options.retryAfterSeconds,
    onError,
  });
  const mount = { basePath: options.basePath, maxBodyBytes: options.maxBodyBytes, publicBaseUrl: options.publicBaseUrl };
  const middleware = expressScimMiddleware(handleScim, mount);
  // No cache is invalidated by "this instance made the change": login steps read the store and pick the
  // strategy built for the stored client version (src/guard/passport.ts), so every instance is current.
  const runtime = new OidcRuntime(
    store,
    { allowHttpIssuers: options.allowHttpIssuers, retryAfterSeconds: options.retryAfterSeconds, requireVerifiedEmail: options.requireVerifiedEmail },
    emit,
  );
  const connections = connectionManager(store, undefined, emit);
  const instance: ScimSso = Object.assign(middleware, connections, oidcClientManager(store, undefined, emit), {
    options,
    store,
    handleScim,
    guardVerify: (customerId: string, verify?: AppVerify) => runtime.guardVerify(checkCustomerId(customerId), verify),
    strategy: (customerId: string, verify?: AppVerify) => runtime.strategy(checkCustomerId(customerId), verify),
    authRoutes: (authOptions: AuthRoutesOptions) => expressAuthRoutes(runtime, authOptions),
    errorHandler: (handlerOptions?: { redirectTo?: string }) => expressErrorHandler(handlerOptions, options.retryAfterSeconds),
    requireActiveUser: (checkOptions?: { redirectTo?: string }) => expressRequireActiveUser(runtime, checkOptions),
    listSsoUsers: (customerId: string) => store.listSsoUsers(checkCustomerId(customerId)),
    matchingReport: (customerId: string) => matchingReport(store, checkCustomerId(customerId), options.requireVerifiedEmail),
    koa: () => koaScimMiddleware(handleScim, mount),
    koaAuthRoutes: (authOptions: KoaAuthRoutesOptions) => koaAuthRoutes(runtime, authOptions),
    koaErrorHandler: (handlerOptions?: { redirectTo?: string }) => koaErrorHandler(handlerOptions, options.retryAfterSeconds),
    koaRequireActiveUser: (checkOptions?: { redirectTo?: string }) => koaRequireActiveUser(runtime, checkOptions),
    dashboard: (dashboardOptions?: DashboardOptions) => createDashboard(instance, dashboardOptions, onError),
  });
  return instance;
}
