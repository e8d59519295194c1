/** The event-loop helpers (src/event-loop.ts): work in chunks yields between them, and keeps order. */
import { describe, expect, it } from 'vitest';
import { SORT_SLICE, mapInChunks, sortInSlices } from '../src/event-loop.js';
import { ticksDuring } from './support/event-loop.js';

describe('mapInChunks', () => {
  it('runs at most `size` at once, in order, with other callbacks between chunks', async () => {
    let running = 0;
    let most = 0;
    const between: number[] = [];
    let done = 0;
    const tick = () => {
      between.push(done);
      if (done < 25) setImmediate(tick);
    };
    setImmediate(tick);
    const out = await mapInChunks(
      Array.from({ length: 25 }, (_, i) => i),
      10,
      async (i) => {
        most = Math.max(most, ++running);
        await Promise.resolve();
        running--;
        done++;
        return i * 2;
      },
    );
    expect(out).toEqual(Array.from({ length: 25 }, (_, i) => i * 2));
    expect(most).toBe(10);
    // The ticker ran after the first chunk and after the second, before the work was all done.
    expect(between).toContain(10);
    expect(between).toContain(20);
  });
});

describe('sortInSlices', () => {
  it('sorts as sort() does, across slices and merges, yielding between them', async () => {
    for (const length of [0, 1, SORT_SLICE, SORT_SLICE + 1, 5 * SORT_SLICE + 17]) {
      // Duplicates, shared prefixes, case, and code points past the BMP (compared by UTF-16 code units).
      const items = Array.from({ length }, (_, i) => `${['a', 'B', 'a😀', 'ä', ''][i % 5]}${(i * 7919) % 1000}`);
      const { result: sorted, ticks: turns } = await ticksDuring(() => sortInSlices(items));
      expect(sorted).toEqual([...items].sort());
      // 6 slices: 6 sorts and 3 + 2 + 1 merges, each followed by a yield.
      if (length === 5 * SORT_SLICE + 17) expect(turns).toBeGreaterThanOrEqual(12);
    }
  });
});

describe('sortInSlices with a comparator', () => {
  it('sorts as sort(compare) does, stably, across slices', async () => {
    const items = Array.from({ length: 3 * SORT_SLICE + 5 }, (_, i) => ({ key: (i * 7919) % 97, at: i }));
    const byKey = (a: { key: number }, b: { key: number }) => a.key - b.key;
    expect(await sortInSlices(items, byKey)).toEqual([...items].sort(byKey));
  });
});
