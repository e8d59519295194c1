/**
 * The guard over time: deprovisioning ends live sessions, refusals never leave a session behind, customers
 * stay apart, several app instances share one store, configuration changes apply at the next login, and
 * every attempt is recorded. Real IdP, real passport + sessions, SCIM over HTTP.
 */
import Router from '@koa/router';
import express from 'express';
import type Koa from 'koa';
import * as client from 'openid-client';
import { Strategy } from 'openid-client/passport';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from '../support/app.js';
import { Browser } from '../support/browser.js';
import { ADAPTERS, loginCookieOf, PATHS, SESSION_COOKIE, startLoginHarness, uid, type AdapterKind, type Extensions, type LoginHarness } from './harness.js';

/** Entra's deactivation and reactivation: `Replace` with a capital R and the boolean as a string. */
const ENTRA_DEACTIVATE = [{ op: 'Replace', path: 'active', value: 'False' }];
const ENTRA_REACTIVATE = [{ op: 'Replace', path: 'active', value: 'True' }];

/** What an app keeps to build its own Strategy (the secret never comes back from scim-sso). */
interface AppClient {
  issuer: string;
  clientId: string;
  clientSecret: string;
}

const CUSTOM = {
  login: (customerId: string) => `/custom/${customerId}/login`,
  callback: (customerId: string) => `/custom/${customerId}/callback`,
};

/**
 * An app's own openid-client Strategy for a customer, its verify wrapped with `sso.guardVerify(customerId)`,
 * registered once per customer on `register` (the instance's passport) under a per-customer name and session
 * key (docs/oidc-and-passport.md §The openid-client Strategy). Framework-neutral: each adapter supplies only the callback URL's origin.
 */
function customStrategies(
  clients: Map<string, AppClient>,
  sso: { guardVerify(customerId: string): ConstructorParameters<typeof Strategy>[1] },
  register: (name: string, strategy: Strategy) => void,
): (customerId: string, origin: string) => Promise<string> {
  const registered = new Map<string, Promise<string>>();
  return (customerId, origin) => {
    let pending = registered.get(customerId);
    if (!pending) {
      pending = (async () => {
        const c = clients.get(customerId);
        if (!c) throw new Error(`test app: no client for ${customerId}`);
        const config = await client.discovery(new URL(c.issuer), c.clientId, c.clientSecret, undefined, { execute: [client.allowInsecureRequests] });
        const name = `custom:${customerId}`;
        const strategy = new Strategy(
          {
            config,
            name,
            sessionKey: name,
            callbackURL: `${origin}${CUSTOM.callback(customerId)}`,
            scope: 'openid email profile',
            passReqToCallback: true,
          },
          sso.guardVerify(customerId),
        );
        register(name, strategy);
        return name;
      })();
      registered.set(customerId, pending);
    }
    return pending;
  };
}

/**
 * Routes of an app that builds its own openid-client Strategy per customer and wraps it with
 * `sso.guardVerify(customerId)`; refusals go through `failWithError` to the adapter's error handler
 * (`sso.errorHandler()` / `sso.koa.errorHandler()`). One implementation per adapter (the mapped type makes a
 * new adapter supply its own).
 */
function customStrategyRoutes(clients: Map<string, AppClient>): { [K in AdapterKind]-?: NonNullable<Extensions[K]> } {
  return {
    express(app, { sso, passport }) {
      const strategies = customStrategies(clients, sso, (name, strategy) => passport.use(name, strategy));
      const ensure = (req: express.Request): Promise<string> => strategies(String(req.params.customerId), `${req.protocol}://${req.get('host')}`);
      app.get(CUSTOM.login(':customerId'), async (req, res, next) => {
        const loginHint = typeof req.query.login_hint === 'string' ? req.query.login_hint : undefined;
        passport.authenticate(await ensure(req), { failWithError: true, loginHint } as object)(req, res, next);
      });
      app.get(CUSTOM.callback(':customerId'), async (req, res, next) => {
        passport.authenticate(await ensure(req), { failWithError: true, successRedirect: '/me' })(req, res, next);
      });
      app.use('/custom', sso.errorHandler());
    },

    koa(app, { sso, passport }) {
      // The instance's own KoaPassport: its nested passport 0.6 sees only strategies registered on it.
      const strategies = customStrategies(clients, sso, (name, strategy) => passport.use(name, strategy));
      const ensure = (ctx: Koa.Context): Promise<string> => strategies(String(ctx.params.customerId), `${ctx.protocol}://${ctx.host}`);
      const router = new Router();
      // Errors are thrown, not passed on: koaErrorHandler wraps the custom routes (Express mounts it at /custom).
      router.use(sso.koa.errorHandler());
      router.get(CUSTOM.login(':customerId'), async (ctx, next) => {
        const loginHint = typeof ctx.query.login_hint === 'string' ? ctx.query.login_hint : undefined;
        await passport.authenticate(await ensure(ctx), { failWithError: true, loginHint } as object)(ctx, next);
      });
      router.get(CUSTOM.callback(':customerId'), async (ctx, next) => {
        await passport.authenticate(await ensure(ctx), { failWithError: true, successRedirect: '/me' })(ctx, next);
      });
      app.use(router.routes());
    },
  };
}

describe.each(STORE_KINDS)('login lifecycle (%s store)', (storeKind) => {
  describe.each(ADAPTERS)('%s adapter', (adapter) => {
    let h: LoginHarness;
    const appClients = new Map<string, AppClient>();

    beforeAll(async () => {
      h = await startLoginHarness({
        store: storeKind,
        adapter,
        hint: `lifecycle-${adapter}`,
        extensions: { [adapter]: customStrategyRoutes(appClients)[adapter] },
      });
    });
    afterAll(async () => {
      await h?.close();
    });
    afterEach(() => {
      // Taken, not just read: an error fails the test that caused it, not every test after it.
      expect({ server: h.serverErrors.splice(0), idp: h.idp.errors.splice(0) }).toEqual({ server: [], idp: [] });
    });

    /** A customer (email → userName) on its own tenant, with a person provisioned active. */
    async function customerWithPerson(name: string, instance = 0) {
      const customerId = `${name}-${uid()}`;
      const c = await h.customer({ customerId, tenant: 'lifecycle', idpType: 'Okta', instance });
      const sub = `${customerId}-sub`;
      const email = `${customerId}@corp.test`;
      h.idp.upsertAccount('lifecycle', { sub, email, email_verified: true });
      const id = await c.scim.createUser({ userName: email, active: true });
      return { c, sub, email, id };
    }

    it('ends a session admitted before the customer had SCIM once SCIM is switched on, until the person is provisioned', async () => {
      const customerId = `late-scim-${uid()}`;
      await h.customer({ customerId, tenant: 'lifecycle', idpType: 'Okta', noScim: true });
      const sub = `${customerId}-sub`;
      const email = `${customerId}@corp.test`;
      h.idp.upsertAccount('lifecycle', { sub, email, email_verified: true });
      const browser = new Browser();
      expect((await h.login(browser, customerId, sub)).status).toBe(200);
      expect(await h.me(browser)).toMatchObject({ status: 200, body: { customerId, scimUserId: null } });
      const { sso, origin } = await h.instance(0);
      const { token } = await sso.createScimConnection({ customerId });
      expect(await h.me(browser)).toMatchObject({ status: 401, body: { error: 'ScimUserNotActive', reason: 'not_provisioned' } });
      const created = await fetch(`${origin}/scim/v2/Users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
        body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: email }),
      });
      expect(created.status).toBe(201);
      expect((await h.login(browser, customerId, sub)).status).toBe(200);
      expect(await h.me(browser)).toMatchObject({ status: 200, body: { customerId, userName: email } });
    });

    it('deactivating by an Entra-style PATCH refuses the next login and ends the live session at its next request; reactivating admits again', async () => {
      const { c, sub, email, id } = await customerWithPerson('deact');
      const browser = new Browser();
      expect((await h.login(browser, c.customerId, sub)).status).toBe(200);
      expect(await h.me(browser)).toMatchObject({ status: 200, body: { scimUserId: id, userName: email } });

      await c.scim.patch(id, ENTRA_DEACTIVATE);
      expect(await c.scim.get(id)).toMatchObject({ id, active: false });
      expect(await h.me(browser)).toMatchObject({ status: 401, body: { error: 'ScimUserNotActive', reason: 'deactivated' } });
      // The session was ended, not just refused once.
      expect(await h.me(browser)).toMatchObject({ status: 401, body: { error: 'unauthenticated' } });
      expect(await h.login(browser, c.customerId, sub)).toMatchObject({ status: 403, body: { error: 'ScimUserNotActive', reason: 'deactivated' } });

      await c.scim.patch(id, ENTRA_REACTIVATE);
      expect(await c.scim.get(id)).toMatchObject({ id, active: true });
      const again = await h.login(browser, c.customerId, sub);
      expect(again.status, JSON.stringify(again.body)).toBe(200);
      expect(await h.me(browser)).toMatchObject({ status: 200, body: { scimUserId: id } });
    });

    it('deleting the SCIM user ends the live session with reason deleted', async () => {
      const { c, sub, id } = await customerWithPerson('del');
      const browser = new Browser();
      expect((await h.login(browser, c.customerId, sub)).status).toBe(200);
      await c.scim.remove(id);
      expect(await h.me(browser)).toMatchObject({ status: 401, body: { error: 'ScimUserNotActive', reason: 'deleted' } });
      expect(await h.me(browser)).toMatchObject({ status: 401, body: { error: 'unauthenticated' } });
      expect(await h.login(browser, c.customerId, sub)).toMatchObject({ status: 403, body: { reason: 'deleted' } });
    });

    it('a person deleted and provisioned again is admitted as the new SCIM user', async () => {
      const { c, sub, email, id } = await customerWithPerson('again');
      await c.scim.remove(id);
      expect(await h.login(new Browser(), c.customerId, sub)).toMatchObject({ status: 403, body: { reason: 'deleted' } });
      const newId = await c.scim.createUser({ userName: email.toUpperCase() });
      expect(await h.login(new Browser(), c.customerId, sub)).toMatchObject({ status: 200, body: { scimUserId: newId, userName: email.toUpperCase() } });
    });

    it('issues a new session id at login (no session fixation)', async () => {
      const { c, sub } = await customerWithPerson('fixation');
      const browser = new Browser();
      const { origin } = await h.instance(0);
      expect((await h.login(browser, c.customerId, sub)).status).toBe(200);
      const before = browser.cookies(origin)[SESSION_COOKIE];
      expect(before).toBeDefined(); // the first login's session
      const callback = await h.startLogin(browser, c.customerId, sub);
      expect(browser.cookies(origin)[SESSION_COOKIE]).toBe(before); // a login start leaves the session alone
      expect((await browser.navigate(callback)).response.status).toBe(200);
      const after = browser.cookies(origin)[SESSION_COOKIE];
      expect(after).toBeDefined();
      expect(after).not.toBe(before);
    });

    it('admits 20 concurrent logins, each as its own person', async () => {
      const customerId = `conc-${uid()}`;
      const c = await h.customer({ customerId, tenant: 'lifecycle', idpType: 'Okta' });
      const people = Array.from({ length: 20 }, (_, i) => ({ sub: `${customerId}-${i}`, email: `${customerId}-${i}@corp.test`, email_verified: true }));
      const ids = new Map<string, string>();
      for (const p of people) {
        h.idp.upsertAccount('lifecycle', p);
        ids.set(p.sub, await c.scim.createUser({ userName: p.email }));
      }
      const results = await Promise.all(people.map((p) => h.login(new Browser(), customerId, p.sub)));
      expect(results.map((r) => [r.status, r.body?.subject, r.body?.scimUserId])).toEqual(people.map((p) => [200, p.sub, ids.get(p.sub)]));
    });

    it('a refused login creates no session and logs out the session the browser already had', async () => {
      const { c, sub: activeSub } = await customerWithPerson('refuse');
      const offSub = `${c.customerId}-off`;
      h.idp.upsertAccount('lifecycle', { sub: offSub, email: `${offSub}@corp.test`, email_verified: true });
      await c.scim.createUser({ userName: `${offSub}@corp.test`, active: false });

      const fresh = new Browser();
      expect(await h.login(fresh, c.customerId, offSub)).toMatchObject({ status: 403, body: { reason: 'deactivated' } });
      expect(await h.me(fresh)).toMatchObject({ status: 401, body: { error: 'unauthenticated' } });

      const browser = new Browser();
      expect((await h.login(browser, c.customerId, activeSub)).status).toBe(200);
      expect(await h.me(browser)).toMatchObject({ status: 200, body: { subject: activeSub } });
      // Same browser, now as the deactivated person (the IdP switches account on login_hint).
      expect(await h.login(browser, c.customerId, offSub)).toMatchObject({ status: 403, body: { reason: 'deactivated' } });
      expect(await h.me(browser)).toMatchObject({ status: 401, body: { error: 'unauthenticated' } });
    });

    it("two customers on two IdPs never see each other's users", async () => {
      const suffix = uid();
      const a = await h.customer({ customerId: `iso-a-${suffix}`, tenant: 'idp-a', idpType: 'Okta' });
      const b = await h.customer({ customerId: `iso-b-${suffix}`, tenant: 'idp-b', idpType: 'Okta' });
      const shared = { sub: `shared-${suffix}`, email: `shared-${suffix}@both.test`, email_verified: true };
      const bOnly = { sub: `b-only-${suffix}`, email: `b-only-${suffix}@both.test`, email_verified: true };
      for (const tenant of ['idp-a', 'idp-b']) {
        h.idp.upsertAccount(tenant, shared);
        h.idp.upsertAccount(tenant, bOnly);
      }
      const inA = await a.scim.createUser({ userName: shared.email });
      const inB = await b.scim.createUser({ userName: bOnly.email });

      expect(await h.login(new Browser(), b.customerId, shared.sub)).toMatchObject({ status: 403, body: { reason: 'not_provisioned' } });
      expect(await h.login(new Browser(), a.customerId, shared.sub)).toMatchObject({
        status: 200,
        body: { customerId: a.customerId, connectionId: a.connectionId, scimUserId: inA },
      });
      expect(await h.login(new Browser(), a.customerId, bOnly.sub)).toMatchObject({ status: 403, body: { reason: 'not_provisioned' } });
      expect(await h.login(new Browser(), b.customerId, bOnly.sub)).toMatchObject({
        status: 200,
        body: { customerId: b.customerId, connectionId: b.connectionId, scimUserId: inB },
      });
    });

    it('an app-built openid-client Strategy wrapped with sso.guardVerify admits and refuses like authRoutes', async () => {
      const { c, sub, email, id } = await customerWithPerson('custom');
      const { origin } = await h.instance(c.instance);
      appClients.set(c.customerId, { issuer: c.issuer, clientId: c.clientId, clientSecret: c.clientSecret });
      await h.idp.addClient(c.tenant, {
        client_id: c.clientId,
        client_secret: c.clientSecret,
        redirect_uris: [c.redirectUri, `${origin}${CUSTOM.callback(c.customerId)}`],
      });
      const offSub = `${c.customerId}-off`;
      h.idp.upsertAccount('lifecycle', { sub: offSub, email: `${offSub}@corp.test`, email_verified: true });
      await c.scim.createUser({ userName: `${offSub}@corp.test`, active: false });
      const customLogin = (browser: Browser, who: string) =>
        browser.navigate(`${origin}${CUSTOM.login(c.customerId)}?${new URLSearchParams({ login_hint: who })}`);

      const browser = new Browser();
      const admitted = await customLogin(browser, sub);
      expect(admitted.url).toBe(`${origin}/me`);
      expect(admitted.response.status).toBe(200);
      const sessionUser = {
        customerId: c.customerId,
        connectionId: c.connectionId,
        scimUserId: id,
        userName: email,
        subject: sub,
        email,
        groups: [],
        roles: [],
      };
      expect(await admitted.response.json()).toEqual(sessionUser);

      const refused = await customLogin(browser, offSub);
      expect(refused.url).toContain(`${CUSTOM.callback(c.customerId)}?`);
      expect(refused.response.status).toBe(403);
      expect(await refused.response.json()).toEqual({ error: 'ScimUserNotActive', reason: 'deactivated' });
      // The refusal logged out the session this browser had.
      expect(await h.me(browser)).toMatchObject({ status: 401, body: { error: 'unauthenticated' } });

      // And a live session from the custom Strategy ends on deactivation like any other.
      expect((await customLogin(browser, sub)).response.status).toBe(200);
      await c.scim.patch(id, ENTRA_DEACTIVATE);
      expect(await h.me(browser)).toMatchObject({ status: 401, body: { reason: 'deactivated' } });
    });

    it('an app-built Strategy answers a callback without a prior login with 400 invalid_response through the error handler, like authRoutes', async () => {
      // passport's fail() (no login transaction in the session) with failWithError reaches the adapter's
      // error handler as passport's AuthenticationError; it must render as authRoutes does, never a 500.
      const { c } = await customerWithPerson('custom-nostate');
      const { origin } = await h.instance(c.instance);
      appClients.set(c.customerId, { issuer: c.issuer, clientId: c.clientId, clientSecret: c.clientSecret });
      const browser = new Browser();
      const viaAuthRoutes = await browser.fetch(`${origin}${PATHS.callback(c.customerId)}?code=made-up&state=made-up`);
      const custom = await browser.fetch(`${origin}${CUSTOM.callback(c.customerId)}?code=made-up&state=made-up`);
      const expected = { status: 400, body: { error: 'invalid_response', message: expect.any(String) } };
      expect({ status: viaAuthRoutes.status, body: await viaAuthRoutes.json() }).toEqual(expected);
      expect({ status: custom.status, body: await custom.json() }).toEqual(expected);
      expect(await h.me(browser)).toMatchObject({ status: 401, body: { error: 'unauthenticated' } });
    });

    it('an app-built Strategy wrapped with guardVerify sees a SCIM connection created through another instance after its first login', async () => {
      // The customer starts with SSO only: the guard admits everyone (no SCIM connection, docs/design-decisions.md §Guard outcomes).
      const customerId = `later-scim-${uid()}`;
      const c = await h.customer({ customerId, tenant: 'lifecycle', idpType: 'Okta', noScim: true });
      const { origin } = await h.instance(0);
      appClients.set(customerId, { issuer: c.issuer, clientId: c.clientId, clientSecret: c.clientSecret });
      await h.idp.addClient(c.tenant, {
        client_id: c.clientId,
        client_secret: c.clientSecret,
        redirect_uris: [c.redirectUri, `${origin}${CUSTOM.callback(customerId)}`],
      });
      const sub = `${customerId}-sub`;
      const email = `${customerId}@corp.test`;
      h.idp.upsertAccount('lifecycle', { sub, email, email_verified: true });
      const customLogin = (browser: Browser) => browser.navigate(`${origin}${CUSTOM.login(customerId)}?${new URLSearchParams({ login_hint: sub })}`);

      const before = await customLogin(new Browser());
      expect(before.response.status).toBe(200);
      expect(await before.response.json()).toMatchObject({ customerId, connectionId: null, scimUserId: null });

      // The customer now connects SCIM — through another app instance (or an admin process) — and its
      // IdP provisions this person deactivated.
      const other = (await h.instance(1)).sso;
      const { token } = await other.createScimConnection({ customerId });
      const response = await fetch(`${(await h.instance(1)).origin}/scim/v2/Users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
        body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: email, active: false }),
      });
      expect(response.status).toBe(201);

      const after = await customLogin(new Browser());
      // Refused, on the callback: not admitted on the strength of what instance 0 cached at the first login.
      expect({ status: after.response.status, body: await after.response.json() }).toEqual({
        status: 403,
        body: { error: 'ScimUserNotActive', reason: 'deactivated' },
      });
      expect(after.url).toContain(`${CUSTOM.callback(customerId)}?`);
    });

    it('a login through instance B sees a deactivation written through instance A at once (shared store)', async () => {
      const { c, sub, id } = await customerWithPerson('multi', 1);
      const browser = new Browser();
      const first = await h.login(browser, c.customerId, sub, 1);
      expect(first.status).toBe(200);
      expect(first.url).toBe(`${(await h.instance(1)).origin}/me`);

      await c.scim.via(0).patch(id, ENTRA_DEACTIVATE); // written through instance A
      expect(await h.me(browser, 1)).toMatchObject({ status: 401, body: { reason: 'deactivated' } });
      expect(await h.login(new Browser(), c.customerId, sub, 1)).toMatchObject({ status: 403, body: { reason: 'deactivated' } });

      await c.scim.via(0).patch(id, ENTRA_REACTIVATE);
      expect((await h.login(new Browser(), c.customerId, sub, 1)).status).toBe(200);
    });

    it('an OIDC client updated after mount applies at the next login, without restart, whichever instance wrote it', async () => {
      const customerId = `upd-${uid()}`;
      const c = await h.customer({ customerId, tenant: 'lifecycle', idpType: 'Generic', matchingStrategy: 'OidcEmailToScimUsername' });
      const sub = `${customerId}-sub`;
      h.idp.upsertAccount('lifecycle', { sub, email: `una-${customerId}@corp.test`, email_verified: true, preferred_username: `una.${customerId}` });
      const byEmail = await c.scim.createUser({ userName: `una-${customerId}@corp.test` });
      const byPreferred = await c.scim.createUser({ userName: `una.${customerId}` });

      expect(await h.login(new Browser(), customerId, sub)).toMatchObject({ status: 200, body: { scimUserId: byEmail } });

      // Written by another instance: instance 0 learns it only from the store.
      await (await h.instance(1)).sso.updateOidcClient(customerId, { matchingStrategy: 'OidcPreferredUsernameToScimUsername' });
      expect(await h.login(new Browser(), customerId, sub)).toMatchObject({ status: 200, body: { scimUserId: byPreferred, userName: `una.${customerId}` } });
      await c.scim.patch(byPreferred, ENTRA_DEACTIVATE);
      expect(await h.login(new Browser(), customerId, sub)).toMatchObject({ status: 403, body: { reason: 'deactivated' } });

      // Written by the serving instance itself.
      await (await h.instance(0)).sso.updateOidcClient(customerId, { matchingStrategy: 'OidcEmailToScimUsername' });
      expect(await h.login(new Browser(), customerId, sub)).toMatchObject({ status: 200, body: { scimUserId: byEmail } });
    });

    it('listSsoUsers records every attempt with its outcome and reason, one record per subject', async () => {
      const customerId = `rec-${uid()}`;
      const c = await h.customer({ customerId, tenant: 'lifecycle', idpType: 'Okta' });
      const person = (name: string) => ({
        sub: `${customerId}-${name}`,
        email: `${name}-${customerId}@corp.test`,
        email_verified: true,
        preferred_username: name,
        name: `${name} person`,
      });
      const ok = person('ok');
      const off = person('off');
      const none = person('none');
      for (const p of [ok, off, none]) h.idp.upsertAccount('lifecycle', p);
      const okId = await c.scim.createUser({ userName: ok.email });
      const offId = await c.scim.createUser({ userName: off.email, active: false });

      expect((await h.login(new Browser(), customerId, ok.sub)).status).toBe(200);
      expect((await h.login(new Browser(), customerId, off.sub)).status).toBe(403);
      expect((await h.login(new Browser(), customerId, none.sub)).status).toBe(403);
      const { sso } = await h.instance(0);
      const afterFirst = await sso.listSsoUsers(customerId);
      const okFirstSeen = afterFirst.find((u) => u.subject === ok.sub)?.firstSeenAt;
      expect(okFirstSeen).toBeDefined();

      await c.scim.patch(okId, ENTRA_DEACTIVATE);
      expect((await h.login(new Browser(), customerId, ok.sub)).status).toBe(403);

      const users = await sso.listSsoUsers(customerId);
      expect(users.map((u) => u.subject)).toEqual([ok.sub, none.sub, off.sub]); // most recent first
      const bySubject = Object.fromEntries(users.map((u) => [u.subject, u]));
      expect(bySubject[ok.sub]).toMatchObject({
        email: ok.email,
        emailVerified: true,
        preferredUsername: 'ok',
        name: 'ok person',
        lastOutcome: 'refused',
        lastReason: 'deactivated',
        lastScimUserId: okId,
        firstSeenAt: okFirstSeen,
      });
      expect(bySubject[ok.sub]!.lastSeenAt >= bySubject[ok.sub]!.firstSeenAt).toBe(true);
      expect(bySubject[off.sub]).toMatchObject({ lastOutcome: 'refused', lastReason: 'deactivated', lastScimUserId: offId });
      expect(bySubject[none.sub]).toMatchObject({ lastOutcome: 'refused', lastReason: 'not_provisioned', lastScimUserId: null });
      expect(afterFirst.find((u) => u.subject === ok.sub)).toMatchObject({ lastOutcome: 'admitted', lastReason: null, lastScimUserId: okId });
      // Another instance reads the same records (they live in the shared store).
      expect(await (await h.instance(1)).sso.listSsoUsers(customerId)).toEqual(users);
    });
  });
});

/**
 * Several instances behind a load balancer without sticky sessions: one session store, so the login may
 * start on one instance and come back to another (the example app recommends a shared session store).
 */
describe.each(STORE_KINDS)('login lifecycle across instances with shared sessions (%s store)', (storeKind) => {
  describe.each(ADAPTERS)('%s adapter', (adapter) => {
    let h: LoginHarness;
    beforeAll(async () => {
      h = await startLoginHarness({ store: storeKind, adapter, hint: `lifecycle-lb-${adapter}`, sharedSessions: true });
    });
    afterAll(async () => {
      await h?.close();
    });
    afterEach(() => {
      // Taken, not just read: an error fails the test that caused it, not every test after it.
      expect({ server: h.serverErrors.splice(0), idp: h.idp.errors.splice(0) }).toEqual({ server: [], idp: [] });
    });

    /**
     * Starts the login on instance `from`; the IdP's redirect comes back to instance `to`, with the cookies of
     * `from` (behind one load balancer both are one origin): the login's state cookie, and the session cookie
     * when the browser has a session.
     */
    async function loginAcross(browser: Browser, customerId: string, sub: string, from: number, to: number) {
      const callback = new URL(await h.startLogin(browser, customerId, sub, from));
      const [a, b] = [await h.instance(from), await h.instance(to)];
      const cookies = browser.cookies(a.origin);
      expect(cookies[loginCookieOf(customerId)]).toBeDefined();
      const target = `${b.origin}${callback.pathname}${callback.search}`;
      const cookie = Object.entries(cookies)
        .map(([name, value]) => `${name}=${value}`)
        .join('; ');
      const response = await browser.fetch(target, { headers: { cookie } });
      const json = (response.headers.get('content-type') ?? '').includes('json');
      const body = json ? ((await response.json()) as unknown) : (await response.body?.cancel(), null);
      return { status: response.status, location: response.headers.get('location'), body };
    }

    it('a login started on instance A and completed on B is admitted', async () => {
      const customerId = `lb-${uid()}`;
      const c = await h.customer({ customerId, tenant: 'lb', idpType: 'Okta' });
      const sub = `${customerId}-sub`;
      h.idp.upsertAccount('lb', { sub, email: `${customerId}@corp.test`, email_verified: true });
      const id = await c.scim.createUser({ userName: `${customerId}@corp.test` });
      const browser = new Browser();
      expect(await loginAcross(browser, customerId, sub, 0, 1)).toMatchObject({ status: 302, location: '/me' });
      expect(await h.me(browser, 1)).toMatchObject({ status: 200, body: { customerId, scimUserId: id } });
    });

    it('the completing instance applies the SCIM connection and users as they are now, not as it last saw them', async () => {
      // SSO first, SCIM later: a customer without a SCIM connection admits everyone (docs/design-decisions.md §Guard outcomes).
      const customerId = `lb-later-${uid()}`;
      await h.customer({ customerId, tenant: 'lb', idpType: 'Okta', noScim: true });
      const sub = `${customerId}-sub`;
      const email = `${customerId}@corp.test`;
      h.idp.upsertAccount('lb', { sub, email, email_verified: true });
      expect(await loginAcross(new Browser(), customerId, sub, 0, 1)).toMatchObject({ status: 302, location: '/me' });

      // Instance A connects SCIM; the IdP provisions the person deactivated.
      const a = await h.instance(0);
      const { token } = await a.sso.createScimConnection({ customerId });
      const created = await fetch(`${a.origin}/scim/v2/Users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
        body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: email, active: false }),
      });
      expect(created.status).toBe(201);

      // The next login starts on A (which re-reads the customer) and completes on B.
      const refused = await loginAcross(new Browser(), customerId, sub, 0, 1);
      expect(refused).toEqual({ status: 403, location: null, body: { error: 'ScimUserNotActive', reason: 'deactivated' } });
    });

    it('the completing instance applies the matching strategy as it is now', async () => {
      const customerId = `lb-strategy-${uid()}`;
      const c = await h.customer({ customerId, tenant: 'lb', idpType: 'Generic', matchingStrategy: 'OidcEmailToScimUsername' });
      const sub = `${customerId}-sub`;
      h.idp.upsertAccount('lb', { sub, email: `${customerId}@corp.test`, email_verified: true, preferred_username: `p.${customerId}` });
      const byEmail = await c.scim.createUser({ userName: `${customerId}@corp.test` });
      const byPreferred = await c.scim.createUser({ userName: `p.${customerId}` });
      const first = new Browser();
      expect((await loginAcross(first, customerId, sub, 0, 1)).status).toBe(302);
      expect(await h.me(first, 1)).toMatchObject({ status: 200, body: { scimUserId: byEmail } });

      await (await h.instance(0)).sso.updateOidcClient(customerId, { matchingStrategy: 'OidcPreferredUsernameToScimUsername' });
      const second = new Browser();
      expect((await loginAcross(second, customerId, sub, 0, 1)).status).toBe(302);
      expect(await h.me(second, 1)).toMatchObject({ status: 200, body: { scimUserId: byPreferred } });
    });
  });
});
