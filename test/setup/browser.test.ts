/**
 * The setup portal in real headless Chromium (Debian's chromium, driven by playwright-core), walked as a
 * customer's IT admin would, for an Okta-type and an Entra-type customer: open the setup link, configure SSO
 * against the in-process demo IdP (a wrong issuer first, to read the error), create the SCIM connection and
 * copy the base URL and token with the copy buttons, provision people with them over plain HTTP, see the
 * activity, and run Test SSO for a matching and a mismatching account and read the hint. No app session is
 * ever created. Screenshots go to test-artifacts/setup-*.png.
 */
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { ARTIFACTS, chromiumMissing, launchChromium, type LaunchedChromium } from '../support/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USER_SCHEMA, portalFixture, type PortalFixture } from './fixture.js';

const shot = (name: string) => join(ARTIFACTS, `setup-${name}.png`);

interface Walk {
  customerId: string;
  idpLabel: string;
  /** The person who is provisioned so that the strategy matches, and the one provisioned with the wrong mapping. */
  match: { sub: string; scim: Record<string, unknown>; userName: string };
  mismatch: { sub: string; scim: Record<string, unknown> };
  hint: string;
}

const WALKS: Walk[] = [
  {
    customerId: 'okta-co',
    idpLabel: 'Okta',
    match: { sub: '00u-olga', scim: { userName: 'olga@okta-co.test', externalId: '00u-olga' }, userName: 'olga@okta-co.test' },
    // Provisioned with a legacy userName: the email strategy cannot find her.
    mismatch: { sub: '00u-pete', scim: { userName: 'pete.legacy', externalId: '00u-pete' } },
    hint: 'map userName ← the email (Application username format: Email)',
  },
  {
    customerId: 'entra-co',
    idpLabel: 'Microsoft Entra ID',
    match: {
      sub: 'pairwise-quinn',
      scim: { userName: 'quinn@entra-co.test', externalId: '0a0a0a0a-0000-4000-8000-000000000001' },
      userName: 'quinn@entra-co.test',
    },
    // Provisioned with externalId ← mailNickname instead of objectId: the oid does not find him.
    mismatch: { sub: 'pairwise-rui', scim: { userName: 'rui@entra-co.test', externalId: 'rui' } },
    hint: 'map externalId ← objectId',
  },
];

const ACCOUNTS = {
  'okta-co': [
    { sub: '00u-olga', email: 'olga@okta-co.test', email_verified: true, name: 'Olga' },
    { sub: '00u-pete', email: 'pete@okta-co.test', email_verified: true, name: 'Pete' },
  ],
  'entra-co': [
    { sub: 'pairwise-quinn', oid: '0a0a0a0a-0000-4000-8000-000000000001', email: 'quinn@entra-co.test', name: 'Quinn' },
    { sub: 'pairwise-rui', oid: '0a0a0a0a-0000-4000-8000-000000000002', email: 'rui@entra-co.test', name: 'Rui' },
  ],
};

describe('the setup portal in headless Chromium, as an IT admin', () => {
  let f: PortalFixture;
  let browser: LaunchedChromium;
  let context: BrowserContext;
  let page: Page;
  let pageErrors: string[] = [];
  const missing = chromiumMissing('the setup portal browser test');

  beforeAll(async () => {
    if (missing) return;
    f = await portalFixture('memory', 'express', 'setup-browser', [
      { id: 'okta-co', accounts: ACCOUNTS['okta-co'] },
      { id: 'entra-co', accounts: ACCOUNTS['entra-co'], claimsIn: 'userinfo' },
    ]);
    browser = await launchChromium();
    ({ context, page, pageErrors } = browser);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: f.origin });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    if (f) {
      expect(f.errors).toEqual([]);
      await f.cleanup();
    }
  });

  const testLogin = async (customerId: string, sub: string) => {
    await page.getByRole('navigation', { name: 'Setup' }).getByRole('link', { name: 'Test SSO', exact: true }).click();
    await page.getByLabel('Log in as (optional login hint)').fill(sub);
    await page.getByRole('button', { name: 'Start a test login' }).click();
    await page.waitForURL((url) => url.pathname === `/setup/${customerId}/test/callback`);
    return (await page.locator('#test-outcome').textContent()) ?? '';
  };

  for (const walk of WALKS) {
    it(`walks the whole setup for the ${walk.idpLabel}-type customer ${walk.customerId}`, async () => {
      if (missing) throw new Error(missing);
      const { customerId } = walk;
      const { clientId, clientSecret } = await f.registerClient(customerId);
      const { url } = await f.sso.createSetupLink(customerId);

      // Open the link: the token leaves the address bar at once.
      await page.goto(url);
      await page.waitForURL(`${f.origin}/setup/${customerId}/`);
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Setup');
      await page.screenshot({ path: shot(`${customerId}-overview`), fullPage: true });

      // SSO: a wrong issuer first (trailing slash: the discovery document names another issuer), then the right one.
      await page.getByRole('navigation', { name: 'Setup' }).getByRole('link', { name: 'Single sign-on' }).click();
      await expect(page.locator('#test-redirect-uri').textContent()).resolves.toBe(`${f.origin}/setup/${customerId}/test/callback`);
      await page.getByLabel('Identity provider').selectOption({ label: walk.idpLabel });
      await page.getByLabel('Issuer URL').fill(`${f.idp.issuer(customerId)}/`);
      await page.getByLabel('Client ID').fill(clientId);
      await page.getByLabel('Client secret').fill(clientSecret);
      await page.getByRole('button', { name: 'Check and save' }).click();
      await expect(page.getByRole('alert').textContent()).resolves.toContain('Issuer mismatch');
      await page.screenshot({ path: shot(`${customerId}-sso-error`), fullPage: true });
      await page.getByLabel('Issuer URL').fill(f.idp.issuer(customerId));
      await page.getByLabel('Client secret').fill(clientSecret);
      await page.getByRole('button', { name: 'Check and save' }).click();
      await page.waitForURL(`${f.origin}/setup/${customerId}/sso?saved=1`);
      await expect(page.locator('#saved').textContent()).resolves.toContain('Saved');
      await expect(page.content()).resolves.not.toContain(clientSecret);

      // SCIM: create the connection, copy the base URL and the token with the copy buttons.
      await page.getByRole('navigation', { name: 'Setup' }).getByRole('link', { name: 'SCIM provisioning' }).click();
      await page.getByRole('button', { name: 'Create the SCIM connection and show its token' }).click();
      await page.waitForURL(`${f.origin}/setup/${customerId}/scim`);
      await page.getByRole('button', { name: 'Copy the SCIM base URL' }).click();
      const baseUrl = await page.evaluate(() => navigator.clipboard.readText());
      await page.getByRole('button', { name: 'Copy the SCIM token' }).click();
      const token = await page.evaluate(() => navigator.clipboard.readText());
      await expect(page.locator('#copy-status').textContent()).resolves.toBe('Copied.'); // said to screen readers too
      expect(baseUrl).toBe(`${f.origin}/scim/v2`);
      expect(token).toMatch(/^scim_[A-Za-z0-9_-]{43}$/);
      await expect(page.locator('#strategy').textContent()).resolves.toBe(walk.idpLabel === 'Okta' ? 'OidcEmailToScimUsername' : 'OidcSubToScimExternalId');
      await expect(page.locator('#idp-steps').textContent()).resolves.toContain(walk.hint.replace('map ', 'Map '));
      await page.screenshot({ path: shot(`${customerId}-scim`), fullPage: true });
      await page.reload();
      await expect(page.locator('#scim-token').count()).resolves.toBe(0);

      // Provision the two people with what was copied, as the IdP would (plain HTTP).
      for (const person of [walk.match, walk.mismatch]) {
        const response = await fetch(`${baseUrl}/Users`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
          body: JSON.stringify({ schemas: [USER_SCHEMA], active: true, ...person.scim }),
        });
        expect(response.status).toBe(201);
      }

      // Activity: the requests just made (no bodies, no tokens), no refused login; the SCIM page's live status.
      await page.getByRole('navigation', { name: 'Setup' }).getByRole('link', { name: 'Activity' }).click();
      const rows = await page.locator('#activity table').first().locator('tbody tr').allTextContents();
      expect(rows.filter((r) => r.includes('POST') && r.includes('/Users') && r.includes('201'))).toHaveLength(2);
      const activityText = (await page.locator('#activity').textContent()) ?? '';
      expect(activityText).not.toContain(token);
      expect(activityText).not.toContain(walk.match.userName);
      expect(activityText).toMatch(/Refused logins\s*None\./);
      await page.screenshot({ path: shot(`${customerId}-activity`), fullPage: true });
      await page.getByRole('navigation', { name: 'Setup' }).getByRole('link', { name: 'SCIM provisioning' }).click();
      await expect(page.locator('#scim-status').textContent()).resolves.toMatch(/Last request from your IdP: .*POST \/Users\s*→\s*201/s);

      await page.getByRole('navigation', { name: 'Setup' }).getByRole('link', { name: 'Overview' }).click();
      await expect(page.locator('#scim-status').textContent()).resolves.toContain('Last request from your IdP');

      // Test SSO: the matching person is admitted; the mismatching one refused, with the hint.
      await expect(testLogin(customerId, walk.match.sub)).resolves.toContain(`Admitted as ${walk.match.userName}`);
      await page.screenshot({ path: shot(`${customerId}-test-match`), fullPage: true });
      await expect(testLogin(customerId, walk.mismatch.sub)).resolves.toContain('Refused: not_provisioned');
      await expect(page.locator('#test-hints').textContent()).resolves.toContain(walk.hint);
      await page.screenshot({ path: shot(`${customerId}-test-mismatch`), fullPage: true });

      // Test mode created no session in the app and recorded no login.
      expect(await f.sso.listSsoUsers(customerId)).toEqual([]);
      expect((await context.cookies(`${f.origin}/`)).map((c) => c.name)).toEqual([]);
      expect((await context.cookies(`${f.origin}/setup/${customerId}/test`)).map((c) => c.name)).toEqual(['scim_sso_setup']);
      expect(pageErrors).toEqual([]);
    }, 60_000);
  }
});
