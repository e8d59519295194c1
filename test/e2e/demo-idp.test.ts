/**
 * The demo IdP and the headless Browser, proven against a real relying party built directly with
 * openid-client (no scim-sso code, no passport): discovery, PKCE + state + nonce, code exchange with ID
 * token validation, userinfo.
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import * as client from 'openid-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DemoStorage, startDemoIdp, type DemoIdp } from '../../example-app/demo-idp.js';
import { Browser, parseForms } from '../support/browser.js';

type Auth = 'post' | 'basic' | 'none';
interface RpClient {
  tenant: string;
  auth: Auth;
  config?: client.Configuration;
}
interface LoginResult {
  claims: Record<string, unknown>;
  userinfo?: Record<string, unknown>;
}

/**
 * A tiny openid-client RP: `/login/:rp?login_hint=&userinfo=1` and `/cb/:rp` per registered client. The
 * PKCE verifier, state and nonce stay server-side, keyed by an `rp_tx` cookie (as a session would).
 */
async function startRp(idp: DemoIdp) {
  const clients = new Map<string, RpClient>();
  const transactions = new Map<string, { verifier: string; state: string; nonce: string; userinfo: boolean }>();
  const app = express();
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const secret = 'rp-secret-' + randomBytes(8).toString('hex');

  async function configFor(name: string): Promise<client.Configuration> {
    const rp = clients.get(name);
    if (!rp) throw new Error(`no rp ${name}`);
    const auth = rp.auth === 'none' ? client.None() : rp.auth === 'basic' ? client.ClientSecretBasic(secret) : client.ClientSecretPost(secret);
    rp.config ??= await client.discovery(new URL(idp.issuer(rp.tenant)), `${name}-client`, rp.auth === 'none' ? undefined : secret, auth, {
      execute: [client.allowInsecureRequests], // http issuer: tests only
    });
    return rp.config;
  }

  app.get('/login/:rp', async (req, res) => {
    const config = await configFor(req.params.rp);
    const query = new URL(req.originalUrl, origin).searchParams;
    const tx = {
      verifier: client.randomPKCECodeVerifier(),
      state: client.randomState(),
      nonce: client.randomNonce(),
      userinfo: query.get('userinfo') === '1', // the callback URL is fixed, so the wish travels in the transaction
    };
    const params: Record<string, string> = {
      redirect_uri: `${origin}/cb/${req.params.rp}`,
      scope: 'openid email profile',
      code_challenge: await client.calculatePKCECodeChallenge(tx.verifier),
      code_challenge_method: 'S256',
      state: tx.state,
      nonce: tx.nonce,
    };
    const hint = query.get('login_hint');
    if (hint) params.login_hint = hint;
    const id = randomBytes(12).toString('base64url');
    transactions.set(id, tx);
    res.cookie('rp_tx', id, { httpOnly: true, path: `/cb/${req.params.rp}` });
    res.redirect(client.buildAuthorizationUrl(config, params).href);
  });

  app.get('/cb/:rp', async (req, res) => {
    const config = await configFor(req.params.rp);
    const id = /(?:^|;\s*)rp_tx=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
    const tx = id ? transactions.get(id) : undefined;
    if (!id || !tx) return void res.status(400).json({ error: 'no_transaction' });
    transactions.delete(id);
    res.clearCookie('rp_tx', { path: `/cb/${req.params.rp}` });
    const currentUrl = new URL(req.originalUrl, origin);
    const tokens = await client.authorizationCodeGrant(config, currentUrl, {
      pkceCodeVerifier: tx.verifier,
      expectedState: tx.state,
      expectedNonce: tx.nonce,
    });
    const claims = tokens.claims()!;
    const userinfo = tx.userinfo ? await client.fetchUserInfo(config, tokens.access_token, claims.sub) : undefined;
    res.cookie('rp_user', claims.sub, { httpOnly: true });
    res.json({ claims, userinfo });
  });

  // For the cookie-jar test: Path scoping, Max-Age/Expires deletion, Secure over http loopback.
  app.get('/jar/set', (_req, res) => {
    res.append('set-cookie', ['scoped=1; Path=/jar/in', 'secure=1; Path=/; Secure', 'gone=1; Path=/', 'old=1; Path=/']);
    res.send('ok');
  });
  app.get('/jar/drop', (_req, res) => {
    res.append('set-cookie', ['gone=; Path=/; Max-Age=0', 'old=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT']);
    res.send('ok');
  });
  app.get(['/jar/echo', '/jar/in/echo', '/jar/inside'], (req, res) => void res.send(req.headers.cookie ?? ''));

  app.use((error: Error & { error?: string; code?: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(400).json({ error: error.error ?? error.name, code: error.code, message: error.message });
  });

  return {
    origin,
    async register(name: string, tenant: string, auth: Auth) {
      clients.set(name, { tenant, auth });
      await idp.addClient(tenant, {
        client_id: `${name}-client`,
        ...(auth === 'none' ? {} : { client_secret: secret }),
        redirect_uris: [`${origin}/cb/${name}`],
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

let idp: DemoIdp;
let rp: Awaited<ReturnType<typeof startRp>>;
const errors: unknown[] = [];

const alice = {
  sub: 'alice',
  label: 'Alice (admin)',
  email: 'alice@okta.test',
  email_verified: true,
  preferred_username: 'alice@okta.test',
  name: 'Alice Adams',
};
const bob = { sub: 'bob', label: 'Bob', email: 'bob@okta.test', email_verified: false, preferred_username: 'bob', name: 'Bob Brown' };
const carol = {
  sub: 'pairwise-carol',
  oid: '11111111-2222-3333-4444-555555555555',
  tid: 'tenant-guid',
  email: 'carol@entra.test',
  preferred_username: 'carol@entra.test',
  name: 'Carol C',
};

beforeAll(async () => {
  idp = await startDemoIdp({
    onError: (error) => errors.push(error),
    tenants: [
      { id: 'okta', clients: [], accounts: [alice, bob] },
      { id: 'entra', clients: [], accounts: [carol], claimsIn: 'userinfo' },
    ],
  });
  rp = await startRp(idp);
  await rp.register('okta', 'okta', 'post');
  await rp.register('entra', 'entra', 'post');
  await rp.register('okta-basic', 'okta', 'basic');
  await rp.register('okta-public', 'okta', 'none');
});
afterAll(async () => {
  await rp?.close();
  await idp?.close();
});
afterEach(() => {
  expect(errors).toEqual([]); // no 500 inside the IdP
});

/** A full login through the RP; asserts it ended at the RP's callback with 200 JSON. */
async function login(browser: Browser, name: string, hint?: string, userinfo = false) {
  const query = new URLSearchParams({ ...(hint ? { login_hint: hint } : {}), ...(userinfo ? { userinfo: '1' } : {}) });
  const result = await browser.navigate(`${rp.origin}/login/${name}?${query}`);
  const body = (await result.response.json()) as LoginResult;
  expect(result.response.status, JSON.stringify(body)).toBe(200);
  return { ...result, body };
}

describe('demo IdP with a real openid-client relying party', () => {
  it('logs in by login_hint without any page; ID token carries email and profile claims (claimsIn id_token)', async () => {
    const browser = new Browser();
    const { body, hops, url } = await login(browser, 'okta', 'alice');
    expect(url).toMatch(new RegExp(`^${rp.origin}/cb/okta\\?code=`));
    expect(hops.slice(0, -1).every((h) => h.status >= 300 && h.status < 400)).toBe(true);
    expect(hops.some((h) => h.url.includes('/t/okta/interaction/'))).toBe(true);
    expect(body.claims).toMatchObject({
      iss: idp.issuer('okta'),
      sub: 'alice',
      aud: 'okta-client',
      email: 'alice@okta.test',
      email_verified: true,
      preferred_username: 'alice@okta.test',
      name: 'Alice Adams',
    });
    expect(body.claims).not.toHaveProperty('label');
    // One jar per host:port: the RP's cookies and the IdP's never mix; Max-Age=0 deleted rp_tx.
    expect(browser.cookies(rp.origin)).toEqual({ rp_user: 'alice' });
    expect(Object.keys(browser.cookies(idp.origin))).toContain('_session');
  });
});

describe('claims placement', () => {
  it("claimsIn 'userinfo': the ID token lacks email and profile, userinfo has them; oid is in the ID token", async () => {
    const { body } = await login(new Browser(), 'entra', carol.sub, true);
    expect(body.claims).toMatchObject({ sub: carol.sub, oid: carol.oid, tid: carol.tid });
    expect(body.claims).not.toHaveProperty('email');
    expect(body.claims).not.toHaveProperty('preferred_username');
    expect(body.userinfo).toMatchObject({ sub: carol.sub, email: carol.email, preferred_username: carol.preferred_username, oid: carol.oid });
  });

  it('an account upserted at runtime, with a claim never seen before (oid), logs in with it in the ID token', async () => {
    idp.upsertAccount('okta', { sub: 'dave', email: 'dave@okta.test', oid: 'dave-object-id', groups: ['a', 'b'] });
    const { body } = await login(new Browser(), 'okta', 'dave');
    expect(body.claims).toMatchObject({ sub: 'dave', email: 'dave@okta.test', oid: 'dave-object-id', groups: ['a', 'b'] });
    // Replacing the account changes what the next login sees.
    idp.upsertAccount('okta', { sub: 'dave', email: 'dave@new.test', oid: 'dave-object-id' });
    const again = await login(new Browser(), 'okta', 'dave');
    expect(again.body.claims).toMatchObject({ email: 'dave@new.test' });
    expect(again.body.claims).not.toHaveProperty('groups');
  });
});

describe('interactions', () => {
  it('without login_hint shows the account page; a form POST logs in as the chosen account', async () => {
    const browser = new Browser();
    const page = await browser.navigate(`${rp.origin}/login/okta`);
    expect(page.response.status).toBe(200);
    expect(page.url).toMatch(/\/t\/okta\/interaction\/[^/]+$/);
    const html = await page.response.text();
    expect(html).toContain('Alice (admin)');
    expect(html).toContain('alice@okta.test');
    expect(html).toContain('bob@okta.test');
    const form = parseForms(html, page.url).find((f) => f.text.includes('bob@okta.test'));
    expect(form).toMatchObject({ method: 'POST', fields: { sub: 'bob' } });
    const done = await browser.submit(form!);
    expect(done.response.status).toBe(200);
    expect(((await done.response.json()) as LoginResult).claims).toMatchObject({ sub: 'bob', email: 'bob@okta.test' });
  });

  it('a second login reuses the session and grant: no interaction at all', async () => {
    const browser = new Browser();
    const first = await login(browser, 'okta', 'alice');
    const second = await login(browser, 'okta'); // no hint: the IdP session decides
    expect(first.hops.some((h) => h.url.includes('/interaction/'))).toBe(true);
    expect(second.hops.some((h) => h.url.includes('/interaction/'))).toBe(false);
    expect(second.body.claims).toMatchObject({ sub: 'alice', email: 'alice@okta.test' });
    const third = await login(browser, 'okta', 'alice'); // a hint naming the session's account: no interaction either
    expect(third.hops.some((h) => h.url.includes('/interaction/'))).toBe(false);
  });

  it('a login_hint naming another account switches the logged-in account in the same browser', async () => {
    const browser = new Browser();
    await login(browser, 'okta', 'alice');
    const { body, hops } = await login(browser, 'okta', 'bob');
    expect(body.claims).toMatchObject({ sub: 'bob' });
    // oidc-provider ends alice's IdP session through its self-submitting logout form, which navigate() posts.
    expect(hops.some((h) => h.url.endsWith('/t/okta/session/end/confirm'))).toBe(true);
    const back = await login(browser, 'okta'); // the IdP session is bob's now
    expect(back.body.claims).toMatchObject({ sub: 'bob' });
  });

  it('an unknown login_hint shows the page with a notice (no crash); an unknown account POST is a 400 page', async () => {
    const browser = new Browser();
    const page = await browser.navigate(`${rp.origin}/login/okta?login_hint=${encodeURIComponent('nobody<script>')}`);
    expect(page.response.status).toBe(200);
    const html = await page.response.text();
    expect(html).toContain('No account &#34;nobody&#60;script&#62;&#34;');
    const form = parseForms(html, page.url).find((f) => f.fields.sub === 'alice')!;
    const bad = await browser.submit(form, { sub: 'mallory' });
    expect(bad.response.status).toBe(400);
    const good = await browser.submit(form); // the interaction is still open
    expect(((await good.response.json()) as LoginResult).claims).toMatchObject({ sub: 'alice' });
  });

  it('Cancel returns access_denied to the RP; a stale interaction URL is a 400 page', async () => {
    const browser = new Browser();
    const page = await browser.navigate(`${rp.origin}/login/okta`);
    const cancel = parseForms(await page.response.text(), page.url).find((f) => f.text === 'Cancel')!;
    const denied = await browser.submit(cancel);
    expect(await denied.response.json()).toMatchObject({ error: 'access_denied' });
    const stale = await browser.navigate(page.url);
    expect(stale.response.status).toBe(400);
    expect(await stale.response.text()).toContain('expired or is invalid');
  });
});

describe('clients and protocol', () => {
  it('client_secret_basic and public (none) clients log in too', async () => {
    expect((await login(new Browser(), 'okta-basic', 'alice')).body.claims).toMatchObject({ aud: 'okta-basic-client' });
    expect((await login(new Browser(), 'okta-public', 'bob')).body.claims).toMatchObject({ aud: 'okta-public-client' });
  });

  it('PKCE is required and only S256 is accepted', async () => {
    const browser = new Browser();
    const base = new URL(`${idp.issuer('okta')}/auth`);
    const params = { client_id: 'okta-client', response_type: 'code', scope: 'openid', redirect_uri: `${rp.origin}/cb/okta`, state: 's', login_hint: 'alice' };
    const cases = [
      [{}, /requires PKCE/],
      [{ code_challenge: 'x'.repeat(43), code_challenge_method: 'plain' }, /code_challenge_method/],
    ] as const;
    for (const [extra, reason] of cases) {
      base.search = new URLSearchParams({ ...params, ...extra }).toString();
      const response = await browser.fetch(base.href);
      const location = new URL(response.headers.get('location') ?? '', base);
      expect(location.origin + location.pathname).toBe(`${rp.origin}/cb/okta`);
      expect(location.searchParams.get('error')).toBe('invalid_request');
      expect(location.searchParams.get('error_description')).toMatch(reason);
    }
  });

  it('addClient rejects metadata oidc-provider refuses; unknown tenants throw', async () => {
    await expect(idp.addClient('okta', { client_id: 'bad', redirect_uris: ['not a url'] })).rejects.toThrow();
    expect(() => idp.issuer('nope')).toThrow(/no tenant/);
    expect(() => idp.upsertAccount('okta', { sub: '' })).toThrow(/sub/);
  });
});

describe('Browser', () => {
  it('honours Path, Max-Age/Expires deletion, and sends Secure cookies over http to 127.0.0.1', async () => {
    const browser = new Browser();
    await browser.fetch(`${rp.origin}/jar/set`);
    expect(await (await browser.fetch(`${rp.origin}/jar/echo`)).text()).toBe('secure=1; gone=1; old=1');
    expect(await (await browser.fetch(`${rp.origin}/jar/in/echo`)).text()).toBe('scoped=1; secure=1; gone=1; old=1');
    expect(await (await browser.fetch(`${rp.origin}/jar/inside`)).text()).not.toContain('scoped'); // /jar/in ≠ /jar/inside
    await browser.fetch(`${rp.origin}/jar/drop`);
    expect(browser.cookies(rp.origin)).toEqual({ scoped: '1', secure: '1' });
    expect(browser.cookies(idp.origin)).toEqual({});
    browser.clear(rp.origin);
    expect(browser.cookies(rp.origin)).toEqual({});
  });
});

describe('repeated logins', () => {
  // Speed is measured in `npm run bench`, not asserted here (no timing thresholds in tests).
  it('completes 21 consecutive logins with fresh browsers, each for the hinted account', async () => {
    for (let i = 0; i < 21; i++) {
      const hint = i % 2 ? 'alice' : 'bob';
      const { body } = await login(new Browser(), 'okta', hint);
      expect(body.claims.sub).toBe(hint);
    }
  });
});

describe("DemoStorage (the demo IdP adapter's indexes)", () => {
  it('finds entries by uid and userCode, follows a changed uid, and forgets deleted and expired entries', () => {
    const storage = new DemoStorage();
    storage.set('Session:s1', { uid: 'u1' }, Infinity);
    storage.set('Interaction:i1', { uid: 'u1' }, Infinity);
    storage.set('DeviceCode:d1', { userCode: 'ABCD' }, Infinity);
    expect(storage.findBy('Session', 'uid', 'u1')).toEqual({ uid: 'u1' });
    expect(storage.findBy('Interaction', 'uid', 'u1')).toEqual({ uid: 'u1' });
    expect(storage.findBy('DeviceCode', 'userCode', 'ABCD')).toEqual({ userCode: 'ABCD' });
    storage.set('Session:s1', { uid: 'u2' }, Infinity);
    expect(storage.findBy('Session', 'uid', 'u1')).toBeUndefined();
    expect(storage.findBy('Session', 'uid', 'u2')).toEqual({ uid: 'u2' });
    storage.delete('Session:s1');
    expect(storage.findBy('Session', 'uid', 'u2')).toBeUndefined();
    expect(storage.get('Session:s1')).toBeUndefined();
    storage.set('Session:old', { uid: 'u3' }, Date.now() - 1);
    expect(storage.findBy('Session', 'uid', 'u3')).toBeUndefined();
    expect(storage.get('Session:old')).toBeUndefined();
  });

  it('revokes exactly the grantable entries of a grant', () => {
    const storage = new DemoStorage();
    storage.set('AccessToken:a1', { grantId: 'g1' }, Infinity);
    storage.set('AuthorizationCode:c1', { grantId: 'g1' }, Infinity);
    storage.set('AccessToken:a2', { grantId: 'g2' }, Infinity);
    storage.set('Grant:g1', { grantId: 'g1' }, Infinity); // not a grantable model: the grant record itself stays
    storage.revokeGrant('g1');
    expect(storage.get('AccessToken:a1')).toBeUndefined();
    expect(storage.get('AuthorizationCode:c1')).toBeUndefined();
    expect(storage.get('AccessToken:a2')).toEqual({ grantId: 'g2' });
    expect(storage.get('Grant:g1')).toEqual({ grantId: 'g1' });
  });
});
