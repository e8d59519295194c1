/**
 * The Koa adapter of the login routes, the error rendering and the session check, as src/express/auth.ts is
 * for Express, over the framework-neutral guard (src/guard/). Koa differences that matter
 * (docs/oidc-and-passport.md §Koa): the login routes run on the app's own KoaPassport (its nested passport 0.6
 * is not the app's passport 0.7); koa-passport hands verify a mock `req` whose Koa context is `req.ctx`;
 * errors arrive as thrown exceptions.
 */
import type { Context, Middleware, Next } from 'koa';
import { failureToLoginError, toLoginError } from '../guard/login-errors.js';
import { checkAuthRoutesOptions, loginStepOptions, matchLoginRoute, prepareLoginStep, renderLoginFailure, SAML_METADATA_TYPE } from '../guard/login-routes.js';
import { strategyName, type LoginRuntime } from '../guard/passport.js';
import { renderLoginError, type RenderedLoginError } from '../guard/render.js';
import { readSamlForm } from '../guard/saml-form.js';
import { gateSession, type GateOptions } from '../guard/session-gate.js';
import type { KoaAuthRoutesOptions } from './types.js';

function sendRendered(ctx: Context, rendered: RenderedLoginError): void {
  for (const [name, value] of Object.entries(rendered.headers)) {
    if (name === 'Location') ctx.redirect(value);
    else ctx.set(name, value);
  }
  // After the headers: ctx.redirect sets a 302 of its own.
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
export function koaAuthRoutes(runtime: LoginRuntime, options: KoaAuthRoutesOptions): Middleware {
  const prefix = checkAuthRoutesOptions(options, 'KoaPassport');
  const authenticate = options.passport.authenticate.bind(options.passport) as KoaAuthenticate;

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
export function koaRequireActiveUser(runtime: LoginRuntime, options: GateOptions = {}): Middleware {
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
