/**
 * What a login reads of a stored user (src/store/login-outcome.ts loginFactsOf): its userName, externalId and
 * the top-level members that are `false`, its JSON parsed once per object, and read again when the object's
 * JSON is not the one they were read from (a custom store may hand back one object with new JSON). A large
 * user's login projection (loginProjectionOf), which logins read instead of it, holds the same facts.
 */
import { describe, expect, it } from 'vitest';
import { shownCandidateOf, loginCandidateOf } from '../../src/guard/guard.js';
import { inactiveHolder, LOGIN_PROJECTION_CHARS, loginFactsKnown, loginFactsOf, loginFactsOfParsed, loginProjectionOf } from '../../src/store/login-outcome.js';
import type { StoredResource } from '../../src/store/store.js';

const user = (json: string): StoredResource => ({ id: 'u1', kind: 'User', json, version: 1 });

describe('loginFactsOf', () => {
  it.each([
    ['{"userName":"ann","externalId":"e1","active":false}', { userName: 'ann', externalId: 'e1', active: false }],
    ['{"userName":"ann","active":true}', { userName: 'ann', externalId: null, active: true }],
    ['{"userName":"ann"}', { userName: 'ann', externalId: null, active: true }],
    ['{"userName":"ann","active":"false"}', { userName: 'ann', externalId: null, active: true }],
    ['{"userName":"ann","active":null}', { userName: 'ann', externalId: null, active: true }],
    ['{"userName":7,"externalId":["e"],"active":0}', { userName: '', externalId: null, active: true }],
    ['{"__proto__":{"active":false,"userName":"x"}}', { userName: '', externalId: null, active: true }],
  ])('reads %s as isActiveUser and the match read it', (json, expected) => {
    expect(loginCandidateOf(user(json))).toEqual({ id: 'u1', ...expected });
    // The pages that show a user read the same facts from the resource they parse.
    expect(shownCandidateOf(user(json))).toMatchObject({ id: 'u1', ...expected });
    expect(inactiveHolder(user(json), 'active')).toBe(!expected.active);
  });

  it('reads a JSON that is no object as holding nothing; the pages that show a user refuse it', () => {
    for (const json of ['null', '[{"active":false}]', '"ann"']) {
      expect(loginCandidateOf(user(json))).toEqual({ id: 'u1', userName: '', externalId: null, active: true });
      expect(() => shownCandidateOf(user(json))).toThrow(TypeError);
    }
  });

  it('parses an object once, and again when its JSON changed', () => {
    const stored = user('{"userName":"ann","active":true}');
    expect(loginFactsKnown(stored)).toBe(false);
    const first = loginFactsOf(stored);
    expect(loginFactsKnown(stored)).toBe(true);
    expect(loginFactsOf(stored)).toBe(first);
    stored.json = '{"userName":"ann","active":false}';
    expect(loginFactsKnown(stored)).toBe(false);
    expect(inactiveHolder(stored, 'active')).toBe(true);
    expect(loginCandidateOf(stored).active).toBe(false);
  });
});

describe('loginProjectionOf', () => {
  /** A user's JSON with `members` at the top level, padded past LOGIN_PROJECTION_CHARS by a nested note. */
  const large = (members: string) => `{${members}${members === '' ? '' : ','}"notes":{"text":"${'n'.repeat(LOGIN_PROJECTION_CHARS)}","active":false}}`;

  it.each([
    '"userName":"ann","externalId":"e1","active":false',
    '"userName":"ann","active":true,"locked":false',
    '"userName":7,"externalId":["e"],"active":0',
    '"userName":false,"externalId":null',
    '"__proto__":false,"constructor":false,"userName":"x"',
    '"__proto__":{"active":false,"userName":"x"},"active":"false"',
    '"us\\"er":false,"ü\\u0000":false,"userName":"a\\u2028\\"b"',
    '',
  ])('holds the facts of a large user with %s, and nothing else of it', (members) => {
    const json = large(members);
    const projection = loginProjectionOf(json)!;
    expect(projection).not.toBeNull();
    expect(projection.length).toBeLessThan(200);
    const facts = loginFactsOfParsed(JSON.parse(json));
    const read = loginFactsOfParsed(JSON.parse(projection));
    expect(read).toEqual(facts);
    expect([...read.falseMembers]).toEqual([...facts.falseMembers]);
    expect(Object.getPrototypeOf(JSON.parse(projection))).toBe(Object.prototype);
  });

  it('leaves ordinary users, and text that is no JSON object, without one', () => {
    expect(loginProjectionOf(`{"userName":"ann","notes":"${'n'.repeat(LOGIN_PROJECTION_CHARS - 40)}"}`)).toBeNull();
    for (const json of [
      `[${'1,'.repeat(LOGIN_PROJECTION_CHARS)}1]`,
      `"${'n'.repeat(LOGIN_PROJECTION_CHARS)}"`,
      `{"userName":"${'n'.repeat(LOGIN_PROJECTION_CHARS)}"`,
    ]) {
      expect(loginProjectionOf(json)).toBeNull();
    }
  });
});
