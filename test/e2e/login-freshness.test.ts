/**
 * Fresh configuration at the callback, through two app instances (two scimSso, two apps) sharing one store
 * and one session store (a load balancer without sticky sessions). Instance A logs someone in first, so it
 * has discovered and built the customer's client; then the client's issuer, client id, secret or redirect
 * URI is changed through instance B. Every login step after that, on either instance, uses the client as
 * stored now; a login started before an issuer, client id or redirect URI change is refused at its callback
 * with 400 invalid_response, and one started before a secret change completes with the new secret.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from '../support/app.js';
import { Browser } from '../support/browser.js';
import { ADAPTERS, PATHS, startLoginHarness, uid, type Customer, type LoginHarness } from './harness.js';

const A = 0;
const B = 1;
const INVALID_RESPONSE = { status: 400, body: { error: 'invalid_response' } };

describe.each(STORE_KINDS)('fresh OIDC client configuration at the callback (%s store)', (storeKind) => {
  describe.each(ADAPTERS)('%s adapter', (adapter) => {
    let h: LoginHarness;

    beforeAll(async () => {
      h = await startLoginHarness({ store: storeKind, adapter, hint: `freshness-${adapter}`, sharedSessions: true });
    });
    afterAll(async () => {
      await h?.close();
    });
    afterEach(() => {
      // Taken, not just read: an error fails the test that caused it, not every test after it.
      expect({ server: h.serverErrors.splice(0), idp: h.idp.errors.splice(0) }).toEqual({ server: [], idp: [] });
    });

    const origin = async (n: number) => (await h.instance(n)).origin;

    /**
     * Starts a login on instance `from` and follows it through the IdP up to the app's callback, wherever the
     * IdP sends it (the redirect URI may name another instance). Returns the callback URL and every URL
     * visited on the way.
     */
    async function startLogin(browser: Browser, customerId: string, sub: string, from: number): Promise<{ callback: URL; visited: string[] }> {
      let url = `${await origin(from)}${PATHS.login(customerId)}?${new URLSearchParams({ login_hint: sub })}`;
      const visited: string[] = [];
      for (let hops = 0; hops < 20; hops++) {
        visited.push(url);
        const response = await browser.fetch(url);
        const location = response.headers.get('location');
        await response.body?.cancel();
        if (!location || response.status < 300 || response.status >= 400) throw new Error(`${url} answered ${response.status} before the callback`);
        url = new URL(location, url).href;
        const next = new URL(url);
        if (next.pathname === PATHS.callback(customerId) && next.searchParams.has('code')) return { callback: next, visited };
      }
      throw new Error('too many redirects');
    }

    /**
     * Completes a login on instance `on` with the app cookies the browser holds for instance `from` (one
     * origin behind the load balancer); answers the status, the JSON body if any, and where it redirects.
     */
    async function complete(browser: Browser, callback: URL, from: number, on: number) {
      const cookies = browser.cookies(await origin(from));
      const target = `${await origin(on)}${callback.pathname}${callback.search}`;
      const cookie = Object.entries(cookies)
        .map(([name, value]) => `${name}=${value}`)
        .join('; ');
      const response = await browser.fetch(target, { headers: { cookie } });
      const json = (response.headers.get('content-type') ?? '').includes('json');
      const body = json ? ((await response.json()) as Record<string, unknown>) : (await response.body?.cancel(), null);
      return { status: response.status, location: response.headers.get('location'), body };
    }

    /** A full login started on `from` and completed on `on`. */
    async function login(customerId: string, sub: string, from: number, on: number) {
      const browser = new Browser();
      const { callback, visited } = await startLogin(browser, customerId, sub, from);
      return { ...(await complete(browser, callback, from, on)), visited };
    }

    /** A customer whose redirect URI is instance A's callback; the person exists on `tenants`; A has logged in once. */
    async function warmCustomer(name: string, tenants: string[]): Promise<{ c: Customer; sub: string; id: string }> {
      const customerId = `${name}-${uid()}`;
      const [first, ...others] = tenants;
      const c = await h.customer({ customerId, tenant: first!, idpType: 'Okta', instance: A });
      const sub = `${customerId}-sub`;
      for (const tenant of tenants) {
        await h.idp.tenant(tenant);
        h.idp.upsertAccount(tenant, { sub, email: `${customerId}@corp.test`, email_verified: true });
      }
      for (const tenant of others) await h.idp.addClient(tenant, { client_id: c.clientId, client_secret: c.clientSecret, redirect_uris: [c.redirectUri] });
      const id = await c.scim.createUser({ userName: `${customerId}@corp.test` });
      // Instance A discovers the IdP and builds the customer's strategy (and B too: both have cached it).
      expect(await login(customerId, sub, A, A)).toMatchObject({ status: 302, location: PATHS.me });
      expect(await login(customerId, sub, B, B)).toMatchObject({ status: 302, location: PATHS.me });
      return { c, sub, id };
    }

    it('an issuer changed through B applies at once on A; logins started under the old issuer are refused at the callback on A or B', async () => {
      const { c, sub } = await warmCustomer('issuer', ['fresh-one', 'fresh-two']);
      const inFlight = await Promise.all([A, B].map(async (from) => ({ from, browser: new Browser() })));
      const started = await Promise.all(inFlight.map(async (f) => ({ ...f, ...(await startLogin(f.browser, c.customerId, sub, f.from)) })));

      await (await h.instance(B)).sso.updateOidcClient(c.customerId, { issuer: h.idp.issuer('fresh-two') });

      // Started under the old issuer: refused wherever the callback lands (never admitted by a stale cache).
      expect(await complete(started[0]!.browser, started[0]!.callback, A, A)).toMatchObject(INVALID_RESPONSE);
      expect(await complete(started[1]!.browser, started[1]!.callback, B, A)).toMatchObject(INVALID_RESPONSE);
      // Started now, on either instance, completed on either: the new issuer, admitted.
      const newIssuer = new URL(h.idp.issuer('fresh-two')).origin;
      for (const [from, on] of [
        [A, A],
        [B, A],
        [A, B],
      ] as const) {
        const result = await login(c.customerId, sub, from, on);
        expect(result).toMatchObject({ status: 302, location: PATHS.me });
        expect(result.visited.some((url) => url.startsWith(`${newIssuer}/t/fresh-two/`))).toBe(true);
      }
      // The old IdP no longer counts: the same person's login through it (an old client config) is never tried.
      const viaOld = (await login(c.customerId, sub, A, A)).visited.some((url) => url.includes('/t/fresh-one/'));
      expect(viaOld).toBe(false);
    });

    it('a client id changed through B applies at once on A; a login started under the old client id is refused', async () => {
      const { c, sub } = await warmCustomer('client-id', ['fresh-id']);
      const before = new Browser();
      const { callback } = await startLogin(before, c.customerId, sub, A);

      const clientId = `${c.customerId}-second`;
      await h.idp.addClient('fresh-id', { client_id: clientId, client_secret: c.clientSecret, redirect_uris: [c.redirectUri] });
      await (await h.instance(B)).sso.updateOidcClient(c.customerId, { clientId });

      expect(await complete(before, callback, A, A)).toMatchObject(INVALID_RESPONSE);
      for (const [from, on] of [
        [A, A],
        [B, A],
      ] as const) {
        const result = await login(c.customerId, sub, from, on);
        expect(result).toMatchObject({ status: 302, location: PATHS.me });
        expect(result.visited.some((url) => new URL(url).searchParams.get('client_id') === clientId)).toBe(true);
      }
    });

    it('a client secret changed through B works at once on A, also for a login started before the change', async () => {
      const { c, sub } = await warmCustomer('secret', ['fresh-secret']);
      const before = new Browser();
      const { callback } = await startLogin(before, c.customerId, sub, A);

      // The IdP now knows only the new secret; A cached a Configuration holding the old one.
      const clientSecret = `rotated-${uid()}${uid()}`;
      await h.idp.addClient('fresh-secret', { client_id: c.clientId, client_secret: clientSecret, redirect_uris: [c.redirectUri] });
      await (await h.instance(B)).sso.updateOidcClient(c.customerId, { clientSecret });

      expect(await complete(before, callback, A, A)).toMatchObject({ status: 302, location: PATHS.me });
      for (const [from, on] of [
        [A, A],
        [B, A],
        [A, B],
      ] as const) {
        expect(await login(c.customerId, sub, from, on)).toMatchObject({ status: 302, location: PATHS.me });
      }
    });

    it("a redirect URI changed through B (to B's callback) applies at once on A; a login started under the old one is refused", async () => {
      const { c, sub } = await warmCustomer('redirect', ['fresh-redirect']);
      const before = new Browser();
      const { callback: oldCallback } = await startLogin(before, c.customerId, sub, A);
      expect(oldCallback.origin).toBe(await origin(A));

      const redirectUri = `${await origin(B)}${PATHS.callback(c.customerId)}`;
      await h.idp.addClient('fresh-redirect', { client_id: c.clientId, client_secret: c.clientSecret, redirect_uris: [c.redirectUri, redirectUri] });
      await (await h.instance(B)).sso.updateOidcClient(c.customerId, { redirectUri });

      expect(await complete(before, oldCallback, A, A)).toMatchObject(INVALID_RESPONSE);
      // A login started on A now sends the new redirect URI: the IdP sends the browser to B's callback.
      const browser = new Browser();
      const { callback } = await startLogin(browser, c.customerId, sub, A);
      expect(callback.origin).toBe(await origin(B));
      expect(await complete(browser, callback, A, B)).toMatchObject({ status: 302, location: PATHS.me });
    });

    it('a client deleted and created again through B (same issuer, client id and redirect URI) refuses logins started before', async () => {
      const { c, sub } = await warmCustomer('recreated', ['fresh-recreate']);
      const before = new Browser();
      const { callback } = await startLogin(before, c.customerId, sub, A);
      const b = (await h.instance(B)).sso;
      const previous = await b.fetchOidcClient(c.customerId);
      await b.deleteOidcClient(c.customerId);
      await b.createOidcClient({
        customerId: c.customerId,
        idpType: 'Okta',
        issuer: c.issuer,
        clientId: c.clientId,
        clientSecret: c.clientSecret,
        redirectUri: c.redirectUri,
      });
      expect((await b.fetchOidcClient(c.customerId))?.oidcClientId).not.toBe(previous?.oidcClientId);

      expect(await complete(before, callback, A, A)).toMatchObject(INVALID_RESPONSE);
      expect(await login(c.customerId, sub, A, A)).toMatchObject({ status: 302, location: PATHS.me });
    });
  });
});
