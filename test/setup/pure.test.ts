/**
 * The setup portal's pure parts: the SSO form read as hostile input, the words for discovery failures, the
 * per-IdP steps and mappings for every strategy, and the Test SSO hints.
 */
import { OutboundFetchError } from '../../src/net/outbound-fetch.js';
import { describe, expect, it } from 'vitest';
import { MATCHING_STRATEGIES } from '../../src/match/strategies.js';
import { checkIssuer, discoveryProblem } from '../../src/setup/discovery-check.js';
import { testLoginHints, type StrategyOutcome } from '../../src/setup/hints.js';
import { mappingFor, scimSteps, SETUP_IDPS } from '../../src/setup/idp-steps.js';
import { parseSsoForm, withWorkspaceDomains } from '../../src/setup/sso-form.js';
import { currentSession, LINK_OPENS, openSession, SESSION_COOKIE } from '../../src/setup/session.js';
import { RateLimiter } from '../../src/scim/rate-limit.js';
import { newSetupSecret } from '../../src/setup-links.js';
import { authorizationOrigin } from '../../src/setup/test-login.js';
import { MATCHED_SHOWN, testResultPage } from '../../src/setup/test-page.js';
import type { LoginRuntime } from '../../src/guard/passport.js';
import type { StoredOidcClient } from '../../src/store/store.js';
import { scimSso } from '../support/sso.js';

const form = (fields: Record<string, unknown>) => Object.assign(Object.create(null) as Record<string, unknown>, fields);
const good = { idpType: 'Okta', issuer: 'https://acme.okta.com', clientId: 'abc', clientSecret: '', scopes: 'email profile' };

describe('parseSsoForm', () => {
  it('reads a good form, adds openid, and keeps an empty secret as "keep the stored one"', () => {
    expect(parseSsoForm(form(good))).toEqual({
      ok: true,
      values: { idpType: 'Okta', issuer: 'https://acme.okta.com', clientId: 'abc', scopes: 'email profile', workspaceDomains: '' },
      clientSecret: null,
      scopes: ['openid', 'email', 'profile'],
      workspaceDomains: [],
    });
  });

  it.each([
    ['an IdP type sent twice', { idpType: ['Okta', 'Okta'] }, 'Choose the identity provider'],
    ['an unknown IdP type', { idpType: 'toString' }, 'Choose the identity provider'],
    ['an issuer with a query', { issuer: 'https://acme.okta.com/?x=1' }, 'The issuer must be a URL'],
    ['an issuer that is not http(s)', { issuer: 'ftp://acme.okta.com' }, 'The issuer must be a URL'],
    ['an issuer with credentials', { issuer: 'https://user:pw@acme.okta.com' }, 'The issuer must be a URL'],
    ['an issuer over 2000 characters', { issuer: `https://acme.okta.com/${'a'.repeat(2000)}` }, 'The issuer must be a URL'],
    ['a client id with a control character', { clientId: 'a\u0000b' }, 'Enter the client ID'],
    ['a client id with a text-direction override', { clientId: 'acme-app\u202e (verified) ' }, 'Enter the client ID'],
    ['a client id that is not a string', { clientId: { toString: (): string => 'x' } }, 'Enter the client ID'],
    ['a secret over 2000 characters', { clientSecret: 'x'.repeat(2001) }, 'client secret'],
    ['21 scopes', { scopes: Array.from({ length: 21 }, (_, i) => `s${i}`).join(' ') }, 'OAuth scope names'],
    ['a Workspace domain that is not a domain', { workspaceDomains: 'corp_example' }, 'Google Workspace domains'],
    ['a Workspace domain without a dot', { workspaceDomains: 'a.example, localhost' }, 'Google Workspace domains'],
    ['Workspace domains that are not a string', { workspaceDomains: ['a.example'] }, 'Google Workspace domains'],
    ['101 Workspace domains', { workspaceDomains: Array.from({ length: 101 }, (_, i) => `d${i}.example`).join(',') }, 'up to 100'],
  ])('refuses %s', (_name, fields, message) => {
    const parsed = parseSsoForm(form({ ...good, ...fields }));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toContain(message);
  });

  it('reads Workspace domains in lower case, and sets them as hd beside the claims the app required', () => {
    const parsed = parseSsoForm(form({ ...good, workspaceDomains: ' Corp.Example, corp-eu.example corp.example ' }));
    expect(parsed.ok && parsed.workspaceDomains).toEqual(['corp.example', 'corp-eu.example']);
    expect(withWorkspaceDomains({ tid: ['t'] }, ['corp.example'])).toEqual({ tid: ['t'], hd: ['corp.example'] });
    expect(withWorkspaceDomains({ tid: ['t'], hd: ['old.example'] }, [])).toEqual({ tid: ['t'] });
    expect(withWorkspaceDomains({}, [])).toEqual({});
  });

  it('reads own fields only', () => {
    const inherited = Object.create({ issuer: 'https://evil.test', clientId: 'x', idpType: 'Okta' }) as Record<string, unknown>;
    expect(parseSsoForm(inherited).ok).toBe(false);
  });
});

describe('discoveryProblem', () => {
  const issuer = 'https://idp.test/t/a';
  it('says which issuer the document names on a mismatch', () => {
    const error = Object.assign(new Error('x'), { code: 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED', cause: { body: { issuer: 'https://idp.test/t/b' } } });
    expect(discoveryProblem(issuer, error)).toBe(
      'Issuer mismatch: https://idp.test/t/a/.well-known/openid-configuration says its issuer is "https://idp.test/t/b", not "https://idp.test/t/a". Enter exactly "https://idp.test/t/b".',
    );
  });
  it('names the HTTP status of a non-issuer, and the network error of an unreachable host', () => {
    expect(discoveryProblem(issuer, Object.assign(new Error('x'), { code: 'OAUTH_RESPONSE_IS_NOT_CONFORM', cause: { status: 404 } }))).toContain(
      'Not an OpenID Connect issuer: https://idp.test/t/a/.well-known/openid-configuration answered HTTP 404',
    );
    expect(discoveryProblem(issuer, Object.assign(new TypeError('fetch failed'), { cause: { code: 'ENOTFOUND' } }))).toContain('Unreachable');
    // An address refused reads as a name that does not resolve: no oracle of the app's internal names.
    const refused = discoveryProblem(issuer, new OutboundFetchError('the host redis.internal is not a public address'));
    expect(refused).toBe(discoveryProblem(issuer, Object.assign(new TypeError('fetch failed'), { cause: { code: 'ENOTFOUND' } })));
    expect(refused).not.toContain('redis.internal');
    expect(discoveryProblem(issuer, new OutboundFetchError('the answer is larger than 1000000 bytes', 'answer'))).toMatch(/^Refused: the answer is larger/);
    expect(discoveryProblem(issuer, Object.assign(new Error('t'), { name: 'TimeoutError' }))).toContain('did not answer within 10 seconds');
  });
});

describe('checkIssuer', () => {
  it('refuses a multi-tenant Entra issuer before fetching anything, and names the rule', async () => {
    const check = await checkIssuer('https://login.microsoftonline.com/organizations/v2.0', 'client', false);
    expect(check.ok ? '' : check.problem).toMatch(/^Refused: .* is a multi-tenant Microsoft Entra endpoint/);
  });

  it('says "multi-tenant" rather than "enter exactly" when the IdP declares a {tenantid} issuer', () => {
    const mismatch = Object.assign(new Error('x'), {
      code: 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED',
      cause: { body: { issuer: 'https://login.microsoftonline.com/{tenantid}/v2.0' } },
    });
    expect(discoveryProblem('https://sso.example/common/v2.0', mismatch)).toMatch(/^Refused: .*multi-tenant endpoint/);
  });

  it('never fetches a loopback, private or metadata address unless local IdPs are allowed (server-side request forgery)', async () => {
    for (const issuer of ['https://127.0.0.1:1/x', 'https://localhost:1/x', 'https://169.254.169.254/latest', 'https://10.0.0.1/x', 'https://[::1]:1/x']) {
      const check = await checkIssuer(issuer, 'client', false);
      expect(check.ok).toBe(false);
      expect(check.ok ? '' : check.problem).toMatch(/^Unreachable: could not get .* from the app's servers/);
    }
    // With allowHttpIssuers (demos, tests) the fetch is made, and fails as an unreachable host.
    const local = await checkIssuer('http://127.0.0.1:1/x', 'client', true);
    expect(local.ok ? '' : local.problem).toMatch(/^Unreachable/);
  });
});

describe('IdP steps', () => {
  it('gives every IdP steps for every strategy, with the base URL to copy and the mapping the strategy needs', () => {
    for (const idp of SETUP_IDPS) {
      for (const strategy of MATCHING_STRATEGIES) {
        const steps = scimSteps({ idp, scimBaseUrl: 'https://app.test/scim/v2', strategy, appName: 'Notes' });
        expect(steps.flatMap((s) => s.fields ?? []).some((f) => f.value === 'https://app.test/scim/v2' && f.copy)).toBe(true);
        const mapping = mappingFor(idp, strategy);
        expect(steps.some((s) => s.title.includes(`${mapping.scimAttribute} ← ${mapping.idpAttribute}`))).toBe(true);
      }
    }
  });
  it('maps Entra externalId ← objectId for OidcSubToScimExternalId, and Okta userName ← the email (its Application username) for the email strategy', () => {
    expect(mappingFor('entra', 'OidcSubToScimExternalId')).toMatchObject({ scimAttribute: 'externalId', idpAttribute: expect.stringMatching(/^objectId/) });
    expect(mappingFor('okta', 'OidcEmailToScimUsername')).toMatchObject({
      scimAttribute: 'userName',
      idpAttribute: 'the email (Application username format: Email)',
    });
    expect(mappingFor('entra', 'OidcPreferredUsernameToScimUsername').idpAttribute).toMatch(/^userPrincipalName/);
  });

  it('sends Okta and Entra admins to an app of its own for provisioning (neither provisions through an OpenID Connect app), named after the app', () => {
    const text = (idp: 'okta' | 'entra') =>
      scimSteps({ idp, scimBaseUrl: 'https://app.test/scim/v2', strategy: 'OidcEmailToScimUsername', appName: 'Notes' })
        .map((s) => `${s.title} ${s.detail ?? ''}`)
        .join('\n');
    expect(text('okta')).toContain('Create App Integration → SWA (or SAML 2.0), named "Notes provisioning"');
    expect(text('okta')).toContain('Application username format: Email');
    expect(text('entra')).toContain('Create your own application → "Notes provisioning"');
    expect(text('entra')).toContain('edit the existing userName row (by default userPrincipalName): Source attribute mail');
  });

  it('tells a JumpCloud admin that an email strategy cannot match (JumpCloud usernames hold no "@"), and what would', () => {
    const [map] = scimSteps({ idp: 'jumpcloud', scimBaseUrl: 'https://app.test/scim/v2', strategy: 'OidcEmailToScimUsername', appName: 'Notes' }).filter((s) =>
      s.title.startsWith('Map'),
    );
    expect(map!.detail).toContain('no login can match');
    expect(map!.detail).toContain('OidcEmailUsernameToScimUsername');
  });
});

describe('testLoginHints', () => {
  const outcome = (strategy: StrategyOutcome['strategy'], over: Partial<StrategyOutcome> = {}): StrategyOutcome => ({
    strategy,
    hasClaim: true,
    admit: false,
    reason: 'not_provisioned',
    userName: null,
    ...over,
  });
  const all = (over: Partial<Record<StrategyOutcome['strategy'], Partial<StrategyOutcome>>> = {}) => MATCHING_STRATEGIES.map((s) => outcome(s, over[s]));

  it('is empty when the current strategy admits', () => {
    expect(
      testLoginHints({
        idp: 'okta',
        current: 'OidcEmailToScimUsername',
        subjectClaim: 'sub',
        outcomes: all({ OidcEmailToScimUsername: { admit: true, reason: null } }),
      }),
    ).toEqual([]);
  });
  it('names the IdP mapping to change, and the strategy that would admit', () => {
    const hints = testLoginHints({
      idp: 'entra',
      current: 'OidcSubToScimExternalId',
      subjectClaim: 'oid',
      outcomes: all({ OidcEmailToScimUsername: { admit: true, reason: null, userName: 'rui@corp.test' } }),
    });
    expect(hints[0]).toContain("No SCIM user has this login's oid as its externalId. In Microsoft Entra ID, map externalId ← objectId");
    expect(hints[1]).toContain('OidcEmailToScimUsername would admit this login as SCIM user "rui@corp.test"');
  });
  it('says which claim is missing', () => {
    const hints = testLoginHints({
      idp: 'okta',
      current: 'OidcEmailToScimUsername',
      subjectClaim: 'sub',
      outcomes: all({ OidcEmailToScimUsername: { hasClaim: false } }),
    });
    expect(hints[0]).toContain('no usable email');
  });
  it('gives the activity log’s advice for deactivated and ambiguous', () => {
    const hints = testLoginHints({
      idp: 'okta',
      current: 'OidcEmailToScimUsername',
      subjectClaim: 'sub',
      outcomes: all({ OidcEmailToScimUsername: { reason: 'deactivated' } }),
    });
    expect(hints[0]).toContain('deactivated');
  });
});

describe('portal sessions and revocation', () => {
  it('refuses a session opened on an instance whose clock runs ahead, once its link is revoked', async () => {
    const sso = scimSso({ setupPortalUrl: 'https://app.test/setup' });
    const { url } = await sso.createSetupLink('skew');
    const token = url.split('/').at(-1)!;
    // The portal instance that opened the session is 10 minutes ahead of the app's admin code.
    const opened = await openSession(sso.store, new RateLimiter(LINK_OPENS), 'skew', token, Date.now() + 10 * 60_000);
    expect(opened.ok).toBe(true);
    const headers = { cookie: `${SESSION_COOKIE}=${opened.ok ? opened.session.secret : ''}` };
    expect((await currentSession(sso.store, headers, 'skew')).ok).toBe(true);
    await sso.revokeSetupLinks('skew');
    expect(await currentSession(sso.store, headers, 'skew')).toEqual({ ok: false, refusal: 'revoked' });
  });
});

describe('opening a setup link', () => {
  it('opens LINK_OPENS.burst sessions at once, then one per refill, per link; a wrong token uses up nothing', async () => {
    const sso = scimSso({ setupPortalUrl: 'https://app.test/setup' });
    const tokenOf = async (customerId: string) => (await sso.createSetupLink(customerId)).url.split('/').at(-1)!;
    const [one, other] = [await tokenOf('busy'), await tokenOf('busy')];
    const opens = new RateLimiter(LINK_OPENS);
    const now = Date.now();
    // Unknown tokens, and another customer's valid link used on this customer, are refused before any open is counted.
    const foreign = await tokenOf('elsewhere');
    for (let i = 0; i < 50; i++) {
      expect((await openSession(sso.store, opens, 'busy', newSetupSecret(), now)).ok).toBe(false);
      expect(await openSession(sso.store, opens, 'busy', foreign, now)).toEqual({ ok: false, refusal: 'foreign_customer' });
    }
    for (let i = 0; i < LINK_OPENS.burst; i++) expect((await openSession(sso.store, opens, 'busy', one, now)).ok).toBe(true);
    expect(await openSession(sso.store, opens, 'busy', one, now)).toEqual({ ok: false, refusal: 'too_many_opens', retryAfter: 6 });
    // Another link of the same customer has opens of its own; the first one's come back with time.
    expect((await openSession(sso.store, opens, 'busy', other, now)).ok).toBe(true);
    expect((await openSession(sso.store, opens, 'busy', one, now + 6_000)).ok).toBe(true);
  });
});

describe('authorizationOrigin', () => {
  /** A runtime whose discovery answers `endpoint` as the authorization endpoint (or fails). */
  const runtimeWith = (endpoint: string | Error) =>
    ({
      configuration: async () => {
        if (endpoint instanceof Error) throw endpoint;
        return { serverMetadata: () => ({ authorization_endpoint: endpoint }) };
      },
    }) as unknown as LoginRuntime;
  const client = { issuer: 'https://acme.okta.com' } as StoredOidcClient;

  it("answers the authorization endpoint's origin, or the issuer's when discovery fails", async () => {
    expect(await authorizationOrigin(runtimeWith('https://login.acme.test:8443/authorize?x=1'), client)).toBe('https://login.acme.test:8443');
    expect(await authorizationOrigin(runtimeWith('http://[::1]:3000/auth'), client)).toBe('http://[::1]:3000');
    expect(await authorizationOrigin(runtimeWith(new Error('down')), client)).toBe('https://acme.okta.com');
  });

  it('answers null for an origin a CSP parser would read as more than a host (it goes into form-action)', async () => {
    for (const endpoint of ['https://idp.test;sandbox;report-uri/authorize', "https://idp.test'unsafe-inline'/a", 'https://a_b.test/x']) {
      expect(await authorizationOrigin(runtimeWith(endpoint), client)).toBeNull();
    }
  });
});

describe('the Test SSO result page', () => {
  const ctx = { base: '/setup/acme', nonce: 'n', csrfToken: 't', customerId: 'acme', appName: 'App', allow: ['scim', 'sso'] } as const;
  const holders = Array.from({ length: 100 }, (_, i) => ({ id: `u${i}`, userName: `${'"'.repeat(1_000)}${i}`, externalId: 'x'.repeat(1_024), active: true }));
  const result = {
    claims: { sub: 'x' },
    current: 'OidcSubToScimExternalId' as const,
    rows: MATCHING_STRATEGIES.map((strategy) => ({
      strategy,
      lookup: { index: 'externalId', value: 'x' },
      matched: holders,
      decision: { admit: false, reason: 'ambiguous' } as const,
    })),
    hints: [],
    refusal: null,
  };

  it('lists the first MATCHED_SHOWN SCIM users of each strategy and counts the rest (100 holders of a value at their longest)', () => {
    const page = testResultPage({ ...ctx, allow: [...ctx.allow] }, result as never);
    expect(page.match(new RegExp(`… and ${100 - MATCHED_SHOWN} more SCIM users`, 'g'))).toHaveLength(MATCHING_STRATEGIES.length);
    expect(page).toContain(`${'&quot;'.repeat(1_000)}${MATCHED_SHOWN - 1} <span`);
    expect(page).not.toContain(`${'&quot;'.repeat(1_000)}${MATCHED_SHOWN} <span`);
    // Five rows of 100 such users were 31 MB of page.
    expect(page.length).toBeLessThan(MATCHING_STRATEGIES.length * MATCHED_SHOWN * 9_000 + 20_000);
  });
});
