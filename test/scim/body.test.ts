/**
 * Request bodies (src/scim/body.ts): the keys of each object are counted in the text before a large body is
 * parsed, so a 1 MB body of 90,000 keys is refused without JSON.parse building that object.
 */
import { describe, expect, it } from 'vitest';
import { ScimError } from '../../src/errors.js';
import { parseJsonBody, widestObjectKeys } from '../../src/scim/body.js';
import { MAX_BODY_OBJECT_KEYS } from '../../src/scim/limits.js';

/** The most keys of any object in a parsed value (the reference the text count must agree with). */
function widestParsed(value: unknown): number {
  if (Array.isArray(value)) return Math.max(0, ...value.map(widestParsed));
  if (typeof value !== 'object' || value === null) return 0;
  const keys = Object.keys(value);
  return Math.max(keys.length, ...keys.map((k) => widestParsed((value as Record<string, unknown>)[k])));
}

describe('widestObjectKeys', () => {
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
  ])('counts the keys JSON.parse makes of %s', (_label, text) => {
    expect(widestObjectKeys(text)).toBe(widestParsed(JSON.parse(text)));
  });

  it('counts a repeated key each time (JSON.parse keeps one)', () => {
    expect(widestObjectKeys('{"a":1,"a":2,"a":3}')).toBe(3);
  });

  it('answers some count for text that is not JSON, which the parse then refuses', () => {
    expect(widestObjectKeys('{"a":1,"b')).toBe(1);
    expect(widestObjectKeys('}}]]{"a":1}')).toBe(1);
  });
});

describe('parseJsonBody', () => {
  const wide = (keys: number, pad = 0) => `{"userName":"wide","x":"${'.'.repeat(pad)}",${Array.from({ length: keys }, (_, i) => `"k${i}":1`).join(',')}}`;

  it('refuses a large body with an object over the limit before parsing it, with the count of its keys', () => {
    const refused = parseJsonBody(Buffer.from(wide(20_000)), 'application/scim+json');
    expect(refused).toBeInstanceOf(ScimError);
    expect((refused as ScimError).message).toBe(`the body holds an object with 20002 keys; at most ${MAX_BODY_OBJECT_KEYS} are accepted`);
  });

  it('refuses the same width in a small body after parsing it, with the same message', () => {
    const text = wide(MAX_BODY_OBJECT_KEYS - 2);
    expect(text.length).toBeLessThan(64 * 1024);
    expect(Object.keys(parseJsonBody(text, undefined) as object)).toHaveLength(MAX_BODY_OBJECT_KEYS);
    expect((parseJsonBody(wide(MAX_BODY_OBJECT_KEYS - 1), undefined) as ScimError).message).toBe(
      `the body holds an object with ${MAX_BODY_OBJECT_KEYS + 1} keys; at most ${MAX_BODY_OBJECT_KEYS} are accepted`,
    );
  });

  it('accepts a large body whose objects are within the limit, and reports invalid JSON as such', () => {
    const text = wide(MAX_BODY_OBJECT_KEYS - 2, 100_000);
    expect(text.length).toBeGreaterThan(64 * 1024);
    expect(Object.keys(parseJsonBody(text, undefined) as object)).toHaveLength(MAX_BODY_OBJECT_KEYS);
    const broken = parseJsonBody(`${text.slice(0, -1)},`, undefined);
    expect((broken as ScimError).message).toBe('the request body is not valid JSON');
  });
});
