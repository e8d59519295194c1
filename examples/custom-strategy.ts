/**
 * README "API" → an app-built Strategy (for custom routes) around `sso.guardVerify`. The README shows the
 * region below; the rest makes it a file the typecheck compiles (test/docs/snippets.test.ts).
 */
import * as client from 'openid-client';
import passport from 'passport';
import { memoryStore } from 'scim-sso';
import { scimSso } from 'scim-sso/express';

const sso = scimSso({ store: memoryStore() });
const config = await client.discovery(new URL('https://acme.okta.com'), '0oa-your-client-id', process.env.ACME_SECRET);
/** Your app's own user record for a SCIM user (null: admitted without a SCIM user). */
declare function lookUpYourUser(scimUserId: string | undefined): string | null;

// #region strategy
import { Strategy } from 'openid-client/passport';
passport.use('acme', new Strategy({ config, name: 'acme', sessionKey: 'acme', passReqToCallback: true, scope: 'openid email profile' },
  sso.guardVerify('acme', (req, tokens, result, verified) =>
    // Keep the default session user's fields: requireActiveUser reads customerId, connectionId, scimUserId.
    // result.scimUser is null when the customer has no SCIM connection (admitted without a SCIM user).
    verified(null, { ...result.sessionUser, appUserId: lookUpYourUser(result.scimUser?.id) }))));
// #endregion strategy
