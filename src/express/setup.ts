/**
 * `scim-sso/express/setup`: the self-serve setup portal as Express middleware, on the framework-neutral
 * portal (src/setup/index.ts). `app.use(setupPortal(sso))` serves it under the path of `setupPortalUrl`
 * (mounting it under that path, `app.use('/setup', setupPortal(sso))`, works the same).
 */
import type { RequestHandler, Response } from 'express';
import { readForm } from '../dashboard/form.js';
import { createSetupPortalCore, type SetupPortalOptions, type SetupResponse } from '../setup/index.js';
import type { ScimSsoCore } from '../sso.js';

function send(res: Response, answer: SetupResponse): void {
  res.status(answer.status);
  for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
  if (answer.cookies.length) res.append('Set-Cookie', answer.cookies);
  res.end(answer.body);
}

/** Express middleware serving the setup portal; other requests pass on. Throws ScimSsoConfigError on bad options. */
export function setupPortal(sso: ScimSsoCore, options: SetupPortalOptions = {}): RequestHandler {
  const core = createSetupPortalCore(sso, options);
  return async function scimSsoSetupPortal(req, res, next) {
    try {
      const question = req.url.indexOf('?');
      const answer = await core.handle({
        method: req.method.toUpperCase(),
        path: req.path,
        query: new URLSearchParams(question === -1 ? '' : req.url.slice(question + 1)),
        mountPath: req.baseUrl,
        headers: req.headers,
        secure: req.secure,
        form: () => readForm(req, (req as { body?: unknown }).body),
      });
      if (answer === null) return next();
      send(res, answer);
    } catch (error) {
      next(error);
    }
  };
}

export type { SetupPortalOptions } from '../setup/index.js';
