/**
 * Request bodies (src/scim/body.ts): the keys of each object and the items of all arrays are counted, and
 * the nesting measured, in the text before a large body is parsed, so a 1 MB body of 90,000 keys, of 500,000
 * nested arrays or of 65,000 one-character members is refused without JSON.parse building it; a small body
 * gets the same refusals after parsing.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ScimError } from '../../src/errors.js';
import { checkShape, MAX_BODY_DEPTH, parseJsonBody, textShape } from '../../src/scim/body.js';
import { MAX_BODY_ARRAY_ITEMS, MAX_BODY_OBJECT_KEYS } from '../../src/scim/limits.js';

/** The most keys of any object in a parsed value (the reference the text count must agree with). */
function widestParsed(value: unknown): number {
  if (Array.isArray(value)) return Math.max(0, ...value.map(widestParsed));
  if (typeof value !== 'object' || value === null) return 0;
  const keys = Object.keys(value);
  return Math.max(keys.length, ...keys.map((k) => widestParsed((value as Record<string, unknown>)[k])));
}

/** The deepest nesting of arrays and objects in a parsed value. */
function depthParsed(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + Math.max(0, ...children.map(depthParsed));
}

/** The items of all arrays in a parsed value together. */
function itemsParsed(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return (Array.isArray(value) ? value.length : 0) + children.reduce<number>((sum, child) => sum + itemsParsed(child), 0);
}

/** The keys of all objects in a parsed value. */
function keysParsed(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return (Array.isArray(value) ? 0 : children.length) + children.reduce<number>((sum, child) => sum + keysParsed(child), 0);
}

const widestObjectKeys = (text: string) => textShape(text).widest;

describe('textShape', () => {
  it.each<[string, string]>([
    ['an empty object', '{}'],
    ['an empty array', '[]'],
    ['a string holding a colon', '"a:b"'],
    ['nested objects', '{"a":1,"b":{"c":2,"d":3,"e":4}}'],
    ['objects in arrays', '[{"a":1},{"b":1,"c":[{"d":1,"e":2,"f":3,"g":4}]}]'],
    ['escaped quotes and backslashes', String.raw`{"a:b":"c:d","e":"{\"f\":1,\"g\":2}","h":"\\","i":"\\\"j:k"}`],
    ['brackets and colons inside strings', '{"a":"}}]]::","b":["{","[",":"],"c":{"d":{}}}'],
    ['whitespace everywhere', ' { "a" : 1 , "b" : [ 1 , 2 ] , "c" : { "d" : null } } '],
    ['300 members with colons and quotes', JSON.stringify({ members: Array.from({ length: 300 }, (_, i) => ({ value: `m:${i}`, display: `"${i}"` })), x: 1 })],
    ['2,000 objects with escaped quotes', JSON.stringify(Object.fromEntries(Array.from({ length: 2_000 }, (_, i) => [`k${i}`, { v: `\\:${i}"` }])))],
    ['empty arrays, with and without whitespace, and arrays of one', '{"a":[],"b":[ ],"c":[\n\t],"d":[[]],"e":[[ ],[1]],"f":[""],"g":[","]}'],
    ['arrays of strings holding commas and brackets', String.raw`[",", "[,]", "\\\",", {"a": [1, 2, ",", [3, [4]]]}]`],
    ['arrays whose items start with whitespace', '[ 1 ,\n 2 ,\r\n{ } , [ ] ,"x" ]'],
  ])('counts the keys, levels and array items JSON.parse makes of %s', (_label, text) => {
    const parsed = JSON.parse(text) as unknown;
    expect(textShape(text)).toEqual({ widest: widestParsed(parsed), depth: depthParsed(parsed), items: itemsParsed(parsed), keys: keysParsed(parsed) });
  });

  it('stops measuring once the nesting passes the limit', () => {
    const deep = `${'['.repeat(500_000)}${']'.repeat(500_000)}`;
    expect(textShape(deep).depth).toBe(MAX_BODY_DEPTH + 1);
    const limit = `${'[{"a":'.repeat(MAX_BODY_DEPTH / 2)}1${'}]'.repeat(MAX_BODY_DEPTH / 2)}`;
    expect(textShape(limit).depth).toBe(depthParsed(JSON.parse(limit)));
    expect(textShape(limit).depth).toBe(MAX_BODY_DEPTH);
  });

  it('counts a repeated key each time (JSON.parse keeps one)', () => {
    expect(widestObjectKeys('{"a":1,"a":2,"a":3}')).toBe(3);
  });

  it('answers some count for text that is not JSON, which the parse then refuses', () => {
    expect(widestObjectKeys('{"a":1,"b')).toBe(1);
    expect(widestObjectKeys('}}]]{"a":1}')).toBe(1);
  });
});

describe('parseJsonBody', async () => {
  afterEach(() => vi.restoreAllMocks());

  it.each([
    ['at the top level', '{"userName":"a@x.test","userName":"b@x.test"}'],
    ['in a nested object', '{"userName":"a@x.test","name":{"givenName":"A","givenName":"B"}}'],
    ['in an array item', '{"Operations":[{"op":"replace","path":"active","value":true,"value":false}]}'],
    ['with integer-like keys', '{"1":{"a":1},"b":2,"1":{"a":2}}'],
  ])('refuses a key given twice in one object %s (JSON.parse would keep the last)', async (_label, text) => {
    const refused = await parseJsonBody(Buffer.from(text), 'application/scim+json');
    expect(refused).toBeInstanceOf(ScimError);
    expect((refused as ScimError).message).toMatch(/same key twice/);
  });

  it('takes one key in several objects, and keys that differ only in escapes are refused as the same key', async () => {
    expect(await parseJsonBody(Buffer.from('{"a":{"value":1},"b":{"value":2},"c":[{"value":3},{"value":4}]}'), 'application/json')).toEqual({
      a: { value: 1 },
      b: { value: 2 },
      c: [{ value: 3 }, { value: 4 }],
    });
    expect(await parseJsonBody(Buffer.from(String.raw`{"ab":1,"ab":2}`), 'application/json')).toBeInstanceOf(ScimError);
  });

  const wide = (keys: number, pad = 0) => `{"userName":"wide","x":"${'.'.repeat(pad)}",${Array.from({ length: keys }, (_, i) => `"k${i}":1`).join(',')}}`;

  it('refuses a large body with an object over the limit before parsing it, with the count of its keys', async () => {
    const refused = await parseJsonBody(Buffer.from(wide(20_000)), 'application/scim+json');
    expect(refused).toBeInstanceOf(ScimError);
    expect((refused as ScimError).message).toBe(`the body holds an object with 20002 keys; at most ${MAX_BODY_OBJECT_KEYS} are accepted`);
  });

  it(`refuses more than ${MAX_BODY_ARRAY_ITEMS} array items in all, in a large body before parsing it and in a small one after, with the count`, async () => {
    const members = (n: number) => Array.from({ length: n }, (_, i) => ({ value: i.toString(36) }));
    const patch = (...lists: number[]) =>
      JSON.stringify({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: lists.map((n) => ({ op: 'add', path: 'members', value: members(n) })),
      });
    // One list at the limit passes (the Operations array holds one more item); 65,000 short members fit in 1 MB.
    expect(await parseJsonBody(patch(MAX_BODY_ARRAY_ITEMS - 2), undefined)).not.toBeInstanceOf(ScimError);
    const big = patch(65_000);
    expect(big.length).toBeLessThan(1_100_000);
    const parse = vi.spyOn(JSON, 'parse');
    const refused = (await parseJsonBody(Buffer.from(big), 'application/scim+json')) as ScimError;
    expect(parse).not.toHaveBeenCalled();
    expect(refused.message).toBe(
      `the body holds 65002 array items; at most ${MAX_BODY_ARRAY_ITEMS} are accepted in one request (send a longer member list in several PATCH requests)`,
    );
    // Several lists count together: three of 10,000 are refused as one of 30,000 would be.
    expect(((await parseJsonBody(patch(10_000, 10_000, 10_000), undefined)) as ScimError).message).toContain('30004 array items');
    // Below the prescan size: 30,000 items of an array of numbers, refused by the walk after parsing.
    const numbers = `{"a":[${new Array(30_000).fill(0).join(',')}]}`;
    expect(numbers.length).toBeLessThan(64 * 1024);
    expect(((await parseJsonBody(numbers, undefined)) as ScimError).message).toContain('30000 array items');
    // A body parsed by a parser mounted before scim-sso is walked the same way.
    expect(checkShape({ members: members(MAX_BODY_ARRAY_ITEMS + 1) })).toContain(`${MAX_BODY_ARRAY_ITEMS + 1} array items`);
    expect(checkShape({ members: members(MAX_BODY_ARRAY_ITEMS) })).toBeNull();
  });

  it('refuses the same width in a small body after parsing it, with the same message', async () => {
    const text = wide(MAX_BODY_OBJECT_KEYS - 2);
    expect(text.length).toBeLessThan(64 * 1024);
    expect(Object.keys((await parseJsonBody(text, undefined)) as object)).toHaveLength(MAX_BODY_OBJECT_KEYS);
    expect(((await parseJsonBody(wide(MAX_BODY_OBJECT_KEYS - 1), undefined)) as ScimError).message).toBe(
      `the body holds an object with ${MAX_BODY_OBJECT_KEYS + 1} keys; at most ${MAX_BODY_OBJECT_KEYS} are accepted`,
    );
  });

  it.each<[string, string]>([
    ['arrays', `{"userName":"deep","x":${'['.repeat(400_000)}1${']'.repeat(400_000)}}`],
    ['objects', `{"userName":"deep","x":${'{"a":'.repeat(150_000)}1${'}'.repeat(150_000)}}`],
    ['arrays left open', '['.repeat(999_990)],
  ])('refuses a large body of nested %s before parsing it, as the small one after', async (_label, text) => {
    const parse = vi.spyOn(JSON, 'parse');
    const refused = await parseJsonBody(Buffer.from(text), 'application/scim+json');
    expect(parse).not.toHaveBeenCalled();
    expect((refused as ScimError).message).toBe(`the body is nested deeper than ${MAX_BODY_DEPTH} levels`);
    const small = `${'['.repeat(MAX_BODY_DEPTH + 1)}${']'.repeat(MAX_BODY_DEPTH + 1)}`;
    expect(((await parseJsonBody(small, undefined)) as ScimError).message).toBe(`the body is nested deeper than ${MAX_BODY_DEPTH} levels`);
    const fits = `${'['.repeat(MAX_BODY_DEPTH)}${']'.repeat(MAX_BODY_DEPTH)}`;
    expect(await parseJsonBody(fits, undefined)).not.toBeInstanceOf(ScimError);
  });

  it('walks an array as long as the items limit allows without refusing it or stopping early', async () => {
    const values = Array.from({ length: MAX_BODY_ARRAY_ITEMS - 1 }, (_, i) => (i % 2 ? {} : i));
    expect(checkShape({ userName: 'x', y: values })).toBeNull();
    expect(checkShape({ y: [...values, String.raw`\ud800`] })).toBeNull(); // the escape's text, not the code unit
    expect(checkShape({ y: [...values, Infinity] })).toBe('the body holds a number too large to represent');
    expect(checkShape({ y: [...values, String.fromCharCode(0xd800)] })).toBe('the body holds a string with a lone UTF-16 surrogate');
  });

  it('lets other work run between the phases of a large body, and parses a small one without yielding', async () => {
    const turns = async (text: string) => {
      let ran = 0;
      const tick = () => {
        ran += 1;
        if (ran < 10) setImmediate(tick);
      };
      setImmediate(tick);
      expect(await parseJsonBody(Buffer.from(text), 'application/scim+json')).not.toBeInstanceOf(ScimError);
      return ran;
    };
    expect(await turns(wide(10, 100_000))).toBeGreaterThanOrEqual(3);
    expect(await turns(wide(10, 100))).toBe(0);
  });

  it('accepts a large body whose objects are within the limit, and reports invalid JSON as such', async () => {
    const text = wide(MAX_BODY_OBJECT_KEYS - 2, 100_000);
    expect(text.length).toBeGreaterThan(64 * 1024);
    expect(Object.keys((await parseJsonBody(text, undefined)) as object)).toHaveLength(MAX_BODY_OBJECT_KEYS);
    const broken = await parseJsonBody(`${text.slice(0, -1)},`, undefined);
    expect((broken as ScimError).message).toBe('the request body is not valid JSON');
  });
});
