/**
 * The example app's SAML demo customer, end to end as a person would use it: the Express example app as a
 * child process, its embedded demo SAML IdP, and a browser choosing an account on the IdP's page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAML_DEMO_CUSTOMER } from '../../example-app/demo-data.js';
import { startExampleApp, type ExampleApp } from '../dashboard/example-process.js';
import { Browser, parseForms } from '../support/browser.js';

describe('example app: the SAML demo customer', () => {
  let app: ExampleApp;
  beforeAll(async () => {
    app = await startExampleApp();
  }, 90_000);
  afterAll(async () => {
    await app?.stop();
  });

  /** Starts the SAML login, picks `label` on the demo IdP's page, and follows the form post to the app. */
  async function logIn(browser: Browser, label: string) {
    const idpPage = await browser.navigate(`${app.origin}/sso/${SAML_DEMO_CUSTOMER}/login`);
    expect(idpPage.response.status).toBe(200);
    const forms = parseForms(await idpPage.response.text(), idpPage.url);
    const chosen = forms.find((f) => f.action.endsWith('/saml/sso/answer') && f.text.includes(label));
    if (!chosen) throw new Error(`no button for ${label} on the demo IdP's page`);
    return browser.submit(chosen);
  }

  it('prints the SAML IdP and keeps the SCIM base URL line last', () => {
    expect(app.output()).toMatch(/demo SAML IdP: http:\/\/127\.0\.0\.1:\d+\/saml/);
    expect(app.output()).toMatch(/SCIM base URL: \S+ token: \S+\s*$/);
  });

  it('admits Grace (provisioned, active) by SAML', async () => {
    const browser = new Browser();
    const result = await logIn(browser, 'Grace');
    expect(result.url).toBe(`${app.origin}/me`);
    expect(result.response.status).toBe(200);
    expect(await result.response.text()).toContain('grace@initech.test');
  });

  it("starts a login of its own from the IdP's app tile (an IdP-initiated response), which admits Grace", async () => {
    const browser = new Browser();
    const idpEntityId = /demo SAML IdP: (\S+)/.exec(app.output())![1]!;
    const home = await browser.navigate(`${app.origin}/`);
    expect(await home.response.text()).toContain(`${idpEntityId}/apps`);
    const dashboard = await browser.navigate(`${idpEntityId}/apps`);
    const tile = parseForms(await dashboard.response.text(), dashboard.url).find((f) => f.text.includes('Grace'));
    expect(tile?.fields.request).toBe('');
    // The tile's response is not taken: the app sends the browser back to the IdP with a request of its own.
    const signIn = await browser.submit(tile!);
    expect(signIn.url.startsWith(`${idpEntityId}/sso?SAMLRequest=`)).toBe(true);
    const chosen = parseForms(await signIn.response.text(), signIn.url).find((f) => f.text.includes('Grace'));
    expect(chosen?.fields.request).toMatch(/^_[0-9a-f]{40}$/);
    const result = await browser.submit(chosen!);
    expect(result.url).toBe(`${app.origin}/me`);
    expect(await result.response.text()).toContain('grace@initech.test');
  });

  it('refuses Heidi (deactivated) and Ivan (never provisioned)', async () => {
    for (const [name, reason] of [
      ['Heidi', 'deactivated'],
      ['Ivan', 'not_provisioned'],
    ] as const) {
      const result = await logIn(new Browser(), name);
      expect(result.url).toBe(`${app.origin}/refused?error=ScimUserNotActive&reason=${reason}`);
      expect(result.response.status).toBe(403);
      await result.response.body?.cancel();
    }
  });
});
