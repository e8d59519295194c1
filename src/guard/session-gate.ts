/**
 * What `requireActiveUser` and `requireRole` do with a request, framework-neutral: check the session once
 * per request (src/guard/session-check.ts), write the fresh `groups` and `roles` onto the session user, and
 * let the request through or say how to answer it. The Express and Koa middlewares only translate.
 */
import { SsoLoginError } from '../errors.js';
import { toLoginError } from './login-errors.js';
import type { LoginRuntime } from './passport.js';
import { renderLoginError, renderSessionEnded, withQuery, type RenderedLoginError } from './render.js';
import { checkAndAuditSession, type SessionStatus } from './session-check.js';

export type GateVerdict = { pass: true } | { pass: false; rendered: RenderedLoginError; logOut: boolean };

export interface GateOptions {
  /** A page to redirect to instead of answering JSON. */
  redirectTo?: string;
  /** A role the session user must hold (requireRole). */
  role?: string;
}

/** One check per request, whichever of the two middlewares runs first: the request object is the key. */
const checkedRequests = new WeakMap<object, SessionStatus>();

/** Checks the request's session (once per request) and decides. Never throws: an unreachable store fails closed. */
export async function gateSession(runtime: LoginRuntime, request: object, user: unknown, options: GateOptions = {}): Promise<GateVerdict> {
  let status = checkedRequests.get(request);
  if (!status) {
    try {
      status = await checkAndAuditSession(runtime.store, user, runtime.emit);
    } catch (error) {
      // Not a login: the session is kept, and the answer says its check could not run (redirected like the
      // others when the app gave redirectTo).
      const mapped = toLoginError(error);
      const unavailable =
        mapped === null || mapped.code === 'store_unavailable'
          ? new SsoLoginError('store_unavailable', 503, 'the user store is unavailable; the session could not be checked, try again shortly')
          : mapped;
      return { pass: false, rendered: renderLoginError(unavailable, options.redirectTo, runtime.options.retryAfterSeconds), logOut: false };
    }
    checkedRequests.set(request, status);
    if (status.active && user && typeof user === 'object') {
      const session = Object.assign(user, { groups: status.groups, roles: status.roles }) as { groupsTruncated?: true };
      if (status.groupsTruncated) session.groupsTruncated = true;
      else delete session.groupsTruncated;
    }
  }
  if (!status.active) return { pass: false, rendered: renderSessionEnded(status.reason, options.redirectTo), logOut: status.reason !== 'not_logged_in' };
  if (options.role !== undefined && !status.roles.includes(options.role))
    return { pass: false, rendered: renderMissingRole(options.role, options.redirectTo), logOut: false };
  return { pass: true };
}

/** A request `requireRole` turned away: 403 `{ error: 'forbidden', reason: 'missing_role', role, message }`, or a redirect. */
function renderMissingRole(role: string, redirectTo?: string): RenderedLoginError {
  const params = { error: 'forbidden', reason: 'missing_role', role };
  if (redirectTo) return { status: 302, headers: { Location: withQuery(redirectTo, params) } };
  const message = `this needs the role "${role}", which your groups in your organisation's identity provider do not give you`;
  return { status: 403, headers: { 'Cache-Control': 'no-store' }, body: { ...params, message } };
}
