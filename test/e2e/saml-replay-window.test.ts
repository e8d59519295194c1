/**
 * How long the ACS has the store remember an admitted assertion's ID (docs/saml.md §What the store caches):
 * until the assertion expires, but no longer than 2 × SAML_REQUEST_TTL_MS after its login started, since no
 * instance takes a response to a login older than that. An IdP's day-long assertion used to be remembered a
 * day, so a customer whose IdP minted responses in a loop could fill the memory store's shared cache and
 * refuse every customer's SAML logins (audit 26). The replay itself stays refused within the window.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SAML_REQUEST_TTL_MS } from '../../src/guard/saml.js';
import { STORE_KINDS } from '../support/app.js';
import { Browser } from '../support/browser.js';
import { recordStoreCalls, type StoreCall } from '../support/store-calls.js';
import { startLoginHarness, type LoginHarness } from './harness.js';
import { postToAcs, samlCustomer, samlLogin, type SamlCustomer } from './saml-harness.js';

const HOUR = 3_600_000;

describe.each(STORE_KINDS)('the replay window of SAML assertions (%s store)', (storeKind) => {
  let h: LoginHarness;
  let c: SamlCustomer;
  let calls: StoreCall[] = [];

  beforeAll(async () => {
    h = await startLoginHarness({
      store: storeKind,
      adapter: 'express',
      hint: 'saml-replay-window',
      wrapStore: (store) => {
        const recorded = recordStoreCalls(store);
        calls = recorded.calls;
        return recorded.store;
      },
    });
    c = await samlCustomer(h, { customerId: 'saml-window', idpType: 'Okta' });
    await c.scim.createUser({ userName: 'alice@corp.test' });
  });
  afterAll(async () => {
    await h?.close();
  });
  afterEach(() => {
    expect(h.serverErrors.splice(0)).toEqual([]);
  });

  const remembered = () => calls.filter((call) => call.method === 'rememberSamlAssertion').map((call) => call.args[2] as number);

  it('remembers a 23-hour assertion for at most 20 minutes, and still refuses its replay', async () => {
    calls.splice(0);
    const admitted = await samlLogin(h, new Browser(), c, { nameId: 'alice@corp.test', notOnOrAfterMs: 23 * HOUR });
    expect(admitted.status, JSON.stringify(admitted.body)).toBe(200);
    const [ttl] = remembered();
    expect(ttl).toBeGreaterThan(2 * SAML_REQUEST_TTL_MS - 60_000);
    expect(ttl).toBeLessThanOrEqual(2 * SAML_REQUEST_TTL_MS);
    const replayed = await postToAcs(h, new Browser(), c, admitted.samlResponse);
    expect(replayed.status).toBe(400);
  });

  it('remembers a 5-minute assertion until it expires (plus the clock skew allowed), not longer', async () => {
    calls.splice(0);
    const admitted = await samlLogin(h, new Browser(), c, { nameId: 'alice@corp.test', notOnOrAfterMs: 5 * 60_000, confirmationNotOnOrAfterMs: 5 * 60_000 });
    expect(admitted.status, JSON.stringify(admitted.body)).toBe(200);
    const [ttl] = remembered();
    expect(ttl).toBeGreaterThan(5 * 60_000 - 60_000);
    expect(ttl).toBeLessThan(2 * SAML_REQUEST_TTL_MS - 60_000);
  });
});
