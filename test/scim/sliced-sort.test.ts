/**
 * The sort of scanned lists (src/scim/sliced-sort.ts): the same order as a stable Array.prototype.sort, and
 * other callbacks run while it works (it yields), whatever the length.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LIST_YIELD_EVERY } from '../../src/scim/limits.js';
import { sortInSlices } from '../../src/scim/sliced-sort.js';

const byKey = (a: { key: number }, b: { key: number }) => a.key - b.key;

describe('sortInSlices', () => {
  it('orders like a stable sort, equal keys in their original order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 3 * LIST_YIELD_EVERY + 7 }), async (keys) => {
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
    const items = Array.from({ length: 20 * LIST_YIELD_EVERY }, (_, i) => ({ key: (i * 7_919) % 1_000 }));
    let ranMeanwhile = false;
    setImmediate(() => (ranMeanwhile = true));
    const sorted = sortInSlices(items, byKey).then((out) => ({ out, ranMeanwhile }));
    const done = await sorted;
    expect(done.ranMeanwhile).toBe(true);
    expect(done.out.map((x) => x.key)).toEqual(items.map((x) => x.key).sort((a, b) => a - b));
  });
});
