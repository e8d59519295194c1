/**
 * fast-check generators of hostile SCIM requests, for test/reliability/fuzz.test.ts.
 *
 * Requests are plain data. They refer to resources that exist only at run time through placeholders that
 * the executor substitutes (see {@link resolvePlaceholders}):
 *   @@u:N@@   the id of the N-th known user (modulo how many are known)   @@g:N@@   same for groups
 *   @@un:N@@  the userName of the N-th known user                          @@gn:N@@  a known group displayName
 *   @@UN:N@@  that userName upper-cased (case-insensitive uniqueness)      @@self@@  the id in the request path
 * Large or deep bodies are described, not generated, and materialised by the executor
 * ({@link materializeBody}), so that fast-check never holds a megabyte string.
 *
 * Bodies start from the realistic Okta / Entra / OneLogin / JumpCloud payloads of docs/idp-behaviour.md (§Okta, §Entra, §OneLogin, §JumpCloud)
 * and are mutated: keys dropped, duplicated in another case, renamed, retyped, nulled, wrapped; prototype
 * keys (`__proto__`, `constructor`, …) inserted; strings replaced with unicode, lone surrogates, huge
 * strings; values nested 1,000 (or 10,000) levels deep; and the JSON text itself is corrupted.
 */
import fc from 'fast-check';

export const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const SEARCH = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';
const ADSCIM = 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group';
const SCIM1 = 'urn:scim:schemas:core:1.0';

export type Via = 'handler' | 'http';

/** A body description; see {@link materializeBody}. */
export type BodySpec =
  | { kind: 'json'; value: unknown; text: TextMutation[] }
  | { kind: 'raw'; text: string }
  /** Valid JSON around bytes that are not UTF-8. */
  | { kind: 'badUtf8'; before: string; bytes: readonly number[]; after: string }
  /** A JSON document of about `bytes` bytes (one huge string, or many members / array items). */
  | { kind: 'huge'; bytes: number; shape: 'userString' | 'groupMembers' | 'unknownArray' | 'patchValue' | 'searchFilter' }
  /** A user whose unknown attribute nests `depth` levels deep. */
  | { kind: 'deep'; depth: number; style: 'array' | 'object'; where: 'user' | 'patchValue' | 'group' };

export type TextMutation =
  | { t: 'protoKey'; key: string; value: string }
  | { t: 'duplicateKey'; key: string; value: string }
  | { t: 'loneSurrogate'; escape: string }
  | { t: 'truncate'; keep: number }
  | { t: 'bom' }
  | { t: 'garbage'; text: string }
  | { t: 'trailingComma' };

export type AuthVariant = 'good' | 'lower' | 'spaced' | 'missing' | 'empty' | 'wrong' | 'basic' | 'suffix' | 'extra' | 'long';

export interface FuzzRequest {
  via: Via;
  method: string;
  /** Below basePath, in URL form (may hold placeholders and %-escapes). */
  path: string;
  /** Raw query string, without '?'. */
  query: string;
  auth: AuthVariant;
  /** Other headers, names lower-cased. */
  headers: Record<string, string>;
  body?: BodySpec;
  /** HTTP only: send without Content-Length (chunked). */
  chunked?: boolean;
  /** The issue-10 generator that made it (projection, .search, PATCH paths, huge PATCH), for the counts. */
  tag?: string;
}

// ---------------------------------------------------------------------------------------------------------
// Strings

/** The string with lone surrogates replaced by U+FFFD (what a UTF-8 encoder sends for them). */
export const wellFormed = (s: string): string => s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');

const LONE_SURROGATES = ['\ud800', '\udbff', '\udc00', '\udfff'];
const SPECIAL_STRINGS = [
  '',
  ' ',
  '  padded  ',
  'True',
  'FALSE',
  'null',
  'undefined',
  '0',
  '-1',
  '1e400',
  'NaN',
  'İstanbul',
  'ǅemal',
  'STRASSE',
  'straße',
  'ﬃ',
  '\u212b',
  '\u00c5',
  'A\u030a',
  'e\u0301',
  '💥',
  '👩‍👩‍👧',
  '\u0000',
  'a\u0000b',
  '\u202e',
  '\ufeff',
  '\u2028',
  '<script>',
  "'; DROP TABLE users; --",
  '{c:x}',
  'a b',
  '\t',
  '\r\n',
  '%00',
  '../..',
  'constructor',
  '__proto__',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'x'.repeat(300),
];

const placeholder = (kind: 'u' | 'g' | 'un' | 'gn' | 'UN') => fc.nat({ max: 40 }).map((n) => `@@${kind}:${n}@@`);
const loneSurrogateString = fc
  .tuple(fc.string({ maxLength: 4 }), fc.constantFrom(...LONE_SURROGATES), fc.string({ maxLength: 4 }))
  .map(([a, b, c]) => a + b + c);

export const textArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.string({ maxLength: 12, unit: 'grapheme-ascii' }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 8, unit: 'binary' }) },
  { weight: 3, arbitrary: fc.constantFrom(...SPECIAL_STRINGS) },
  { weight: 1, arbitrary: loneSurrogateString },
  { weight: 1, arbitrary: placeholder('u') },
  { weight: 1, arbitrary: placeholder('un') },
);

const localPartArb = fc.stringMatching(/^[a-z][a-z0-9._+-]{0,9}$/);
const domainArb = fc.constantFrom('example.com', 'EXAMPLE.com', 'okta.local', 'contoso.onmicrosoft.com', 'xn--bcher-kva.example', 'x');
const emailArb = fc.tuple(localPartArb, domainArb).map(([l, d]) => `${l}@${d}`);
/** Mostly fresh e-mail-like names; some reuse a known userName (or change its case) to provoke 409s. */
const userNameArb = fc.oneof(
  { weight: 8, arbitrary: emailArb },
  { weight: 2, arbitrary: placeholder('un') },
  { weight: 1, arbitrary: placeholder('UN') },
  { weight: 2, arbitrary: textArb },
);
const externalIdArb = fc.oneof(
  { weight: 3, arbitrary: fc.stringMatching(/^00u[a-z0-9]{6}$/) },
  { weight: 2, arbitrary: fc.uuid() },
  { weight: 1, arbitrary: fc.constantFrom('shared-external-id', 'SHARED-EXTERNAL-ID', '0123', '') },
  { weight: 1, arbitrary: textArb },
);
const groupNameArb = fc.oneof(
  { weight: 5, arbitrary: fc.stringMatching(/^[A-Z][a-z]{2,8}( [A-Z][a-z]{1,6})?$/) },
  { weight: 2, arbitrary: placeholder('gn') },
  { weight: 2, arbitrary: textArb },
);

// ---------------------------------------------------------------------------------------------------------
// Realistic payloads (docs/idp-behaviour.md §Okta, §Entra, §OneLogin, §JumpCloud)

interface Fields {
  userName: string;
  email: string;
  email2: string;
  externalId: string;
  given: string;
  family: string;
  text: string;
  text2: string;
  group: string;
  bool: boolean;
  user: string;
  user2: string;
  groupRef: string;
}

const fieldsArb: fc.Arbitrary<Fields> = fc.record({
  userName: userNameArb,
  email: emailArb,
  email2: fc.oneof(emailArb, textArb),
  externalId: externalIdArb,
  given: fc.oneof({ weight: 4, arbitrary: fc.stringMatching(/^[A-Z][a-z]{1,8}$/) }, { weight: 1, arbitrary: textArb }),
  family: fc.oneof({ weight: 4, arbitrary: fc.stringMatching(/^[A-Z][a-z]{1,8}$/) }, { weight: 1, arbitrary: textArb }),
  text: textArb,
  text2: textArb,
  group: groupNameArb,
  bool: fc.boolean(),
  user: fc.oneof({ weight: 6, arbitrary: placeholder('u') }, { weight: 1, arbitrary: placeholder('g') }, { weight: 1, arbitrary: textArb }),
  user2: placeholder('u'),
  groupRef: placeholder('g'),
});

const USER_TEMPLATES: ((f: Fields) => unknown)[] = [
  // Okta create (docs/idp-behaviour.md §Okta, step 2)
  (f) => ({
    schemas: [USER],
    userName: f.userName,
    name: { givenName: f.given, familyName: f.family },
    emails: [{ primary: true, value: f.email, type: 'work' }],
    displayName: `${f.given} ${f.family}`,
    locale: 'en-US',
    externalId: f.externalId,
    groups: [],
    password: 'placeholder-Secret1',
    active: true,
  }),
  // Entra create (docs/idp-behaviour.md §Entra), with its nulls and readOnly meta
  (f) => ({
    schemas: [USER, ENTERPRISE],
    externalId: f.externalId,
    userName: f.userName,
    active: true,
    emails: [{ primary: true, type: 'work', value: f.email }],
    meta: { resourceType: 'User' },
    name: { formatted: `${f.given} ${f.family}`, familyName: f.family, givenName: f.given },
    roles: [],
    addresses: null,
    phoneNumbers: null,
    title: null,
    [ENTERPRISE]: { employeeNumber: '701984', department: f.text, manager: null },
  }),
  // OneLogin template: SCIM 1.x URN, a single-object `emails` without primary, enterprise manager
  (f) => ({
    schemas: [SCIM1],
    userName: f.userName,
    name: { givenName: f.given, familyName: f.family },
    emails: { value: f.email },
    [ENTERPRISE]: { manager: { value: f.user, displayName: f.text }, department: f.text2, organization: 'Org', division: 'Div' },
  }),
  // JumpCloud
  (f) => ({ schemas: [USER], userName: f.userName, name: { givenName: f.given, familyName: f.family }, emails: [{ value: f.email }], active: f.bool }),
  // Minimal
  (f) => ({ userName: f.userName }),
  // Everything the schema has, with Microsoft's "True" strings and key casing
  (f) => ({
    schemas: [USER, ENTERPRISE],
    userName: f.userName,
    externalId: f.externalId,
    nickName: f.text,
    title: f.text2,
    Active: 'True',
    emails: [
      { Value: f.email, Type: 'work', Primary: 'true' },
      { value: f.email2, type: 'home' },
    ],
    phoneNumbers: [{ value: '+1 555 0100', type: 'work' }],
    addresses: [{ type: 'work', streetAddress: f.text, locality: 'X', primary: true }],
    ims: [{ value: f.text, type: 'xmpp' }],
    photos: [{ value: 'https://example.com/p.png', type: 'photo' }],
    roles: [{ value: f.text, primary: 'True' }],
    entitlements: [{ value: 'e1' }],
    x509Certificates: [{ value: 'MIIB' }],
    [ENTERPRISE]: { Department: f.text, Manager: { Value: f.user } },
    unknownAttribute: { nested: [f.text] },
  }),
];

/** PUT bodies: Okta's GET-then-PUT carries id, meta and groups (docs/idp-behaviour.md §Okta, step 3). */
const PUT_USER_TEMPLATES: ((f: Fields) => unknown)[] = [
  (f) => ({
    schemas: [USER],
    id: '@@self@@',
    userName: f.userName,
    name: { givenName: f.given, familyName: f.family },
    emails: [{ primary: true, value: f.email, type: 'work' }],
    active: f.bool,
    groups: [],
    externalId: f.externalId,
    meta: { resourceType: 'User', created: '2020-01-01T00:00:00Z', location: 'https://elsewhere/Users/x' },
  }),
  ...USER_TEMPLATES,
];

const GROUP_TEMPLATES: ((f: Fields) => unknown)[] = [
  (f) => ({ schemas: [GROUP], displayName: f.group, members: [] }), // Okta Group Push
  (f) => ({ schemas: [GROUP, ADSCIM], externalId: f.externalId, displayName: f.group, meta: { resourceType: 'Group' } }), // Entra
  (f) => ({ schemas: [GROUP], displayName: f.group, members: [{ value: f.user, display: f.text }, { value: f.user2 }] }), // AIW
  (f) => ({
    schemas: [GROUP],
    displayName: f.group,
    members: [
      { value: f.groupRef, type: 'Group' },
      { value: 'string id 1', displayName: f.text },
    ],
  }),
  (f) => ({ displayName: f.group, members: f.user }),
];

const PUT_GROUP_TEMPLATES: ((f: Fields) => unknown)[] = [
  (f) => ({ schemas: [GROUP], id: '@@self@@', displayName: f.group, members: [{ value: f.user, display: f.text }, { value: f.user2 }] }),
  ...GROUP_TEMPLATES,
];

const USER_OPS: ((f: Fields) => unknown)[] = [
  (f) => ({ op: 'replace', value: { active: f.bool } }), // Okta deactivate
  (f) => ({ op: 'Replace', path: 'emails[type eq "work"].value', value: f.email }), // Entra
  (f) => ({ op: 'Replace', path: 'name.familyName', value: f.family }),
  (f) => ({ op: 'Replace', path: 'active', value: f.bool ? 'True' : 'False' }),
  (f) => ({ op: 'Add', path: 'nickName', value: f.text }),
  (f) => ({ op: 'replace', value: { displayName: f.text, 'name.givenName': f.given, 'name.familyName': f.family, [`${ENTERPRISE}:employeeNumber`]: '42' } }),
  (f) => ({ op: 'Add', path: 'manager', value: [{ $ref: `https://h/scim/v2/Users/${f.user}`, value: f.user }] }),
  (f) => ({ op: 'add', path: `${ENTERPRISE}:manager`, value: { value: f.user } }),
  () => ({ op: 'remove', path: `${ENTERPRISE}:manager` }),
  (f) => ({ op: 'replace', path: 'phoneNumbers[type eq "work"].value', value: f.text }),
  (f) => ({ op: 'replace', path: 'addresses[type eq "work"].streetAddress', value: f.text }),
  (f) => ({ op: 'replace', value: { userName: f.userName } }),
  (f) => ({ op: 'replace', path: 'userName', value: f.userName }),
  (f) => ({ op: 'replace', path: 'externalId', value: f.externalId }),
  () => ({ op: 'replace', path: 'title', value: '' }),
  () => ({ op: 'replace', path: 'title', value: null }),
  (f) => ({ op: 'add', path: 'roles', value: [{ value: f.text, primary: 'True' }] }),
  (f) => ({ op: 'remove', path: `emails[value eq ${JSON.stringify(f.email)}]` }),
  (f) => ({ op: 'add', path: 'emails', value: [{ value: f.email2, type: 'home', primary: true }] }),
  (f) => ({ op: 'add', value: { [ENTERPRISE]: { department: f.text } } }),
  (f) => ({ op: 'replace', path: `${USER}:displayName`, value: f.text }),
  () => ({ op: 'remove', path: 'emails' }),
  () => ({ op: 'remove', path: 'userName' }),
  (f) => ({ op: 'add', path: 'groups', value: [{ value: f.groupRef }] }),
  (f) => ({ op: 'replace', path: 'id', value: f.user }),
];

const GROUP_OPS: ((f: Fields) => unknown)[] = [
  (f) => ({ op: 'replace', value: { id: '@@self@@', displayName: f.group } }), // Okta rename
  (f) => ({ op: 'remove', path: `members[value eq "${f.user}"]` }), // Okta
  (f) => ({ op: 'add', path: 'members', value: [{ value: f.user, display: f.text }] }),
  (f) => ({ op: 'replace', path: 'members', value: [{ value: f.user }, { value: f.user2 }] }),
  (f) => ({ op: 'Replace', path: 'displayName', value: f.group }), // Entra
  (f) => ({ op: 'Add', path: 'members', value: [{ $ref: null, value: f.user }] }),
  (f) => ({ op: 'Remove', path: 'members', value: [{ $ref: null, value: f.user }] }),
  () => ({ op: 'remove', path: 'members' }),
  () => ({ op: 'add', path: 'members', value: 'string id 1' }),
  (f) => ({ op: 'replace', value: { externalId: f.externalId } }),
  (f) => ({ op: 'add', path: 'members', value: [{ value: f.groupRef, type: 'Group' }, { value: '@@self@@' }] }),
  (f) => ({ op: 'replace', path: `members[value eq "${f.user}"].display`, value: f.text }),
  (f) => ({
    op: 'add',
    path: 'members',
    value: [
      { value: f.user, display: f.text },
      { value: f.user, display: f.text2 },
    ],
  }),
];

/** Attribute paths for PATCH `path`, sortBy and attributes lists: valid, odd and broken. */
const PATH_POOL = [
  'userName',
  'USERNAME',
  'name',
  'name.givenName',
  'name.formatted',
  'emails',
  'emails.value',
  'emails[type eq "work"]',
  'emails[type eq "work"].value',
  'emails[primary eq true].value',
  'phoneNumbers[type eq "mobile"].value',
  'addresses[type eq "work"].locality',
  'active',
  'displayName',
  'title',
  'externalId',
  'id',
  'meta',
  'meta.lastModified',
  'groups',
  'members',
  'members[value eq "@@u:0@@"]',
  'members[value eq "@@u:1@@"].display',
  'members.value',
  ENTERPRISE,
  `${ENTERPRISE}:manager`,
  `${ENTERPRISE}:manager.value`,
  `${ENTERPRISE}:department`,
  `${USER}:userName`,
  'urn:unknown:x:y',
  'schemas',
  'password',
  'roles[primary eq "True"]',
  'x509Certificates',
  'unknownAttr',
  'a.b.c',
  'emails[',
  'emails[type eq "work"',
  'members[value eq "x"]]',
  'emails[type eq "work"][value pr]',
  '__proto__',
  'constructor',
  'name.__proto__',
  'prototype',
  'toString',
  'emails[value co "@"].type',
  '$ref',
  '',
  ' ',
  'x'.repeat(1100),
  'emails[type eq "work" or type eq "home"].value',
  'emails[not (type eq "work")]',
  'members[value eq "\\ud800"]',
];
export const attrPathArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...PATH_POOL) },
  { weight: 1, arbitrary: textArb },
  { weight: 1, arbitrary: fc.string({ maxLength: 20, unit: fc.constantFrom('a', 'B', '.', '[', ']', '"', ':', ' ', 'e', 'q', '$') }) },
);

/** Values the mutations put where another type belongs. */
const HOSTILE_VALUES: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  1e308,
  '',
  ' ',
  'True',
  'False',
  'null',
  [],
  {},
  [null],
  [{}],
  [[]],
  { value: null },
  { toString: 1 },
  { valueOf: {} },
  [{ toString: null }],
  { value: { toString: 'x' } },
  '\ud800',
  'a\udc00b',
  '\u0000',
  '💥',
  'İ',
  { $ref: null },
  { value: '' },
  [{ value: 5 }],
  Array.from({ length: 40 }, () => 'x'),
];
const hostileValueArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_VALUES) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.nat({ max: 60 }).map((depth) => nest(depth, 'object')) },
  { weight: 1, arbitrary: textArb },
);

function nest(depth: number, style: 'array' | 'object'): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = style === 'array' ? [value] : { a: value };
  return value;
}

// ---------------------------------------------------------------------------------------------------------
// Mutations of JS values

type ValueMutation =
  | { m: 'drop'; at: number }
  | { m: 'recase'; at: number; style: 'upper' | 'lower' | 'swap'; keepOld: boolean }
  | { m: 'retype'; at: number; to: unknown }
  /** Retypes a top-level member (where the handler reads values directly: `filter`, `count`, `Operations`…). */
  | { m: 'retypeTop'; at: number; to: unknown }
  | { m: 'null'; at: number }
  | { m: 'wrap'; at: number }
  | { m: 'protoKey'; at: number; key: string; value: unknown }
  | { m: 'string'; at: number; to: string }
  | { m: 'opName'; at: number; to: unknown };

const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', 'isPrototypeOf'];
const OP_NAMES: unknown[] = [
  'add',
  'Add',
  'ADD',
  'replace',
  'Replace',
  'REPLACE',
  'remove',
  'Remove',
  ' add ',
  'delete',
  'copy',
  'move',
  'test',
  '',
  5,
  null,
  ['add'],
];

const valueMutationArb: fc.Arbitrary<ValueMutation> = fc.oneof(
  fc.record({ m: fc.constant('drop' as const), at: fc.nat() }),
  fc.record({
    m: fc.constant('recase' as const),
    at: fc.nat(),
    style: fc.constantFrom('upper' as const, 'lower' as const, 'swap' as const),
    keepOld: fc.boolean(),
  }),
  fc.record({ m: fc.constant('retype' as const), at: fc.nat(), to: hostileValueArb }),
  fc.record({ m: fc.constant('retypeTop' as const), at: fc.nat(), to: hostileValueArb }),
  fc.record({ m: fc.constant('null' as const), at: fc.nat() }),
  fc.record({ m: fc.constant('wrap' as const), at: fc.nat() }),
  fc.record({ m: fc.constant('protoKey' as const), at: fc.nat(), key: fc.constantFrom(...PROTO_KEYS), value: hostileValueArb }),
  fc.record({ m: fc.constant('string' as const), at: fc.nat(), to: textArb }),
  fc.record({ m: fc.constant('opName' as const), at: fc.nat(), to: fc.constantFrom(...OP_NAMES) }),
);

type Container = Record<string, unknown> | unknown[];
interface Slot {
  parent: Container;
  key: string | number;
}

function slots(root: unknown): { slots: Slot[]; objects: Record<string, unknown>[] } {
  const out: Slot[] = [];
  const objects: Record<string, unknown>[] = [];
  const stack: unknown[] = [root];
  while (stack.length) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      node.forEach((child, i) => {
        out.push({ parent: node, key: i });
        stack.push(child);
      });
    } else if (typeof node === 'object' && node !== null) {
      const object = node as Record<string, unknown>;
      objects.push(object);
      for (const k of Object.keys(object)) {
        out.push({ parent: object, key: k });
        stack.push(object[k]);
      }
    }
  }
  return { slots: out, objects };
}

/** Sets an own enumerable property, even `__proto__` (so JSON.stringify writes it as a key). */
function defineKey(object: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}

const recase = (key: string, style: 'upper' | 'lower' | 'swap') =>
  style === 'upper'
    ? key.toUpperCase()
    : style === 'lower'
      ? key.toLowerCase()
      : [...key].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('');

export function applyValueMutations(value: unknown, mutations: ValueMutation[]): unknown {
  let root = structuredClone(value);
  for (const mutation of mutations) {
    const { slots: all, objects } = slots(root);
    if (mutation.m === 'wrap' && all.length === 0) {
      root = [root];
      continue;
    }
    if (mutation.m === 'retypeTop') {
      if (typeof root === 'object' && root !== null && !Array.isArray(root)) {
        const keys = Object.keys(root);
        const top = keys[mutation.at % Math.max(1, keys.length)];
        if (top !== undefined) defineKey(root as Record<string, unknown>, top, structuredClone(mutation.to));
      }
      continue;
    }
    if (mutation.m === 'protoKey' || mutation.m === 'opName') {
      const target = objects[mutation.at % Math.max(1, objects.length)];
      if (!target) continue;
      if (mutation.m === 'protoKey') defineKey(target, mutation.key, structuredClone(mutation.value));
      else if (Object.keys(target).some((k) => k.toLowerCase() === 'op')) target.op = mutation.to;
      continue;
    }
    const slot = all[mutation.at % Math.max(1, all.length)];
    if (!slot) continue;
    const { parent, key } = slot;
    const current = (parent as Record<string | number, unknown>)[key];
    const set = (v: unknown) => {
      if (Array.isArray(parent)) parent[key as number] = v;
      else defineKey(parent, key as string, v);
    };
    switch (mutation.m) {
      case 'drop':
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete parent[key as string];
        break;
      case 'recase':
        if (!Array.isArray(parent)) {
          if (!mutation.keepOld) delete parent[key as string];
          defineKey(parent, recase(key as string, mutation.style), current);
        }
        break;
      case 'retype':
        set(structuredClone(mutation.to));
        break;
      case 'null':
        set(null);
        break;
      case 'wrap':
        set([current]);
        break;
      case 'string':
        set(mutation.to);
        break;
    }
  }
  return root;
}

const textMutationArb: fc.Arbitrary<TextMutation> = fc.oneof(
  fc.record({
    t: fc.constant('protoKey' as const),
    key: fc.constantFrom(...PROTO_KEYS),
    value: fc.constantFrom('{"polluted":true}', 'null', '1', '[]', '{"value":"x"}', '"x"'),
  }),
  fc.record({
    t: fc.constant('duplicateKey' as const),
    key: fc.constantFrom('userName', 'UserName', 'displayName', 'Operations', 'schemas', 'members', 'id', 'op', 'filter'),
    value: fc.constantFrom('null', '123', '"dup@example.com"', '[]', '{}', 'true'),
  }),
  fc.record({ t: fc.constant('loneSurrogate' as const), escape: fc.constantFrom('\\ud800', '\\udfff', '\\udbff\\udbff', '\\udc00x') }),
  fc.record({ t: fc.constant('truncate' as const), keep: fc.nat() }),
  fc.constant({ t: 'bom' as const }),
  fc.record({ t: fc.constant('garbage' as const), text: fc.constantFrom('}', ']', ',', 'x', '\u0000', '{"a":1}', 'null', ' //comment') }),
  fc.constant({ t: 'trailingComma' as const }),
);

export function applyTextMutations(text: string, mutations: TextMutation[]): string {
  let out = text;
  for (const m of mutations) {
    switch (m.t) {
      case 'protoKey':
      case 'duplicateKey': {
        const at = out.indexOf('{');
        if (at >= 0) {
          const rest = out.slice(at + 1).trimStart();
          const sep = rest.startsWith('}') ? '' : ',';
          out = `${out.slice(0, at + 1)}${JSON.stringify(m.key)}:${m.value}${sep}${out.slice(at + 1)}`;
        }
        break;
      }
      case 'loneSurrogate': {
        const at = out.indexOf(':"');
        if (at >= 0) out = `${out.slice(0, at + 2)}${m.escape}${out.slice(at + 2)}`;
        break;
      }
      case 'truncate':
        out = out.slice(0, m.keep % Math.max(1, out.length));
        break;
      case 'bom':
        out = `\ufeff${out}`;
        break;
      case 'garbage':
        out = `${out}${m.text}`;
        break;
      case 'trailingComma':
        out = out.replace(/([}\]])$/, ',$1');
        break;
    }
  }
  return out;
}

/** A template body, mutated by 0–3 value mutations (none half the time) and rarely by text mutations. */
function jsonBody(template: fc.Arbitrary<unknown>): fc.Arbitrary<BodySpec> {
  return fc
    .tuple(
      template,
      fc.oneof(
        { weight: 5, arbitrary: fc.constant([] as ValueMutation[]) },
        { weight: 5, arbitrary: fc.array(valueMutationArb, { minLength: 1, maxLength: 3 }) },
      ),
      fc.oneof(
        { weight: 9, arbitrary: fc.constant([] as TextMutation[]) },
        { weight: 1, arbitrary: fc.array(textMutationArb, { minLength: 1, maxLength: 2 }) },
      ),
    )
    .map(([value, mutations, text]) => ({ kind: 'json' as const, value: applyValueMutations(value, mutations), text }));
}

const fromTemplates = (templates: ((f: Fields) => unknown)[]) => fc.tuple(fc.nat({ max: templates.length - 1 }), fieldsArb).map(([i, f]) => templates[i]!(f));

const randomOpArb = fc.record({ op: fc.constantFrom(...OP_NAMES), path: attrPathArb, value: hostileValueArb }, { requiredKeys: ['op'] });
const opsFrom = (templates: ((f: Fields) => unknown)[]) =>
  fc.array(fc.oneof({ weight: 4, arbitrary: fromTemplates(templates) }, { weight: 1, arbitrary: randomOpArb }), { minLength: 1, maxLength: 4 });
const patchEnvelope = (ops: fc.Arbitrary<unknown[]>) =>
  fc.tuple(ops, fc.constantFrom('standard', 'noSchemas', 'lowerKey', 'wrongSchema', 'emptyOps', 'opsObject')).map(([Operations, style]) => {
    switch (style) {
      case 'noSchemas':
        return { Operations };
      case 'lowerKey':
        return { schemas: [PATCH_OP], operations: Operations };
      case 'wrongSchema':
        return { schemas: [USER], Operations };
      case 'emptyOps':
        return { schemas: [PATCH_OP], Operations: [] };
      case 'opsObject':
        return { schemas: [PATCH_OP], Operations: Operations[0] };
      default:
        return { schemas: [PATCH_OP], Operations };
    }
  });

// ---------------------------------------------------------------------------------------------------------
// Filters

const FILTER_ATTRS = [
  'userName',
  'UserName',
  'USERNAME',
  'externalId',
  'id',
  'emails',
  'emails.value',
  'emails.type',
  'name.givenName',
  'name.familyName',
  'active',
  'displayName',
  'members',
  'members.value',
  'meta.created',
  'meta.lastModified',
  'meta.resourceType',
  'title',
  `${ENTERPRISE}:department`,
  `${ENTERPRISE}:manager.value`,
  `${USER}:userName`,
  'unknownAttr',
  'groups.value',
  'roles.primary',
  'x',
  'schemas',
  '$ref',
  'urn:unknown:attr',
  // Names that exist on Object.prototype (lookups by attribute name must not find them).
  'constructor',
  'Constructor',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'name.constructor',
  'emails.toString',
];
const filterAttrArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...FILTER_ATTRS) },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,8}(\.[A-Za-z][A-Za-z0-9]{0,5})?$/) },
);
const compareOpArb = fc.constantFrom('eq', 'eq', 'eq', 'EQ', 'Eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le', 'pr', 'xx');
const filterValueArb = fc.oneof(
  { weight: 3, arbitrary: fc.oneof(placeholder('un'), placeholder('UN'), placeholder('u'), placeholder('gn')).map((p) => `"${p}"`) },
  { weight: 3, arbitrary: textArb.map((s) => JSON.stringify(s)) },
  { weight: 2, arbitrary: emailArb.map((s) => JSON.stringify(s)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'true',
      'False',
      'null',
      '0',
      '-1.5e3',
      '1e400',
      'jyoung',
      '"2020-01-01T00:00:00Z"',
      '"2015-10-10T14:38:21.8617979-07:00"',
      '"a\\"b"',
      '"\\u00e9"',
      '"\\ud800"',
      '"\\x"',
    ),
  },
);
const atomArb = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(filterAttrArb, compareOpArb, filterValueArb).map(([a, o, v]) => (o === 'pr' ? `${a} pr` : `${a} ${o} ${v}`)) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom('emails', 'members', 'addresses', 'phoneNumbers', 'roles'),
        fc.constantFrom('type eq "work"', 'value eq "@@u:1@@"', 'value co "@"', 'primary eq true', 'type eq "work" and value pr', 'not (type eq "home")'),
        fc.constantFrom('', '.value eq "@@un:0@@"', '.type pr', '.value sw "a"'),
      )
      .map(([a, inner, tail]) => `${a}[${inner}]${tail}`),
  },
);
function filterAt(depth: number): fc.Arbitrary<string> {
  if (depth === 0) return atomArb;
  const sub = filterAt(depth - 1);
  return fc.oneof(
    { weight: 4, arbitrary: atomArb },
    { weight: 2, arbitrary: fc.tuple(sub, fc.constantFrom('and', 'or', 'AND', 'Or'), sub).map(([l, op, r]) => `${l} ${op} ${r}`) },
    { weight: 1, arbitrary: sub.map((f) => `not (${f})`) },
    { weight: 1, arbitrary: sub.map((f) => `(${f})`) },
  );
}
const JUNK_FILTERS = [
  'userName eq',
  'eq "x"',
  'userName eq "unterminated',
  'userName eq "a" and',
  'not userName eq "x"',
  '[',
  ']',
  '()',
  'emails[type eq "work"][',
  'emails[type eq "work"',
  'userName eq "x"))',
  'userName eq "x" or (displayName pr',
  '"',
  'userName   EQ   "A@EXAMPLE.COM"',
  'userName eq "x" and not (active eq false)',
  'filter=userName eq "x"',
  `userName eq "${'x'.repeat(4080)}"`,
  'x'.repeat(4097),
  `${'('.repeat(32)}userName pr${')'.repeat(32)}`,
  `${'('.repeat(33)}userName pr${')'.repeat(33)}`,
  `${'not ('.repeat(40)}userName pr${')'.repeat(40)}`,
  `${'('.repeat(3000)}`,
  Array.from({ length: 300 }, (_, i) => `userName eq "u${i}"`).join(' or '),
  Array.from({ length: 300 }, () => 'active pr').join(' and '),
  'emails[type eq "work"].value eq jyoung@example.com',
  'externalId eq 0123',
  'userName eq @@un:0@@',
  'members[value eq "@@u:0@@"]',
  'id eq "@@u:0@@" or id eq "@@u:1@@"',
  'meta.lastModified gt "2011-05-13T04:42:34Z"',
  'userName eq "\\ud800"',
  'userName eq "a\u0000b"',
  '\u0000',
  'userName eq "x" ]',
];
export const filterArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: filterAt(3) },
  { weight: 2, arbitrary: fc.constantFrom(...JUNK_FILTERS) },
  {
    weight: 1,
    arbitrary: fc.string({ maxLength: 30, unit: fc.constantFrom('a', ' ', '"', '(', ')', '[', ']', 'e', 'q', 'o', 'r', 'n', 't', '.', ':', '\\') }),
  },
  { weight: 1, arbitrary: textArb },
);

// ---------------------------------------------------------------------------------------------------------
// Query strings and headers

const intLikeArb = fc.oneof(
  fc.integer({ min: -5, max: 150 }).map(String),
  fc.constantFrom('0', '1', '-1', '999999999999999', '9999999999999999999', '1.5', '1e3', 'abc', '', ' 7 ', '+3', '0x10', '١٢', 'NaN', 'Infinity'),
);
const attributesListArb = fc.array(attrPathArb, { maxLength: 4 }).map((list) => list.join(','));
const queryParamArb: fc.Arbitrary<[string, string]> = fc.oneof(
  { weight: 4, arbitrary: filterArb.map((f) => ['filter', f] as [string, string]) },
  { weight: 2, arbitrary: intLikeArb.map((v) => ['count', v] as [string, string]) },
  { weight: 2, arbitrary: intLikeArb.map((v) => ['startIndex', v] as [string, string]) },
  { weight: 2, arbitrary: attributesListArb.map((v) => ['attributes', v] as [string, string]) },
  { weight: 2, arbitrary: fc.oneof(attributesListArb, fc.constant('members')).map((v) => ['excludedAttributes', v] as [string, string]) },
  {
    weight: 1,
    arbitrary: fc
      .oneof(attrPathArb, fc.constantFrom('userName', 'displayName', 'meta.created', 'emails', 'name.familyName'))
      .map((v) => ['sortBy', v] as [string, string]),
  },
  { weight: 1, arbitrary: fc.constantFrom('ascending', 'descending', 'DESCENDING', 'up', '').map((v) => ['sortOrder', v] as [string, string]) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom('Filter', 'COUNT', 'startindex', 'Attributes', 'aadOptscim062020', 'x', '', '__proto__', 'constructor'), textArb)
      .map(([k, v]) => [k, v] as [string, string]),
  },
);
const rawQueryJunk = fc.constantFrom(
  '',
  '',
  '',
  '',
  '&',
  '&&',
  '=x',
  '%zz=1',
  'filter=%',
  'filter',
  'count=%FF',
  'a[b]=c',
  'filter=userName%20eq%20%22a%22&filter=x',
);
export const queryArb: fc.Arbitrary<string> = fc.tuple(fc.array(queryParamArb, { maxLength: 4 }), rawQueryJunk).map(([pairs, junk]) => {
  const q = new URLSearchParams();
  for (const [k, v] of pairs) q.append(k, wellFormed(v));
  const text = q.toString();
  return junk ? (text ? `${text}&${junk}` : junk) : text;
});

const CONTENT_TYPES = [
  'application/scim+json',
  'application/scim+json',
  'application/json',
  'application/json; charset=utf-8',
  'application/scim+json;charset=UTF-8',
  'APPLICATION/SCIM+JSON',
  'application/merge-patch+json',
  'text/plain',
  'application/xml',
  'multipart/form-data; boundary=x',
  'application/x-www-form-urlencoded',
  '',
  ';',
  'application/json; charset=latin1',
];
const headersArb: fc.Arbitrary<Record<string, string>> = fc
  .record(
    {
      'content-type': fc.constantFrom(...CONTENT_TYPES),
      'if-match': fc.constantFrom('*', 'W/"1"', 'W/"2"', '"1"', 'W/"999"', 'junk', '', 'W/"1", W/"2"', ',,,'),
      'if-none-match': fc.constantFrom('*', 'W/"1"', 'junk'),
      accept: fc.constantFrom('application/scim+json', 'text/html', '*/*'),
      'x-http-method-override': fc.constantFrom('DELETE', 'PUT'),
    },
    { requiredKeys: [] },
  )
  .chain((h) =>
    // Most requests carry the usual content type and no preconditions.
    fc.nat({ max: 9 }).map((n) => (n < 6 ? { 'content-type': 'application/scim+json' } : h)),
  );

const authArb: fc.Arbitrary<AuthVariant> = fc.oneof(
  { weight: 60, arbitrary: fc.constant('good' as const) },
  { weight: 2, arbitrary: fc.constantFrom('lower' as const, 'spaced' as const) },
  {
    weight: 3,
    arbitrary: fc.constantFrom('missing' as const, 'empty' as const, 'wrong' as const, 'basic' as const, 'suffix' as const, 'extra' as const, 'long' as const),
  },
);

export function authorizationHeader(variant: AuthVariant, token: string): string | undefined {
  switch (variant) {
    case 'good':
      return `Bearer ${token}`;
    case 'lower':
      return `bearer ${token}`;
    case 'spaced':
      return `  Bearer   ${token}  `;
    case 'missing':
      return undefined;
    case 'empty':
      return 'Bearer';
    case 'wrong':
      return 'Bearer scim_wrong-token';
    case 'basic':
      return `Basic ${Buffer.from(`user:${token}`).toString('base64')}`;
    case 'suffix':
      return `Bearer ${token}x`;
    case 'extra':
      return `Bearer ${token} extra`;
    case 'long':
      return `Bearer ${'a'.repeat(8000)}`;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Paths

const WEIRD_SEGMENTS = [
  '..',
  '.',
  '%2e%2e',
  '%2F',
  'a%2Fb',
  '%',
  '%zz',
  '%C0%AF',
  '%ED%A0%80',
  '%FF',
  '%00',
  '%20',
  '.search',
  '.SEARCH',
  '{c:x}',
  '%7Bc%3Ax%7D',
  'Users',
  '@@u:0@@%20',
  '@@U',
  '@@g:0@@',
  'x'.repeat(5000),
  '%F0%9F%92%A5',
  'null',
  'undefined',
  '__proto__',
  'constructor',
  '%5F%5Fproto%5F%5F',
  '*',
  "'",
  '%22',
];
const segmentArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...WEIRD_SEGMENTS) },
  { weight: 2, arbitrary: textArb.map((s) => encodeURIComponent(wellFormed(s))) },
  { weight: 1, arbitrary: textArb }, // unencoded, handler only (made URL-safe for HTTP)
  { weight: 1, arbitrary: fc.uuid() },
  { weight: 1, arbitrary: fc.uuid().map((u) => u.toUpperCase()) },
);
const weirdPathArb = fc.oneof(
  fc.tuple(fc.constantFrom('/Users/', '/Groups/', '/users/', '/GROUPS/', '/'), segmentArb).map(([a, b]) => a + b),
  fc.tuple(fc.constantFrom('/Users/', '/Groups/', '/Schemas/', '/ResourceTypes/'), segmentArb, segmentArb).map(([a, b, c]) => `${a}${b}/${c}`),
  fc.constantFrom('/constructor', '/__proto__', '/toString', '/Constructor/@@u:0@@', '/hasOwnProperty/.search'),
  fc.constantFrom(
    '/',
    '',
    '//Users//@@u:0@@',
    '/Users/@@u:0@@/',
    '/Users/@@u:0@@/extra',
    '/Users/',
    '/Groups/.search/x',
    '/Me',
    '/Bulk',
    '/.search',
    '/ServiceProviderConfig/x',
    '/Users%2F@@u:0@@',
    '/%55sers',
  ),
);

const ANY_METHOD = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'get', 'Patch', 'FOO', 'PROPFIND', ''];
const HTTP_METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

// ---------------------------------------------------------------------------------------------------------
// Requests

const userBodyArb = jsonBody(fromTemplates(USER_TEMPLATES));
const putUserBodyArb = jsonBody(fromTemplates(PUT_USER_TEMPLATES));
const groupBodyArb = jsonBody(fromTemplates(GROUP_TEMPLATES));
const putGroupBodyArb = jsonBody(fromTemplates(PUT_GROUP_TEMPLATES));
const patchUserBodyArb = jsonBody(patchEnvelope(opsFrom(USER_OPS)));
const patchGroupBodyArb = jsonBody(patchEnvelope(opsFrom(GROUP_OPS)));
const searchBodyArb = jsonBody(
  fc
    .record(
      {
        schemas: fc.constant([SEARCH]),
        filter: filterArb,
        startIndex: fc.oneof(fc.integer({ min: -2, max: 20 }), intLikeArb),
        count: fc.oneof(fc.integer({ min: -2, max: 200 }), intLikeArb),
        attributes: fc.array(attrPathArb, { maxLength: 3 }),
        excludedAttributes: fc.oneof(fc.array(attrPathArb, { maxLength: 3 }), attrPathArb),
        sortBy: attrPathArb,
        sortOrder: fc.constantFrom('ascending', 'descending', 'sideways'),
      },
      { requiredKeys: ['schemas'] },
    )
    .map((v) => v as unknown),
);
const anyBodyArb: fc.Arbitrary<BodySpec> = fc.oneof(
  { weight: 3, arbitrary: fc.oneof(userBodyArb, groupBodyArb, patchUserBodyArb, patchGroupBodyArb, searchBodyArb) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((value) => ({ kind: 'json' as const, value, text: [] })) },
  {
    weight: 1,
    arbitrary: fc
      .oneof(fc.string({ maxLength: 40 }), fc.constantFrom('', ' ', 'null', '[]', '{}', '"x"', '{"a":', '\u0000', 'true'))
      .map((text) => ({ kind: 'raw' as const, text })),
  },
);
const badUtf8Arb: fc.Arbitrary<BodySpec> = fc.record({
  kind: fc.constant('badUtf8' as const),
  before: fc.constantFrom(
    '{"userName":"',
    '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"title","value":"',
    '{"displayName":"',
    '{"filter":"userName eq \\"',
  ),
  bytes: fc.constantFrom(
    [0xff],
    [0xfe, 0xff],
    [0xc0, 0xaf],
    [0xed, 0xa0, 0x80],
    [0xe2, 0x82],
    [0xf8, 0x88, 0x80, 0x80, 0x80],
    [0x80],
    [0xf4, 0x90, 0x80, 0x80],
  ),
  after: fc.constantFrom('"}', '"}]}', '\\""}', ''),
});
const hugeArb: fc.Arbitrary<BodySpec> = fc.record({
  kind: fc.constant('huge' as const),
  bytes: fc.oneof(fc.integer({ min: 990_000, max: 999_900 }), fc.integer({ min: 1_000_001, max: 1_100_000 }), fc.integer({ min: 100_000, max: 300_000 })),
  shape: fc.constantFrom('userString' as const, 'groupMembers' as const, 'unknownArray' as const, 'patchValue' as const, 'searchFilter' as const),
});
const deepArb: fc.Arbitrary<BodySpec> = fc.record({
  kind: fc.constant('deep' as const),
  depth: fc.constantFrom(1000, 1000, 1000, 10_000),
  style: fc.constantFrom('array' as const, 'object' as const),
  where: fc.constantFrom('user' as const, 'patchValue' as const, 'group' as const),
});

interface Shape {
  method: string;
  path: string;
  body?: BodySpec;
  /** Forces the HTTP path (bytes the handler never sees otherwise). */
  http?: boolean;
  chunked?: boolean;
  /** A query string of its own (instead of the random one). */
  query?: string;
  tag?: string;
}

// ---------------------------------------------------------------------------------------------------------
// Issue 10: names of built-in prototype members in every place an attribute name is accepted (projection,
// .search, sortBy, filters, PATCH paths and value keys), lists far over the limits, and 1,000-operation
// PATCHes on the largest seeded group.

export const PROTO_NAMES = ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', '__defineGetter__', 'valueOf', 'isPrototypeOf'];
const protoPathArb = fc
  .tuple(fc.constantFrom(...PROTO_NAMES), fc.constantFrom(...PROTO_NAMES), fc.nat({ max: 9 }))
  .map(
    ([a, b, shape]) =>
      [
        a,
        `${a}.${b}`,
        `name.${a}`,
        `emails.${a}`,
        `${USER}:${a}.${b}`,
        `${ENTERPRISE}:${a}`,
        `emails[${a} eq "x"]`,
        `emails[type eq "work"].${a}`,
        `members[value eq "@@u:0@@"].${a}`,
        `${a.toUpperCase()}`,
      ][shape]!,
  );
const namePathArb = fc.oneof({ weight: 2, arbitrary: attrPathArb }, { weight: 3, arbitrary: protoPathArb });
/** A list of attribute paths: a few, or many (at, just over, and far over MAX_PROJECTION_PATHS = 100). */
const pathListArb: fc.Arbitrary<string[]> = fc.oneof(
  { weight: 5, arbitrary: fc.array(namePathArb, { maxLength: 5 }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom(99, 100, 101, 300, 3_000), namePathArb)
      .map(([n, path]) => Array.from({ length: n }, (_, i) => (i % 97 === 0 ? path : `attr${i}`))),
  },
);
/** Filters on prototype names, and or-chains at and over MAX_FILTER_TERMS (100). */
const protoFilterArb = fc.oneof(
  fc.tuple(protoPathArb, fc.constantFrom('eq "x"', 'pr', 'co "a"', 'gt 1')).map(([path, tail]) => `${path} ${tail}`),
  fc
    .tuple(fc.constantFrom(99, 100, 101, 370), fc.constantFrom('userName eq "u@@n@@"', 'emails.value co "@@n@@"', 'constructor eq "@@n@@"'))
    .map(([n, term]) => Array.from({ length: n }, (_, i) => term.replace('@@n@@', String(i))).join(' or ')),
);
const projectionQueryArb = fc
  .tuple(
    fc.option(pathListArb, { nil: undefined }),
    fc.option(pathListArb, { nil: undefined }),
    fc.option(namePathArb, { nil: undefined }),
    fc.option(protoFilterArb, { nil: undefined }),
  )
  .map(([attributes, excluded, sortBy, filter]) => {
    const q = new URLSearchParams();
    if (attributes) q.set('attributes', attributes.join(','));
    if (excluded) q.set('excludedAttributes', excluded.join(','));
    if (sortBy) q.set('sortBy', sortBy);
    if (filter) q.set('filter', filter);
    return q.toString();
  });
const protoSearchBodyArb: fc.Arbitrary<BodySpec> = fc
  .record(
    {
      schemas: fc.constant([SEARCH]),
      attributes: fc.oneof(
        pathListArb,
        pathListArb.map((l) => l.join(',')),
      ),
      excludedAttributes: fc.oneof(
        pathListArb,
        pathListArb.map((l) => l.join(',')),
      ),
      sortBy: namePathArb,
      filter: protoFilterArb,
      count: fc.integer({ min: 0, max: 50 }),
    },
    { requiredKeys: ['schemas'] },
  )
  .chain((value) =>
    // Sometimes a prototype name as a SearchRequest member of its own.
    fc.option(fc.constantFrom(...PROTO_NAMES), { nil: undefined }).map((extra) => {
      if (extra) defineKey(value as Record<string, unknown>, extra, [{ toString: null }]);
      return { kind: 'json' as const, value, text: [] };
    }),
  );
/** PATCH operations whose paths and value keys are prototype names. */
const protoOpArb = fc.oneof(
  fc.tuple(fc.constantFrom('add', 'replace', 'remove', 'Add'), namePathArb, hostileValueArb).map(([op, path, value]) => ({ op, path, value })),
  fc
    .tuple(fc.constantFrom('add', 'replace'), fc.constantFrom(...PROTO_NAMES), fc.constantFrom<unknown>({ polluted: true }, 'x', [{ value: 'x' }]))
    .map(([op, name, value]) => {
      const inner: Record<string, unknown> = {};
      defineKey(inner, name, value);
      return { op, value: inner };
    }),
  fc.tuple(fc.constantFrom(...PROTO_NAMES), fc.constantFrom('emails', 'members', 'name', ENTERPRISE)).map(([name, path]) => {
    const element: Record<string, unknown> = { value: 'p@example.com' };
    defineKey(element, name, { prototype: { polluted: true } });
    return path === 'name'
      ? { op: 'add', path, value: element }
      : path === ENTERPRISE
        ? { op: 'add', value: { [ENTERPRISE]: element } }
        : { op: 'add', path, value: [element] };
  }),
);
const protoPatchBodyArb: fc.Arbitrary<BodySpec> = fc
  .array(protoOpArb, { minLength: 1, maxLength: 4 })
  .map((Operations) => ({ kind: 'json' as const, value: { schemas: [PATCH_OP], Operations }, text: [] }));
/** 1,000-operation PATCHes on a group: Okta-style value-path removes mixed with adds, Entra-style removes, or unindexable filters. */
const hugePatchBodyArb: fc.Arbitrary<BodySpec> = fc
  .tuple(fc.constantFrom('okta', 'entra', 'unindexed', 'display'), fc.constantFrom(1_000, 1_001, 300))
  .map(([style, n]) => {
    const Operations = Array.from({ length: n }, (_, i) => {
      switch (style) {
        case 'okta':
          return i % 2 ? { op: 'add', path: 'members', value: [{ value: `fuzz-new-${i}` }] } : { op: 'remove', path: `members[value eq "big-member-${i}"]` };
        case 'entra':
          return { op: 'Remove', path: 'members', value: [{ value: `big-member-${i * 3}` }] };
        case 'unindexed':
          return { op: 'remove', path: `members[display eq "x${i}" or value eq "big-member-${i}"]` };
        default:
          return { op: 'replace', path: `members[value eq "big-member-${i}"].display`, value: `D${i}` };
      }
    });
    return { kind: 'json' as const, value: { schemas: [PATCH_OP], Operations }, text: [] };
  });

const shapeArb: fc.Arbitrary<Shape> = fc.oneof(
  { weight: 14, arbitrary: fc.constantFrom('/Users', '/Groups', '/users', '/Groups/').map((path) => ({ method: 'GET', path })) },
  {
    weight: 8,
    arbitrary: fc
      .oneof(
        placeholder('u').map((u) => `/Users/${u}`),
        placeholder('g').map((g) => `/Groups/${g}`),
      )
      .map((path) => ({ method: 'GET', path })),
  },
  { weight: 14, arbitrary: userBodyArb.map((body) => ({ method: 'POST', path: '/Users', body })) },
  { weight: 7, arbitrary: groupBodyArb.map((body) => ({ method: 'POST', path: '/Groups', body })) },
  { weight: 4, arbitrary: fc.tuple(placeholder('u'), putUserBodyArb).map(([u, body]) => ({ method: 'PUT', path: `/Users/${u}`, body })) },
  { weight: 3, arbitrary: fc.tuple(placeholder('g'), putGroupBodyArb).map(([g, body]) => ({ method: 'PUT', path: `/Groups/${g}`, body })) },
  { weight: 14, arbitrary: fc.tuple(placeholder('u'), patchUserBodyArb).map(([u, body]) => ({ method: 'PATCH', path: `/Users/${u}`, body })) },
  { weight: 10, arbitrary: fc.tuple(placeholder('g'), patchGroupBodyArb).map(([g, body]) => ({ method: 'PATCH', path: `/Groups/${g}`, body })) },
  {
    weight: 3,
    arbitrary: fc
      .oneof(
        placeholder('u').map((u) => `/Users/${u}`),
        placeholder('g').map((g) => `/Groups/${g}`),
      )
      .map((path) => ({ method: 'DELETE', path })),
  },
  {
    weight: 5,
    arbitrary: fc.tuple(fc.constantFrom('/Users/.search', '/Groups/.search'), searchBodyArb).map(([path, body]) => ({ method: 'POST', path, body })),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom('GET', 'GET', 'POST', 'PUT', 'DELETE'),
        fc.constantFrom(
          '/ServiceProviderConfig',
          '/ResourceTypes',
          '/ResourceTypes/User',
          '/ResourceTypes/group',
          '/Schemas',
          `/Schemas/${USER}`,
          `/Schemas/${ENTERPRISE.toUpperCase()}`,
          '/Schemas/x',
          '/Bulk',
          '/Me',
          '/.search',
        ),
      )
      .map(([method, path]) => ({ method, path, body: { kind: 'raw' as const, text: '{}' } })),
  },
  {
    weight: 5,
    arbitrary: fc
      .tuple(fc.constantFrom(...ANY_METHOD), weirdPathArb, fc.option(anyBodyArb, { nil: undefined }))
      .map(([method, path, body]) => (body ? { method, path, body } : { method, path })),
  },
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.constantFrom('POST', 'PUT', 'PATCH'), fc.constantFrom('/Users', '/Groups', '/Users/@@u:0@@', '/Groups/@@g:0@@', '/Users/.search'), anyBodyArb)
      .map(([method, path, body]) => ({ method, path, body })),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom('POST /Users', 'PATCH /Users/@@u:1@@', 'PUT /Groups/@@g:0@@', 'POST /Groups/.search'), deepArb)
      .map(([route, body]) => ({ method: route.split(' ')[0]!, path: route.split(' ')[1]!, body })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom('POST /Users', 'PATCH /Users/@@u:1@@', 'PATCH /Groups/@@g:0@@', 'PUT /Users/@@u:0@@', 'POST /Groups', 'POST /Users/.search'),
        hugeArb,
        fc.boolean(),
      )
      .map(([route, body, chunked]) => ({
        method: route.split(' ')[0]!,
        path: route.split(' ')[1]!,
        body,
        http: body.kind === 'huge' && body.bytes > 1_000_000,
        chunked,
      })),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom('POST /Users', 'PATCH /Users/@@u:0@@', 'POST /Groups', 'POST /Users/.search'), badUtf8Arb, fc.boolean())
      .map(([route, body, http]) => ({ method: route.split(' ')[0]!, path: route.split(' ')[1]!, body, http })),
  },
  // Issue 10 generators.
  {
    weight: 5,
    arbitrary: fc
      .tuple(fc.constantFrom('/Users', '/Groups', '/Users/@@u:0@@', '/Groups/@@g:2@@'), projectionQueryArb)
      .map(([path, query]) => ({ method: 'GET', path, query, tag: 'projection/sortBy/filter names' })),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.constantFrom('/Users/.search', '/Groups/.search'), protoSearchBodyArb)
      .map(([path, body]) => ({ method: 'POST', path, body, tag: '.search names and lists' })),
  },
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.constantFrom('/Users/@@u:0@@', '/Users/@@u:1@@', '/Groups/@@g:0@@', '/Groups/@@g:2@@'), protoPatchBodyArb)
      .map(([path, body]) => ({ method: 'PATCH', path, body, tag: 'PATCH paths and value keys' })),
  },
  { weight: 1, arbitrary: hugePatchBodyArb.map((body) => ({ method: 'PATCH', path: '/Groups/@@g:2@@', body, tag: '1,000-op PATCH on a big group' })) },
);

/** One generated request; about 10% go through real HTTP (Express), the rest straight to `handleScim`. */
export const requestArb: fc.Arbitrary<FuzzRequest> = fc
  .tuple(shapeArb, queryArb, fc.constantFrom(...Array.from({ length: 10 }, (_, i) => i)), headersArb, authArb)
  .map(([shape, rawQuery, dice, headers, auth]) => {
    // List-style queries matter on GET collections and are noise elsewhere (but still sent sometimes).
    const isList = shape.method === 'GET' && /^\/(users|groups)\/?$/i.test(shape.path);
    const query = shape.query ?? (isList || dice < 3 ? rawQuery : '');
    // Node's HTTP server refuses request heads over 16 KB (431) before any middleware runs: such requests
    // go to the handler, which is what they would test anyway.
    const headBytes = shape.path.length * 3 + query.length + (auth === 'long' ? 8_100 : 200);
    const httpable = HTTP_METHODS.has(shape.method) && headBytes < 12_000;
    const via: Via = shape.http ? 'http' : httpable && dice === 0 ? 'http' : 'handler';
    const request: FuzzRequest = { via, method: via === 'http' && !httpable ? 'GET' : shape.method, path: shape.path, query, auth, headers };
    if (shape.body) request.body = shape.body;
    if (shape.chunked && via === 'http') request.chunked = true;
    if (shape.tag) request.tag = shape.tag;
    return request;
  });

// ---------------------------------------------------------------------------------------------------------
// Execution helpers

export interface Known {
  users: { id: string; userName: string }[];
  groups: { id: string; displayName: string }[];
}

/** Substitutes the placeholders; unknown references become a fresh-looking id that exists nowhere. */
export function resolvePlaceholders(text: string, known: Known, self: string | undefined): string {
  return text.replace(/@@(u|g|un|UN|gn|self)(?::(\d+))?@@/g, (_, kind: string, n: string | undefined) => {
    const i = Number(n ?? 0);
    const user = known.users.length ? known.users[i % known.users.length] : undefined;
    const group = known.groups.length ? known.groups[i % known.groups.length] : undefined;
    switch (kind) {
      case 'u':
        return user?.id ?? '00000000-0000-4000-8000-000000000000';
      case 'g':
        return group?.id ?? '00000000-0000-4000-8000-000000000001';
      case 'un':
        return user?.userName ?? 'nobody@example.com';
      case 'UN':
        return (user?.userName ?? 'nobody@example.com').toUpperCase();
      case 'gn':
        return group?.displayName ?? 'No Group';
      default:
        return self ?? 'self';
    }
  });
}

/**
 * A raw query string with its placeholders resolved: those URLSearchParams encoded (`%40%40u%3A0%40%40`)
 * become the encoded value, so that generated filters name resources that exist.
 */
export function resolveQueryPlaceholders(query: string, known: Known, self: string | undefined): string {
  return resolvePlaceholders(query, known, self).replace(/%40%40(u|g|un|UN|gn|self)(?:%3A(\d+))?%40%40/g, (_, kind: string, n: string | undefined) =>
    encodeURIComponent(resolvePlaceholders(`@@${kind}${n === undefined ? '' : `:${n}`}@@`, known, self)),
  );
}

/** The bytes of a body (placeholders resolved); huge and deep bodies are built here. */
export function materializeBody(spec: BodySpec, resolve: (text: string) => string): Buffer {
  switch (spec.kind) {
    case 'json':
      return Buffer.from(resolve(applyTextMutations(JSON.stringify(spec.value) ?? 'null', spec.text)));
    case 'raw':
      return Buffer.from(spec.text);
    case 'badUtf8':
      return Buffer.concat([Buffer.from(spec.before), Buffer.from(spec.bytes), Buffer.from(spec.after)]);
    case 'deep': {
      const open = spec.style === 'array' ? '['.repeat(spec.depth) : '{"a":'.repeat(spec.depth);
      const close = spec.style === 'array' ? ']'.repeat(spec.depth) : '}'.repeat(spec.depth);
      const value = `${open}"bottom"${close}`;
      if (spec.where === 'user')
        return Buffer.from(
          `{"schemas":["${USER}"],"userName":"deep-${spec.depth}-${spec.style}-${Math.random().toString(36).slice(2)}@example.com","deepAttribute":${value}}`,
        );
      if (spec.where === 'group') return Buffer.from(`{"displayName":"Deep ${spec.depth} ${Math.random().toString(36).slice(2)}","members":${value}}`);
      return Buffer.from(`{"schemas":["${PATCH_OP}"],"Operations":[{"op":"add","path":"deepAttribute","value":${value}}]}`);
    }
    case 'huge': {
      const n = spec.bytes;
      switch (spec.shape) {
        case 'userString': {
          const head = `{"schemas":["${USER}"],"userName":"huge-${Math.random().toString(36).slice(2)}@example.com","title":"`;
          return Buffer.from(`${head}${'x'.repeat(Math.max(0, n - head.length - 2))}"}`);
        }
        case 'groupMembers': {
          // ~20 bytes per member: at most ~15,000 members so that later PATCHes on the group stay cheap.
          const count = Math.min(15_000, Math.floor(n / 20));
          const members = Array.from({ length: count }, (_, i) => `{"value":"m${i}"}`).join(',');
          const head = `{"displayName":"Huge ${Math.random().toString(36).slice(2)}","members":[${members}],"pad":"`;
          return Buffer.from(`${head}${'p'.repeat(Math.max(0, n - head.length - 2))}"}`);
        }
        case 'unknownArray': {
          const count = Math.floor(n / 4);
          return Buffer.from(`{"userName":"arr-${Math.random().toString(36).slice(2)}","bulk":[${Array.from({ length: count }, () => '1').join(',')}]}`);
        }
        case 'patchValue': {
          const head = `{"schemas":["${PATCH_OP}"],"Operations":[{"op":"replace","path":"title","value":"`;
          return Buffer.from(`${head}${'t'.repeat(Math.max(0, n - head.length - 4))}"}]}`);
        }
        case 'searchFilter': {
          const head = '{"filter":"userName eq \\"';
          return Buffer.from(`${head}${'f'.repeat(Math.max(0, n - head.length - 4))}\\""}`);
        }
      }
    }
  }
}

/** Strings of a JSON body, for the consistency checker's probes (bounded). */
export function stringsIn(value: unknown, out: string[] = [], limit = 40): string[] {
  const stack = [value];
  while (stack.length && out.length < limit) {
    const node = stack.pop();
    if (typeof node === 'string') {
      if (node.length <= 2000) out.push(node);
    } else if (Array.isArray(node)) {
      for (let i = 0; i < Math.min(node.length, 200); i++) stack.push(node[i]);
    } else if (typeof node === 'object' && node !== null) {
      for (const v of Object.values(node)) stack.push(v);
    }
  }
  return out;
}

/** Makes a path usable in an HTTP request line: characters outside printable ASCII are %-encoded. */
export function httpSafePath(path: string): string {
  return wellFormed(path).replace(/[^\x21-\x7e]/gu, (c) => encodeURIComponent(c));
}
