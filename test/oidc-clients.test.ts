import { describe, expect, it } from 'vitest';
import { ScimSsoConfigError } from '../src/index.js';
import { scimSso } from './support/sso.js';
import { multiTenantIssuerProblem, templatedIssuerProblem } from '../src/guard/entra-tenant.js';
import { STORE_KINDS, makeStore } from './support/app.js';

const base = { issuer: 'https://idp.example.com/oauth2/default', clientId: 'client-1', redirectUri: 'https://app.example.com/sso/acme/callback' };

describe('OIDC clients', () => {
  it('sets the default strategy and subject claim from the IdP type; an explicit strategy wins', async () => {
    const sso = scimSso();
    const okta = await sso.createOidcClient({ customerId: 'okta', idpType: 'Okta', ...base });
    const entra = await sso.createOidcClient({ customerId: 'entra', idpType: 'MicrosoftEntra', ...base });
    const generic = await sso.createOidcClient({ customerId: 'generic', idpType: 'Generic', ...base });
    const explicit = await sso.createOidcClient({ customerId: 'explicit', idpType: 'Okta', matchingStrategy: 'OidcPreferredUsernameToScimUsername', ...base });
    expect([okta, entra, generic, explicit].map((c) => [c.matchingStrategy, c.subjectClaim])).toEqual([
      ['OidcEmailToScimUsername', 'sub'],
      ['OidcSubToScimExternalId', 'oid'],
      ['OidcEmailToScimUsername', 'sub'],
      ['OidcPreferredUsernameToScimUsername', 'sub'],
    ]);
    expect(okta.scopes).toEqual(['openid', 'email', 'profile']);
    expect(okta.claimsSource).toBe('auto');
  });

  it('refuses an http issuer when it is made, unless the instance allows http issuers (every login of it would fail)', async () => {
    const http = { ...base, issuer: 'http://idp.example.com/oauth2/default' };
    const strict = scimSso();
    await expect(strict.createOidcClient({ customerId: 'plain', idpType: 'Okta', ...http })).rejects.toMatchObject({
      code: 'invalid_argument',
      message: expect.stringContaining('is not https'),
    });
    expect(await strict.fetchOidcClient('plain')).toBeNull();
    await strict.createOidcClient({ customerId: 'tls', idpType: 'Okta', ...base });
    await expect(strict.updateOidcClient('tls', { issuer: http.issuer })).rejects.toMatchObject({ code: 'invalid_argument' });
    expect((await strict.fetchOidcClient('tls'))!.issuer).toBe(base.issuer);
    const local = scimSso({ allowHttpIssuers: true });
    expect((await local.createOidcClient({ customerId: 'plain', idpType: 'Okta', ...http })).issuer).toBe(http.issuer);
    expect((await local.updateOidcClient('plain', { issuer: 'http://other.example.com' })).issuer).toBe('http://other.example.com');
  });

  it('keeps requireVerifiedEmail per client: null (follow the instance) by default, settable to true, false or back to null', async () => {
    const sso = scimSso();
    expect((await sso.createOidcClient({ customerId: 'rve', idpType: 'Okta', ...base })).requireVerifiedEmail).toBeNull();
    expect((await sso.createOidcClient({ customerId: 'rve-on', idpType: 'Okta', requireVerifiedEmail: true, ...base })).requireVerifiedEmail).toBe(true);
    expect((await sso.updateOidcClient('rve', { requireVerifiedEmail: false })).requireVerifiedEmail).toBe(false);
    expect((await sso.updateOidcClient('rve', { requireVerifiedEmail: null })).requireVerifiedEmail).toBeNull();
    await expect(sso.updateOidcClient('rve', { requireVerifiedEmail: 'yes' as unknown as boolean })).rejects.toMatchObject({ code: 'invalid_argument' });
    expect(() => scimSso({ requireVerifiedEmail: 'true' as unknown as boolean })).toThrow(ScimSsoConfigError);
  });

  it.each([
    'https://login.microsoftonline.com/organizations/v2.0',
    'https://login.microsoftonline.com/common/v2.0',
    'https://login.microsoftonline.com/Consumers/v2.0/',
    'https://login.microsoftonline.us/organizations/v2.0',
    'https://login.windows.net/common',
    'https://login.microsoftonline.com/%63onsumers/v2.0',
    'https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0',
  ])('refuses the multi-tenant Entra issuer %s on create and update: it would admit people of every tenant', async (issuer) => {
    const sso = scimSso();
    const refused = await sso.createOidcClient({ customerId: 'entra-mt', idpType: 'MicrosoftEntra', ...base, issuer }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ScimSsoConfigError);
    expect((refused as Error).message).toMatch(/multi-tenant Microsoft Entra endpoint/);
    await sso.createOidcClient({
      customerId: 'entra-one',
      idpType: 'MicrosoftEntra',
      ...base,
      issuer: 'https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0',
    });
    await expect(sso.updateOidcClient('entra-one', { issuer })).rejects.toThrow(/multi-tenant Microsoft Entra endpoint/);
  });

  it("refuses an issuer that is its discovery document's address: openid-client would then skip the issuer check", async () => {
    const sso = scimSso();
    const wellKnown = 'https://idp.example.com/t/x/.well-known/openid-configuration';
    await expect(sso.createOidcClient({ customerId: 'wk', idpType: 'Okta', ...base, issuer: wellKnown })).rejects.toThrow(/discovery document's address/);
    await sso.createOidcClient({ customerId: 'wk', idpType: 'Okta', ...base });
    await expect(sso.updateOidcClient('wk', { issuer: wellKnown })).rejects.toThrow(/discovery document's address/);
    // Backslashes are slashes to a URL parser, and to openid-client.
    await expect(sso.updateOidcClient('wk', { issuer: 'https://idp.example.com/t\\.well-known\\openid-configuration' })).rejects.toThrow(
      /discovery document's address/,
    );
  });

  it('refuses discovered metadata whose issuer is a {tenantid} template, whatever the host', () => {
    expect(templatedIssuerProblem('https://login.microsoftonline.com/{tenantid}/v2.0', 'https://sso.example/o')).toMatch(/multi-tenant endpoint/);
    expect(templatedIssuerProblem('https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0', 'x')).toBeNull();
    expect(multiTenantIssuerProblem('https://login.microsoftonline.com.evil.example/common/v2.0')).toBeNull();
    expect(multiTenantIssuerProblem('not a url')).toBeNull();
  });

  it("requires Google's tenant claim (hd) for Google's shared issuer, at creation and at every update", async () => {
    const sso = scimSso();
    const google = { ...base, issuer: 'https://accounts.google.com', idpType: 'Generic' as const };
    for (const issuer of ['https://accounts.google.com', 'https://ACCOUNTS.google.com.', 'https://accounts.google.com/']) {
      await expect(sso.createOidcClient({ customerId: 'g-none', ...google, issuer })).rejects.toThrow(/requiredClaims: \{ hd:/);
    }
    await expect(sso.createOidcClient({ customerId: 'g-none', ...google, requiredClaims: { tid: ['x'] } })).rejects.toThrow(/hd/);
    const created = await sso.createOidcClient({ customerId: 'g', ...google, requiredClaims: { hd: ['corp.example'] } });
    expect(created.requiredClaims).toEqual({ hd: ['corp.example'] });
    await expect(sso.updateOidcClient('g', { requiredClaims: {} })).rejects.toBeInstanceOf(ScimSsoConfigError);
    expect((await sso.fetchOidcClient('g'))!.requiredClaims).toEqual({ hd: ['corp.example'] });
    // Another client moving to Google must bring the claim along.
    await sso.createOidcClient({ customerId: 'moving', idpType: 'Okta', ...base });
    expect((await sso.fetchOidcClient('moving'))!.requiredClaims).toEqual({});
    await expect(sso.updateOidcClient('moving', { issuer: 'https://accounts.google.com' })).rejects.toThrow(/hd/);
    expect((await sso.updateOidcClient('moving', { issuer: 'https://accounts.google.com', requiredClaims: { hd: ['m.example'] } })).issuer).toBe(
      'https://accounts.google.com',
    );
  });

  it('refuses required claims that are not claim names with a bounded list of strings', async () => {
    const sso = scimSso();
    const bad: unknown[] = [
      { 'not a name': ['x'] },
      { hd: [] },
      { hd: [''] },
      { hd: 'corp.example' },
      { hd: Array.from({ length: 101 }, (_, i) => `d${i}.example`) },
      Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`c${i}`, ['x']])),
    ];
    for (const requiredClaims of bad) {
      await expect(sso.createOidcClient({ customerId: 'rc', idpType: 'Okta', ...base, requiredClaims } as never)).rejects.toBeInstanceOf(ScimSsoConfigError);
    }
    expect(await sso.fetchOidcClient('rc')).toBeNull();
    // An own "__proto__" key (JSON.parse makes one) is dropped, never set as a prototype.
    const dropped = await sso.createOidcClient({
      customerId: 'rc',
      idpType: 'Okta',
      ...base,
      requiredClaims: JSON.parse('{"__proto__": ["x"], "tid": ["t"]}'),
    });
    expect(dropped.requiredClaims).toEqual({ tid: ['t'] });
    expect(Object.getPrototypeOf(dropped.requiredClaims)).toBe(Object.prototype);
    expect(Object.keys(dropped.requiredClaims)).toEqual(['tid']);
  });

  it('refuses as subjectClaim the claims people can set and no IdP vouches for', async () => {
    const sso = scimSso();
    for (const subjectClaim of ['email', 'preferred_username', 'upn', 'unique_name', 'name']) {
      await expect(sso.createOidcClient({ customerId: 'sc', idpType: 'Okta', ...base, subjectClaim })).rejects.toThrow(/subjectClaim must be an identifier/);
    }
    expect((await sso.createOidcClient({ customerId: 'sc', idpType: 'Okta', ...base, subjectClaim: 'employee_id' })).subjectClaim).toBe('employee_id');
    await expect(sso.updateOidcClient('sc', { subjectClaim: 'email' })).rejects.toBeInstanceOf(ScimSsoConfigError);
  });

  it('allows one client per customer: a second is a coded error', async () => {
    const sso = scimSso();
    await sso.createOidcClient({ customerId: 'once', idpType: 'Okta', ...base });
    await expect(sso.createOidcClient({ customerId: 'once', idpType: 'Okta', ...base })).rejects.toMatchObject({ code: 'oidc_client_exists' });
  });

  it('pairs the client and the SCIM connection of the same customer, each showing the other', async () => {
    const sso = scimSso();
    const alone = await sso.createOidcClient({ customerId: 'paired', idpType: 'Okta', ...base });
    expect(alone.scimConnectionId).toBeNull();
    const { connectionId } = await sso.createScimConnection({ customerId: 'paired' });
    expect((await sso.fetchOidcClient('paired'))?.scimConnectionId).toBe(connectionId);
    expect((await sso.fetchScimConnection('paired'))?.oidcClientId).toBe(alone.oidcClientId);
  });

  it('never returns the client secret', async () => {
    const sso = scimSso();
    const created = await sso.createOidcClient({ customerId: 'secret', idpType: 'Okta', clientSecret: 's3cr3t-value', ...base });
    const fetched = await sso.fetchOidcClient('secret');
    const updated = await sso.updateOidcClient('secret', { matchingStrategy: 'OidcSubToScimUsername' });
    for (const view of [created, fetched, updated]) {
      expect(JSON.stringify(view)).not.toContain('s3cr3t-value');
      expect(view?.hasClientSecret).toBe(true);
    }
  });

  it('changes the strategy later, and follows a new IdP type when the strategy was the old default', async () => {
    const sso = scimSso();
    await sso.createOidcClient({ customerId: 'moving', idpType: 'Okta', ...base });
    expect((await sso.updateOidcClient('moving', { matchingStrategy: 'OidcEmailUsernameToScimUsername' })).matchingStrategy).toBe(
      'OidcEmailUsernameToScimUsername',
    );
    await sso.updateOidcClient('moving', { matchingStrategy: 'OidcEmailToScimUsername' });
    const entra = await sso.updateOidcClient('moving', { idpType: 'MicrosoftEntra' });
    expect([entra.matchingStrategy, entra.subjectClaim]).toEqual(['OidcSubToScimExternalId', 'oid']);
    expect(await sso.deleteOidcClient('moving')).toBe(true);
    expect(await sso.fetchOidcClient('moving')).toBeNull();
    await expect(sso.updateOidcClient('moving', {})).rejects.toMatchObject({ code: 'oidc_client_not_found' });
  });

  it.each([
    [{ customerId: 'bad', idpType: 'Auth0', ...base }, /idpType/],
    [{ customerId: 'bad', idpType: 'Okta', ...base, issuer: 'not a url' }, /issuer/],
    [{ customerId: 'bad', idpType: 'Okta', ...base, matchingStrategy: 'ByMagic' }, /matchingStrategy/],
    [{ customerId: 'bad', idpType: 'Okta', ...base, clientSecretTypo: 'x' }, /clientSecretTypo/],
    [{ customerId: 'has space', idpType: 'Okta', ...base }, /customerId/],
  ])('refuses bad settings with a config error naming the field: %o', async (input, message) => {
    const sso = scimSso();
    const error = await sso.createOidcClient(input as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScimSsoConfigError);
    expect((error as Error).message).toMatch(message);
  });
});

describe('scimSso options', () => {
  it('rejects an unknown option with a did-you-mean hint', () => {
    expect(() => scimSso({ basepath: '/scim' } as never)).toThrow(/unknown option "basepath". Did you mean "basePath"\?/);
    expect(() => scimSso({ basePath: 'scim' })).toThrow(ScimSsoConfigError);
  });
});

describe.each(STORE_KINDS)('concurrent OIDC client updates on the %s store', (kind) => {
  it('lands every one of several concurrent updates to different settings', async () => {
    const { store, cleanup } = await makeStore(kind, `oidc-race-${kind}`);
    try {
      const sso = scimSso({ store });
      await sso.createOidcClient({ customerId: 'race', idpType: 'Okta', ...base });
      await Promise.all([
        sso.updateOidcClient('race', { matchingStrategy: 'OidcSubToScimExternalId' }),
        sso.updateOidcClient('race', { claimsSource: 'userinfo' }),
        sso.updateOidcClient('race', { scopes: ['openid', 'email'] }),
        sso.updateOidcClient('race', { clientId: 'client-2' }),
        sso.updateOidcClient('race', { redirectUri: 'https://app.example.com/sso/race/callback' }),
      ]);
      expect(await sso.fetchOidcClient('race')).toMatchObject({
        matchingStrategy: 'OidcSubToScimExternalId',
        claimsSource: 'userinfo',
        scopes: ['openid', 'email'],
        clientId: 'client-2',
        redirectUri: 'https://app.example.com/sso/race/callback',
      });
    } finally {
      await cleanup();
    }
  });
});
