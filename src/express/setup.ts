/**
 * `scim-sso/express/setup`: the self-serve setup portal as Express middleware, on the framework-neutral
 * portal (src/setup/index.ts). `app.use(setupPortal(sso))` serves it under the path of `setupPortalUrl`
 * (mounting it under that path, `app.use('/setup', setupPortal(sso))`, works the same).
 */
import type { RequestHandler } from 'express';
import { createSetupPortalCore, type SetupPortalOptions } from '../setup/index.js';
import type { ScimSsoCore } from '../sso.js';
import { pageRequestOf, sendPage } from './pages.js';

/** Express middleware serving the setup portal; other requests pass on. Throws ScimSsoConfigError on bad options. */
export function setupPortal(sso: ScimSsoCore, options: SetupPortalOptions = {}): RequestHandler {
  const core = createSetupPortalCore(sso, options);
  return async function scimSsoSetupPortal(req, res, next) {
    try {
      const answer = await core.handle(pageRequestOf(req));
      if (answer === null) return next();
      sendPage(res, answer);
    } catch (error) {
      next(error);
    }
  };
}

export type { SetupPortalOptions } from '../setup/index.js';
