import { describe, expect, it } from 'vitest';
import { decide, type GuardFacts } from '../../src/match/decide.js';
import type { ScimCandidate } from '../../src/match/strategies.js';

const user = (active: boolean, id = 'u1'): ScimCandidate => ({ id, userName: `${id}@x.example`, externalId: null, active });

describe('guard decision', () => {
  it.each([
    [
      'a customer without a SCIM connection is admitted with no SCIM user',
      { hasConnection: false, matches: [], deletedMatch: false },
      { admit: true, scimUser: null },
    ],
    ['one active match is admitted', { hasConnection: true, matches: [user(true)], deletedMatch: false }, { admit: true, scimUser: user(true) }],
    [
      'one inactive match is refused as deactivated',
      { hasConnection: true, matches: [user(false)], deletedMatch: false },
      { admit: false, reason: 'deactivated', scimUser: user(false) },
    ],
    [
      'no match after a deletion is refused as deleted',
      { hasConnection: true, matches: [], deletedMatch: true },
      { admit: false, reason: 'deleted', scimUser: null },
    ],
    [
      'no match at all is refused as not provisioned',
      { hasConnection: true, matches: [], deletedMatch: false },
      { admit: false, reason: 'not_provisioned', scimUser: null },
    ],
    [
      'two matches are refused as ambiguous, even if both are active',
      { hasConnection: true, matches: [user(true, 'a'), user(true, 'b')], deletedMatch: false },
      { admit: false, reason: 'ambiguous', scimUser: null },
    ],
    [
      'two active matches beside an inactive one are ambiguous',
      { hasConnection: true, matches: [user(false, 'old'), user(true, 'a'), user(true, 'b')], deletedMatch: false },
      { admit: false, reason: 'ambiguous', scimUser: null },
    ],
    // Okta's deactivate-then-POST: the old record is deactivated, the new one (same externalId) is live.
    [
      'one active match beside deactivated ones is admitted as that user',
      { hasConnection: true, matches: [user(false, 'old'), user(true, 'new')], deletedMatch: false },
      { admit: true, scimUser: user(true, 'new') },
    ],
    [
      'only inactive matches are refused as deactivated, naming the latest',
      { hasConnection: true, matches: [user(false, 'old'), user(false, 'newer')], deletedMatch: false },
      { admit: false, reason: 'deactivated', scimUser: user(false, 'newer') },
    ],
    // The local part of a userName: alice@corp and alice@subsidiary are two people, active or not.
    [
      'where matches are different people, an active one beside a deactivated one is ambiguous',
      { hasConnection: true, matches: [user(false, 'corp'), user(true, 'subsidiary')], deletedMatch: false, distinctPeople: true },
      { admit: false, reason: 'ambiguous', scimUser: null },
    ],
    [
      'where matches are different people, one active match is still admitted',
      { hasConnection: true, matches: [user(true, 'corp')], deletedMatch: false, distinctPeople: true },
      { admit: true, scimUser: user(true, 'corp') },
    ],
    ['a live match wins over a deleted one', { hasConnection: true, matches: [user(true)], deletedMatch: true }, { admit: true, scimUser: user(true) }],
    // More users hold the value than the store lists for one (a placeholder address): it names nobody.
    [
      'a crowded value is ambiguous',
      { hasConnection: true, matches: [], deletedMatch: false, crowded: true },
      { admit: false, reason: 'ambiguous', scimUser: null },
    ],
    [
      'a crowded value without a connection is admitted',
      { hasConnection: false, matches: [], deletedMatch: false, crowded: true },
      { admit: true, scimUser: null },
    ],
  ] as [string, GuardFacts, unknown][])('%s', (_name, facts, expected) => {
    expect(decide(facts)).toEqual(expected);
  });
});
