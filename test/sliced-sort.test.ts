/**
 * The sort of long lists (src/sliced-sort.ts): the same order as a stable Array.prototype.sort, and other
 * callbacks run while it works (it yields), whatever the length.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SORT_RUN_WEIGHT, SORT_YIELD_EVERY, sortInSlices } from '../src/sliced-sort.js';
import { keyWeight } from '../src/scim/sort.js';
import { ticksDuring } from './support/event-loop.js';

const byKey = (a: { key: number }, b: { key: number }) => a.key - b.key;

describe('sortInSlices', () => {
  it('sorts strings as sort() does without a comparator, yielding between runs and merges', async () => {
    for (const length of [0, 1, SORT_RUN_WEIGHT, SORT_RUN_WEIGHT + 1, 5 * SORT_RUN_WEIGHT + 17]) {
      // Duplicates, shared prefixes, case, and code points past the BMP (compared by UTF-16 code units).
      const items = Array.from({ length }, (_, i) => `${['a', 'B', 'a😀', 'ä', ''][i % 5]}${(i * 7919) % 1000}`);
      const { result: sorted, ticks: turns } = await ticksDuring(() => sortInSlices(items));
      expect(sorted).toEqual([...items].sort());
      // 6 runs: a yield before each run but the first, and none inside a merge this short.
      if (length === 5 * SORT_RUN_WEIGHT + 17) expect(turns).toBeGreaterThanOrEqual(5);
    }
  });

  it('orders like a stable sort, equal keys in their original order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 3 * SORT_RUN_WEIGHT + 7 }), async (keys) => {
        const items = keys.map((key, position) => ({ key, position }));
        expect(await sortInSlices(items, byKey)).toEqual([...items].sort(byKey));
      }),
      { numRuns: 40 },
    );
  });

  it('leaves its input as it was and sorts an empty list', async () => {
    const items = [{ key: 2 }, { key: 1 }];
    expect(await sortInSlices(items, byKey)).toEqual([{ key: 1 }, { key: 2 }]);
    expect(items).toEqual([{ key: 2 }, { key: 1 }]);
    expect(await sortInSlices([], byKey)).toEqual([]);
  });

  it('lets other callbacks run before a long sort finishes', async () => {
    const items = Array.from({ length: 20 * SORT_RUN_WEIGHT }, (_, i) => ({ key: (i * 7_919) % 1_000 }));
    let ranMeanwhile = false;
    setImmediate(() => (ranMeanwhile = true));
    const sorted = sortInSlices(items, byKey).then((out) => ({ out, ranMeanwhile }));
    const done = await sorted;
    expect(done.ranMeanwhile).toBe(true);
    expect(done.out.map((x) => x.key)).toEqual(items.map((x) => x.key).sort((a, b) => a - b));
  });

  it('orders like a stable sort with weights too', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 1, max: 3_000 })), { maxLength: 2_000 }), async (pairs) => {
        const items = pairs.map(([key, weight], position) => ({ key, weight, position }));
        expect(await sortInSlices(items, byKey, (item) => item.weight)).toEqual([...items].sort(byKey));
      }),
      { numRuns: 40 },
    );
  });

  it('compares no more characters of long keys in one turn than of short ones, keys weighed as sortKeyed weighs them', async () => {
    // Keys sharing a long start: each comparison reads it all. Found by an audit (2026-12-07): 450 titles
    // of 230,000 characters held the loop 111-154 ms, each run of 500 sorted in one turn.
    const prefix = 'p'.repeat(20_000);
    const items = Array.from({ length: 450 }, (_, i) => ({ key: `${prefix}${(i * 7_919) % 450}`, position: i }));
    let chars = 0;
    let most = 0;
    let running = true;
    const turns = () => {
      most = Math.max(most, chars);
      chars = 0;
      if (running) setImmediate(turns);
    };
    setImmediate(turns);
    const compare = (a: { key: string }, b: { key: string }) => {
      chars += Math.min(a.key.length, b.key.length);
      return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
    };
    const sorted = await sortInSlices(items, compare, keyWeight);
    running = false;
    most = Math.max(most, chars);
    expect(sorted).toEqual([...items].sort(compare));
    // A turn compares about SORT_YIELD_EVERY units of 64 characters, or one run of SORT_RUN_WEIGHT units
    // (a run of n items sorts in about n log n comparisons); without weights, all 450 keys were one run.
    const run = Math.ceil(SORT_RUN_WEIGHT / keyWeight(items[0]!)) + 1;
    expect(most).toBeLessThanOrEqual(Math.max(SORT_YIELD_EVERY * 64 + 2 * items[0]!.key.length, run * Math.log2(run + 1) * 2 * items[0]!.key.length));
    expect(most).toBeLessThan(450 * items[0]!.key.length);
  });
});
