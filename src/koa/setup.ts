/**
 * `scim-sso/koa/setup`: the self-serve setup portal as Koa middleware, on the framework-neutral portal
 * (src/setup/index.ts). `app.use(setupPortal(sso))` serves it under the path of `setupPortalUrl`.
 */
import type { Context, Middleware, Next } from 'koa';
import { createSetupPortalCore, type SetupPortalOptions } from '../setup/index.js';
import type { ScimSsoCore } from '../sso.js';
import { pageRequestOf, sendPage } from './pages.js';

/** Koa middleware serving the setup portal; other requests pass on. Throws ScimSsoConfigError on bad options. */
export function setupPortal(sso: ScimSsoCore, options: SetupPortalOptions = {}): Middleware {
  const core = createSetupPortalCore(sso, options);
  return async function scimSsoKoaSetupPortal(ctx: Context, next: Next) {
    const answer = await core.handle(pageRequestOf(ctx));
    if (answer === null) return next();
    sendPage(ctx, answer);
  };
}

export type { SetupPortalOptions } from '../setup/index.js';
