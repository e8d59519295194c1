/**
 * Case-insensitive attribute lookups (src/scim/attribute-access.ts) over objects wide enough for the cached
 * lower-cased key map: setAttr and deleteAttr keep it right; a key deleted directly is not found.
 */
import { describe, expect, it } from 'vitest';
import { deleteAttr, getAttr, keyOf, setAttr } from '../../src/scim/attribute-access.js';
import type { JsonObject } from '../../src/scim/normalize.js';

const wide = (): JsonObject => Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`k${i}`, i]));

describe('keyOf on a wide object', () => {
  it('forgets a key deleted directly', () => {
    const object = wide();
    expect(keyOf(object, 'K1')).toBe('k1');
    delete object.k1;
    expect(keyOf(object, 'K1')).toBeUndefined();
  });

  it('keeps the map right through setAttr and deleteAttr, spellings replaced included', () => {
    const object = wide();
    setAttr(object, 'Title', 'a');
    expect(keyOf(object, 'title')).toBe('Title');
    setAttr(object, 'TITLE', 'b');
    expect(Object.keys(object).filter((k) => k.toLowerCase() === 'title')).toEqual(['TITLE']);
    deleteAttr(object, 'title');
    expect(keyOf(object, 'Title')).toBeUndefined();
    setAttr(object, 'title', 'c');
    expect(getAttr(object, 'TITLE')).toBe('c');
  });
});
