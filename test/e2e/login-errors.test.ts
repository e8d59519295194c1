/**
 * What goes wrong in a login, and what the app answers: IdP refusals, forged or replayed callbacks, unknown
 * customers, and a store that goes away mid-login. Every answer is a well-defined 4xx or 503 JSON error;
 * no request in this file produces a 500 (the harness records any, and afterEach asserts there are none).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { StoreUnavailableError } from '../../src/store/unavailable.js';
import { STORE_KINDS } from '../support/app.js';
import { Browser, parseForms } from '../support/browser.js';
import { rawHttp } from '../support/raw-http.js';
import { aroundStoreCalls } from '../support/store-calls.js';
import { ADAPTERS, PATHS, startLoginHarness, uid, type Customer, type Extensions, type LoginHarness } from './harness.js';

/** Store methods that throw StoreUnavailableError while named here: fault injection at the edge. */
const failing = new Set<keyof Store>();

const withFaults = (store: Store): Store =>
  aroundStoreCalls(store, (method, call) => (failing.has(method as keyof Store) ? Promise.reject(new StoreUnavailableError()) : call()));

/** `GET /note?set=x` keeps x in the app's session; `GET /note` answers it: app data a login must not carry over. */
const NOTE_ROUTE: Extensions = {
  express: (app) =>
    app.get('/note', (req, res) => {
      const session = req.session as unknown as Record<string, unknown>;
      if (typeof req.query.set === 'string') session.note = req.query.set;
      res.type('text').send(String(session.note ?? ''));
    }),
  koa: (app) =>
    app.use(async (ctx, next) => {
      if (ctx.path !== '/note') return next();
      const session = ctx.session as unknown as Record<string, unknown>;
      if (typeof ctx.query.set === 'string') session.note = ctx.query.set;
      ctx.type = 'text';
      ctx.body = String(session.note ?? '');
    }),
};

/** The callback URL with one query parameter replaced. */
function withParam(url: string, name: string, value: string): string {
  const u = new URL(url);
  u.searchParams.set(name, value);
  return u.href;
}

describe.each(STORE_KINDS)('login errors (%s store)', (storeKind) => {
  describe.each(ADAPTERS)('%s adapter', (adapter) => {
    let h: LoginHarness;
    let c: Customer;
    let origin: string;
    const alice = { sub: 'alice-errors', email: 'alice@errors.test', email_verified: true };
    const bob = { sub: 'bob-errors', email: 'bob@errors.test', email_verified: true };

    beforeAll(async () => {
      h = await startLoginHarness({ store: storeKind, adapter, hint: `errors-${adapter}`, wrapStore: withFaults, extensions: NOTE_ROUTE });
      c = await h.customer({ customerId: `errors-${uid()}`, tenant: 'errors', idpType: 'Okta' });
      origin = (await h.instance(0)).origin;
      h.idp.upsertAccount('errors', alice);
      h.idp.upsertAccount('errors', bob);
      await c.scim.createUser({ userName: alice.email });
      await c.scim.createUser({ userName: bob.email });
    });
    afterAll(async () => {
      await h?.close();
    });
    afterEach(() => {
      failing.clear();
      // Taken, not just read: an error fails the test that caused it, not every test after it.
      expect({ server: h.serverErrors.splice(0), idp: h.idp.errors.splice(0) }).toEqual({ server: [], idp: [] });
    });

    /** GETs a URL with this browser's cookies; returns status, JSON body, headers. */
    async function get(browser: Browser, url: string) {
      const response = await browser.fetch(url);
      const json = (response.headers.get('content-type') ?? '').includes('json');
      const body = json ? ((await response.json()) as Record<string, unknown>) : (await response.body?.cancel(), null);
      return { status: response.status, body, headers: response.headers };
    }

    it('starts the login for an absolute-form request target (GET http://host/sso/…/login), as for its path', async () => {
      const answer = await rawHttp(origin, `GET http://attacker.invalid/sso/${c.customerId}/login HTTP/1.1`);
      const head = answer.slice(0, answer.indexOf('\r\n\r\n'));
      expect(head.split('\r\n')[0]).toBe('HTTP/1.1 302 Found');
      const location = /^location: (.*)$/im.exec(head)![1]!;
      expect(location.startsWith(h.idp.issuer('errors'))).toBe(true);
      // The redirect_uri the IdP is sent is the client's, never the client-chosen host.
      expect(location).not.toContain('attacker.invalid');
    });

    it('starts a new login when the callback is opened without a code, the same on every adapter', async () => {
      const result = await get(new Browser(), `${origin}${PATHS.callback(c.customerId)}`);
      expect(result.status).toBe(302);
      expect(result.headers.get('location')).toMatch(new RegExp(`^${c.issuer}/auth\\?`));
    });

    it('names the issuer the IdP declares when the configured one differs by a trailing slash (a configuration error, not a bad response)', async () => {
      const slashed = await h.customer({ customerId: `errors-slash-${uid()}`, tenant: 'errors', idpType: 'Okta' });
      await (await h.instance(0)).sso.updateOidcClient(slashed.customerId, { issuer: `${slashed.issuer}/` });
      const result = await get(new Browser(), `${origin}${PATHS.login(slashed.customerId)}`);
      expect(result.status).toBe(400);
      expect(result.body).toMatchObject({ error: 'idp_error' });
      expect(String(result.body!.message)).toContain(`declares the issuer "${slashed.issuer}", not the configured "${slashed.issuer}/"`);
    });

    it('completes logins of two customers pending in one browser, in either order, the same on every adapter', async () => {
      const other = await h.customer({ customerId: `errors-other-${uid()}`, tenant: 'errors', idpType: 'Okta' });
      await other.scim.createUser({ userName: alice.email });
      const browser = new Browser();
      const first = await h.startLogin(browser, c.customerId, alice.sub);
      const second = await h.startLogin(browser, other.customerId, alice.sub);
      // The first login's session regeneration must not drop the second one's pending state (Koa keeps the
      // session's data at login; Express's passport drops it unless told to keep it).
      for (const [callback, customerId] of [
        [first, c.customerId],
        [second, other.customerId],
      ] as const) {
        const done = await browser.fetch(callback);
        await done.body?.cancel();
        expect({ customerId, status: done.status, location: done.headers.get('location') }).toEqual({ customerId, status: 302, location: PATHS.me });
        expect((await h.me(browser)).body).toMatchObject({ customerId });
      }
    });

    it("drops the previous person's app data from the session at the next login, the same on every adapter", async () => {
      const browser = new Browser();
      expect((await h.login(browser, c.customerId, alice.sub)).status).toBe(200);
      const note = (await browser.fetch(`${origin}/note?set=alice-was-here`)).status;
      expect(note).toBe(200);
      expect(await (await browser.fetch(`${origin}/note`)).text()).toBe('alice-was-here');
      // Bob logs in in the same browser without logging out: nothing Alice's session held is his.
      expect((await h.login(browser, c.customerId, bob.sub)).status).toBe(200);
      expect(await (await browser.fetch(`${origin}/note`)).text()).toBe('');
      expect((await h.me(browser)).body).toMatchObject({ subject: bob.sub });
    });

    it('answers 401 access_denied when the person cancels at the IdP, and creates no session', async () => {
      const browser = new Browser();
      const page = await browser.navigate(`${origin}${PATHS.login(c.customerId)}`); // no login_hint: the IdP shows its page
      expect(page.response.status).toBe(200);
      const cancel = parseForms(await page.response.text(), page.url).find((f) => f.text === 'Cancel');
      expect(cancel).toBeDefined();
      const denied = await browser.submit(cancel!);
      expect(denied.url).toContain(`${PATHS.callback(c.customerId)}?`);
      expect(denied.response.status).toBe(401);
      expect(await denied.response.json()).toMatchObject({ error: 'access_denied', message: expect.any(String) });
      expect(await h.me(browser)).toMatchObject({ status: 401, body: { error: 'unauthenticated' } });
    });

    it('answers 400 idp_error for any other error the IdP sends back', async () => {
      const browser = new Browser();
      const callback = new URL(await h.startLogin(browser, c.customerId, alice.sub));
      const errorUrl = new URL(`${callback.origin}${callback.pathname}`);
      errorUrl.search = new URLSearchParams({ error: 'temporarily_unavailable', state: callback.searchParams.get('state')!, iss: c.issuer }).toString();
      expect(await get(browser, errorUrl.href)).toMatchObject({ status: 400, body: { error: 'idp_error' } });
      expect(await h.me(browser)).toMatchObject({ status: 401 });
    });

    it('answers 400 invalid_response to a callback without a prior login', async () => {
      const browser = new Browser();
      const result = await get(browser, `${origin}${PATHS.callback(c.customerId)}?code=made-up&state=made-up`);
      expect(result).toMatchObject({ status: 400, body: { error: 'invalid_response', message: expect.any(String) } });
      expect(await h.me(browser)).toMatchObject({ status: 401 });
    });

    it('answers 400 invalid_response to a callback whose state was forged, which cannot cancel the login under way', async () => {
      const browser = new Browser();
      const callback = await h.startLogin(browser, c.customerId, alice.sub);
      expect(await get(browser, withParam(callback, 'state', 'forged-state'))).toMatchObject({ status: 400, body: { error: 'invalid_response' } });
      expect(await h.me(browser)).toMatchObject({ status: 401, body: { error: 'unauthenticated' } });
      // The login cookie keeps each login under its own state (src/guard/oidc-login-cookie.ts): a forged
      // callback (login CSRF) takes none of them, and the person's own callback still completes.
      expect(await get(browser, callback)).toMatchObject({ status: 302 });
      expect(await h.me(browser)).toMatchObject({ status: 200, body: { userName: alice.email } });
    });

    it('refuses a replayed callback URL: the second use answers 400/401, never 500', async () => {
      const browser = new Browser();
      const callback = await h.startLogin(browser, c.customerId, alice.sub);
      expect(await get(browser, callback)).toMatchObject({ status: 302 });
      const replay = await get(browser, callback);
      expect([400, 401]).toContain(replay.status);
      expect(replay.body).toMatchObject({ error: expect.stringMatching(/^(invalid_response|token_exchange_failed)$/) });
    });

    it('answers 400 token_exchange_failed when a used code comes back with a valid state', async () => {
      const browser = new Browser();
      const first = await h.startLogin(browser, c.customerId, alice.sub);
      expect(await get(browser, first)).toMatchObject({ status: 302 });
      // A new login in the same browser saves a fresh state; the IdP then sees the old code again.
      const second = await h.startLogin(browser, c.customerId, alice.sub);
      const replayed = withParam(second, 'code', new URL(first).searchParams.get('code')!);
      expect(await get(browser, replayed)).toMatchObject({ status: 400, body: { error: 'token_exchange_failed' } });
    });

    it('answers 400 token_exchange_failed to a made-up code with a valid state', async () => {
      const browser = new Browser();
      const callback = await h.startLogin(browser, c.customerId, alice.sub);
      expect(await get(browser, withParam(callback, 'code', 'not-a-code'))).toMatchObject({ status: 400, body: { error: 'token_exchange_failed' } });
      expect(await h.me(browser)).toMatchObject({ status: 401 });
    });

    it('answers 404 unknown_customer for a customer without an OIDC client, at login and at callback', async () => {
      const browser = new Browser();
      expect(await get(browser, `${origin}${PATHS.login('nobody-here')}`)).toMatchObject({ status: 404, body: { error: 'unknown_customer' } });
      expect(await get(browser, `${origin}${PATHS.callback('nobody-here')}?code=x&state=y`)).toMatchObject({
        status: 404,
        body: { error: 'unknown_customer' },
      });
      // An id that can never be a customer id (braces) is unknown too, not a crash.
      expect(await get(browser, `${origin}${PATHS.login('{bad}')}`)).toMatchObject({ status: 404, body: { error: 'unknown_customer' } });
      // Too long for the stores (150 emoji: 300 UTF-16 units) though short in code points.
      const long = '😀'.repeat(150);
      expect(await get(browser, `${origin}${PATHS.login(long)}`)).toMatchObject({ status: 404, body: { error: 'unknown_customer' } });
      expect(await get(browser, `${origin}${PATHS.callback(long)}?code=x&state=y`)).toMatchObject({ status: 404, body: { error: 'unknown_customer' } });
      // Not validly percent-encoded: still a 404 on both adapters, never a 500.
      expect(await get(browser, `${origin}/sso/%E0%A4%A/login`)).toMatchObject({ status: 404, body: { error: 'unknown_customer' } });
    });

    // The guard's lookup and record are one store call now (Store.recordLogin, docs/round-trips.md).
    it.each(['recordLogin'] as const)('answers 503 store_unavailable and creates no session when %s fails during the callback', async (method) => {
      const browser = new Browser();
      const callback = await h.startLogin(browser, c.customerId, alice.sub);
      failing.add(method);
      const result = await get(browser, callback);
      expect(result).toMatchObject({ status: 503, body: { error: 'store_unavailable' } });
      expect(result.headers.get('retry-after')).toBe('5');
      failing.clear();
      expect(await h.me(browser)).toMatchObject({ status: 401, body: { error: 'unauthenticated' } });
      // Once the store is back, the same person logs in.
      expect(await h.login(browser, c.customerId, alice.sub)).toMatchObject({ status: 200, body: { subject: alice.sub } });
    });

    it('answers 503 when the store is unavailable at login start', async () => {
      failing.add('getCustomer');
      const result = await get(new Browser(), `${origin}${PATHS.login(c.customerId)}?login_hint=${alice.sub}`);
      expect(result).toMatchObject({ status: 503, body: { error: 'store_unavailable' } });
    });

    it('answers 503 on a protected route while the store is unavailable, and keeps the session for later', async () => {
      const browser = new Browser();
      expect((await h.login(browser, c.customerId, bob.sub)).status).toBe(200);
      failing.add('readSessionUser');
      expect(await h.me(browser)).toMatchObject({ status: 503, body: { error: 'store_unavailable' } });
      failing.clear();
      expect(await h.me(browser)).toMatchObject({ status: 200, body: { subject: bob.sub } });
    });
  });
});
