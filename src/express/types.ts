/**
 * The public option types of the Express login routes, apart from src/express/auth.ts so that the published
 * declarations of `scim-sso/express` do not reach the login runtime's (which name passport's types).
 */

/** What authRoutes needs of passport: the default export or a `new Passport()` both fit (no passport types needed). */
export interface PassportLike {
  use(name: string, strategy: never): unknown;
  authenticate(strategy: never, options?: never, callback?: never): unknown;
}

export interface AuthRoutesOptions {
  /** The app's passport instance — the default export or a `new Passport()` (strategies are registered on it). */
  passport: PassportLike;
  /** Where an admitted user is sent. */
  successRedirect: string;
  /** Where a refused or failed login is sent, with `?error=…&reason=…`. Default: a JSON error response. */
  failureRedirect?: string;
  /**
   * Path prefix of the routes, relative to where the middleware is mounted: `<prefix>/:customerId/login` and
   * `/callback` (OIDC), `/saml/acs` and `/saml/metadata` (SAML). Default: '/sso' (the same on Koa), so the app's own `/<x>/login` routes stay the app's.
   */
  prefix?: string;
}
