/**
 * The Koa adapter: the same SCIM routes, login routes, error rendering and session check as Express,
 * translated from the framework-neutral core (scim/handler, guard/*). Koa differences that matter
 * (docs/oidc-and-passport.md §Koa): the login routes run on the app's own KoaPassport (its nested passport 0.6 is not the
 * app's passport 0.7); koa-passport hands verify a mock `req` whose Koa context is `req.ctx`; errors arrive
 * as thrown exceptions.
 */
import type { Context, Middleware, Next } from 'koa';
import { ScimSsoConfigError } from '../errors.js';
import { failureToLoginError, toLoginError } from '../guard/login-errors.js';
import { loginPrefix, loginStepOptions, matchLoginRoute, prepareLoginStep, renderLoginFailure, SAML_METADATA_TYPE } from '../guard/login-routes.js';
import { strategyName, type OidcRuntime } from '../guard/passport.js';
import { renderLoginError, type RenderedLoginError } from '../guard/render.js';
import { readSamlForm } from '../guard/saml-form.js';
import { gateSession, type GateOptions } from '../guard/session-gate.js';
import type { ScimHandler } from '../scim/handler.js';
import type { ScimResponse } from '../scim/http.js';
import { requestOrigin, settleUnreadBody, toScimRequest } from '../scim/mount.js';
import { writeBody } from '../scim/response-body.js';
import type { KoaAuthRoutesOptions } from './types.js';

export type { KoaAuthRoutesOptions, KoaPassportLike } from './types.js';

export interface KoaMountOptions {
  basePath: string;
  maxBodyBytes: number;
  publicBaseUrl: string | undefined;
}

function sendScim(ctx: Context, response: ScimResponse): void {
  ctx.status = response.status;
  // Headers first: Koa keeps an explicit Content-Type when the body is set.
  for (const [name, value] of Object.entries(response.headers)) ctx.set(name, value);
  const { body } = response;
  if (body === undefined) {
    ctx.body = null;
    ctx.remove('Content-Type');
  } else if (typeof body === 'string') ctx.body = body;
  else {
    // A large body's encoded parts (src/scim/response-body.ts), written to the socket as the Express adapter
    // writes them, within BODY_SEND_MS: a stream body also made Koa report "Premature close" for every client
    // that left before its end (a read ECONNRESET of such a client Koa reports on any route).
    ctx.respond = false;
    writeBody(ctx.res, body, response.sent);
  }
}

/** The mount prefix koa-mount stripped from `ctx.url`, if any. */
function mountPrefix(ctx: Context): string {
  const original = ctx.originalUrl ?? ctx.url;
  return original.endsWith(ctx.url) ? original.slice(0, original.length - ctx.url.length) : '';
}

/**
 * The Host the request names, as sent (X-Forwarded-Host first when the app trusts its proxy), for
 * requestOrigin to judge as it judges Express's: `ctx.host` turns an invalid `user@evil.test` into
 * `evil.test`, where Express's answer falls back to `localhost`.
 */
const rawHost = (ctx: Context): string => (ctx.app.proxy ? ctx.get('X-Forwarded-Host') : '') || ctx.get('Host') || ctx.get(':authority');

/** Koa middleware serving the SCIM routes under `basePath` and passing every other request on. */
export function koaScimMiddleware(handler: ScimHandler, options: KoaMountOptions): Middleware {
  return async function scimSsoKoa(ctx: Context, next: Next) {
    const request = toScimRequest(
      {
        node: ctx.req,
        url: ctx.url,
        parsedBody: (ctx.request as { body?: unknown }).body,
        mountUrl: () => `${requestOrigin(ctx.protocol, rawHost(ctx))}${mountPrefix(ctx)}`,
      },
      options.basePath,
      options.maxBodyBytes,
      options.publicBaseUrl,
    );
    if (request === null) return next();
    const response = await handler(request);
    sendScim(ctx, { ...response, headers: settleUnreadBody(ctx.req, response.headers) });
  };
}

function sendRendered(ctx: Context, rendered: RenderedLoginError): void {
  ctx.status = rendered.status;
  for (const [name, value] of Object.entries(rendered.headers)) {
    if (name === 'Location') ctx.redirect(value);
    else ctx.set(name, value);
  }
  ctx.status = rendered.status;
  if (rendered.body) ctx.body = rendered.body;
}

/** koa-passport's authenticate as the login routes call it. */
type KoaAuthenticate = (strategy: unknown, optionsOrCallback?: unknown) => Middleware;

/** What koa-passport adds to the context (typed here so no koa-passport types are needed). */
interface PassportContext {
  login(user: unknown): Promise<void>;
  logout(): Promise<void>;
  isAuthenticated?(): boolean;
}

/** `GET <prefix>/:customerId/login`, `GET …/callback` (OIDC), `POST …/saml/acs` and `GET …/saml/metadata` (SAML) for every customer. */
export function koaAuthRoutes(runtime: OidcRuntime, options: KoaAuthRoutesOptions): Middleware {
  if (!options?.passport || typeof options.passport.use !== 'function' || typeof options.passport.authenticate !== 'function') {
    throw new ScimSsoConfigError('invalid_argument', 'koaAuthRoutes: pass your KoaPassport instance as { passport }');
  }
  if (typeof options.successRedirect !== 'string') throw new ScimSsoConfigError('invalid_argument', 'koaAuthRoutes: successRedirect is required');
  const authenticate = options.passport.authenticate.bind(options.passport) as KoaAuthenticate;
  const prefix = loginPrefix(options.prefix, 'authRoutes');

  const fail = (ctx: Context, error: unknown, customerId: string | null) => {
    const rendered = renderLoginFailure(error, customerId, options.failureRedirect, runtime.options.retryAfterSeconds);
    if (!rendered) throw error;
    sendRendered(ctx, rendered);
  };

  return async function scimSsoKoaAuth(ctx: Context, next: Next) {
    const route = matchLoginRoute(ctx.method, ctx.path, prefix);
    if (!route) return next();
    let body: unknown;
    if (route.step === 'saml_acs') {
      try {
        body = await readSamlForm(ctx.req, (ctx.request as { body?: unknown }).body, null);
      } catch (error) {
        // A form refused unread or part read (wrong type, 413): the rest is not taken in (docs/saml.md).
        if (!ctx.req.readableEnded) ctx.set('Connection', 'close');
        return fail(ctx, error, null);
      }
    }
    const browser = { cookieHeader: ctx.get('cookie') || undefined, setCookie: (header: string) => ctx.append('Set-Cookie', header) };
    const prepared = await prepareLoginStep(runtime, route.rawCustomerId, route.step, ctx.req, browser, body);
    if (!prepared.ok) return fail(ctx, prepared.error, prepared.customerId);
    const { customerId } = prepared;
    if (prepared.kind === 'metadata') {
      ctx.status = 200;
      ctx.set('Content-Type', SAML_METADATA_TYPE);
      ctx.body = prepared.xml;
      return;
    }
    // koa-passport hands a strategy instance to passport 0.6, which accepts one (as passport 0.7 does on Express).
    const strategy = Object.create(prepared.strategy) as object;
    if (route.step === 'login') {
      try {
        return await authenticate(strategy, loginStepOptions(ctx.query.login_hint))(ctx, next);
      } catch (error) {
        return fail(ctx, error, customerId);
      }
    }
    // A refused login logs out a session the browser had (logOutQuietly, src/guard/passport.ts); its app data goes too.
    const wasAuthenticated = (ctx as unknown as Partial<PassportContext>).isAuthenticated?.() === true;
    let outcome: { error?: unknown; user?: unknown; info?: unknown } | null = null;
    try {
      await authenticate(strategy, (error: unknown, user: unknown, info: unknown) => {
        outcome = { error, user, info };
      })(ctx, next);
    } catch (error) {
      outcome = { error };
    }
    // The strategy answered by itself (a callback without a code starts a new login, as on Express).
    if (outcome === null) return;
    const { error, user, info } = outcome as { error?: unknown; user?: unknown; info?: unknown };
    if (wasAuthenticated && (ctx as unknown as Partial<PassportContext>).isAuthenticated?.() !== true) dropSessionData(ctx);
    if (error) return fail(ctx, error, customerId);
    if (!user) return fail(ctx, failureToLoginError(info, customerId), customerId);
    dropSessionData(ctx);
    await (ctx as unknown as PassportContext).login(user);
    ctx.redirect(options.successRedirect);
  };
}

/**
 * As passport's login and logout do on Express (the session regenerated without the app's data): whatever
 * the session held for whoever was logged in is dropped at a login and when scim-sso logs a session out, but
 * for the pending logins of other customers in this browser (their `scim-sso:<customerId>` state).
 * koa-session's regenerate keeps the data otherwise, so a deprovisioned person's app data (an organisation
 * chosen, an impersonation flag) would outlive their session.
 */
function dropSessionData(ctx: Context): void {
  const session = (ctx as unknown as { session?: Record<string, unknown> | null }).session;
  if (!session) return;
  for (const key of Object.keys(session)) if (!key.startsWith('_') && !key.startsWith(strategyName(''))) delete session[key];
}

/** Renders ScimUserNotActive and login errors thrown downstream; rethrows the rest. */
export function koaErrorHandler(options: { redirectTo?: string } = {}, retryAfterSeconds = 5): Middleware {
  return async function scimSsoKoaErrors(ctx: Context, next: Next) {
    try {
      await next();
    } catch (error) {
      const mapped = toLoginError(error);
      if (!mapped) throw error;
      sendRendered(ctx, renderLoginError(mapped, options.redirectTo, retryAfterSeconds));
    }
  };
}

/** Koa's requireActiveUser and requireRole: src/guard/session-gate.ts does the work (see expressRequireActiveUser). */
export function koaRequireActiveUser(runtime: OidcRuntime, options: GateOptions = {}): Middleware {
  return async function scimSsoKoaRequireActive(ctx: Context, next: Next) {
    const verdict = await gateSession(runtime, ctx, ctx.state.user, options);
    if (verdict.pass) return next();
    const passportCtx = ctx as unknown as Partial<PassportContext>;
    if (verdict.logOut && passportCtx.isAuthenticated?.()) {
      await passportCtx.logout?.();
      dropSessionData(ctx);
    }
    sendRendered(ctx, verdict.rendered);
  };
}
