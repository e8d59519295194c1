/**
 * The memory store's ordered index (src/store/ordered-index.ts) against a sorted array: random inserts and
 * deletes, with repeated keys, checked through size, at, slice and countUpTo.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OrderedIndex } from '../../src/store/ordered-index.js';

interface Item {
  key: number;
  /** Tells items with the same key apart (the index keeps them in insertion order). */
  tag: number;
}

const byKey = (a: Item, b: Item) => a.key - b.key;

/** The reference: a sorted array where an item goes after the items whose key equals its own. */
function referenceInsert(list: Item[], item: Item): void {
  let at = list.length;
  while (at > 0 && list[at - 1]!.key > item.key) at--;
  list.splice(at, 0, item);
}

describe('OrderedIndex', () => {
  it('is empty at first', () => {
    const index = new OrderedIndex<number>((a, b) => a - b);
    expect([index.size, index.at(0), index.slice(0, 10)]).toEqual([0, undefined, []]);
    expect(index.delete(1)).toBe(false);
  });

  it('agrees with a sorted array through random inserts and deletes, repeated keys in insertion order', () => {
    const op = fc.oneof(
      { weight: 3, arbitrary: fc.record({ insert: fc.integer({ min: 0, max: 400 }), times: fc.integer({ min: 1, max: 40 }) }) },
      { weight: 2, arbitrary: fc.record({ remove: fc.integer({ min: 0, max: 400 }), times: fc.integer({ min: 1, max: 40 }) }) },
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const index = new OrderedIndex<Item>(byKey);
        const reference: Item[] = [];
        let tag = 0;
        for (const o of ops) {
          for (let n = 0; n < o.times; n++) {
            if ('insert' in o) {
              const item = { key: (o.insert + n * 37) % 401, tag: tag++ };
              index.insert(item);
              referenceInsert(reference, item);
            } else {
              const key = (o.remove + n * 53) % 401;
              const at = reference.findIndex((x) => x.key === key);
              expect(index.delete({ key, tag: -1 })).toBe(at !== -1);
              // The one removed is one of the equal items; remove the same one from the reference.
              if (at !== -1) reference.splice(at, 1);
            }
          }
          expect(index.size).toBe(reference.length);
        }
        expect(index.slice(0, reference.length).map((x) => x.key)).toEqual(reference.map((x) => x.key));
        // Equal keys: the remaining items are in insertion order (deletes take the earliest).
        expect(index.slice(0, reference.length)).toEqual(reference);
        for (const [from, to] of [
          [0, 1],
          [3, 17],
          [reference.length - 5, reference.length + 5],
          [-3, 2],
        ] as const) {
          expect(index.slice(from, to)).toEqual(reference.slice(Math.max(0, from), Math.max(0, to)));
        }
        for (let rank = 0; rank < reference.length; rank += 7) expect(index.at(rank)).toBe(reference[rank]);
        // countUpTo: how many items have a key at or before each probe (the cursor seek of listAfter).
        for (let key = -1; key <= 401; key += 13) expect(index.countUpTo({ key, tag: -1 })).toBe(reference.filter((x) => x.key <= key).length);
      }),
      { numRuns: 60 },
    );
  });

  it('holds 100,000 items and pages them, then empties in random order and fills again', () => {
    const index = new OrderedIndex<number>((a, b) => a - b);
    const n = 100_000;
    const values = Array.from({ length: n }, (_, i) => (i * 7_919) % n); // a permutation of 0..n-1
    for (const v of values) index.insert(v);
    expect(index.size).toBe(n);
    expect(index.slice(54_321, 54_326)).toEqual([54_321, 54_322, 54_323, 54_324, 54_325]);
    expect(index.at(n - 1)).toBe(n - 1);
    for (const v of values.slice(0, n / 2)) expect(index.delete(v)).toBe(true);
    const left = values
      .slice(n / 2)
      .slice()
      .sort((a, b) => a - b);
    expect(index.slice(0, n)).toEqual(left);
    for (const v of values.slice(n / 2)) index.delete(v);
    expect([index.size, index.slice(0, 10)]).toEqual([0, []]);
    for (let v = 0; v < 1000; v++) index.insert(999 - v);
    expect(index.slice(0, 1000)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });
});
