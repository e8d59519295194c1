/**
 * The dashboard in real headless Chromium (Debian's chromium, driven by playwright-core) against the
 * example app (`npm run example`'s script as a child process): the demo admin logs in, SCIM Matching
 * lists the people the default strategy locks out, switching the strategy empties the list without a
 * reload, Save applies it, and one of those people then logs in through the demo IdP and is admitted.
 * Roles: Alice's are shown on /me, the Roles page edits the mapping, Dave gets the new roles at login, and
 * the members page reads the directory API, the activity page an event consumer. Screenshots (matching before and after, roles) go to test-artifacts/.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { ARTIFACTS, chromiumMissing, launchChromium, type LaunchedChromium } from '../support/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExampleApp, type ExampleApp } from './example-process.js';

const SCREENSHOTS = {
  before: join(ARTIFACTS, 'dashboard-matching-before.png'),
  after: join(ARTIFACTS, 'dashboard-matching-after.png'),
  roles: join(ARTIFACTS, 'dashboard-roles.png'),
};

describe('the dashboard in headless Chromium against the example app', () => {
  let app: ExampleApp;
  let browser: LaunchedChromium;
  let page: Page;
  let pageErrors: string[] = [];
  // A missing Chromium fails every test with this message (never a skip).
  const missing = chromiumMissing('the dashboard browser test');
  const step = (name: string, fn: () => Promise<void>) =>
    it(name, async () => {
      if (missing) throw new Error(missing);
      await fn();
    });

  beforeAll(async () => {
    if (missing) return;
    app = await startExampleApp();
    browser = await launchChromium();
    ({ page, pageErrors } = browser);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  const login = async (sub: string) => {
    await page.goto(`${app.origin}/sso/acme/login?login_hint=${encodeURIComponent(sub)}`);
    await page.waitForURL((url) => url.origin === app.origin && (url.pathname === '/me' || url.pathname === '/refused'));
    return new URL(page.url());
  };

  step('keeps the demo outcomes under the default strategy: Alice admitted, Bob refused as deactivated', async () => {
    expect((await login('00u-alice')).pathname).toBe('/me');
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Admitted');
    // Alice is in Engineering: the demo role mapping makes her an admin.
    await expect(page.locator('#roles').textContent()).resolves.toBe('admin, editor, member');
    const bob = await login('00u-bob');
    expect(bob.pathname).toBe('/refused');
    expect(bob.searchParams.get('reason')).toBe('deactivated');
  });

  step('refuses the dashboard until the demo admin logs in', async () => {
    const refused = await page.goto(`${app.origin}/admin/`);
    expect(refused!.status()).toBe(403);
    await page.getByRole('link', { name: 'Log in' }).click();
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toBe('Wrong password.');
    await page.getByLabel('Password').fill(app.adminPassword);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${app.origin}/admin/`);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Customers');
  });

  step('lists the affected users, empties the list when the strategy changes, saves it, and keeps it after a reload', async () => {
    await page.getByRole('link', { name: 'acme', exact: true }).click();
    await page.getByRole('main').getByRole('link', { name: 'SCIM Matching' }).first().click();
    await page.waitForURL(`${app.origin}/admin/customers/acme/matching`);

    const affected = page.locator('#affected-list li');
    await expect(affected.allTextContents()).resolves.toEqual([expect.stringContaining('dave@acme.test'), expect.stringContaining('erin.lee@acme.test')]);
    await expect(page.locator('#recommended').textContent()).resolves.toContain('OidcSubToScimExternalId');
    await expect(page.getByRole('combobox', { name: 'Strategy' }).inputValue()).resolves.toBe('OidcEmailToScimUsername');
    await page.screenshot({ path: SCREENSHOTS.before, fullPage: true });

    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    await page.getByRole('combobox', { name: 'Strategy' }).selectOption('OidcSubToScimExternalId');
    await page.locator('#affected-empty').waitFor();
    await expect(affected.count()).resolves.toBe(0);
    await expect(page.locator('#affected').getAttribute('data-strategy')).resolves.toBe('OidcSubToScimExternalId');
    await expect(page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).resolves.toBe(true);
    // And back: the list comes back, still without a reload.
    await page.getByRole('combobox', { name: 'Strategy' }).selectOption('OidcEmailUsernameToScimUsername');
    await expect(affected.count()).resolves.toBe(2);
    await page.getByRole('combobox', { name: 'Strategy' }).selectOption('OidcSubToScimExternalId');
    await expect(affected.count()).resolves.toBe(0);

    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(`${app.origin}/admin/customers/acme/matching?saved=1`);
    await expect(page.getByRole('status').textContent()).resolves.toContain('OidcSubToScimExternalId');
    await page.reload();
    await expect(page.getByRole('combobox', { name: 'Strategy' }).inputValue()).resolves.toBe('OidcSubToScimExternalId');
    await expect(page.locator('#current-strategy').textContent()).resolves.toBe('OidcSubToScimExternalId');
    await page.locator('#affected-empty').waitFor();
    await page.screenshot({ path: SCREENSHOTS.after, fullPage: true });
    console.log(`dashboard screenshots:\n  before: ${SCREENSHOTS.before}\n  after:  ${SCREENSHOTS.after}`);
    expect(pageErrors).toEqual([]);
  });

  step('edits the role mapping on the Roles page: Engineering members become owners', async () => {
    await page.goto(`${app.origin}/admin/customers/acme`);
    await page.getByRole('main').getByRole('link', { name: 'Roles' }).click();
    await page.waitForURL(`${app.origin}/admin/customers/acme/roles`);
    await expect(page.getByLabel('Rule 1: group').inputValue()).resolves.toBe('Engineering');
    await page.getByLabel('Rule 1: roles, comma-separated').fill('owner, editor');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(`${app.origin}/admin/customers/acme/roles?saved=1`);
    await expect(page.getByLabel('Rule 1: roles, comma-separated').inputValue()).resolves.toBe('owner, editor');
    await page.screenshot({ path: SCREENSHOTS.roles, fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  step('admits the previously affected users through the demo IdP; Carol is still refused', async () => {
    expect((await login('00u-dave')).pathname).toBe('/me');
    await expect(page.locator('#roles').textContent()).resolves.toBe('owner, editor, member'); // Dave is in Engineering
    await expect(page.locator('pre').textContent()).resolves.toContain('"userName": "dave.okafor@acme-legacy.test"');
    // The members page reads the directory API.
    await page.getByRole('link', { name: "Your organisation's members" }).click();
    await page.waitForURL(`${app.origin}/members`);
    const userNames = await page.locator('#members tbody tr td:nth-child(2)').allTextContents();
    expect(userNames).toEqual(expect.arrayContaining(['alice@acme.test', 'bob@acme.test', 'dave.okafor@acme-legacy.test', 'elee@acme.test']));
    await expect(page.locator('#groups li').allTextContents()).resolves.toEqual(['Engineering (2 members)', 'Sales (2 members)']);
    // The activity page shows what the app's event consumer received: the demo's provisioning, newest first.
    await page.goto(`${app.origin}/activity`);
    await expect(page.locator('#activity tbody tr td:nth-child(2)').allTextContents()).resolves.toEqual(
      expect.arrayContaining(['user.created', 'user.deactivated', 'group.created', 'group.member_added']),
    );
    expect((await login('00u-erin')).pathname).toBe('/me');
    await expect(page.locator('pre').textContent()).resolves.toContain('"userName": "elee@acme.test"');
    const carol = await login('00u-carol');
    expect(carol.pathname).toBe('/refused');
    expect(carol.searchParams.get('reason')).toBe('not_provisioned');
  });
});
