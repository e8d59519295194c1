import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSRF_COOKIE } from '../../src/dashboard/csrf.js';
import { dashboard as expressDashboard } from '../../src/express/dashboard.js';
import { dashboard as koaDashboard } from '../../src/koa/dashboard.js';
import { ADAPTERS } from '../support/adapters.js';
import { rawHttp } from '../support/raw-http.js';
import { STORE_KINDS } from '../support/app.js';
import {
  ADMIN,
  CUSTOMER,
  HOSTILE_NAME,
  HOSTILE_USERNAME,
  SCIM_ONLY,
  csrfTokenOf,
  dashboardFixture,
  type AnyDashboardOptions,
  type DashboardFixture,
  type HeaderReader,
} from './fixture.js';

const PAGES = [
  '/admin/',
  `/admin/customers/${CUSTOMER}`,
  `/admin/customers/${CUSTOMER}/matching`,
  `/admin/customers/${CUSTOMER}/matching.json`,
  `/admin/customers/${CUSTOMER}/compare?subject=00u-dave`,
];
const POSTS = [`/admin/customers/${CUSTOMER}/matching`, `/admin/customers/${CUSTOMER}/scim-token`];

describe.each(ADAPTERS)('dashboard authorization on %s', (adapter) => {
  const refusing: [string, AnyDashboardOptions | null][] = [
    ['no options at all', null],
    ['no authorize', {}],
    ['authorize returning false', { authorize: () => false }],
    ['authorize resolving false', { authorize: async () => false }],
    ['authorize returning a truthy non-boolean', { authorize: () => 'yes' as unknown as boolean }],
    [
      'authorize throwing',
      {
        authorize: () => {
          throw new Error('session store down');
        },
      },
    ],
  ];
  it.each(refusing)('refuses every request with %s (403, no data, nothing changed)', async (_name, options) => {
    const f = await dashboardFixture('memory', options, adapter);
    try {
      for (const path of PAGES) {
        const res = await f.agent().get(path).set(ADMIN);
        expect(res.status, path).toBe(403);
        expect(res.text).not.toContain('alice@acme.test');
        expect(res.headers['set-cookie'] ?? []).toEqual([]); // not even a CSRF cookie
      }
      for (const path of POSTS) {
        const res = await f.agent().post(path).set(ADMIN).type('form').send({ strategy: 'OidcSubToScimExternalId', graceSeconds: '0' });
        expect(res.status, path).toBe(403);
      }
      expect((await f.sso.fetchOidcClient(CUSTOMER))!.matchingStrategy).toBe('OidcEmailToScimUsername');
      expect((await f.agent().get('/scim/v2/Users').set('Authorization', `Bearer ${f.token}`)).status).toBe(200);
      if (_name === 'authorize throwing') expect(f.errors).toHaveLength(PAGES.length + POSTS.length);
    } finally {
      await f.cleanup();
    }
  });

  it('refuses per request: authorize sees the request', async () => {
    const seen: string[] = [];
    const authorize = (req: HeaderReader & { path: string }) => (seen.push(req.path), req.get('x-test-admin') === 'yes');
    const f = await dashboardFixture('memory', { authorize, loginUrl: '/login' }, adapter);
    try {
      const refused = await f.agent().get('/admin/');
      expect(refused.status).toBe(403);
      expect(refused.text).toContain('href="/login"');
      expect((await f.agent().get('/admin/').set(ADMIN)).status).toBe(200);
      // Express's `req` / Koa's `ctx`, mounted at the root: the dashboard serves under its prefix.
      expect(seen).toEqual(['/admin/', '/admin/']);
    } finally {
      await f.cleanup();
    }
  });

  it('rejects a non-function authorize and a bad loginUrl at mount time', async () => {
    const f = await dashboardFixture('memory', undefined, adapter);
    const dashboard = adapter === 'express' ? expressDashboard : koaDashboard;
    try {
      expect(() => dashboard(f.sso, { authorize: true as never })).toThrow(/authorize must be a function/);
      expect(() => dashboard(f.sso, { authorize: () => true, loginUrl: 'javascript:alert(1)' })).toThrow(/loginUrl/);
      expect(() => dashboard(f.sso, { authorize: () => true, csrfSecret: 'short' })).toThrow(
        expect.objectContaining({ name: 'ScimSsoConfigError', code: 'invalid_argument', message: expect.stringMatching(/csrfSecret/) }),
      );
      expect(() => dashboard(f.sso, { authorize: () => true, prefix: 'admin' })).toThrow(/prefix/);
      expect(() => dashboard({} as never, { authorize: () => true })).toThrow(/createScimSso\(\) or scimSso\(\)/);
    } finally {
      await f.cleanup();
    }
  });
});

const TARGETS = STORE_KINDS.flatMap((kind) => ADAPTERS.map((adapter) => [kind, adapter] as const));

describe.each(TARGETS)('dashboard on the %s store, %s', (kind, adapter) => {
  let f: DashboardFixture;
  beforeAll(async () => {
    f = await dashboardFixture(kind, undefined, adapter);
  });
  afterAll(async () => {
    expect(f.errors).toEqual([]);
    await f.cleanup();
  });

  it('lists customers with paired links, counts, IdP type and strategy', async () => {
    const res = await f.agent().get('/admin/').set(ADMIN);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-frame-options']).toBe('DENY');
    const row = /<tr>\s*<th scope="row"><a href="\/admin\/customers\/acme">acme<\/a><\/th>([\s\S]*?)<\/tr>/.exec(res.text)![1]!;
    expect(row).toContain('Acme &lt;Inc&gt;');
    expect(row).toContain('href="/admin/customers/acme#scim-connection"');
    expect(row).toContain('href="/admin/customers/acme#oidc-client"');
    expect(row.match(/<span class="muted">paired with<\/span>/g)).toHaveLength(2);
    expect(row).toMatch(/<td>4<\/td><td>1<\/td>/); // 4 SCIM users, 1 group
    expect(row).toContain('<td>Okta</td>');
    expect(row).toContain('<code>OidcEmailToScimUsername</code>');
    const scimOnly = /<th scope="row"><a href="\/admin\/customers\/scim-only">scim-only<\/a><\/th>([\s\S]*?)<\/tr>/.exec(res.text)![1]!;
    expect(scimOnly).not.toContain('paired');
    expect(scimOnly).toMatch(/<td>0<\/td><td>0<\/td>/);
  });

  it('answers HEAD with the Content-Length of the page a GET answers', async () => {
    const get = await f.agent().get('/admin/').set(ADMIN);
    const head = await f.agent().head('/admin/').set(ADMIN);
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(Buffer.byteLength(get.text)));
  });

  it('keeps its links on its own path when the request target is in absolute form (GET http://host/…)', async () => {
    const answer = await rawHttp(f.origin, `GET http://attacker.invalid/admin/customers/${CUSTOMER} HTTP/1.1`, ADMIN);
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
    expect(answer).toMatch(/Set-Cookie: [^\r]*; Path=\/admin;/i);
    expect(answer).toContain(`<form method="post" action="/admin/customers/${CUSTOMER}/scim-token"`);
    expect(answer).not.toContain('attacker.invalid');
  });

  it('shows a customer: SCIM users active/inactive, groups with members, SSO users with "Inactive"', async () => {
    const res = await f.agent().get(`/admin/customers/${CUSTOMER}`).set(ADMIN);
    expect(res.status).toBe(200);
    const text = res.text;
    expect(text).toMatch(/<th scope="row">alice@acme.test<\/th>[\s\S]*?<span class="badge ok">Active<\/span>/);
    expect(text).toMatch(/<th scope="row">bob@acme.test<\/th>[\s\S]*?<span class="badge bad">Inactive<\/span>/);
    expect(text).toMatch(
      /<th scope="row">Engineering<\/th><td>2<\/td>\s*<td><ul class="plain"><li>alice@acme.test<\/li><li>dave.okafor@legacy.test<\/li><\/ul>/,
    );
    const sso = text.slice(text.indexOf('id="sso"'));
    expect(sso).toMatch(/dave@acme.test<\/th>[\s\S]*?<span class="badge bad">Inactive<\/span>/);
    expect(sso).toMatch(/alice@acme.test<\/th>[\s\S]*?<span class="badge ok">Admitted<\/span>/);
    expect(sso).toMatch(/bob@acme.test<\/th>[\s\S]*?Refused: deactivated/);
    expect(text).toContain('href="#oidc-client"');
    expect(text).toContain('href="#scim-connection"');
    expect((await f.agent().get('/admin/customers/nobody').set(ADMIN)).status).toBe(404);
    const scimOnly = await f.agent().get(`/admin/customers/${SCIM_ONLY}`).set(ADMIN);
    expect(scimOnly.status).toBe(200);
    expect(scimOnly.text).not.toContain('id="sso"');
  });

  it("shows the customer's activity: the last SCIM request, the recent ones, and the refused logins' section", async () => {
    const res = await f.agent().get(`/admin/customers/${CUSTOMER}`).set(ADMIN);
    const activity = res.text.slice(res.text.indexOf('<section id="activity"'));
    expect(activity).toMatch(/Last request from your IdP: <strong>just now<\/strong>, POST <code>\/Groups<\/code>/);
    expect(activity).toMatch(/<td>POST<\/td><td><code>\/Users<\/code><\/td>\s*<td><span class="badge ok">201<\/span><\/td>/);
    expect(activity).toContain('<h3>Refused logins</h3>');
    // The fixture's SSO users were written to the store directly, not refused by the guard: none listed.
    expect(activity).toMatch(/<h3>Refused logins<\/h3>\s*<p>None.<\/p>/);
    expect(activity).not.toContain('alice@acme.test');
  });

  it('escapes hostile values everywhere (pages, attributes, embedded JSON)', async () => {
    for (const path of [
      `/admin/customers/${CUSTOMER}`,
      `/admin/customers/${CUSTOMER}/matching?strategy=OidcEmailToScimUsername`,
      `/admin/customers/${CUSTOMER}/compare?subject=00u-hostile`,
    ]) {
      const res = await f.agent().get(path).set(ADMIN);
      expect(res.status, path).toBe(200);
      expect(res.text, path).not.toContain('<script>alert');
      expect(res.text, path).not.toContain('<img src=x');
      expect((res.text.match(/<\/script>/g) ?? []).length, path).toBeLessThanOrEqual(2); // only the page's own
    }
    const customer = await f.agent().get(`/admin/customers/${CUSTOMER}`).set(ADMIN);
    expect(customer.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;@evil.test');
    expect(customer.text).toContain('&quot;&gt;&lt;img src=x onerror=alert(2)&gt;&lt;/script&gt;');
    const matching = await f.agent().get(`/admin/customers/${CUSTOMER}/matching`).set(ADMIN);
    const json = /<script type="application\/json" id="matching-data">([\s\S]*?)<\/script>/.exec(matching.text)![1]!;
    expect(JSON.parse(json).strategies[2].affectedUsers.map((u: { name: string }) => u.name)).toContain(HOSTILE_NAME);
    const compare = await f.agent().get(`/admin/customers/${CUSTOMER}/compare?subject=00u-hostile`).set(ADMIN);
    expect(compare.text).toContain(`SCIM user <code>${HOSTILE_USERNAME.replace(/</g, '&lt;').replace(/>/g, '&gt;')}</code>`);
  });

  it('lists affected users per strategy, with the recommendation and a JSON endpoint', async () => {
    const res = await f.agent().get(`/admin/customers/${CUSTOMER}/matching`).set(ADMIN);
    expect(res.status).toBe(200);
    const region = /<section id="affected"[\s\S]*?<\/section>/.exec(res.text)![0];
    expect(region).toContain('aria-live="polite"');
    expect(region).toContain('data-strategy="OidcEmailToScimUsername"');
    expect(region).toContain('href="/admin/customers/acme/compare?subject=00u-dave"');
    expect(region).toContain('2 affected users under OidcEmailToScimUsername');
    expect(res.text).toContain('<p id="recommended">Recommended: <code>OidcSubToScimExternalId</code></p>');
    expect(res.text).toContain('<option value="OidcEmailToScimUsername" selected>');
    const preview = await f.agent().get(`/admin/customers/${CUSTOMER}/matching?strategy=OidcSubToScimExternalId`).set(ADMIN);
    expect(preview.text).toContain('<p id="affected-empty">No affected users');
    const report = await f.agent().get(`/admin/customers/${CUSTOMER}/matching.json`).set(ADMIN);
    expect(report.status).toBe(200);
    expect(report.body.recommendedStrategy).toBe('OidcSubToScimExternalId');
    const byEmail = report.body.strategies.find((s: { strategy: string }) => s.strategy === 'OidcEmailToScimUsername');
    expect(byEmail.affected.count).toBe(2);
    expect(byEmail.affected.examples.map((u: { subject: string }) => u.subject).sort()).toEqual(['00u-dave', '00u-hostile']);
    expect((await f.agent().get(`/admin/customers/${SCIM_ONLY}/matching`).set(ADMIN)).status).toBe(404);
  });

  it('compares an SSO user with its candidates, highlighting the compared values', async () => {
    const res = await f.agent().get(`/admin/customers/${CUSTOMER}/compare?subject=00u-dave`).set(ADMIN);
    expect(res.status).toBe(200);
    const row = (strategy: string) => new RegExp(`<th scope="row"><code>${strategy}</code>[\\s\\S]*?</tr>`).exec(res.text)![0];
    expect(row('OidcSubToScimExternalId')).toContain('<mark class="match">00u-dave</mark>');
    expect(row('OidcSubToScimExternalId')).toContain('Admitted');
    expect(row('OidcEmailToScimUsername')).toContain('<mark class="nomatch">dave@acme.test</mark>');
    expect(row('OidcEmailToScimUsername')).toContain('Refused: not_provisioned (Inactive)');
    expect(row('OidcEmailUsernameToScimUsername')).toContain('<mark class="nomatch">dave.okafor</mark>@legacy.test');
    expect(res.text).toContain('SCIM user <code>dave.okafor@legacy.test</code>');
    expect((await f.agent().get(`/admin/customers/${CUSTOMER}/compare?subject=nobody`).set(ADMIN)).status).toBe(404);
    expect((await f.agent().get(`/admin/customers/${CUSTOMER}/compare`).set(ADMIN)).status).toBe(400);
  });

  it('marks its CSRF cookie Secure over https, also when only a TLS-terminating proxy says so', async () => {
    const plain = await f.agent().get(`/admin/customers/${CUSTOMER}`).set(ADMIN);
    expect(String(plain.headers['set-cookie'])).toContain(`${CSRF_COOKIE}=`);
    expect(String(plain.headers['set-cookie'])).not.toContain('Secure');
    const proxied = await f.agent().get(`/admin/customers/${CUSTOMER}`).set(ADMIN).set('X-Forwarded-Proto', 'https');
    expect(String(proxied.headers['set-cookie'])).toMatch(new RegExp(`${CSRF_COOKIE}=[^,]*; Secure`));
  });

  it('refuses POSTs without, with a wrong, or with a foreign CSRF token, changing nothing', async () => {
    const agent = f.agent();
    const page = await agent.get(`/admin/customers/${CUSTOMER}/matching`).set(ADMIN);
    const token = csrfTokenOf(page.text);
    const other = f.agent();
    const foreign = csrfTokenOf((await other.get(`/admin/customers/${CUSTOMER}`).set(ADMIN)).text);
    const attempts = [
      { strategy: 'OidcSubToScimExternalId' },
      { strategy: 'OidcSubToScimExternalId', _csrf: 'x'.repeat(43) },
      { strategy: 'OidcSubToScimExternalId', _csrf: `${token}x` },
      { strategy: 'OidcSubToScimExternalId', _csrf: foreign }, // valid for another browser's cookie
    ];
    for (const body of attempts) {
      const res = await agent.post(`/admin/customers/${CUSTOMER}/matching`).set(ADMIN).type('form').send(body);
      expect(res.status).toBe(403);
      expect(res.text).toContain('invalid CSRF token');
    }
    // The right token, but no cookie (another client), or sent cross-site.
    expect(
      (await f.agent().post(`/admin/customers/${CUSTOMER}/matching`).set(ADMIN).type('form').send({ strategy: 'OidcSubToScimExternalId', _csrf: token }))
        .status,
    ).toBe(403);
    expect(
      (
        await agent
          .post(`/admin/customers/${CUSTOMER}/matching`)
          .set(ADMIN)
          .set('Sec-Fetch-Site', 'cross-site')
          .type('form')
          .send({ strategy: 'OidcSubToScimExternalId', _csrf: token })
      ).status,
    ).toBe(403);
    expect((await agent.post(`/admin/customers/${CUSTOMER}/scim-token`).set(ADMIN).type('form').send({ graceSeconds: '0' })).status).toBe(403);
    expect((await f.sso.fetchOidcClient(CUSTOMER))!.matchingStrategy).toBe('OidcEmailToScimUsername');
    expect((await agent.get('/scim/v2/Users').set('Authorization', `Bearer ${f.token}`)).status).toBe(200);
  });

  it('saves the strategy with a valid token (303 to the page, which then shows it)', async () => {
    const agent = f.agent();
    const page = await agent.get(`/admin/customers/${CUSTOMER}/matching`).set(ADMIN);
    expect([page.headers['set-cookie'] as unknown as string[]].flat().join()).toMatch(
      new RegExp(`${CSRF_COOKIE}=[^;]+; Path=/admin; Max-Age=28800; HttpOnly; SameSite=Strict`),
    );
    const token = csrfTokenOf(page.text);
    const bad = await agent.post(`/admin/customers/${CUSTOMER}/matching`).set(ADMIN).type('form').send({ strategy: 'Nope', _csrf: token });
    expect(bad.status).toBe(400);
    const saved = await agent
      .post(`/admin/customers/${CUSTOMER}/matching`)
      .set(ADMIN)
      .set('Sec-Fetch-Site', 'same-origin')
      .type('form')
      .send({ strategy: 'OidcSubToScimExternalId', _csrf: token });
    expect(saved.status).toBe(303);
    expect(saved.headers.location).toBe(`/admin/customers/${CUSTOMER}/matching?saved=1`);
    // An empty redirect, the same on Express and Koa (Koa typed it text/plain).
    expect([saved.headers['content-type'], saved.text]).toEqual([undefined, '']);
    expect((await f.sso.fetchOidcClient(CUSTOMER))!.matchingStrategy).toBe('OidcSubToScimExternalId');
    const after = await agent.get(saved.headers.location!).set(ADMIN);
    expect(after.text).toContain('Saved. Logins now use <code>OidcSubToScimExternalId</code>');
    expect(after.text).toContain('<option value="OidcSubToScimExternalId" selected>');
    await f.sso.updateOidcClient(CUSTOMER, { matchingStrategy: 'OidcEmailToScimUsername' });
  });

  it('rotates the SCIM token: shown once after a redirect, so a reload cannot rotate again; the new one works, the old one stops', async () => {
    const agent = f.agent();
    const page = `/admin/customers/${SCIM_ONLY}`;
    const token = csrfTokenOf((await agent.get(page).set(ADMIN)).text);
    const res = await agent.post(`${page}/scim-token`).set(ADMIN).type('form').send({ graceSeconds: '0', _csrf: token });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(page);
    const flashCookie = String(res.headers['set-cookie']).split(';')[0]!;
    expect(String(res.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict/);
    const shown = await agent.get(page).set(ADMIN);
    expect(shown.headers['cache-control']).toBe('no-store');
    const fresh = /<code id="new-token" class="secret"[^>]*>([^<]+)<\/code>/.exec(shown.text)![1]!;
    expect(fresh).toMatch(/^scim_/);
    expect(flashCookie).not.toContain(fresh); // sealed, not the token in clear
    expect((await agent.get('/scim/v2/Users').set('Authorization', `Bearer ${fresh}`)).status).toBe(200);
    expect((await agent.get('/scim/v2/Users').set('Authorization', `Bearer ${f.scimOnlyToken}`)).status).toBe(401);
    // Shown once: a reload is a GET, which neither shows the token again nor rotates it.
    expect((await agent.get(page).set(ADMIN)).text).not.toContain(fresh);
    expect((await agent.get('/scim/v2/Users').set('Authorization', `Bearer ${fresh}`)).status).toBe(200);
    // With a grace period the previous token keeps working.
    await agent.post(`${page}/scim-token`).set(ADMIN).type('form').send({ graceSeconds: '3600', _csrf: token });
    expect((await agent.get(page).set(ADMIN)).text).toContain('still accepted until');
    expect((await agent.get('/scim/v2/Users').set('Authorization', `Bearer ${fresh}`)).status).toBe(200);
    expect((await agent.post(`${page}/scim-token`).set(ADMIN).type('form').send({ graceSeconds: '5', _csrf: token })).status).toBe(400);
  });

  it('sends a nonce CSP that the page script and style carry', async () => {
    const res = await f.agent().get(`/admin/customers/${CUSTOMER}/matching`).set(ADMIN);
    const nonce = /script-src 'nonce-([^']+)'/.exec(res.headers['content-security-policy']!)![1]!;
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.text).toContain(`<script nonce="${nonce}">`);
    expect(res.text).toContain(`<style nonce="${nonce}">`);
    expect((await f.agent().get('/admin/nowhere').set(ADMIN)).status).toBe(404);
  });
});
