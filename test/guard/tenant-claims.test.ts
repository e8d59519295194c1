/** The pure checks of which logins a customer's OIDC client accepts (src/guard/tenant-claims.ts, tokenOriginProblem). */
import { describe, expect, it } from 'vitest';
import { tokenOriginProblem } from '../../src/guard/identity.js';
import { requiredClaimsProblem, sharedIssuerProblem } from '../../src/guard/tenant-claims.js';

describe('requiredClaimsProblem', () => {
  const required = { hd: ['corp.example', 'corp-eu.example'] };
  it('accepts a claim with one of the values, compared case-insensitively', () => {
    expect(requiredClaimsProblem({ hd: 'corp.example' }, required)).toBeNull();
    expect(requiredClaimsProblem({ hd: 'CORP-EU.example' }, required)).toBeNull();
    expect(requiredClaimsProblem({ hd: ['other.example', 'corp.example'] }, required)).toBeNull();
    expect(requiredClaimsProblem({}, undefined)).toBeNull();
    expect(requiredClaimsProblem({}, {})).toBeNull();
  });
  it('refuses a missing, non-string, inherited or other value, and folds ASCII letters only', () => {
    expect(requiredClaimsProblem({}, required)).toMatch(/no "hd" claim/);
    expect(requiredClaimsProblem({ hd: true }, required)).toMatch(/holds no string/);
    expect(requiredClaimsProblem({ hd: [1, null] }, required)).toMatch(/holds no string/);
    expect(requiredClaimsProblem({ hd: ['other.example'] }, required)).toMatch(/does not accept/);
    // A Kelvin sign lower-cases to k in Unicode: it is not the k of an accepted value.
    expect(requiredClaimsProblem({ tid: '\u212Aey' }, { tid: ['key'] })).toMatch(/does not accept/);
    expect(requiredClaimsProblem(Object.create({ hd: 'corp.example' }) as Record<string, unknown>, required)).toMatch(/no "hd" claim/);
    expect(requiredClaimsProblem({ hd: 'other.example' }, required)).toMatch(/"other.example", which this customer's OIDC client does not accept/);
    expect(requiredClaimsProblem({ hd: 'corp.example', tid: 't2' }, { ...required, tid: ['t1'] })).toMatch(/"tid"/);
  });
});

describe('sharedIssuerProblem', () => {
  it("asks Google's issuer for hd, in any spelling of its host, and nobody else", () => {
    for (const issuer of ['https://accounts.google.com', 'https://Accounts.Google.com/', 'https://accounts.google.com.']) {
      expect(sharedIssuerProblem(issuer, {})).toMatch(/hd/);
      expect(sharedIssuerProblem(issuer, { hd: [] })).toMatch(/hd/);
      expect(sharedIssuerProblem(issuer, { hd: ['corp.example'] })).toBeNull();
    }
    expect(sharedIssuerProblem('https://corp.okta.com', undefined)).toBeNull();
    expect(sharedIssuerProblem('not a url', undefined)).toBeNull();
  });
});

describe('tokenOriginProblem', () => {
  const issuers = ['https://idp.example/t/acme'];
  it("accepts an ID token of the client's issuer for its client id, alone or among audiences", () => {
    expect(tokenOriginProblem({ iss: issuers[0], aud: 'app' }, issuers, 'app')).toBeNull();
    expect(tokenOriginProblem({ iss: issuers[0], aud: ['other', 'app'] }, issuers, 'app')).toBeNull();
  });
  it('refuses another issuer, another client id, or none', () => {
    expect(tokenOriginProblem({ iss: 'https://idp.example/t/other', aud: 'app' }, issuers, 'app')).toMatch(/issuer/);
    expect(tokenOriginProblem({ aud: 'app' }, issuers, 'app')).toMatch(/issuer/);
    expect(tokenOriginProblem({ iss: issuers[0], aud: 'old-app' }, issuers, 'app')).toMatch(/client id/);
    expect(tokenOriginProblem({ iss: issuers[0] }, issuers, 'app')).toMatch(/client id/);
  });
});
