/**
 * README "Self-serve setup portal": mounting the portal and handing a setup link to a customer's IT admin.
 * The README shows the region below; the rest makes it a file the typecheck compiles (test/docs/snippets.test.ts).
 */
import express from 'express';
import { memoryStore } from 'scim-sso';
import { scimSso } from 'scim-sso/express';
import { setupPortal } from 'scim-sso/express/setup';

declare function sendEmail(to: string, text: string): Promise<void>;

// #region portal
const sso = scimSso({ store: memoryStore(), setupPortalUrl: 'https://app.example.com/setup' });
const app = express();
app.use(sso); // SCIM routes
app.use(setupPortal(sso, { appName: 'Acme Notes' })); // the portal, under /setup (the path of setupPortalUrl)

// In the app's own admin code: a link for the customer's IT admin (SSO and SCIM, valid 72 hours by default).
const { url, expiresAt } = await sso.createSetupLink('globex', { expiresIn: 3 * 24 * 3600, allow: ['sso', 'scim'] });
await sendEmail('it-admin@globex.example', `Set up single sign-on for Acme Notes: ${url} (valid until ${expiresAt})`);

// Changed your mind, or the email went to the wrong person: every link of the customer stops, sessions too.
await sso.revokeSetupLinks('globex');
// #endregion portal
