/**
 * Where an OIDC login in progress is kept on the login routes: in a cookie of its own, sent only to the
 * customer's login routes, each login good for one callback and OIDC_LOGIN_TTL_MS; never in the app's
 * session store, so anonymous
 * login starts in a loop add nothing to it (src/guard/oidc-login-cookie.ts). Real IdP, real passport and
 * session middleware, sessions shared by the instances so the test can count them.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/browser.js';
import { decodeOidcLogins, encodeOidcLogins, INSTANCE_CLOCK_SKEW_MS, OIDC_LOGIN_TTL_MS, PENDING_LOGINS } from '../../src/guard/oidc-login-cookie.js';
import { cookieFolderOf, cookiePathOf } from '../../src/guard/login-browser.js';
import { ADAPTERS, loginCookieOf, PATHS, SESSION_COOKIE, startLoginHarness, uid, type AdapterKind, type Extensions, type LoginHarness } from './harness.js';

/** A login started by `sso.strategy()` in the app's own route. */
const OWN_START = (customerId: string) => `/own/${encodeURIComponent(customerId)}/login`;
/** The same on a request that lets no Set-Cookie reach the browser (as Fastify's): the state goes to the session. */
const SESSION_START = (customerId: string) => `/own-no-response/${encodeURIComponent(customerId)}/login`;

const ownStart: { [K in AdapterKind]-?: NonNullable<Extensions[K]> } = {
  express(app, { sso, passport }) {
    app.get('/own/:customerId/login', async (req, res, next) => {
      const loginHint = typeof req.query.login_hint === 'string' ? req.query.login_hint : undefined;
      passport.authenticate(await sso.strategy(String(req.params.customerId)), { loginHint } as object)(req, res, next);
    });
    app.get('/own-no-response/:customerId/login', async (req, res, next) => {
      const loginHint = typeof req.query.login_hint === 'string' ? req.query.login_hint : undefined;
      const bare = Object.create(req, { res: { value: undefined } }) as typeof req;
      passport.authenticate(await sso.strategy(String(req.params.customerId)), { loginHint } as object)(bare, res, next);
    });
  },
  koa(app, { sso, passport }) {
    app.use(async (ctx, next) => {
      const match = /^\/own\/([^/]+)\/login$/.exec(ctx.path);
      if (!match) return next();
      const loginHint = typeof ctx.query.login_hint === 'string' ? ctx.query.login_hint : undefined;
      // koa-passport's types name strategies by string; its passport 0.6 takes an instance too.
      const strategy = (await sso.strategy(decodeURIComponent(match[1]!))) as unknown as string;
      await passport.authenticate(strategy, { loginHint } as object)(ctx, next);
    });
  },
};

describe.each(ADAPTERS)('OIDC login state on the login routes (%s adapter)', (adapter) => {
  let h: LoginHarness;
  beforeAll(async () => {
    h = await startLoginHarness({ store: 'memory', adapter, hint: `start-state-${adapter}`, sharedSessions: true, extensions: ownStart });
  });
  afterAll(async () => {
    await h?.close();
  });
  afterEach(() => {
    expect({ server: h.serverErrors.splice(0), idp: h.idp.errors.splice(0) }).toEqual({ server: [], idp: [] });
  });

  /** A customer with a person provisioned; on its own IdP `tenant` when a browser signs in to two at once. */
  async function customerWithPerson(name: string, tenant = 'start-state') {
    const customerId = `${name}-${uid()}`;
    const c = await h.customer({ customerId, tenant, idpType: 'Okta' });
    const sub = `${customerId}-sub`;
    h.idp.upsertAccount(tenant, { sub, email: `${customerId}@corp.test`, email_verified: true });
    const id = await c.scim.createUser({ userName: `${customerId}@corp.test` });
    return { customerId, sub, id };
  }

  /** The callback with exactly `cookie` as the Cookie header (no jar): status and Set-Cookie lines. */
  async function callbackWith(callback: string, cookie: string) {
    const response = await fetch(callback, { headers: { cookie }, redirect: 'manual' });
    await response.body?.cancel();
    return { status: response.status, setCookies: response.headers.getSetCookie() };
  }

  it("anonymous login starts add no session: each sets only its own cookie, sent to the customer's login routes only", async () => {
    const { customerId } = await customerWithPerson('anon');
    const { origin } = await h.instance(0);
    const before = await h.sessionCount();
    for (let i = 0; i < 50; i++) {
      const response = await fetch(`${origin}${PATHS.login(customerId)}`, { redirect: 'manual' });
      await response.body?.cancel();
      expect(response.status).toBe(302);
      const cookies = response.headers.getSetCookie();
      expect(cookies).toHaveLength(1);
      expect(cookies[0]).toMatch(new RegExp(`^${loginCookieOf(customerId)}=[A-Za-z0-9_-]+; `));
      expect(cookies[0]).toContain(`; Path=${PATHS.ssoBase}/${customerId}/; Max-Age=${OIDC_LOGIN_TTL_MS / 1000}; HttpOnly; SameSite=Lax`);
    }
    expect(await h.sessionCount()).toBe(before);
  });

  it('a login completes from its cookie alone; the cookie is cleared and the same callback again is refused', async () => {
    const { customerId, sub, id } = await customerWithPerson('once');
    const browser = new Browser();
    const { origin } = await h.instance(0);
    const callback = await h.startLogin(browser, customerId, sub);
    expect(Object.keys(browser.cookies(origin))).toEqual([loginCookieOf(customerId)]);
    const cookie = `${loginCookieOf(customerId)}=${browser.cookies(origin)[loginCookieOf(customerId)]}`;
    const sessions = await h.sessionCount();

    const first = await browser.navigate(callback);
    expect(first.response.status).toBe(200);
    await first.response.body?.cancel();
    expect(await h.me(browser)).toMatchObject({ status: 200, body: { customerId, scimUserId: id } });
    expect(Object.keys(browser.cookies(origin)).filter((name) => name.startsWith('scimsso_oidc_'))).toEqual([]);
    expect(await h.sessionCount()).toBe(sessions + 1);

    // Replayed with the cookie as it was (a copy kept elsewhere): the IdP's code is spent, so no login.
    const replay = await callbackWith(callback, cookie);
    expect(replay.status).toBe(400);
    expect(replay.setCookies.some((line) => line.startsWith(`${loginCookieOf(customerId)}=;`))).toBe(true);
    expect(await h.sessionCount()).toBe(sessions + 1);
  });

  it('refuses a callback whose cookie is missing, expired, altered or of another customer, and makes no session', async () => {
    const { customerId, sub } = await customerWithPerson('refused');
    const other = await customerWithPerson('other');
    const browser = new Browser();
    const { origin } = await h.instance(0);
    const callback = await h.startLogin(browser, customerId, sub);
    const name = loginCookieOf(customerId);
    const value = browser.cookies(origin)[name]!;
    const [pending, ...none] = decodeOidcLogins(value, Date.now());
    expect(none).toEqual([]);
    const login = pending!.login;
    const sessions = await h.sessionCount();

    const expired = encodeOidcLogins([{ login, startedAt: Date.now() - OIDC_LOGIN_TTL_MS - 1_000 }]);
    const altered = encodeOidcLogins([{ login: { ...login, state: `${login.state}x` }, startedAt: Date.now() }]);
    for (const cookie of ['', `${name}=${expired}`, `${name}=${altered}`, `${name}=${value.slice(0, -2)}`, `${loginCookieOf(other.customerId)}=${value}`]) {
      expect((await callbackWith(callback, cookie)).status, cookie).toBe(400);
    }
    expect(await h.sessionCount()).toBe(sessions);
    // The login itself was not spent by the refusals.
    const admitted = await callbackWith(callback, `${name}=${value}`);
    expect(admitted).toMatchObject({ status: 302 });
    expect(await h.sessionCount()).toBe(sessions + 1);
  });

  it('two logins in progress for two customers in one browser both complete', async () => {
    const a = await customerWithPerson('two-a');
    const b = await customerWithPerson('two-b', 'start-state-b');
    const browser = new Browser();
    const callbackA = await h.startLogin(browser, a.customerId, a.sub);
    const callbackB = await h.startLogin(browser, b.customerId, b.sub);
    const second = await browser.navigate(callbackB);
    await second.response.body?.cancel();
    expect(await h.me(browser)).toMatchObject({ status: 200, body: { customerId: b.customerId, scimUserId: b.id } });
    const first = await browser.navigate(callbackA);
    await first.response.body?.cancel();
    expect(await h.me(browser)).toMatchObject({ status: 200, body: { customerId: a.customerId, scimUserId: a.id } });
  });

  it('two logins of one customer in two tabs both complete, in either order; past PENDING_LOGINS the oldest is dropped', async () => {
    const { customerId, sub, id } = await customerWithPerson('tabs');
    const browser = new Browser();
    const callbacks: string[] = [];
    for (let i = 0; i <= PENDING_LOGINS; i++) callbacks.push(await h.startLogin(browser, customerId, sub));
    // The oldest was dropped by the last start; the others complete, the first started last.
    const [dropped, ...kept] = callbacks;
    const refused = await browser.navigate(dropped!);
    await refused.response.body?.cancel();
    expect(refused.response.status).toBe(400);
    for (const callback of kept.reverse()) {
      const done = await browser.navigate(callback);
      await done.response.body?.cancel();
      expect(done.response.status).toBe(200);
      expect(await h.me(browser)).toMatchObject({ status: 200, body: { customerId, scimUserId: id } });
    }
    const { origin } = await h.instance(0);
    expect(browser.cookies(origin)[loginCookieOf(customerId)]).toBeUndefined();
  });

  it("sso.strategy() in the app's own route keeps the login in the cookie too, and the login routes' callback completes it", async () => {
    const { customerId, sub, id } = await customerWithPerson('own');
    const browser = new Browser();
    const { origin } = await h.instance(0);
    const sessions = await h.sessionCount();
    const callback = await h.startLogin(browser, customerId, sub, 0, OWN_START(customerId));
    expect(Object.keys(browser.cookies(origin))).toEqual([loginCookieOf(customerId)]);
    expect(await h.sessionCount()).toBe(sessions);
    const done = await browser.navigate(callback);
    await done.response.body?.cancel();
    expect(await h.me(browser)).toMatchObject({ status: 200, body: { customerId, scimUserId: id } });
  });

  // Express only: koa-passport's request always carries the Koa context to set a cookie on; a request with no
  // response (Fastify's) is simulated on Express by hiding `req.res` (SESSION_START).
  it.runIf(adapter === 'express')(
    'a login whose state is in the session (no response to set a cookie on, or started before an upgrade) completes at the callback',
    async () => {
      const { customerId, sub, id } = await customerWithPerson('session');
      const browser = new Browser();
      const { origin } = await h.instance(0);
      const callback = await h.startLogin(browser, customerId, sub, 0, SESSION_START(customerId));
      expect(Object.keys(browser.cookies(origin))).toEqual([SESSION_COOKIE]);
      const done = await browser.navigate(callback);
      await done.response.body?.cancel();
      expect(await h.me(browser)).toMatchObject({ status: 200, body: { customerId, scimUserId: id } });
    },
  );

  it('the login step only starts logins: a code and state brought to it start a new one and log nobody in', async () => {
    const { customerId, sub } = await customerWithPerson('step');
    const browser = new Browser();
    const { origin } = await h.instance(0);
    const callback = new URL(await h.startLogin(browser, customerId, sub));
    const sessions = await h.sessionCount();
    const atLogin = await browser.fetch(`${origin}${PATHS.login(customerId)}${callback.search}`);
    await atLogin.body?.cancel();
    expect(atLogin.status).toBe(302);
    expect(new URL(atLogin.headers.get('location')!).searchParams.get('client_id')).not.toBeNull(); // the IdP's authorize URL
    expect(await h.me(browser)).toMatchObject({ status: 401 });
    expect(await h.sessionCount()).toBe(sessions);
    // Both logins are under way now; the first still completes at the callback.
    const done = await browser.navigate(callback.href);
    await done.response.body?.cancel();
    expect(done.response.status).toBe(200);
  });
});

describe('cookiePathOf and cookieFolderOf', () => {
  it('are the path and its folder, cut before a ; (which would end the attribute)', () => {
    expect(cookiePathOf(new URL('https://app.test/sso/acme/callback?x=1'))).toBe('/sso/acme/callback');
    expect(cookieFolderOf(new URL('https://app.test/sso/acme/callback?x=1'))).toBe('/sso/acme/');
    expect(cookiePathOf(new URL('https://app.test/sso/a;b/callback'))).toBe('/sso/');
    expect(cookieFolderOf(new URL('https://app.test/sso/a;b/callback'))).toBe('/sso/');
    expect(cookiePathOf(new URL('https://app.test/cb;x'))).toBe('/');
  });
});

describe('the login cookie value (decodeOidcLogins)', () => {
  const login = { code_verifier: 'v'.repeat(43), state: 'abc.def', nonce: 'n0nce', max_age: 300 };
  const now = 1_800_000_000_000;
  const at = (startedAt: number) => ({ login, startedAt });
  const raw = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const entry = (...fields: unknown[]) => [login.code_verifier, null, null, null, now].map((f, i) => (i < fields.length ? fields[i] : f));

  it('reads back what was written within OIDC_LOGIN_TTL_MS, and no entry older, newer or malformed', () => {
    expect(decodeOidcLogins(encodeOidcLogins([at(now - OIDC_LOGIN_TTL_MS)]), now)).toEqual([at(now - OIDC_LOGIN_TTL_MS)]);
    const bare = { login: { code_verifier: login.code_verifier }, startedAt: now };
    expect(decodeOidcLogins(encodeOidcLogins([bare]), now)).toEqual([bare]);
    expect(decodeOidcLogins(encodeOidcLogins([at(now - OIDC_LOGIN_TTL_MS - 1)]), now)).toEqual([]);
    // Dated by an instance whose clock runs ahead: a minute is allowed, no more.
    expect(decodeOidcLogins(encodeOidcLogins([at(now + INSTANCE_CLOCK_SKEW_MS)]), now)).toEqual([at(now + INSTANCE_CLOCK_SKEW_MS)]);
    expect(decodeOidcLogins(encodeOidcLogins([at(now + INSTANCE_CLOCK_SKEW_MS + 1)]), now)).toEqual([]);
    for (const bad of [null, '', 'not base64 json', raw({ code_verifier: login.code_verifier }), raw(entry()), 'A'.repeat(3_073)]) {
      expect(decodeOidcLogins(bad, now), String(bad).slice(0, 60)).toEqual([]);
    }
    for (const bad of [
      entry().slice(0, 4),
      entry('short'),
      entry(login.code_verifier, 'has space'),
      entry(login.code_verifier, null, { toString: 1 }),
      entry(login.code_verifier, null, null, -1),
      entry(login.code_verifier, null, null, 1.5),
      entry(login.code_verifier, null, null, null, String(now)),
      entry(login.code_verifier, 's'.repeat(257)),
    ]) {
      // A malformed entry is left out; the others stay.
      expect(decodeOidcLogins(raw([bad, entry()]), now), JSON.stringify(bad).slice(0, 80)).toEqual([
        { login: { code_verifier: login.code_verifier }, startedAt: now },
      ]);
    }
  });

  it('keeps at most PENDING_LOGINS entries, the first ones (newest first)', () => {
    const many = Array.from({ length: PENDING_LOGINS + 2 }, (_, i) => at(now - i));
    expect(decodeOidcLogins(encodeOidcLogins(many), now)).toEqual(many.slice(0, PENDING_LOGINS));
  });
});
