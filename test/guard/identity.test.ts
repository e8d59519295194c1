/**
 * Claims as the guard reads them: `email_verified` semantics, `requireVerifiedEmail`, and look-alike claims
 * that must not match (the strategies compare through src/fold.ts only), and what an SSO user record keeps
 * of claims the customer's IdP chose (bounded whatever it sends).
 */
import { describe, expect, it } from 'vitest';
import { matchPolicyOf } from '../../src/guard/guard.js';
import {
  emailVerifiedOf,
  identityOf,
  MAX_CLAIM_DEPTH,
  MAX_RECORDED_CLAIM_CHARS,
  MERGED_OTHER_CLAIMS,
  mergeClaims,
  missingClaims,
  RECORDED_CLAIMS,
  ssoUserRecord,
  withoutDeepClaims,
  type Claims,
} from '../../src/guard/identity.js';
import { checkSsoUser, MAX_SSO_RECORD_BYTES } from '../../src/store/sso-records.js';
import { findMatches, lookupFor, type ScimCandidate } from '../../src/match/strategies.js';

const scim = (userName: string): ScimCandidate => ({ id: userName, userName, externalId: null, active: true });

describe('email_verified', () => {
  it('is verified only for true or "true" in any ASCII case', () => {
    for (const value of [true, 'true', 'TRUE', 'True', 'tRuE']) expect(emailVerifiedOf({ email_verified: value })).toBe(true);
  });

  it('is unverified for any other value that is present, null included', () => {
    for (const value of [false, 'false', 'FALSE', 0, 1, 'yes', 'verified', '', ' true', 'true ', null, {}, [], 'ｔｒｕｅ', '\u212A']) {
      expect(emailVerifiedOf({ email_verified: value }), JSON.stringify(value)).toBe(false);
    }
  });

  it('is absent (null) when the claim is absent, as from Entra', () => {
    expect(emailVerifiedOf({})).toBeNull();
    expect(emailVerifiedOf({ email_verified: undefined })).toBeNull();
    // an inherited property is not a claim
    expect(emailVerifiedOf(Object.create({ email_verified: true }) as Record<string, unknown>)).toBeNull();
  });
});

describe('requireVerifiedEmail', () => {
  const person = (emailVerified: unknown) =>
    identityOf({ sub: 's', email: 'kate@corp.test', ...(emailVerified === undefined ? {} : { email_verified: emailVerified }) }, 'sub');
  const users = [scim('kate@corp.test')];

  it('off (the default): absent counts as usable, anything but true-ish present does not', () => {
    expect(findMatches('OidcEmailToScimUsername', person(undefined), users)).toHaveLength(1);
    expect(findMatches('OidcEmailToScimUsername', person(true), users)).toHaveLength(1);
    expect(findMatches('OidcEmailToScimUsername', person('FALSE'), users)).toHaveLength(0);
    expect(findMatches('OidcEmailUsernameToScimUsername', person(0), users)).toHaveLength(0);
  });

  it('on: absent counts as unverified for both email strategies; true still matches', () => {
    const policy = { requireVerifiedEmail: true };
    expect(lookupFor('OidcEmailToScimUsername', person(undefined), policy)).toBeNull();
    expect(lookupFor('OidcEmailUsernameToScimUsername', person(undefined), policy)).toBeNull();
    expect(findMatches('OidcEmailToScimUsername', person('True'), users, policy)).toHaveLength(1);
    // strategies that do not use the email are unaffected
    expect(lookupFor('OidcSubToScimUsername', person(undefined), policy)).not.toBeNull();
  });

  it("the client's own setting wins over the instance default; null follows the default", () => {
    expect(matchPolicyOf({ requireVerifiedEmail: null }, true)).toEqual({ requireVerifiedEmail: true });
    expect(matchPolicyOf({ requireVerifiedEmail: false }, true)).toEqual({ requireVerifiedEmail: false });
    expect(matchPolicyOf({ requireVerifiedEmail: true }, false)).toEqual({ requireVerifiedEmail: true });
    expect(matchPolicyOf({}, false)).toEqual({ requireVerifiedEmail: false });
  });
});

describe('look-alike claims never match the ASCII SCIM user they imitate', () => {
  const users = [scim('kate@corp.test'), scim('ivan@corp.test'), scim('alice@corp.test')];
  const cases: [string, string][] = [
    ['Kelvin sign', '\u212Aate@corp.test'],
    ['İ', '\u0130van@corp.test'],
    ['BOM', '\uFEFFalice@corp.test'],
    ['no-break space', 'alice\u00A0@corp.test'],
    ['zero-width joiner', 'ali\u200Dce@corp.test'],
  ];
  for (const [what, email] of cases) {
    it(`${what}: no match by email, by email local part or by preferred_username`, () => {
      const identity = identityOf({ sub: 's', email, email_verified: true, preferred_username: email }, 'sub');
      expect(findMatches('OidcEmailToScimUsername', identity, users)).toEqual([]);
      expect(findMatches('OidcEmailUsernameToScimUsername', identity, users)).toEqual([]);
      expect(findMatches('OidcPreferredUsernameToScimUsername', identity, users)).toEqual([]);
    });
  }

  it('case and ASCII whitespace still fold: the real address in capitals matches', () => {
    const identity = identityOf({ sub: 's', email: ' KATE@Corp.Test ', email_verified: 'TRUE' }, 'sub');
    expect(findMatches('OidcEmailToScimUsername', identity, users).map((u) => u.id)).toEqual(['kate@corp.test']);
  });
});

describe('what an SSO user record keeps of claims the customer’s IdP chose', () => {
  const outcome = { admitted: false, reason: 'not_provisioned', scimUserId: null };
  const record = (claims: Record<string, unknown>) => ssoUserRecord(claims, identityOf(claims, 'sub'), outcome, '2026-01-01T00:00:00.000Z');

  it('keeps strings, booleans and finite numbers; leaves out objects, arrays, long or control-character strings and inherited claims', () => {
    const claims = Object.assign(Object.create({ locale: 'inherited' }) as Record<string, unknown>, {
      sub: 's-1',
      email: 'ann@corp.test',
      email_verified: true,
      tid: 42,
      oid: Number.NaN,
      given_name: ['Ann'],
      family_name: { value: 'Lee' },
      upn: 'a'.repeat(MAX_RECORDED_CLAIM_CHARS + 1),
      zoneinfo: 'Europe/Paris\u0000',
      preferred_username: 'x'.repeat(MAX_RECORDED_CLAIM_CHARS),
      secret_token: 'never recorded',
    });
    expect(record(claims).claims).toEqual({
      sub: 's-1',
      email: 'ann@corp.test',
      email_verified: true,
      tid: 42,
      preferred_username: 'x'.repeat(MAX_RECORDED_CLAIM_CHARS),
    });
  });

  it('keeps the claims the guard reads and MERGED_OTHER_CLAIMS others, however many the IdP sends', () => {
    const many: Claims = JSON.parse(
      `{"__proto__":{"polluted":true},${Array.from({ length: 100_000 }, (_, n) => `"c${n}":${n}`).join(',')},"oid":"o-1","email":"ann@corp.test","sub":"s"}`,
    );
    const merged = mergeClaims({ sub: 's', name: 'Ann' }, many, true, [], 'oid');
    expect(merged).toMatchObject({ sub: 's', oid: 'o-1', email: 'ann@corp.test', name: 'Ann' });
    expect(Object.keys(merged).filter((k) => /^c\d+$/.test(k))).toHaveLength(MERGED_OTHER_CLAIMS);
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect((merged as { polluted?: unknown }).polluted).toBeUndefined();
    // A custom subject claim is kept even past the others.
    expect(mergeClaims(many, { sub: 's' }, false, [], 'c99999').c99999).toBe(99_999);
  });

  it('merges userinfo under the ID token, save the needed claims the token had unusable, and over it when userinfo is the source', () => {
    const token = { sub: 's', email: `${'a'.repeat(1001)}@corp.test`, name: 'Token Name' };
    const userinfo = { sub: 's', email: 'ann@corp.test', name: 'Userinfo Name', locale: 'fr' };
    const missing = missingClaims(token, ['email']);
    expect(mergeClaims(token, userinfo, false, missing)).toEqual({ sub: 's', email: 'ann@corp.test', name: 'Token Name', locale: 'fr' });
    expect(mergeClaims(token, userinfo, true, [])).toEqual(userinfo);
    // A claim userinfo lacks stays the token's, even when unusable (the guard then refuses it as missing).
    expect(mergeClaims(token, { sub: 's' }, false, missing).email).toBe(token.email);
  });

  it("takes email_verified from the source of the email: the token's never vouches for an email only userinfo gave", () => {
    const userinfo = { sub: 's', email: 'victim@corp.test' };
    expect(mergeClaims({ sub: 's', email_verified: true }, userinfo, false, [])).toEqual({ sub: 's', email: 'victim@corp.test' });
    expect(mergeClaims({ sub: 's', email_verified: true }, { ...userinfo, email_verified: false }, false, [])).toMatchObject({ email_verified: false });
    // The token's email keeps the token's flag; userinfo as the source brings its own.
    expect(mergeClaims({ sub: 's', email: 'a@corp.test', email_verified: true }, { ...userinfo, email_verified: false }, false, [])).toMatchObject({
      email: 'a@corp.test',
      email_verified: true,
    });
    expect(mergeClaims({ sub: 's', email: 'a@corp.test', email_verified: true }, userinfo, true, [])).toEqual({ sub: 's', email: 'victim@corp.test' });
    // Both gave the same email: a flag either states holds (the merge's winner first).
    expect(mergeClaims({ sub: 's', email: 'a@corp.test', email_verified: true }, { email: 'a@corp.test' }, false, [])).toMatchObject({ email_verified: true });
    expect(mergeClaims({ sub: 's', email: 'a@corp.test', email_verified: true }, { email: 'a@corp.test' }, true, [])).toMatchObject({ email_verified: true });
    expect(mergeClaims({ sub: 's', email: 'a@corp.test', email_verified: true }, { email: 'a@corp.test', email_verified: false }, true, [])).toMatchObject({
      email_verified: false,
    });
  });

  it("counts a needed claim the guard cannot use as missing, so that 'auto' asks userinfo for it", () => {
    expect(missingClaims({ sub: 's', email: `${'a'.repeat(1001)}@corp.test` }, ['email'])).toEqual(['email']);
    expect(missingClaims({ sub: 's', preferred_username: 'ann\u0000' }, ['preferred_username'])).toEqual(['preferred_username']);
    expect(missingClaims({ sub: 's', email: 'ann@corp.test' }, ['email', 'sub'])).toEqual([]);
  });

  it('treats an email, preferred_username or name over 1,000 characters, or holding control characters, as absent', () => {
    const long = 'a'.repeat(1001);
    const r = record({ sub: 's', email: `${long}@corp.test`, preferred_username: 'ann\nlee', name: long });
    expect([r.email, r.preferredUsername, r.name]).toEqual([null, null, null]);
    const identity = identityOf({ sub: 's', email: `${long}@corp.test`, saml_attribute: long }, 'sub');
    expect([identity.email, identity.samlAttribute]).toEqual([null, null]);
    expect(record({ sub: 's', name: 'n'.repeat(1000) }).name).toBe('n'.repeat(1000));
  });

  it(`fits in a stored record (${MAX_SSO_RECORD_BYTES} bytes) whatever the claims hold at their longest`, () => {
    const widest = '€'; // three bytes of UTF-8 for one UTF-16 unit: the most bytes a kept character costs
    const claims: Record<string, unknown> = {};
    for (const name of RECORDED_CLAIMS) claims[name] = widest.repeat(MAX_RECORDED_CLAIM_CHARS);
    Object.assign(claims, {
      sub: widest.repeat(1000),
      email: widest.repeat(1000),
      preferred_username: widest.repeat(1000),
      name: widest.repeat(1000),
      saml_attribute: widest.repeat(1000),
    });
    const worst = ssoUserRecord(claims, identityOf(claims, 'sub'), { admitted: false, reason: 'x'.repeat(100), scimUserId: 'y'.repeat(100) });
    expect(worst.email).toBe(widest.repeat(1000));
    // The matching report reads the SAML match attribute back from the copy: kept as long as matching takes it.
    expect(worst.claims['saml_attribute']).toBe(widest.repeat(1000));
    const { json } = checkSsoUser(worst);
    expect(Buffer.byteLength(json)).toBeGreaterThan(MAX_SSO_RECORD_BYTES / 2);
    expect(Buffer.byteLength(json)).toBeLessThanOrEqual(MAX_SSO_RECORD_BYTES);
    // 700 KB names and nested objects, as a hostile IdP sent them: a record of a few hundred bytes.
    const hostile = record({ sub: 's', name: 'n'.repeat(700_000), given_name: 'g'.repeat(700_000), family_name: { deep: 'x'.repeat(100_000) } });
    expect(Buffer.byteLength(checkSsoUser(hostile).json)).toBeLessThan(1000);
  });
});

describe('withoutDeepClaims', () => {
  const nested = (levels: number): unknown => {
    let value: unknown = 'x';
    for (let i = 0; i < levels; i++) value = i % 2 ? { v: value } : [value];
    return value;
  };

  it('leaves out claims nested deeper than MAX_CLAIM_DEPTH, without recursion, and keeps the rest as they are', () => {
    const claims: Claims = {
      sub: 'a',
      address: { street_address: 'x' },
      ok: nested(MAX_CLAIM_DEPTH),
      deep: nested(MAX_CLAIM_DEPTH + 1),
      abyss: nested(200_000),
    };
    const kept = withoutDeepClaims(claims);
    expect(Object.keys(kept)).toEqual(['sub', 'address', 'ok']);
    expect(kept.ok).toBe(claims.ok);
    expect(() => JSON.stringify(kept)).not.toThrow();
    // Nothing to leave out: the same object.
    const plain: Claims = { sub: 'a', groups: ['g1', 'g2'], address: { country: 'x' } };
    expect(withoutDeepClaims(plain)).toBe(plain);
  });
});
