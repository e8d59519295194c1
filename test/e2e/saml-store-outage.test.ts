/**
 * A SAML login while the store cannot be reached fails closed: 503 `store_unavailable` with `Retry-After`,
 * never an admission, never a 500, at each store call of the login step and the ACS (fault injection at the
 * store's edge, both stores and adapters). Once the store is back, the same person logs in.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { StoreUnavailableError } from '../../src/store/unavailable.js';
import { STORE_KINDS } from '../support/app.js';
import { Browser } from '../support/browser.js';
import { aroundStoreCalls } from '../support/store-calls.js';
import { ADAPTERS, startLoginHarness, type LoginHarness } from './harness.js';
import { postToAcs, samlCustomer, samlLogin, startSamlLogin, type SamlCustomer } from './saml-harness.js';

const failing = new Set<keyof Store>();
/**
 * Every store call a request makes while recording (the cost test), in order. The activity log's flush runs on
 * its own timer, off the request path (docs/activity.md), so it may land in any window and is not counted.
 */
let recorded: string[] | null = null;
const withFaults = (store: Store): Store =>
  aroundStoreCalls(store, (method, call) => {
    if (method !== 'appendActivity') recorded?.push(method);
    return failing.has(method as keyof Store) ? Promise.reject(new StoreUnavailableError()) : call();
  });

const ALICE = { nameId: 'alice@corp.test' };

describe.each(STORE_KINDS)('SAML logins with the store unavailable (%s store)', (storeKind) => {
  describe.each(ADAPTERS)('%s adapter', (adapter) => {
    let h: LoginHarness;
    let c: SamlCustomer;

    beforeAll(async () => {
      h = await startLoginHarness({ store: storeKind, adapter, hint: `saml-outage-${adapter}`, wrapStore: withFaults });
      c = await samlCustomer(h, { customerId: 'saml-outage', idpType: 'Okta' });
      await c.scim.createUser({ userName: 'alice@corp.test' });
    });
    afterAll(async () => {
      await h?.close();
    });
    afterEach(() => {
      failing.clear();
      expect(h.serverErrors.splice(0)).toEqual([]);
    });

    it('costs 1 store call at the login step and 3 at the ACS (docs/saml.md)', async () => {
      const browser = new Browser();
      recorded = [];
      const requestId = await startSamlLogin(h, browser, c);
      const loginCalls = recorded;
      const samlResponse = await c.idp.respond(c.sp, { ...ALICE, inResponseTo: requestId });
      const { origin } = await h.instance();
      recorded = [];
      // The ACS alone (not the redirect to /me that follows it).
      const result = await browser.fetch(`${origin}/sso/${c.customerId}/saml/acs`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ SAMLResponse: samlResponse }).toString(),
      });
      await result.body?.cancel();
      const acsCalls = recorded;
      recorded = null;
      expect(result.status).toBe(302);
      expect(result.headers.get('location')).toBe('/me');
      // A login start stores nothing: its request is bound to the browser by the cookie alone.
      expect(loginCalls).toEqual(['getCustomer']);
      expect(acsCalls).toEqual(['getCustomer', 'rememberSamlAssertion', 'recordLogin']);
    });

    it.each(['getCustomer'] as const)('answers 503 at the login step when %s fails', async (method) => {
      const { origin } = await h.instance();
      failing.add(method);
      const response = await new Browser().fetch(`${origin}/sso/${c.customerId}/login`);
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('5');
      expect(await response.json()).toMatchObject({ error: 'store_unavailable' });
    });

    it.each(['getCustomer', 'rememberSamlAssertion', 'recordLogin'] as const)(
      'answers 503 at the ACS when %s fails, admits nobody, and the person logs in once the store is back',
      async (method) => {
        const browser = new Browser();
        const requestId = await startSamlLogin(h, browser, c);
        const response = await c.idp.respond(c.sp, { ...ALICE, inResponseTo: requestId });
        failing.add(method);
        const result = await postToAcs(h, browser, c, response);
        expect(result).toMatchObject({ status: 503, body: { error: 'store_unavailable' } });
        failing.clear();
        expect(await h.me(browser)).toMatchObject({ status: 401 });
        expect((await samlLogin(h, browser, c, ALICE)).status).toBe(200);
      },
    );
  });
});
