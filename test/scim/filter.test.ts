import { describe, expect, it } from 'vitest';
import { parseFilter, type FilterNode } from '../../src/scim/filter.js';
import { matchesElement, matchesFilter } from '../../src/scim/filter-eval.js';
import { MAX_FILTER_TERMS } from '../../src/scim/limits.js';
import type { JsonObject } from '../../src/scim/normalize.js';
import { ENTERPRISE_USER_SCHEMA_ID, GROUP_SCHEMA, RESOURCE_TYPES, USER_SCHEMA, findAttribute } from '../../src/scim/schemas.js';

const ENT = ENTERPRISE_USER_SCHEMA_ID;

const barbara: JsonObject = {
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENT],
  id: 'Ab12-cd34',
  externalId: 'jyoung',
  userName: 'Barbara.Jensen@Example.com',
  name: { givenName: 'Barbara', familyName: 'Jensen', formatted: 'Ms. Barbara J Jensen' },
  displayName: 'Babs Jensen',
  nickName: '',
  active: true,
  emails: [
    { value: 'bjensen@Example.com', type: 'work', primary: true },
    { value: 'babs@jensen.org', type: 'home' },
  ],
  phoneNumbers: [{ value: '555-555-8377', type: 'work' }],
  meta: {
    resourceType: 'User',
    created: '2015-10-10T21:38:22.000Z',
    lastModified: '2020-01-01T00:00:00Z',
    location: 'https://h/scim/v2/Users/Ab12-cd34',
  },
  [ENT]: { employeeNumber: '701984', department: 'Tour Operations', manager: { value: 'Mgr-1', displayName: 'John Smith' } },
  // Attributes no schema declares are kept as sent.
  CustomFlag: 'True',
  loginCount: 42,
  badge: '0123',
  tags: ['Alpha', 'beta'],
};

/** A user shaped like those of Microsoft's SCIM test collection. */
const employee: JsonObject = {
  id: 'e-1',
  externalId: '123',
  userName: 'OliverEmployee@contoso.com',
  name: { familyName: 'Employee', givenName: 'Oliver' },
  active: false,
  emails: [{ value: 'oliver@example.org', type: 'work' }],
  meta: { resourceType: 'User', created: '2015-10-10T21:38:21.000Z' },
};

const group: JsonObject = {
  id: 'g-1',
  displayName: 'Tour Guides',
  members: [
    { value: 'Ab12-cd34', display: 'Babs Jensen', type: 'User' },
    { value: 'e-1', type: 'User' },
  ],
};

function parse(text: string): FilterNode {
  const result = parseFilter(text);
  if (!result.ok) throw new Error(`expected ${text} to parse: ${result.error.message}`);
  return result.value;
}

const userMatches = (text: string, user: JsonObject = barbara) => matchesFilter(parse(text), user, { type: RESOURCE_TYPES.User });

describe('parseFilter', () => {
  const cmp = (attribute: string, op: string, value: unknown, extra: object = {}) => ({ kind: 'compare', path: { attribute, ...extra }, op, value });

  it.each<[string, unknown]>([
    ['userName eq "bjensen"', cmp('userName', 'eq', 'bjensen')],
    ['title pr', { kind: 'present', path: { attribute: 'title' } }],
    ['name.givenName co "a\\"b"', cmp('name', 'co', 'a"b', { subAttribute: 'givenName' })],
    ['displayName eq "caf\\u00e9 \\\\ \\/ \\n"', cmp('displayName', 'eq', 'café \\ / \n')],
    ['displayName eq "\\ud83d\\ude00"', cmp('displayName', 'eq', '\u{1f600}')],
    ['DisplayName EQ "x"', cmp('DisplayName', 'eq', 'x')],
    ['active eq TRUE', { ...cmp('active', 'eq', true), raw: 'TRUE' }],
    ['active ne false', { ...cmp('active', 'ne', false), raw: 'false' }],
    ['title eq Null', { ...cmp('title', 'eq', null), raw: 'Null' }],
    ['loginCount ge -1.5e2', { ...cmp('loginCount', 'ge', -150), raw: '-1.5e2' }],
    ['externalId eq jyoung', cmp('externalId', 'eq', 'jyoung')],
    ['userName sw O', cmp('userName', 'sw', 'O')],
    ['meta.Created gt 2015-10-10T14:38:21.8617979-07:00', cmp('meta', 'gt', '2015-10-10T14:38:21.8617979-07:00', { subAttribute: 'Created' })],
    [`${ENT}:employeeNumber eq "1"`, cmp('employeeNumber', 'eq', '1', { schema: ENT })],
    [`${ENT}:manager.value eq "1"`, cmp('manager', 'eq', '1', { schema: ENT, subAttribute: 'value' })],
    [
      'urn:ietf:params:scim:schemas:core:2.0:User:name.givenName eq "B"',
      cmp('name', 'eq', 'B', { schema: 'urn:ietf:params:scim:schemas:core:2.0:User', subAttribute: 'givenName' }),
    ],
    [
      'a pr or b pr and c pr',
      {
        kind: 'or',
        left: { kind: 'present', path: { attribute: 'a' } },
        right: { kind: 'and', left: { kind: 'present', path: { attribute: 'b' } }, right: { kind: 'present', path: { attribute: 'c' } } },
      },
    ],
    [
      '(a pr or b pr) and c pr',
      {
        kind: 'and',
        left: { kind: 'or', left: { kind: 'present', path: { attribute: 'a' } }, right: { kind: 'present', path: { attribute: 'b' } } },
        right: { kind: 'present', path: { attribute: 'c' } },
      },
    ],
    [
      'not (a pr) and b pr',
      { kind: 'and', left: { kind: 'not', filter: { kind: 'present', path: { attribute: 'a' } } }, right: { kind: 'present', path: { attribute: 'b' } } },
    ],
    ['NOT(a pr)', { kind: 'not', filter: { kind: 'present', path: { attribute: 'a' } } }],
    [
      'a pr AND b pr Or c pr',
      {
        kind: 'or',
        left: { kind: 'and', left: { kind: 'present', path: { attribute: 'a' } }, right: { kind: 'present', path: { attribute: 'b' } } },
        right: { kind: 'present', path: { attribute: 'c' } },
      },
    ],
    ['emails[type eq "work"]', { kind: 'valuePath', path: { attribute: 'emails' }, filter: cmp('type', 'eq', 'work') }],
    [
      'emails[type eq "work"].value eq "a@b"',
      { kind: 'valuePath', path: { attribute: 'emails' }, filter: { kind: 'and', left: cmp('type', 'eq', 'work'), right: cmp('value', 'eq', 'a@b') } },
    ],
    ['members[$ref pr]', { kind: 'valuePath', path: { attribute: 'members' }, filter: { kind: 'present', path: { attribute: '$ref' } } }],
    ['  userName\teq\n"x"  ', cmp('userName', 'eq', 'x')],
  ])('parses %s', (text, expected) => {
    expect(parseFilter(text)).toEqual({ ok: true, value: expected });
  });

  it.each<[string, string, RegExp]>([
    ['an empty filter', '', /empty/],
    ['a blank filter', '   ', /empty/],
    ['an unknown operator', 'userName eqq "x"', /character 10: unknown operator 'eqq'/],
    ['a missing operator', 'userName', /character 9: expected an operator .* found the end of the filter/],
    ['a missing value', 'userName eq', /missing value after 'eq'/],
    ['a missing value before a parenthesis', '(userName eq )', /missing value after 'eq'/],
    ['an unterminated string', 'userName eq "abc', /character 13: unterminated string/],
    ['a single-quoted string', "userName eq 'bjensen'", /character 13: strings are written in double quotes/],
    ['an invalid escape', 'userName eq "a\\qb"', /invalid escape '\\q'/],
    ['a bad unicode escape', 'userName eq "\\u12"', /invalid \\u escape/],
    ['a lone high surrogate escape', 'userName eq "\\ud800@x.test"', /character 13: the string holds a lone UTF-16 surrogate/],
    ['a lone low surrogate escape', 'emails[value eq "x\\udfff"]', /lone UTF-16 surrogate/],
    ['surrogates in the wrong order', 'userName eq "\\ude00\\ud83d"', /lone UTF-16 surrogate/],
    ['an unclosed parenthesis', '(userName eq "x"', /missing '\)' to close the '\(' at character 1/],
    ['an unopened parenthesis', 'userName eq "x")', /unbalanced '\)'/],
    ['empty parentheses', '()', /expected an attribute name, '\(' or 'not' but found '\)'/],
    ['an unclosed bracket', 'emails[type eq "work"', /missing '\]' to close the '\[' at character 7/],
    ['an unopened bracket', 'userName eq "x"]', /unbalanced '\]'/],
    ['a mismatched closer', '(userName eq "x"]', /expected 'and', 'or' or '\)' but found '\]'/],
    ['nested brackets', 'emails[type[value eq "x"] pr]', /cannot appear inside another/],
    ['a bracket after a sub-attribute', 'name.givenName[value eq "x"]', /must follow an attribute/],
    ['a bad sub-attribute after a value path', 'emails[type eq "work"]. eq "x"', /expected a sub-attribute name/],
    ['trailing garbage', 'userName eq "x" garbage', /character 17: expected 'and', 'or' or the end of the filter but found 'garbage'/],
    ['a dangling and', 'userName eq "x" and', /expected an attribute name/],
    ['pr with a value', 'title pr "x"', /'pr' takes no value/],
    ['a string on the left', '"bjensen" eq userName', /character 1: a value cannot come first/],
    ['a number on the left', '42 eq loginCount', /a value cannot come first/],
    ['a literal on the left', 'true eq active', /a value cannot come first/],
    ['not without parentheses', 'not userName eq "x"', /character 1: 'not' must be followed by a parenthesised filter/],
    ['an invalid attribute name', '1abc eq "x"', /a value cannot come first/],
    ['an attribute name with a colon', 'foo:bar eq "x"', /'foo:bar' is not a valid attribute name/],
    ['two sub-attribute levels', 'name.givenName.x eq "x"', /more than one sub-attribute level/],
    ['a URN without an attribute', 'urn:ietf:params:scim:schemas:core:2.0:User: pr', /attribute name after the schema URN/],
    ['a non-attribute character', '= eq "x"', /expected an attribute name/],
    ['a 10,000-character filter', `userName eq "${'a'.repeat(9986)}"`, /10000 characters long; the limit is 4096/],
    ['100,000 opening parentheses', '('.repeat(100_000), /100000 characters long/],
    ['nesting beyond 32 levels', `${'('.repeat(33)}a pr${')'.repeat(33)}`, /character 33: the filter nests deeper than 32 levels/],
    ['nested not beyond 32 levels', `${'not ('.repeat(40)}a pr${')'.repeat(40)}`, /nests deeper than 32 levels/],
  ])('rejects %s', (_name, text, detail) => {
    const result = parseFilter(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.status).toBe(400);
    expect(result.error.scimType).toBe('invalidFilter');
    expect(result.error.message).toMatch(/^Invalid filter/);
    expect(result.error.message).toMatch(detail);
  });

  it('accepts exactly 32 nesting levels', () => {
    expect(parseFilter(`${'('.repeat(32)}a pr${')'.repeat(32)}`).ok).toBe(true);
  });

  it.each([
    ['100,000 parentheses', '('.repeat(100_000)],
    ['100,000 nots', 'not ('.repeat(100_000)],
    ['100,000 brackets', 'a['.repeat(100_000)],
  ])('stops %s at the depth limit, without reading the rest, when the length limit is raised', (name, text) => {
    const started = performance.now();
    const result = parseFilter(text, { maxLength: 1_000_000 });
    console.log(`[filter] ${name}: refused in ${(performance.now() - started).toFixed(1)} ms (not asserted)`);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.message).toMatch(/nests deeper than 32 levels|cannot appear inside/);
    // Where it stopped, not how long it took: within the first 33 repetitions of the 100,000.
    const at = Number(/^Invalid filter at character (\d+):/.exec(result.error.message)?.[1]);
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThanOrEqual(33 * (text.length / 100_000));
  });

  it('returns an error instead of overflowing the stack when both limits are raised', () => {
    const result = parseFilter(`${'('.repeat(100_000)}a pr${')'.repeat(100_000)}`, { maxLength: 1e7, maxDepth: 1e7 });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.scimType).toBe('invalidFilter');
  });

  it('honours custom limits', () => {
    expect(parseFilter('userName eq "abc"', { maxLength: 10 }).ok).toBe(false);
    expect(parseFilter('((a pr))', { maxDepth: 1 }).ok).toBe(false);
    expect(parseFilter('(a pr)', { maxDepth: 1 }).ok).toBe(true);
  });

  it('parses a long and-chain within the length limit without a depth error', () => {
    const chain = Array.from({ length: 250 }, (_, i) => `id eq "${i}"`).join(' or ');
    expect(chain.length).toBeLessThan(4096);
    // The default term budget (MAX_FILTER_TERMS, 100) would refuse it; chains must still not count as depth.
    const result = parseFilter(chain, { maxTerms: 250 });
    expect(result.ok).toBe(true);
    if (result.ok) expect(matchesFilter(result.value, { id: '249' }, { type: RESOURCE_TYPES.User })).toBe(true);
  });
});

describe('filter term budget', () => {
  it(`refuses more than ${MAX_FILTER_TERMS} comparisons with invalidFilter, and accepts exactly that many`, () => {
    const terms = (n: number) => Array.from({ length: n }, (_, i) => `userName eq "u${i}"`).join(' or ');
    expect(parseFilter(terms(MAX_FILTER_TERMS)).ok).toBe(true);
    const over = parseFilter(terms(MAX_FILTER_TERMS + 1));
    expect(over.ok).toBe(false);
    if (!over.ok) {
      expect(over.error.scimType).toBe('invalidFilter');
      expect(over.error.message).toContain(`more than ${MAX_FILTER_TERMS} comparisons`);
    }
    // Comparisons inside value paths count too.
    const inBrackets = `emails[${Array.from({ length: MAX_FILTER_TERMS + 1 }, () => 'type eq "w"').join(' or ')}]`;
    expect(parseFilter(inBrackets).ok).toBe(false);
  });
});

describe('matchesFilter on users', () => {
  it.each<[string, boolean]>([
    // eq / ne and caseExact per attribute
    ['userName eq "barbara.jensen@example.com"', true],
    ['USERNAME Eq "BARBARA.JENSEN@EXAMPLE.COM"', true],
    ['userName eq "someone@example.com"', false],
    ['userName ne "someone@example.com"', true],
    ['userName ne "barbara.jensen@example.com"', false],
    ['displayName eq "babs jensen"', true],
    ['name.familyName eq "JENSEN"', true],
    ['externalId eq "jyoung"', true],
    ['externalId eq "JYoung"', false],
    ['id eq "Ab12-cd34"', true],
    ['id eq "ab12-cd34"', false],
    ['meta.resourceType eq "User"', true],
    ['meta.resourceType eq "user"', false],
    // RFC 7643 §2.4: the home email, sent without `primary`, is not the primary one.
    ['emails.primary eq false', true],
    ['emails[primary eq false and type eq "home"]', true],
    ['phoneNumbers.primary eq false', true],
    ['phoneNumbers.primary eq true', false],
    ['phoneNumbers[primary pr]', false],
    ['phoneNumbers.primary pr', false],
    ['meta.location eq "https://h/scim/v2/Users/ab12-cd34"', false],
    // co / sw / ew
    ['userName co "JENSEN@"', true],
    ['userName sw "barbara."', true],
    ['userName ew ".COM"', true],
    ['userName ew ".org"', false],
    ['externalId co "YOUNG"', false],
    ['externalId sw "jy"', true],
    ['active co "tr"', false],
    ['loginCount sw "4"', false],
    // gt / ge / lt / le on strings, numbers, dateTimes, booleans
    ['userName gt "a"', true],
    ['userName lt "C"', true],
    ['userName ge "BARBARA.JENSEN@EXAMPLE.COM"', true],
    ['userName le "barbara"', false],
    ['loginCount gt 41', true],
    ['loginCount ge 42', true],
    ['loginCount lt 42', false],
    ['loginCount le "42"', true],
    ['meta.created gt "2015-10-10T21:38:21Z"', true],
    ['meta.created lt "2015-10-10T14:38:22.5-07:00"', true],
    ['meta.created eq "2015-10-10T23:38:22+02:00"', true],
    ['meta.created ge "not a date"', false],
    // Only an xsd:dateTime is a dateTime (a date alone, a number or words are not); without an offset it is UTC.
    ['meta.created eq "2015-10-10T21:38:22"', true],
    ['meta.created eq "2015-10-10T21:38:22.0000000"', true],
    ['meta.created gt "1"', false],
    ['meta.created lt "2015-10-11"', false],
    ['meta.created lt "Dec 6 2026"', false],
    ['meta.created lt "2015-02-30T00:00:00Z"', false],
    ['meta.lastModified ge "2020-01-01T00:00:00.0000000Z"', true],
    // Every fractional digit counts, past the millisecond too (RFC 7643 §2.3.5: any number of them).
    ['meta.created eq "2015-10-10T21:38:22.0001Z"', false],
    ['meta.created ne "2015-10-10T21:38:22.0001Z"', true],
    ['meta.created lt "2015-10-10T21:38:22.0009Z"', true],
    ['meta.created ge "2015-10-10T21:38:22.0009Z"', false],
    ['meta.created le "2015-10-10T21:38:22.00000001Z"', true],
    ['meta.created gt "2015-10-10T21:38:21.9999999Z"', true],
    ['meta.created gt "2015-10-10T21:38:22.000000000Z"', false],
    ['active gt false', false],
    ['active lt true', false],
    // booleans, numbers, null
    ['active eq true', true],
    ['active eq "True"', true],
    ['active eq "false"', false],
    ['active ne false', true],
    ['loginCount eq 42', true],
    ['loginCount eq "42"', true],
    ['loginCount eq 42.0', true],
    ['loginCount ne 7', true],
    ['badge eq 0123', true],
    ['CustomFlag eq true', true],
    ['title eq null', true],
    ['userName eq null', false],
    ['userName ne null', true],
    ['title ne "x"', true],
    ['title eq "x"', false],
    // pr
    ['userName pr', true],
    ['title pr', false],
    ['nickName pr', false],
    ['emails pr', true],
    ['emails.type pr', true],
    ['ims pr', false],
    ['name pr', true],
    ['meta.version pr', false],
    // multi-valued: any value matches
    ['emails eq "babs@jensen.org"', true],
    ['emails co "EXAMPLE.COM"', true],
    ['emails.value ew "jensen.org"', true],
    ['emails.type eq "home"', true],
    ['emails.type eq "other"', false],
    // `ne` too: some value differs (RFC 7644 §3.4.2.2), so a user whose every value equals does not match.
    ['emails ne "babs@jensen.org"', true],
    ['emails.type ne "work"', true],
    ['phoneNumbers.type ne "work"', false],
    ['ims.value ne "x"', true],
    ['phoneNumbers.value sw "555"', true],
    ['tags eq "alpha"', true],
    ['tags eq "gamma"', false],
    // value paths
    ['emails[type eq "work"]', true],
    ['emails[type eq "work" and value co "@example.com"]', true],
    ['emails[type eq "home" and value co "@example.com"]', false],
    ['emails[type eq "work"].value eq "BJENSEN@example.com"', true],
    ['emails[type eq "work"].value eq "babs@jensen.org"', false],
    ['emails[type eq "home"].value eq "babs@jensen.org"', true],
    ['emails[primary eq true].type eq "work"', true],
    ['emails[primary eq "True" or type eq "nope"]', true],
    ['emails[not (primary pr)].type eq "home"', true],
    ['emails[type eq "work"].display pr', false],
    ['name[givenName eq "barbara"]', true],
    ['ims[type eq "work"]', false],
    // URN paths
    [`${ENT}:employeeNumber eq "701984"`, true],
    [`${ENT.toUpperCase()}:EmployeeNumber eq "701984"`, true],
    [`${ENT}:department co "tour"`, true],
    [`${ENT}:manager.value eq "Mgr-1"`, true],
    [`${ENT}:manager eq "Mgr-1"`, true],
    [`${ENT}:manager.displayName sw "john"`, true],
    [`${ENT}:costCenter pr`, false],
    ['urn:ietf:params:scim:schemas:core:2.0:User:name.givenName eq "BARBARA"', true],
    ['urn:ietf:params:scim:schemas:core:2.0:User:userName sw "barb"', true],
    // an extension attribute named without its URN resolves to it, as in PATCH paths and bodies (schemas.ts resolveAttribute)
    ['employeeNumber eq "701984"', true],
    ['EMPLOYEENUMBER eq "701985"', false],
    ['manager.value eq "Mgr-1"', true],
    ['department co "tour"', true],
    // unknown attributes, kept as sent, compared case-insensitively
    ['customflag eq "true"', true],
    ['CUSTOMFLAG sw "tr"', true],
    ['nothing pr', false],
    ['nothing eq "x"', false],
    ['nothing ne "x"', true],
    // and / or / not, precedence and parentheses
    ['userName pr and active eq true', true],
    ['userName pr and active eq false', false],
    ['active eq false or userName pr', true],
    ['not (active eq false)', true],
    ['not (userName pr)', false],
    ['title pr and userName pr or active eq true', true],
    ['title pr and (userName pr or active eq true)', false],
    ['active eq false or title pr and userName pr', false],
    ['(active eq false or userName pr) and not (title pr)', true],
    ['not (not (userName pr))', true],
  ])('evaluates %s to %s', (text, expected) => {
    expect(userMatches(text)).toBe(expected);
  });

  it.each<[string, boolean, boolean]>([
    // [filter, barbara, employee]: the unquoted values of Entra's legacy docs and Microsoft's test collection
    ['externalId eq jyoung', true, false],
    ['name.FamilyName eq Employee and (emails.Value co example.com or emails.Value co example.org)', false, true],
    ['meta.Created gt 2015-10-10T14:38:21.8617979-07:00', true, false],
    ['userName sw O', false, true],
    ['externalId eq 123', false, true],
    ['externalId eq "123"', false, true],
    ['active eq False', false, true],
  ])('evaluates the unquoted-value filter %s (%s, %s)', (text, forBarbara, forEmployee) => {
    expect(userMatches(text, barbara)).toBe(forBarbara);
    expect(userMatches(text, employee)).toBe(forEmployee);
  });

  it.each([
    ['a null attribute', { userName: null }],
    ['an array where an object is expected', { name: ['x'], meta: [1, 2], emails: 'plain@example.com' }],
    ['nested arrays', { emails: [[{ value: 'x' }]], tags: [[1]] }],
    ['objects where strings are expected', { userName: { value: 'x' }, active: {} }],
    ['a non-object extension', { [ENT]: 'x' }],
  ])('never throws on %s', (_name, resource) => {
    for (const text of [
      'userName eq "x"',
      'emails[type eq "work"].value co "x"',
      `${ENT}:manager.value pr`,
      'meta.created gt "2020-01-01"',
      'name.givenName ne "x"',
      'active eq true',
    ]) {
      expect(() => matchesFilter(parse(text), resource as JsonObject, { type: RESOURCE_TYPES.User })).not.toThrow();
    }
  });

  it('compares binary values case-exactly (RFC 7643 §2.3.6)', () => {
    const withCert = { ...barbara, x509Certificates: [{ value: 'QUJD' }] };
    expect(userMatches('x509Certificates.value eq "QUJD"', withCert)).toBe(true);
    expect(userMatches('x509Certificates.value eq "qujd"', withCert)).toBe(false);
    expect(userMatches('x509Certificates[value sw "qU"]', withCert)).toBe(false);
  });

  it('looks up canonical keys with a prototype-property name safely', () => {
    expect(userMatches('constructor pr', {})).toBe(false);
    expect(userMatches('toString eq "x"', {})).toBe(false);
  });
});

describe('matchesFilter on groups', () => {
  it.each<[string, boolean]>([
    ['displayName eq "tour guides"', true],
    ['displayName sw "Tour"', true],
    ['members[value eq "e-1"]', true],
    // Member values are ids, case-exact (src/scim/schemas.ts), like the store's member changes.
    ['members[value eq "E-1"]', false],
    ['members.value eq "Ab12-cd34"', true],
    ['members eq "e-1"', true],
    ['members[type eq "Group"]', false],
    ['members[value eq "e-1"].display pr', false],
    ['members[value eq "Ab12-cd34"].display pr', true],
    ['userName pr', false],
  ])('evaluates %s to %s', (text, expected) => {
    expect(matchesFilter(parse(text), group, { type: RESOURCE_TYPES.Group })).toBe(expected);
  });
});

describe('matchesElement', () => {
  const members = findAttribute(GROUP_SCHEMA.attributes, 'members');
  const emails = findAttribute(USER_SCHEMA.attributes, 'emails');

  it.each<[string, unknown, boolean]>([
    ['value eq "e-1"', { value: 'e-1', type: 'User' }, true],
    ['value eq "e-2"', { value: 'e-1', type: 'User' }, false],
    ['Value eq "e-1" and TYPE eq "user"', { value: 'e-1', type: 'User' }, true],
    ['display pr', { value: 'e-1' }, false],
    ['value eq "e-1"', 'e-1', true],
    ['value eq "e-1"', null, false],
    ['type eq "User"', 'e-1', false],
  ])('evaluates %s against a members element %j to %s', (text, element, expected) => {
    expect(matchesElement(parse(text), element as JsonObject, members)).toBe(expected);
  });

  it.each<[string, unknown, boolean]>([
    ['type eq "work" and value co "@EXAMPLE.com"', { value: 'b@example.com', type: 'work' }, true],
    ['primary eq true', { value: 'b@example.com', primary: true }, true],
    ['primary eq "true"', { value: 'b@example.com', primary: false }, false],
    ['value eq "x"', { Value: 'X' }, true],
    // RFC 7643 §2.4: a `primary` not sent is false, for comparisons; it is neither present nor null.
    ['primary eq false', { value: 'b@example.com' }, true],
    ['primary ne true', { value: 'b@example.com' }, true],
    ['primary eq true', { value: 'b@example.com' }, false],
    ['not (primary eq false)', { value: 'b@example.com' }, false],
    ['primary pr', { value: 'b@example.com' }, false],
    ['primary eq null', { value: 'b@example.com' }, true],
    ['primary eq false', { value: 'b@example.com', primary: true }, false],
  ])('evaluates %s against an emails element %j to %s', (text, element, expected) => {
    expect(matchesElement(parse(text), element as JsonObject, emails)).toBe(expected);
  });

  it('compares case-insensitively without a definition', () => {
    expect(matchesElement(parse('kind eq "A"'), { kind: 'a' }, undefined)).toBe(true);
  });
});
