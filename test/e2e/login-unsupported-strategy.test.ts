/**
 * A stored matching strategy this version does not know (written by a newer version sharing the store, or
 * by hand) refuses the login with 503 `unsupported_strategy` at both steps: never a silent fallback to
 * OidcEmailToScimUsername, which could admit someone else. Nothing is recorded and no session is made.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from '../support/app.js';
import { Browser } from '../support/browser.js';
import { ADAPTERS, startLoginHarness, uid, type Customer, type LoginHarness } from './harness.js';

describe.each(STORE_KINDS)('unsupported stored strategy (%s store)', (storeKind) => {
  describe.each(ADAPTERS)('%s adapter', (adapter) => {
    let h: LoginHarness;
    let c: Customer;
    const alice = { sub: 'alice-unsupported', email: 'alice@unsupported.test', email_verified: true };

    beforeAll(async () => {
      h = await startLoginHarness({ store: storeKind, adapter, hint: `unsupported-${adapter}` });
      c = await h.customer({ customerId: `unsupported-${uid()}`, tenant: 'unsupported', idpType: 'Okta' });
      h.idp.upsertAccount('unsupported', alice);
      await c.scim.createUser({ userName: alice.email });
    });
    afterAll(async () => {
      await h?.close();
    });
    afterEach(() => {
      expect({ server: h.serverErrors.splice(0), idp: h.idp.errors.splice(0) }).toEqual({ server: [], idp: [] });
    });

    /** Writes the strategy straight into the store, as another version of scim-sso would. */
    async function storeStrategy(strategy: string): Promise<void> {
      const current = (await h.store.getOidcClient(c.customerId))!;
      const updatedAt = new Date(Date.parse(current.updatedAt) + 1).toISOString();
      expect(await h.store.replaceOidcClient({ ...current, matchingStrategy: strategy, updatedAt }, current.updatedAt)).toBe(true);
    }

    it('refuses the login step before the IdP is involved', async () => {
      await storeStrategy('OidcFutureClaimToScimUsername');
      try {
        const browser = new Browser();
        const result = await h.login(browser, c.customerId, alice.sub);
        expect(result.status).toBe(503);
        expect(result.body).toMatchObject({ error: 'unsupported_strategy', message: expect.stringContaining('"OidcFutureClaimToScimUsername"') });
        expect(result.url).not.toContain('/auth'); // never redirected to the IdP
        expect(await h.store.listSsoUsers(c.customerId)).toEqual([]);
        expect((await h.me(browser)).status).toBe(401);
      } finally {
        await storeStrategy('OidcEmailToScimUsername');
      }
    });

    it('refuses at the callback when the strategy became unknown mid-login', async () => {
      const browser = new Browser();
      const callback = await h.startLogin(browser, c.customerId, alice.sub);
      await storeStrategy('OidcFutureClaimToScimUsername');
      try {
        const response = await browser.fetch(callback);
        expect(response.status).toBe(503);
        expect(await response.json()).toMatchObject({ error: 'unsupported_strategy' });
        expect(await h.store.listSsoUsers(c.customerId)).toEqual([]);
        expect((await h.me(browser)).status).toBe(401);
      } finally {
        await storeStrategy('OidcEmailToScimUsername');
      }
      // A known strategy again: the same person is admitted.
      expect(await h.login(new Browser(), c.customerId, alice.sub)).toMatchObject({ status: 200, body: { customerId: c.customerId } });
    });
  });
});
