/**
 * The public option types of the Koa login routes, apart from src/koa/auth.ts so that the published
 * declarations of `scim-sso/koa` do not reach the login runtime's (which name passport's types).
 */

/** What the Koa login routes need of koa-passport: an app's `new KoaPassport()` fits (no koa-passport types needed). */
export interface KoaPassportLike {
  use(name: string, strategy: never): unknown;
  authenticate(strategy: never, options?: never, callback?: never): unknown;
}

export interface KoaAuthRoutesOptions {
  /** The app's own `new KoaPassport()` (its nested passport does not see strategies registered elsewhere). */
  passport: KoaPassportLike;
  successRedirect: string;
  /** Where a refused or failed login is sent, with `?error=…&reason=…`. Default: a JSON error response. */
  failureRedirect?: string;
  /**
   * Path prefix of the routes, relative to where the middleware is mounted: `<prefix>/:customerId/login` and
   * `/callback` (OIDC), `/saml/acs` and `/saml/metadata` (SAML). Default: '/sso' (the same on Express).
   */
  prefix?: string;
}
