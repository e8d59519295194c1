/**
 * The setup portal over HTTP on both adapters (and the Redis store once): setup links refused when
 * expired, revoked, unknown or of another customer (never a 500); the session cookie; CSRF; a link of
 * customer A never reading or changing customer B; the SCIM token revealed once; the SSO form validated
 * and checked by a live discovery; Test SSO through the demo IdP with no app session; audit events.
 */
import { testSamlIdp } from '../support/saml-idp.js';
import { SCIM_TARGETS } from '../support/app.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScimSsoConfigError } from '../../src/index.js';
import { setupPortal as expressSetupPortal } from '../../src/express/setup.js';
import { internalsOf } from '../../src/internal.js';
import { LINK_OPENS } from '../../src/setup/session.js';
import { scimSso } from '../support/sso.js';
import { Browser, parseForms } from '../support/browser.js';
import { A, B, USER_SCHEMA, open, portalFixture, submit, type PortalFixture } from './fixture.js';

const tokenOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);
const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

describe.each(SCIM_TARGETS)('setup portal ($store store, $adapter)', ({ store, adapter }) => {
  let f: PortalFixture;
  beforeAll(async () => {
    f = await portalFixture(store, adapter, `setup-portal-${store}-${adapter}`);
  }, 30_000);
  afterAll(async () => {
    expect(f.errors).toEqual([]);
    await f.cleanup();
  });

  /** A supertest agent that opened a fresh link of `customerId` (it holds the session cookie). */
  const session = async (customerId = A, allow?: ('sso' | 'scim')[]) => {
    const { url } = await f.sso.createSetupLink(customerId, allow ? { allow } : {});
    const agent = supertest.agent(f.origin);
    const opened = await agent.get(new URL(url).pathname);
    expect(opened.status).toBe(303);
    expect(opened.headers.location).toBe(`/setup/${customerId}/`);
    return { agent, url, cookie: String(opened.headers['set-cookie']) };
  };

  it('creates links only with a portal URL, sane lifetimes and known areas', async () => {
    const { url, expiresAt } = await f.sso.createSetupLink(A);
    expect(url).toMatch(new RegExp(`^${f.origin}/setup/acme/link/setup_[A-Za-z0-9_-]{43}$`));
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(71 * 3600_000);
    await expect(f.sso.createSetupLink(A, { expiresIn: 5 })).rejects.toThrow(ScimSsoConfigError);
    await expect(f.sso.createSetupLink(A, { allow: ['admin' as 'sso'] })).rejects.toThrow(ScimSsoConfigError);
    await expect(f.sso.createSetupLink('bad {id}')).rejects.toThrow(ScimSsoConfigError);
    await expect(f.sso.createSetupLink(A, { portalUrl: 'javascript:alert(1)' })).rejects.toThrow(ScimSsoConfigError);
    // The store holds the hash only.
    const { createHash } = await import('node:crypto');
    const found = await f.sso.store.getSetupGrant(createHash('sha256').update(tokenOf(url)).digest('hex'));
    expect(found?.grant).toMatchObject({ kind: 'link', customerId: A, allow: ['sso', 'scim'] });
    expect(JSON.stringify(found)).not.toContain(tokenOf(url));
  });

  it('exchanges the link for an HttpOnly session cookie scoped to the customer, and serves pages with a CSP nonce', async () => {
    const { agent, cookie } = await session();
    expect(cookie).toMatch(/scim_sso_setup=setup_[^;]+; Path=\/setup\/acme; Max-Age=\d+; HttpOnly; SameSite=Lax/);
    const overview = await agent.get('/setup/acme/');
    expect(overview.status).toBe(200);
    expect(overview.headers['content-security-policy']).toMatch(/script-src 'nonce-[^']+'/);
    expect(overview.headers['referrer-policy']).toBe('no-referrer');
    expect(overview.text).toContain('Set up Acme Notes for <strong>acme</strong>');
    expect(f.events.some((e) => e.type === 'setup.opened' && e.customerId === A && e.actor === 'setup')).toBe(true);
    // Ending the session: the cookie is cleared, and the session no longer opens anything even if kept.
    const secret = /scim_sso_setup=([^;]+)/.exec(cookie)![1]!;
    const ended = await agent
      .post('/setup/acme/logout')
      .type('form')
      .send({ _csrf: csrfOf(overview.text) });
    expect(ended.status).toBe(200);
    expect(String(ended.headers['set-cookie'])).toContain('scim_sso_setup=; Path=/setup/acme; Max-Age=0');
    expect((await supertest(f.origin).get('/setup/acme/').set('Cookie', `scim_sso_setup=${secret}`)).status).toBe(410);
    expect(f.events.some((e) => e.type === 'setup.ended' && e.customerId === A)).toBe(true);
  });

  it('marks the session cookie Secure when a TLS-terminating proxy says https, trusted or not', async () => {
    const { url } = await f.sso.createSetupLink(A);
    const opened = await supertest(f.origin).get(new URL(url).pathname).set('X-Forwarded-Proto', 'https');
    expect(opened.status).toBe(303);
    expect(String(opened.headers['set-cookie'])).toMatch(/scim_sso_setup=setup_[^;]+;.*; HttpOnly; SameSite=Lax; Secure/);
  });

  it('refuses pages without a session, and unknown, expired and revoked links with a clear page', async () => {
    const plain = supertest(f.origin);
    const none = await plain.get('/setup/acme/scim');
    expect(none.status).toBe(401);
    expect(none.text).toContain('Open your setup link');
    const unknown = await plain.get(`/setup/acme/link/setup_${'x'.repeat(43)}`);
    expect(unknown.status).toBe(404);
    expect(unknown.text).toContain('not valid');
    expect((await plain.get('/setup/acme/link/garbage')).status).toBe(404);

    const short = await f.sso.createSetupLink(A, { expiresIn: 60 });
    const { agent } = await session();
    f.clock.offset = 61_000;
    try {
      const expired = await plain.get(new URL(short.url).pathname);
      expect(expired.status).toBe(410);
      expect(expired.text).toContain('Setup link expired');
    } finally {
      f.clock.offset = 0;
    }
    expect((await agent.get('/setup/acme/scim')).status).toBe(200);
    const kept = await f.sso.createSetupLink(A);
    await f.sso.revokeSetupLinks(A);
    const revoked = await plain.get(new URL(kept.url).pathname);
    expect(revoked.status).toBe(410);
    expect(revoked.text).toContain('Setup link revoked');
    // The session opened before the revocation ends with it.
    const ended = await agent.get('/setup/acme/scim');
    expect(ended.status).toBe(410);
    expect(f.events.filter((e) => e.type === 'setup.refused').map((e) => e.reason)).toEqual(expect.arrayContaining(['unknown', 'expired', 'revoked']));
  });

  it('answers 429 with Retry-After to a link opened past LINK_OPENS, and says why', async () => {
    const { url } = await f.sso.createSetupLink(A);
    const path = new URL(url).pathname;
    const opens = await Promise.all(Array.from({ length: LINK_OPENS.burst + 1 }, () => supertest(f.origin).get(path)));
    const statuses = opens.map((r) => r.status).sort();
    expect(statuses).toEqual([...Array(LINK_OPENS.burst).fill(303), 429]);
    const refused = opens.find((r) => r.status === 429)!;
    expect(refused.headers['retry-after']).toBe('6');
    expect(refused.text).toContain('opened many times');
    expect(f.events.filter((e) => e.type === 'setup.refused').map((e) => e.reason)).toContain('too_many_opens');
  });

  it("refuses customer A's link and session on customer B's pages, and A's pages never show B's data", async () => {
    const { url, agent, cookie } = await session(A);
    const foreignLink = await supertest(f.origin).get(`/setup/${B}/link/${tokenOf(url)}`);
    expect(foreignLink.status).toBe(403);
    expect(foreignLink.text).toContain('another organisation');
    const secret = /scim_sso_setup=([^;]+)/.exec(cookie)![1]!;
    for (const path of [`/setup/${B}/`, `/setup/${B}/scim`, `/setup/${B}/sso`, `/setup/${B}/activity`]) {
      const res = await supertest(f.origin).get(path).set('Cookie', `scim_sso_setup=${secret}`);
      expect(res.status).toBe(403);
    }
    // A POST to B's token route with A's session and A's CSRF token changes nothing of B's.
    const page = await agent.get('/setup/acme/scim');
    const before = await f.sso.store.getConnectionByCustomer(B);
    const post = await supertest(f.origin)
      .post(`/setup/${B}/scim/token`)
      .set('Cookie', `scim_sso_setup=${secret}`)
      .type('form')
      .send({ _csrf: csrfOf(page.text) });
    expect(post.status).toBe(403);
    expect(await f.sso.store.getConnectionByCustomer(B)).toEqual(before);
    const betaUsers = await supertest(f.origin).get('/scim/v2/Users').set('Authorization', `Bearer ${f.betaToken}`);
    expect(betaUsers.status).toBe(200);
    for (const path of ['/setup/acme/', '/setup/acme/sso', '/setup/acme/test', '/setup/acme/activity']) {
      const res = await agent.get(path);
      expect(res.status).toBe(200);
      expect(res.text).not.toContain(`/t/${B}`);
      expect(res.text).not.toContain(`${B}-app`);
    }
  });

  it('refuses POSTs without the CSRF token, with a wrong one, or labelled cross-site', async () => {
    const { agent } = await session(A);
    const page = await agent.get('/setup/acme/scim');
    const csrf = csrfOf(page.text);
    expect(csrf).not.toBe('');
    const before = await f.sso.store.getConnectionByCustomer(A);
    expect((await agent.post('/setup/acme/scim/token').type('form').send({})).status).toBe(403);
    expect(
      (
        await agent
          .post('/setup/acme/scim/token')
          .type('form')
          .send({ _csrf: `${csrf.slice(1)}x` })
      ).status,
    ).toBe(403);
    const refusedBefore = f.events.filter((e) => e.type === 'setup.refused' && e.reason === 'csrf').length;
    expect((await agent.post('/setup/acme/scim/token').set('Sec-Fetch-Site', 'cross-site').type('form').send({ _csrf: csrf })).status).toBe(403);
    expect(await f.sso.store.getConnectionByCustomer(A)).toEqual(before);
    // Every refused POST is an audit event.
    expect(f.events.filter((e) => e.type === 'setup.refused' && e.reason === 'csrf' && e.customerId === A).length).toBe(refusedBefore + 1);
  });

  it('reveals the SCIM token once, and it works; a second token leaves the first working for the grace hour', async () => {
    const { agent } = await session(A);
    const page = await agent.get('/setup/acme/scim');
    expect(page.text).toContain(`${f.origin}/scim/v2`);
    const issued = await agent
      .post('/setup/acme/scim/token')
      .type('form')
      .send({ _csrf: csrfOf(page.text) });
    expect(issued.status).toBe(303);
    expect(issued.headers.location).toBe('/setup/acme/scim');
    const shown = await agent.get('/setup/acme/scim');
    const token = /<code id="scim-token">(scim_[A-Za-z0-9_-]+)<\/code>/.exec(shown.text)?.[1];
    expect(token).toBeDefined();
    expect(shown.text).toContain('id="scim-status"');
    const again = await agent.get('/setup/acme/scim');
    expect(again.text).not.toContain(token!);
    expect(again.text).not.toContain('id="scim-token"');
    const created = await supertest(f.origin)
      .post('/scim/v2/Users')
      .set('Authorization', `Bearer ${token}`)
      .send({ schemas: [USER_SCHEMA], userName: 'first@acme.test' });
    expect(created.status).toBe(201);

    const rotated = await agent
      .post('/setup/acme/scim/token')
      .type('form')
      .send({ _csrf: csrfOf(again.text) });
    expect(rotated.status).toBe(303);
    const second = /<code id="scim-token">(scim_[A-Za-z0-9_-]+)<\/code>/.exec((await agent.get('/setup/acme/scim')).text)?.[1];
    expect(second).toBeDefined();
    expect(second).not.toBe(token);
    for (const t of [token, second]) expect((await supertest(f.origin).get('/scim/v2/Users').set('Authorization', `Bearer ${t}`)).status).toBe(200);
    expect(f.events.filter((e) => e.type === 'setup.scim_token_issued' && e.customerId === A).length).toBeGreaterThanOrEqual(2);
  });

  it('shows a SAML customer the service provider values and changes nothing: no OIDC form, POST refused 409, never a 500', async () => {
    const customerId = `saml-${store}-${adapter}`;
    const acsUrl = `${f.origin}/sso/${customerId}/saml/acs`;
    await f.sso.createSamlConnection({ customerId, idpType: 'MicrosoftEntra', idpMetadataXml: testSamlIdp().metadata(), acsUrl });
    const { agent } = await session(customerId);
    const page = await agent.get(`/setup/${customerId}/sso`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('signs in to this app by SAML 2.0');
    expect(page.text).toContain(acsUrl);
    expect(page.text).toContain(`${f.origin}/sso/${customerId}/saml/metadata`);
    expect(page.text).toContain(`${f.origin}/sso/${customerId}/login`);
    expect(page.text).not.toContain('name="issuer"');
    const csrf = csrfOf((await agent.get(`/setup/${customerId}/`)).text);
    const post = await agent
      .post(`/setup/${customerId}/sso`)
      .type('form')
      .send({ _csrf: csrf, idpType: 'Okta', issuer: f.idp.issuer(A), clientId: 'x', scopes: 'openid' });
    expect(post.status).toBe(409);
    expect(post.text).toContain('signs in by SAML');
    expect(await f.sso.fetchOidcClient(customerId)).toBeNull();
    expect(f.errors).toEqual([]);
  });

  it('scopes a link to what it allows', async () => {
    const { agent } = await session(A, ['scim']);
    expect((await agent.get('/setup/acme/scim')).status).toBe(200);
    const sso = await agent.get('/setup/acme/sso');
    expect(sso.status).toBe(403);
    expect(sso.text).toContain('does not include single sign-on');
    expect((await agent.get('/setup/acme/test')).status).toBe(403);
    const overview = await agent.get('/setup/acme/');
    expect(overview.text).not.toContain('href="/setup/acme/sso"');
  });

  it('validates the SSO form and says what is wrong with the issuer, from a live discovery', async () => {
    const { agent } = await session(A);
    const page = await agent.get('/setup/acme/sso');
    expect(page.text).toContain(`${f.origin}/sso/acme/callback`);
    expect(page.text).toContain(`${f.origin}/setup/acme/test/callback`);
    const post = (fields: Record<string, string>) =>
      agent
        .post('/setup/acme/sso')
        .type('form')
        .send({ _csrf: csrfOf(page.text), idpType: 'Okta', clientId: 'acme-app', clientSecret: '', scopes: 'openid email profile', ...fields });
    const cases: [Record<string, string>, string][] = [
      [{ issuer: 'not a url' }, 'The issuer must be a URL'],
      [{ issuer: f.idp.issuer(A), clientId: '' }, 'Enter the client ID'],
      [{ issuer: f.idp.issuer(A), idpType: 'Keycloak' }, 'Choose the identity provider'],
      [{ issuer: f.idp.issuer(A), scopes: 'openid "bad"' }, 'OAuth scope names'],
      [{ issuer: f.idp.issuer(A), workspaceDomains: 'not_a_domain' }, 'Google Workspace domains'],
      [{ issuer: 'http://127.0.0.1:1/nothing' }, 'Unreachable'],
      [{ issuer: `${f.origin}/nothing-here` }, 'Not an OpenID Connect issuer'],
      [{ issuer: `${f.idp.issuer(A)}/` }, 'Issuer mismatch'],
    ];
    for (const [fields, message] of cases) {
      const res = await post(fields);
      expect(res.status, message).toBe(400);
      expect(res.text).toContain(message);
    }
    expect(await f.sso.fetchOidcClient(A)).toBeNull();
    expect(f.events.some((e) => e.type === 'setup.oidc_client_rejected')).toBe(true);
  });

  it('saves the OIDC client after a live discovery, never shows the secret back, and runs Test SSO with no app session', async () => {
    const { clientId, clientSecret } = await f.registerClient(A);
    const browser = new Browser();
    const { url } = await f.sso.createSetupLink(A);
    const overview = await open(browser, url);
    expect(overview.url).toBe(`${f.origin}/setup/acme/`);
    const form = await open(browser, `${f.origin}/setup/acme/sso`);
    const saved = await submit(browser, form, '/setup/acme/sso', {
      idpType: 'Okta',
      issuer: f.idp.issuer(A),
      clientId,
      clientSecret,
      scopes: 'openid email profile',
    });
    expect(saved.url).toBe(`${f.origin}/setup/acme/sso?saved=1`);
    const savedHtml = await saved.response.text();
    expect(savedHtml).toContain('id="saved"');
    expect(savedHtml).not.toContain(clientSecret);
    expect(await f.sso.fetchOidcClient(A)).toMatchObject({
      issuer: f.idp.issuer(A),
      clientId,
      hasClientSecret: true,
      redirectUri: `${f.origin}/sso/acme/callback`,
      requiredClaims: {},
    });
    expect(f.events.some((e) => e.type === 'setup.oidc_client_saved' && e.customerId === A)).toBe(true);
    // Google Workspace domains become the client's required hd claim, all of them shown back on the form (a
    // save keeps them all); emptied, the claim goes.
    const fields = { idpType: 'Okta', issuer: f.idp.issuer(A), clientId, clientSecret: '', scopes: 'openid email profile' };
    const withDomain = await submit(browser, await open(browser, `${f.origin}/setup/acme/sso`), '/setup/acme/sso', {
      ...fields,
      workspaceDomains: 'Acme.Example, acme-eu.example',
    });
    expect(withDomain.url).toBe(`${f.origin}/setup/acme/sso?saved=1`);
    expect(await withDomain.response.text()).toContain('value="acme.example, acme-eu.example"');
    expect((await f.sso.fetchOidcClient(A))!.requiredClaims).toEqual({ hd: ['acme.example', 'acme-eu.example'] });
    await submit(browser, await open(browser, `${f.origin}/setup/acme/sso`), '/setup/acme/sso', { ...fields, workspaceDomains: '' });
    expect((await f.sso.fetchOidcClient(A))!.requiredClaims).toEqual({});

    // Provision one person over SCIM; log in as them (matches) and as someone not provisioned (mismatch).
    const conn = (await f.sso.fetchScimConnection(A))
      ? await f.sso.rotateScimToken(A, { graceSeconds: 3600 })
      : await f.sso.createScimConnection({ customerId: A });
    const provisioned = await supertest(f.origin)
      .post('/scim/v2/Users')
      .set('Authorization', `Bearer ${conn.token}`)
      .send({ schemas: [USER_SCHEMA], userName: 'ann@acme.test', externalId: '00u-ann' });
    expect(provisioned.status).toBe(201);
    f.account(A, { sub: '00u-ann', email: 'ann@acme.test', email_verified: true, name: 'Ann' });
    f.account(A, { sub: '00u-ben', email: 'ben@acme.test', email_verified: true, name: 'Ben' });
    const test = async (sub: string) => {
      const start = await open(browser, `${f.origin}/setup/acme/test`);
      const result = await submit(browser, start, '/setup/acme/test', { loginHint: sub });
      expect(result.url.startsWith(`${f.origin}/setup/acme/test/callback?`)).toBe(true);
      expect(result.response.headers.getSetCookie().filter((c) => !/^scim_sso_setup_test=;/.test(c))).toEqual([]);
      return { status: result.response.status, html: await result.response.text() };
    };
    const ann = await test('00u-ann');
    expect(ann.status).toBe(200);
    expect(ann.html).toMatch(/id="test-outcome"><span class="badge ok">Admitted as ann@acme.test/);
    expect(ann.html).toContain('00u-ann');
    expect(ann.html).not.toContain('id="test-hints"');
    const ben = await test('00u-ben');
    expect(ben.html).toMatch(/id="test-outcome"><span class="badge bad">Refused: not_provisioned/);
    expect(ben.html).toContain('id="test-hints"');
    expect(ben.html).toContain('map userName ← the email (Application username format: Email)');
    // Nothing recorded, no app session: the guard's SSO users stay empty.
    expect(await f.sso.listSsoUsers(A)).toEqual([]);
    expect(f.events.filter((e) => e.type === 'setup.test_login').map((e) => [e.outcome, e.reason ?? null])).toEqual([
      ['success', null],
      ['failure', 'not_provisioned'],
    ]);
    // A callback replayed (its one-time cookie is gone) is refused, not answered again.
    const replay = await open(browser, `${f.origin}/setup/acme/test/callback?code=x&state=y`);
    expect(replay.status).toBe(400);
    expect(replay.html).toContain('not started from this setup session');

    // Saving again with an empty secret keeps the stored one.
    const again = await open(browser, `${f.origin}/setup/acme/sso`);
    expect(again.html).toContain('A secret is stored');
    const resaved = await submit(browser, again, '/setup/acme/sso', {
      idpType: 'Okta',
      issuer: f.idp.issuer(A),
      clientId,
      clientSecret: '',
      scopes: 'openid email',
    });
    expect(resaved.url).toBe(`${f.origin}/setup/acme/sso?saved=1`);
    expect(await f.sso.fetchOidcClient(A)).toMatchObject({ hasClientSecret: true, scopes: ['openid', 'email'] });
    // Another issuer or client ID with an empty secret is refused: the stored secret would otherwise go to
    // whoever runs the new issuer on the next token request.
    for (const moved of [
      { issuer: f.idp.issuer(B), clientId },
      { issuer: f.idp.issuer(A), clientId: 'another-app' },
    ]) {
      const form = await open(browser, `${f.origin}/setup/acme/sso`);
      const refused = await submit(browser, form, '/setup/acme/sso', { idpType: 'Okta', ...moved, clientSecret: '', scopes: 'openid email' });
      expect(refused.response.status).toBe(400);
      expect(await refused.response.text()).toContain('enter the client secret of that application');
      expect(await f.sso.fetchOidcClient(A)).toMatchObject({ issuer: f.idp.issuer(A), clientId, hasClientSecret: true });
    }
    expect(f.events.some((e) => e.type === 'setup.oidc_client_rejected' && e.reason === 'secret_required')).toBe(true);
  });

  it('binds a test login to the setup session that started it: another session cannot complete it, a tampered state fails cleanly', async () => {
    if (!(await f.sso.fetchOidcClient(A))) {
      const { clientId, clientSecret } = await f.registerClient(A);
      await f.sso.createOidcClient({
        customerId: A,
        idpType: 'Okta',
        issuer: f.idp.issuer(A),
        clientId,
        clientSecret,
        redirectUri: `${f.origin}/sso/acme/callback`,
      });
    }
    f.account(A, { sub: '00u-zoe', email: 'zoe@acme.test', email_verified: true });
    const [admin, other] = [new Browser(), new Browser()];
    for (const browser of [admin, other]) await open(browser, (await f.sso.createSetupLink(A)).url);
    // The admin starts a test login and the IdP answers with a code; the callback URL leaks to another session.
    const start = await open(admin, `${f.origin}/setup/acme/test`);
    const form = parseForms(start.html, start.url).find((x) => x.action.endsWith('/setup/acme/test'))!;
    let next = (
      await admin.fetch(form.action, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
        body: new URLSearchParams({ ...form.fields, loginHint: '00u-zoe' }).toString(),
      })
    ).headers.get('location')!;
    while (!next.startsWith(`${f.origin}/setup/acme/test/callback?`)) {
      const response = await admin.fetch(next);
      await response.body?.cancel();
      next = new URL(response.headers.get('location')!, next).href;
    }
    const stolen = await open(other, next);
    expect(stolen.status).toBe(400);
    expect(stolen.html).toContain('not started from this setup session');
    const tampered = await open(admin, next.replace(/state=[^&]+/, 'state=forged'));
    expect(tampered.status).toBe(400);
    expect(tampered.html).toContain('The login could not be completed');
    expect(await f.sso.listSsoUsers(A)).toEqual([]);
  });

  it('lists refused logins with their fix hint, escaped', async () => {
    const { agent } = await session(A);
    internalsOf(f.sso).activity!.recordLogin(A, {
      at: new Date().toISOString(),
      outcome: 'refused',
      reason: 'not_provisioned',
      strategy: 'OidcEmailToScimUsername',
      subject: '00u-x',
      email: '<script>alert(1)</script>@acme.test',
      scimUserId: null,
    });
    const activity = await agent.get('/setup/acme/activity');
    expect(activity.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;@acme.test');
    expect(activity.text).not.toContain('<script>alert(1)');
    expect(activity.text).toContain('No SCIM user has userName equal to the email claim');
  });

  it('shows a link only the part of the activity log it allows: no SCIM requests without scim, no refused logins without sso', async () => {
    const refusal = {
      outcome: 'refused' as const,
      reason: 'not_provisioned',
      strategy: 'OidcEmailToScimUsername',
      subject: '00u-scope',
      email: 'scoped.person@acme.test',
      scimUserId: null,
    };
    internalsOf(f.sso).activity!.recordLogin(A, { at: new Date().toISOString(), ...refusal });
    const token = 'scoped-activity-token-0123456789-abcdefghij';
    // The customer may have a connection from an earlier test: then its token becomes this one.
    await f.sso.createScimConnection({ customerId: A, token }).catch(() => f.sso.rotateScimToken(A, { token }));
    const sent = await supertest(f.origin).delete('/scim/v2/Users/scoped-activity-missing').set('Authorization', `Bearer ${token}`);
    expect(sent.status).toBe(404);
    const viewed = async (allow: ('sso' | 'scim')[]) => (await (await session(A, allow)).agent.get('/setup/acme/activity')).text;
    const ssoOnly = await viewed(['sso']);
    expect(ssoOnly).toContain('scoped.person@acme.test');
    expect(ssoOnly).not.toContain('Recent SCIM requests');
    expect(ssoOnly).not.toContain('<td>DELETE</td>');
    const scimOnly = await viewed(['scim']);
    expect(scimOnly).toContain('<td>DELETE</td>');
    expect(scimOnly).not.toContain('Refused logins');
    expect(scimOnly).not.toContain('scoped.person@acme.test');
    const both = await viewed(['sso', 'scim']);
    expect(both).toContain('<td>DELETE</td>');
    expect(both).toContain('scoped.person@acme.test');
  });

  it('shows the activity log (no bodies, no tokens) and the live status, and never answers a 500 to hostile paths', async () => {
    const { agent } = await session(A);
    const page = await agent.get('/setup/acme/scim');
    await agent
      .post('/setup/acme/scim/token')
      .type('form')
      .send({ _csrf: csrfOf(page.text) });
    const token = /<code id="scim-token">(scim_[A-Za-z0-9_-]+)<\/code>/.exec((await agent.get('/setup/acme/scim')).text)![1]!;
    const userName = `hidden-${store}-${adapter}@acme.test`;
    const created = await supertest(f.origin)
      .post('/scim/v2/Users')
      .set('Authorization', `Bearer ${token}`)
      .send({ schemas: [USER_SCHEMA], userName });
    expect(created.status).toBe(201);
    expect((await supertest(f.origin).get(`/scim/v2/Users?filter=userName eq "${userName}"`).set('Authorization', `Bearer ${token}`)).status).toBe(200);
    const activity = await agent.get('/setup/acme/activity');
    expect(activity.status).toBe(200);
    expect(activity.text).toContain('Recent SCIM requests');
    expect(activity.text).toMatch(/<td>POST<\/td><td><code>\/Users<\/code><\/td>\s*<td><span class="badge ok">201/);
    expect(activity.text).not.toContain(token);
    expect(activity.text).not.toContain(userName);
    const status = await agent.get('/setup/acme/scim');
    expect(status.text).toMatch(
      /id="scim-status"><p class="status" role="status">Last request from your IdP: <strong>[^<]+<\/strong>, GET <code>\/Users<\/code>/,
    );
    for (const path of ['/setup/%E0%A4%A/', '/setup/bad%20id/', '/setup/acme/nope', '/setup/acme/scim/token', '/setup/acme/link/a/b']) {
      const res = await agent.get(path);
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      expect(res.status, path).toBeLessThan(500);
    }
    expect((await agent.put('/setup/acme/scim')).status).toBe(405);
    expect((await agent.get('/elsewhere')).status).toBe(404);
  });
});

describe('setup portal mounted under its path (Express app.use("/setup", …))', () => {
  it('serves the same URLs as when mounted at the root', async () => {
    const app = express();
    const server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const sso = scimSso({ setupPortalUrl: `${origin}/setup` });
      app.use('/setup', expressSetupPortal(sso));
      app.use((_req, res) => void res.status(404).send('app 404'));
      const { url } = await sso.createSetupLink('acme');
      const agent = supertest.agent(origin);
      const opened = await agent.get(new URL(url).pathname);
      expect(opened.status).toBe(303);
      expect(opened.headers.location).toBe('/setup/acme/');
      expect((await agent.get('/setup/acme/')).status).toBe(200);
      expect((await agent.get('/other')).text).toBe('app 404');
      expect(() => expressSetupPortal(sso, { portalUrl: origin })).toThrow('needs a path of its own');
      expect(() => expressSetupPortal(scimSso())).toThrow('setupPortalUrl');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
