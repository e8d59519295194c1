/**
 * What a session holds besides the passport user when scim-sso ends it: nothing of the person it was. On
 * Express, passport 0.7 regenerates the session at login and logout, which drops the app's data; on Koa,
 * koa-session's regenerate keeps it, so a session that requireActiveUser or a refused login ended kept the
 * deprovisioned person's app data (an organisation chosen, an impersonation flag) on Koa only (a login
 * audit, 2026-12-05). Both adapters must behave alike.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../support/browser.js';
import { ADAPTERS, startLoginHarness, uid, type Extensions, type LoginHarness } from './harness.js';

/** `/app-data/set` stores a value naming the session user in the app's own session key; `/app-data` reads it back. */
const APP_DATA: Extensions = {
  express(app) {
    app.get('/app-data/set', (req, res) => {
      (req.session as unknown as Record<string, unknown>).appData = `data-of-${(req.user as { userName?: string } | undefined)?.userName}`;
      res.json({ ok: true });
    });
    app.get('/app-data', (req, res) => {
      res.json({
        appData: (req.session as unknown as Record<string, unknown> | undefined)?.appData ?? null,
        user: (req.user as { userName?: string } | undefined)?.userName ?? null,
      });
    });
  },
  koa(app) {
    app.use(async (ctx, next) => {
      const session = ctx.session as unknown as Record<string, unknown>;
      const userName = (ctx.state.user as { userName?: string } | undefined)?.userName ?? null;
      if (ctx.path === '/app-data/set') {
        session.appData = `data-of-${userName}`;
        ctx.body = { ok: true };
        return;
      }
      if (ctx.path === '/app-data') {
        ctx.body = { appData: session?.appData ?? null, user: userName };
        return;
      }
      return next();
    });
  },
};

describe.each(ADAPTERS)('the app data of a session scim-sso ends (%s)', (adapter) => {
  let h: LoginHarness;
  beforeAll(async () => {
    h = await startLoginHarness({ store: 'memory', adapter, hint: `session-data-${adapter}`, extensions: APP_DATA });
  });
  afterAll(async () => {
    await h?.close();
  });

  const appData = async (browser: Browser) => {
    const { origin } = await h.instance(0);
    return (await (await browser.fetch(`${origin}/app-data`)).json()) as { appData: string | null; user: string | null };
  };
  const store = async (browser: Browser) => {
    const { origin } = await h.instance(0);
    expect((await browser.fetch(`${origin}/app-data/set`)).status).toBe(200);
  };

  it('drops it when requireActiveUser ends the session of a deactivated user, and when a refused login logs the browser out', async () => {
    const customerId = `data-${uid()}`;
    const c = await h.customer({ customerId, tenant: 'session-data', idpType: 'Okta' });
    const person = (name: string) => ({ sub: `${customerId}-${name}`, email: `${name}-${customerId}@corp.test` });
    for (const name of ['alice', 'bob', 'carol']) h.idp.upsertAccount('session-data', { ...person(name), email_verified: true });
    const alice = await c.scim.createUser({ userName: person('alice').email, active: true });
    await c.scim.createUser({ userName: person('bob').email, active: false });
    await c.scim.createUser({ userName: person('carol').email, active: true });

    // requireActiveUser ends Alice's session once she is deactivated.
    let browser = new Browser();
    await h.login(browser, customerId, person('alice').sub);
    await store(browser);
    expect(await appData(browser)).toEqual({ appData: `data-of-${person('alice').email}`, user: person('alice').email });
    await c.scim.patch(alice, [{ op: 'replace', path: 'active', value: false }]);
    expect(await h.me(browser)).toMatchObject({ status: 401, body: { error: 'ScimUserNotActive', reason: 'deactivated' } });
    expect(await appData(browser)).toEqual({ appData: null, user: null });
    await c.scim.patch(alice, [{ op: 'replace', path: 'active', value: true }]);

    // A refused login (Bob, deactivated) in Alice's browser logs her out, her app data with her.
    browser = new Browser();
    await h.login(browser, customerId, person('alice').sub);
    await store(browser);
    expect((await h.login(browser, customerId, person('bob').sub)).status).toBe(403);
    expect(await appData(browser)).toEqual({ appData: null, user: null });

    // An admitted login of another person starts clean too (as before).
    browser = new Browser();
    await h.login(browser, customerId, person('alice').sub);
    await store(browser);
    await h.login(browser, customerId, person('carol').sub);
    expect(await appData(browser)).toEqual({ appData: null, user: person('carol').email });
  });
});
