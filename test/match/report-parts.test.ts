import { describe, expect, it } from 'vitest';
import { addExample, noExamples } from '../../src/match/examples.js';
import { SeqSet } from '../../src/match/seq-set.js';

describe('report examples', () => {
  it('counts everything and keeps the first `limit` by the order, whatever the arrival order', () => {
    const list = noExamples<number>();
    for (const n of [5, 9, 1, 7, 3, 8, 2, 6, 4, 0]) addExample(list, n, 4, (a, b) => a - b);
    expect(list).toEqual({ count: 10, examples: [0, 1, 2, 3] });
  });

  it('keeps arrival order without an order, and ties in arrival order with one', () => {
    const arrival = noExamples<string>();
    for (const s of ['c', 'a', 'b']) addExample(arrival, s, 2);
    expect(arrival).toEqual({ count: 3, examples: ['c', 'a'] });
    const ties = noExamples<{ k: number; n: string }>();
    for (const item of [
      { k: 1, n: 'first' },
      { k: 0, n: 'zero' },
      { k: 1, n: 'second' },
    ]) {
      addExample(ties, item, 5, (a, b) => a.k - b.k);
    }
    expect(ties.examples.map((i) => i.n)).toEqual(['zero', 'first', 'second']);
    const none = noExamples<number>();
    addExample(none, 1, 0, (a, b) => a - b);
    expect(none).toEqual({ count: 1, examples: [] });
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
