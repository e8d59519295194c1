/**
 * `scim-sso/koa/setup`: the self-serve setup portal as Koa middleware, on the framework-neutral portal
 * (src/setup/index.ts). `app.use(setupPortal(sso))` serves it under the path of `setupPortalUrl`.
 */
import type { Context, Middleware, Next } from 'koa';
import { readForm } from '../dashboard/form.js';
import { createSetupPortalCore, type SetupPortalOptions } from '../setup/index.js';
import type { ScimSsoCore } from '../sso.js';

/** The mount prefix koa-mount stripped from `ctx.path`, if any (as the dashboard computes it). */
function mountPath(ctx: Context): string {
  const original = (ctx.originalUrl ?? ctx.url).split('?')[0]!;
  return original.endsWith(ctx.path) ? original.slice(0, original.length - ctx.path.length) : '';
}

/** Koa middleware serving the setup portal; other requests pass on. Throws ScimSsoConfigError on bad options. */
export function setupPortal(sso: ScimSsoCore, options: SetupPortalOptions = {}): Middleware {
  const core = createSetupPortalCore(sso, options);
  return async function scimSsoKoaSetupPortal(ctx: Context, next: Next) {
    const answer = await core.handle({
      method: ctx.method.toUpperCase(),
      path: ctx.path,
      query: new URLSearchParams(ctx.querystring),
      mountPath: mountPath(ctx),
      headers: ctx.req.headers,
      secure: ctx.secure,
      form: () => readForm(ctx.req, (ctx.request as { body?: unknown }).body),
    });
    if (answer === null) return next();
    ctx.status = answer.status;
    for (const [name, value] of Object.entries(answer.headers)) ctx.set(name, value);
    if (answer.cookies.length) ctx.append('Set-Cookie', answer.cookies);
    ctx.body = answer.body;
  };
}

export type { SetupPortalOptions } from '../setup/index.js';
