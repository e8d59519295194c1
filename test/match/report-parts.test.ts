import { describe, expect, it } from 'vitest';
import { countFirst, countInOrder, keepAt, noExamples } from '../../src/match/examples.js';
import { SeqSet } from '../../src/match/seq-set.js';

describe('report examples', () => {
  it('counts everything and places the first `limit` by the order, whatever the arrival order', () => {
    const list = noExamples<number>();
    const places: number[] = [];
    for (const n of [5, 9, 1, 7, 3, 8, 2, 6, 4, 0]) {
      const at = countInOrder(list, 4, n, (key, example) => key - example);
      places.push(at);
      if (at !== -1) keepAt(list, 4, at, n);
    }
    expect(list).toEqual({ count: 10, examples: [0, 1, 2, 3] });
    // 8 and 6 come after the last kept one when they arrive: nothing to make for them.
    expect(places).toEqual([0, 1, 0, 2, 1, -1, 1, -1, 3, 0]);
  });

  it('keeps ties in arrival order, keeps the first by arrival without an order, and counts with a limit of 0', () => {
    const ties = noExamples<{ k: number; n: string }>();
    for (const item of [
      { k: 1, n: 'first' },
      { k: 0, n: 'zero' },
      { k: 1, n: 'second' },
    ]) {
      const at = countInOrder(ties, 5, item.k, (key, example) => key - example.k);
      keepAt(ties, 5, at, item);
    }
    expect(ties.examples.map((i) => i.n)).toEqual(['zero', 'first', 'second']);
    const arrival = noExamples<string>();
    for (const s of ['c', 'a', 'b']) if (countFirst(arrival, 2)) arrival.examples.push(s);
    expect(arrival).toEqual({ count: 3, examples: ['c', 'a'] });
    const none = noExamples<number>();
    expect(countInOrder(none, 0, 1, (a, b) => a - b)).toBe(-1);
    expect(countFirst(none, 0)).toBe(false);
    expect(none).toEqual({ count: 2, examples: [] });
  });
});

describe('SeqSet', () => {
  it('holds the numbers added, growing past its first size', () => {
    const set = new SeqSet();
    for (const n of [1, 31, 32, 33, 1_000_000]) set.add(n);
    for (const n of [1, 31, 32, 33, 1_000_000]) expect(set.has(n)).toBe(true);
    for (const n of [0, 2, 30, 34, 999_999, 1_000_001, 9_000_000_000]) expect(set.has(n)).toBe(false);
  });
});
