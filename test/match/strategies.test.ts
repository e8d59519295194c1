import { describe, expect, it } from 'vitest';
import {
  MATCHING_STRATEGIES,
  findMatches,
  lookupFor,
  matches,
  type MatchingStrategy,
  type ScimCandidate,
  type SsoIdentity,
} from '../../src/match/strategies.js';

const sso = (over: Partial<SsoIdentity> = {}): SsoIdentity => ({
  subject: 'sub-1',
  email: null,
  emailVerified: null,
  preferredUsername: null,
  ...over,
});
const scim = (over: Partial<ScimCandidate> = {}): ScimCandidate => ({
  id: 'scim-1',
  userName: 'someone@example.com',
  externalId: null,
  active: true,
  ...over,
});

describe("PropelAuth's documented John Doe pair", () => {
  // docs/design-decisions.md §The product model (after PropelAuth), PropelAuth's own example: the SSO user and the SCIM user of the same person.
  const john = sso({ subject: '00utc0x6na8aflr0E697', email: 'john@acmeinc.com', emailVerified: true, preferredUsername: 'john@acmeinc.com' });
  const johnScim = scim({ id: 'bd0b9f34-d4a2-41dc-a2d7-14bfd65c0df3', userName: 'john@acmeinc.com', externalId: '00utc0x6na8aflr0E697' });

  it.each([
    ['OidcSubToScimExternalId', true],
    ['OidcEmailToScimUsername', true],
    ['OidcEmailUsernameToScimUsername', true],
    ['OidcPreferredUsernameToScimUsername', true],
    ['OidcSubToScimUsername', false],
  ] as [MatchingStrategy, boolean][])('%s matches: %s', (strategy, expected) => {
    expect(matches(strategy, john, johnScim)).toBe(expected);
  });
});

describe('matching strategies', () => {
  it.each([
    // strategy, SSO identity, SCIM user, matches?
    ['OidcSubToScimUsername', sso({ subject: 'JDoe' }), scim({ userName: 'jdoe' }), true],
    ['OidcSubToScimUsername', sso({ subject: 'jdoe' }), scim({ userName: 'jdoe@example.com' }), false],
    ['OidcSubToScimExternalId', sso({ subject: 'AbC-1' }), scim({ externalId: 'AbC-1' }), true],
    ['OidcSubToScimExternalId', sso({ subject: 'abc-1' }), scim({ externalId: 'AbC-1' }), false],
    ['OidcSubToScimExternalId', sso({ subject: 'x' }), scim({ externalId: null }), false],
    ['OidcEmailToScimUsername', sso({ email: ' Jane@Example.COM ' }), scim({ userName: 'jane@example.com' }), true],
    ['OidcEmailToScimUsername', sso({ email: 'jane@example.com', emailVerified: false }), scim({ userName: 'jane@example.com' }), false],
    ['OidcEmailToScimUsername', sso({ email: 'jane@example.com', emailVerified: null }), scim({ userName: 'jane@example.com' }), true],
    ['OidcEmailToScimUsername', sso({ email: null }), scim({ userName: 'jane@example.com' }), false],
    ['OidcEmailUsernameToScimUsername', sso({ email: 'jane@corp.example' }), scim({ userName: 'JANE@old-domain.example' }), true],
    ['OidcEmailUsernameToScimUsername', sso({ email: 'jane@corp.example' }), scim({ userName: 'jane' }), true],
    ['OidcEmailUsernameToScimUsername', sso({ email: 'jane@corp.example' }), scim({ userName: 'janet@corp.example' }), false],
    ['OidcEmailUsernameToScimUsername', sso({ email: '"a@b"@corp.example' }), scim({ userName: '"a@b"@x.example' }), true],
    ['OidcEmailUsernameToScimUsername', sso({ email: 'jane@corp.example', emailVerified: false }), scim({ userName: 'jane' }), false],
    ['OidcPreferredUsernameToScimUsername', sso({ preferredUsername: 'J.Doe' }), scim({ userName: 'j.doe' }), true],
    ['OidcPreferredUsernameToScimUsername', sso({ preferredUsername: null, email: 'j.doe' }), scim({ userName: 'j.doe' }), false],
    // Unicode: NFC-normalised before comparing ("é" precomposed vs "e" + combining accent).
    ['OidcEmailToScimUsername', sso({ email: 'ren\u00e9@example.com' }), scim({ userName: 'RENE\u0301@example.com' }), true],
  ] as [MatchingStrategy, SsoIdentity, ScimCandidate, boolean][])('%s: %o vs %o → %s', (strategy, identity, user, expected) => {
    expect(matches(strategy, identity, user)).toBe(expected);
  });

  it('names the index and folded value each strategy looks up', () => {
    const identity = sso({ subject: 'Sub-X', email: 'Mary@Corp.Example', preferredUsername: 'MaryP' });
    expect(MATCHING_STRATEGIES.map((s) => lookupFor(s, identity))).toEqual([
      { index: 'userName', value: 'sub-x' },
      { index: 'externalId', value: 'Sub-X' },
      { index: 'userName', value: 'mary@corp.example' },
      { index: 'userNameLocal', value: 'mary' },
      { index: 'userName', value: 'maryp' },
    ]);
  });

  it('finds every SCIM user sharing an email local part, which the guard then calls ambiguous', () => {
    const users = [
      scim({ id: 'a', userName: 'sam@one.example' }),
      scim({ id: 'b', userName: 'sam@two.example' }),
      scim({ id: 'c', userName: 'samuel@one.example' }),
    ];
    expect(findMatches('OidcEmailUsernameToScimUsername', sso({ email: 'sam@three.example' }), users).map((u) => u.id)).toEqual(['a', 'b']);
  });

  it('looks nobody up for an email with nothing before the @ (it would match every userName that has nothing there)', () => {
    for (const email of ['@attacker.test', '@']) {
      expect(lookupFor('OidcEmailUsernameToScimUsername', sso({ email }))).toBeNull();
      expect(findMatches('OidcEmailUsernameToScimUsername', sso({ email }), [scim({ id: 'a', userName: '@corp.example' })])).toEqual([]);
    }
  });
});
