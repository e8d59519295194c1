/**
 * `scim-sso/express`: `app.use(scimSso(options))` mounts the SCIM routes; the handle also makes the login
 * routes, the error handler and the session check. Loads Express only through the app (types only here).
 */
import { createScimSso } from '../sso.js';
import type { ScimSsoOptions } from '../options.js';
import { expressHandle, type ScimSso } from './handle.js';

export type { ScimSso, RedirectOptions } from './handle.js';
export type { AuthRoutesOptions, PassportLike } from './types.js';

/** Creates a scim-sso instance for Express. Throws ScimSsoConfigError on bad options (and without a store in production). */
export function scimSso(options: ScimSsoOptions = {}): ScimSso {
  return expressHandle(createScimSso(options));
}
