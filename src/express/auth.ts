/**
 * Express glue for the login guard: the per-customer login/callback routes, the error handler that renders
 * refusals, and the session check for protected routes. The logic lives in guard/; this file only wires.
 */
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import { ScimSsoConfigError } from '../errors.js';
import { failureToLoginError, toLoginError } from '../guard/login-errors.js';
import { checkAuthRoutesOptions, loginStepOptions, matchLoginRoute, prepareLoginStep, renderLoginFailure, SAML_METADATA_TYPE } from '../guard/login-routes.js';
import { logOutQuietly, type LoginRuntime } from '../guard/passport.js';
import { renderLoginError, type RenderedLoginError } from '../guard/render.js';
import { readSamlForm } from '../guard/saml-form.js';
import { strategyName } from '../guard/passport.js';
import { gateSession, type GateOptions } from '../guard/session-gate.js';
import type { AuthRoutesOptions } from './types.js';

export type { AuthRoutesOptions, PassportLike } from './types.js';

/** passport's authenticate as authRoutes calls it. */
type Authenticate = (strategy: unknown, optionsOrCallback?: unknown) => RequestHandler;

/** Writes the answer as it is, as the Koa adapter does (res.json would add an ETag of Express's own). */
function send(res: Response, rendered: RenderedLoginError): void {
  res.status(rendered.status);
  for (const [name, value] of Object.entries(rendered.headers)) res.setHeader(name, value);
  if (rendered.body) res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.end(rendered.body ? JSON.stringify(rendered.body) : undefined);
}

/** `GET <prefix>/:customerId/login`, `GET …/callback` (OIDC), `POST …/saml/acs` and `GET …/saml/metadata` (SAML) for every customer. */
export function expressAuthRoutes(runtime: LoginRuntime, options: AuthRoutesOptions): RequestHandler {
  const prefix = checkAuthRoutesOptions(options, 'passport');
  const authenticate = options.passport.authenticate.bind(options.passport) as Authenticate;

  const fail = (res: Response, next: NextFunction, error: unknown, customerId: string | null) => {
    const rendered = renderLoginFailure(error, customerId, options.failureRedirect, runtime.options.retryAfterSeconds);
    if (rendered) send(res, rendered);
    else next(error);
  };

  return async function scimSsoLoginRoutes(req: Request, res: Response, next: NextFunction) {
    const route = matchLoginRoute(req.method, req.path, prefix);
    if (!route) return next();
    let body: unknown;
    if (route.step === 'saml_acs') {
      try {
        body = await readSamlForm(req, (req as { body?: unknown }).body, null);
      } catch (error) {
        // A form refused unread or part read (wrong type, 413): the rest is not taken in (docs/saml.md).
        if (!req.readableEnded) res.setHeader('Connection', 'close');
        return fail(res, next, error, null);
      }
    }
    const browser = { cookieHeader: req.headers.cookie, setCookie: (header: string) => void res.append('Set-Cookie', header) };
    const prepared = await prepareLoginStep(runtime, route.rawCustomerId, route.step, req, browser, body);
    if (!prepared.ok) return fail(res, next, prepared.error, prepared.customerId);
    const { customerId } = prepared;
    if (prepared.kind === 'metadata') {
      // res.end, not res.send: no ETag or 304 of Express's own, as on Koa.
      res.status(200).setHeader('Content-Type', SAML_METADATA_TYPE);
      res.end(prepared.xml);
      return;
    }
    const strategy = Object.create(prepared.strategy) as object;
    if (route.step === 'login') {
      // An error the strategy raises while starting (the IdP unreachable) is a failed login, rendered or sent
      // to failureRedirect as on Koa, not passed to the app's error handler.
      const failed: NextFunction = (error?: unknown) => (error ? fail(res, next, error, customerId) : next());
      return authenticate(strategy, loginStepOptions(req.query.login_hint))(req, res, failed);
    }
    authenticate(strategy, (error: unknown, user: unknown, info: unknown) => {
      if (error) return fail(res, next, error, customerId);
      if (!user) return fail(res, next, failureToLoginError(info, customerId), customerId);
      logIn(req, user, (loginError) => (loginError ? next(loginError) : res.redirect(options.successRedirect)));
    })(req, res, next);
  };
}

/**
 * passport's `req.logIn` (added by `passport.initialize()`), typed here so no passport types are needed. It
 * regenerates the session (a new id: no fixation) and drops the app's data of whoever was logged in before;
 * the pending logins of other customers in this browser (their `scim-sso:<customerId>` state) are carried
 * into the new session, so a second customer's callback still finds its state (koa-session keeps them too).
 */
function logIn(req: Request, user: unknown, done: (error?: unknown) => void): void {
  type LogIn = (user: unknown, done: (error?: unknown) => void) => void;
  const login = (req as unknown as { logIn?: LogIn }).logIn;
  if (typeof login !== 'function') return done(new ScimSsoConfigError('invalid_argument', 'authRoutes: mount passport.initialize() before the login routes'));
  const session = (req as unknown as { session?: Record<string, unknown> }).session;
  const pending = Object.entries(session ?? {}).filter(([key]) => key.startsWith(strategyName('')));
  login.call(req, user, (error) => {
    const fresh = (req as unknown as { session?: Record<string, unknown> }).session;
    if (!error && fresh) for (const [key, value] of pending) fresh[key] = value;
    done(error);
  });
}

/** Renders ScimUserNotActive and login errors (incl. openid-client's) passed to `next(err)`; passes others on. */
export function expressErrorHandler(options: { redirectTo?: string } = {}, retryAfterSeconds = 5): ErrorRequestHandler {
  return (error, _req, res, next) => {
    const mapped = toLoginError(error);
    if (!mapped || res.headersSent) return next(error);
    send(res, renderLoginError(mapped, options.redirectTo, retryAfterSeconds));
  };
}

/**
 * Ends the session of a user whose SCIM user has been deactivated or deleted since login, and refreshes the
 * session user's `groups` and `roles` (one store round trip per request); with `role`, also answers 403 to a
 * user who does not hold it (requireRole).
 */
export function expressRequireActiveUser(runtime: LoginRuntime, options: GateOptions = {}): RequestHandler {
  return async (req, res, next) => {
    const verdict = await gateSession(runtime, req, (req as { user?: unknown }).user, options);
    if (verdict.pass) return next();
    if (verdict.logOut) await logOutQuietly(req);
    send(res, verdict.rendered);
  };
}
