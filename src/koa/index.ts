/**
 * `scim-sso/koa`: `app.use(scimSso(options))` mounts the SCIM routes on Koa; the handle also makes the login
 * routes, the error handler and the session check. Loads Koa only through the app (types only here).
 */
import { createScimSso } from '../sso.js';
import type { ScimSsoOptions } from '../options.js';
import { koaHandle, type KoaScimSso } from './handle.js';

export type { KoaScimSso, KoaRedirectOptions, KoaLoginRequest } from './handle.js';
export type { KoaAuthRoutesOptions, KoaPassportLike } from './types.js';

/** Creates a scim-sso instance for Koa. Throws ScimSsoConfigError on bad options (and without a store in production). */
export function scimSso(options: ScimSsoOptions = {}): KoaScimSso {
  return koaHandle(createScimSso(options));
}
