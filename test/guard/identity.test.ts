/**
 * Claims as the guard reads them: `email_verified` semantics, `requireVerifiedEmail`, and look-alike claims
 * that must not match (the strategies compare through src/fold.ts only).
 */
import { describe, expect, it } from 'vitest';
import { matchPolicyOf } from '../../src/guard/guard.js';
import { emailVerifiedOf, identityOf } from '../../src/guard/identity.js';
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
