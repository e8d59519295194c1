/**
 * Logins that the IdP signs but that are not the customer's (audit 26), end to end with the real demo IdP:
 * - an issuer shared by many tenants (Google-like: every account of the IdP can log in to any client of
 *   it): a client's requiredClaims (Google's `hd`) refuses accounts of other tenants and personal ones
 *   with `outside_tenant` (403) before anything is matched or recorded;
 * - an app-built Strategy whose client is not the customer's as stored now (the customer moved to another
 *   IdP): guardVerify refuses its tokens (`invalid_response`) instead of matching them.
 */
import { MAX_CLAIM_DEPTH } from '../../src/guard/identity.js';
import * as oidc from 'openid-client';
import { Strategy } from 'openid-client/passport';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ANONYMOUS_FAILURES_LOGGED } from '../../src/guard/login-report.js';
import { Browser } from '../support/browser.js';
import { startLoginHarness, uid, type LoginHarness } from './harness.js';

describe('logins outside the customer', () => {
  let h: LoginHarness;
  beforeAll(async () => {
    h = await startLoginHarness({
      store: 'memory',
      adapter: 'express',
      hint: 'login-tenant',
      extensions: {
        express: (app, ctx) => {
          app.get('/custom/:c/login', (req, res, next) =>
            ctx.passport.authenticate(`custom:${req.params.c}`, { loginHint: String(req.query.login_hint ?? '') } as never)(req, res, next),
          );
          app.get('/custom/:c/callback', (req, res, next) => ctx.passport.authenticate(`custom:${req.params.c}`, { successRedirect: '/me' })(req, res, next));
        },
      },
    });
  });
  afterAll(async () => {
    await h?.close();
  });
  afterEach(() => {
    expect(h.serverErrors.splice(0)).toEqual([]);
  });

  it.each(['OidcEmailToScimUsername', 'OidcEmailUsernameToScimUsername', 'OidcPreferredUsernameToScimUsername'] as const)(
    'refuses, under %s, accounts of a shared issuer outside the tenant the client requires, before matching or recording them',
    async (matchingStrategy) => {
      const b = await h.customer({ customerId: `b-${uid()}`, tenant: 'shared', idpType: 'Generic', matchingStrategy });
      const domain = `${b.customerId}.example`;
      const { sso } = await h.instance(0);
      await sso.updateOidcClient(b.customerId, { requiredClaims: { hd: [domain] } });
      const alice = `alice@${domain}`;
      const scimUserId = await b.scim.createUser({ userName: alice, active: true });
      const account = (hd: string | null, email: string) => {
        const sub = `g-${uid()}`;
        h.idp.upsertAccount('shared', { sub, email, email_verified: true, preferred_username: alice, ...(hd === null ? {} : { hd }) });
        return sub;
      };
      // A personal account on the same address, another customer's Workspace, any address at all.
      const outsiders = [account(null, alice), account('a-corp.example', alice), account(null, 'alice@attacker.example')];
      for (const sub of outsiders) {
        const refused = await h.login(new Browser(), b.customerId, sub);
        expect(refused.status, JSON.stringify(refused.body)).toBe(403);
        expect(refused.body).toMatchObject({ error: 'outside_tenant' });
      }
      // Before: each of them was admitted as alice under the strategy that matched them.
      const member = account(domain.toUpperCase(), alice);
      const admitted = await h.login(new Browser(), b.customerId, member);
      expect(admitted.status, JSON.stringify(admitted.body)).toBe(200);
      expect(admitted.body).toMatchObject({ scimUserId });
      const recorded = (await sso.listSsoUsers(b.customerId)).map((u) => u.subject);
      expect(recorded).toEqual([member]);
    },
  );

  it('leaves out a claim nested deeper than MAX_CLAIM_DEPTH: a required claim holding one counts as absent', async () => {
    const b = await h.customer({ customerId: `deep-${uid()}`, tenant: 'shared', idpType: 'Generic' });
    const domain = `${b.customerId}.example`;
    const { sso } = await h.instance(0);
    await sso.updateOidcClient(b.customerId, { requiredClaims: { hd: [domain] } });
    await b.scim.createUser({ userName: `alice@${domain}`, active: true });
    let deep: unknown = 'x';
    for (let i = 0; i < MAX_CLAIM_DEPTH; i++) deep = [deep];
    const sub = `deep-${uid()}`;
    // A list claim matches by any element: with the deep element kept, the domain beside it admitted her.
    h.idp.upsertAccount('shared', { sub, email: `alice@${domain}`, email_verified: true, hd: [domain, deep] });
    const refused = await h.login(new Browser(), b.customerId, sub);
    expect(refused.status, JSON.stringify(refused.body)).toBe(403);
    expect(refused.body).toMatchObject({ error: 'outside_tenant' });
  });

  it("lets outsiders' refusals into the customer's activity log a few at a time (anyone with an account of the issuer can cause them)", async () => {
    const b = await h.customer({ customerId: `flood-${uid()}`, tenant: 'shared', idpType: 'Generic' });
    const { sso } = await h.instance(0);
    await sso.updateOidcClient(b.customerId, { requiredClaims: { hd: [`${b.customerId}.example`] } });
    const sub = `g-${uid()}`;
    h.idp.upsertAccount('shared', { sub, email: `${sub}@elsewhere.example`, email_verified: true });
    for (let i = 0; i < ANONYMOUS_FAILURES_LOGGED.burst + 3; i++) expect((await h.login(new Browser(), b.customerId, sub)).status).toBe(403);
    await vi.waitFor(async () => expect((await sso.activity(b.customerId)).refusedLogins.length).toBeGreaterThan(0), { timeout: 5_000, interval: 50 });
    await new Promise((resolve) => setTimeout(resolve, 300)); // past any later flush
    const logged = (await sso.activity(b.customerId)).refusedLogins;
    // Before: every one of them, so that a loop of such logins pushed the real refusals out of the log.
    expect(logged.length).toBeLessThanOrEqual(ANONYMOUS_FAILURES_LOGGED.burst + 1);
    expect(logged.every((entry) => entry.reason === 'outside_tenant')).toBe(true);
  });

  it.each([
    ["Google's issuer without hd required", { issuer: 'https://accounts.google.com' }],
    ['a subject claim people set', { subjectClaim: 'Email' }],
  ])('refuses every login of a client stored before its settings were refused (%s), until it is updated', async (_name, stale) => {
    const c = await h.customer({ customerId: `stale-${uid()}`, tenant: 'stale', idpType: 'Generic' });
    const sub = `s-${uid()}`;
    h.idp.upsertAccount('stale', { sub, email: `${sub}@corp.example`, email_verified: true });
    await c.scim.createUser({ userName: `${sub}@corp.example`, active: true });
    const stored = (await h.store.getOidcClient(c.customerId))!;
    // Written as an earlier version would have (the API refuses these settings now).
    expect(await h.store.replaceOidcClient({ ...stored, ...stale, updatedAt: new Date(Date.parse(stored.updatedAt) + 1).toISOString() })).toBe(true);
    const refused = await h.login(new Browser(), c.customerId, sub);
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ error: 'unsupported_strategy', message: expect.stringMatching(/every login is refused until updateOidcClient/) });
    const { sso } = await h.instance(0);
    await sso.updateOidcClient(c.customerId, { issuer: stored.issuer, subjectClaim: 'sub' });
    expect((await h.login(new Browser(), c.customerId, sub)).status).toBe(200);
  });

  it("refuses, through an app-built Strategy and guardVerify, tokens of a client that is no longer the customer's", async () => {
    const inst = await h.instance(0);
    const c = await h.customer({ customerId: `c-${uid()}`, tenant: 'gv-old', idpType: 'Okta' });
    const email = `dave-${uid()}@corp.example`;
    await c.scim.createUser({ userName: email, active: true });
    const callback = `${inst.origin}/custom/${c.customerId}/callback`;
    await h.idp.addClient('gv-old', { client_id: c.clientId, client_secret: c.clientSecret, redirect_uris: [c.redirectUri, callback] });
    // The app's own Strategy, built while the customer was on gv-old.
    const config = await oidc.discovery(new URL(c.issuer), c.clientId, c.clientSecret, undefined, { execute: [oidc.allowInsecureRequests] });
    const name = `custom:${c.customerId}`;
    inst.passport.use(
      name,
      new Strategy(
        { config, name, sessionKey: name, passReqToCallback: true, scope: 'openid email profile', callbackURL: callback },
        inst.sso.guardVerify(c.customerId) as never,
      ),
    );
    const sub = `dave-${uid()}`;
    h.idp.upsertAccount('gv-old', { sub, email, email_verified: true });
    const before = await new Browser().navigate(`${inst.origin}/custom/${c.customerId}/login?login_hint=${sub}`);
    expect(before.response.status).toBe(200);
    // The customer moves to another IdP; the app's Strategy still answers for gv-old.
    await h.idp.tenant('gv-new');
    await h.idp.addClient('gv-new', { client_id: 'new-client', client_secret: 'new-secret', redirect_uris: [c.redirectUri] });
    await inst.sso.updateOidcClient(c.customerId, { issuer: h.idp.issuer('gv-new'), clientId: 'new-client', clientSecret: 'new-secret' });
    const after = await new Browser().navigate(`${inst.origin}/custom/${c.customerId}/login?login_hint=${sub}`);
    // Before: 200, admitted as dave under the new client's settings.
    expect(after.response.status).toBe(400);
    expect(await after.response.json()).toMatchObject({
      error: 'invalid_response',
      message: expect.stringMatching(/issuer is not this customer's OIDC issuer/),
    });
  });
});
