/**
 * The one sort of long lists in a process every tenant shares: as stable as `Array.prototype.sort`, but
 * yielding to the event loop (src/event-loop.ts). One sort of the 50,000 resources a scan may read held
 * the loop 50-100 ms, one of 100,000 customer ids about 70 ms, one of 100,000 SSO users by when they were
 * last seen 2.1 s. So runs of SORT_RUN_WEIGHT units of items are sorted one at a time, then merged
 * pairwise, yielding every SORT_YIELD_EVERY units of comparisons.
 *
 * `weightOf` is what comparing an item costs, in units of a short key (default 1): two long keys with a long
 * common prefix compare character by character, and 450 titles of 230,000 characters sharing their start
 * held the loop 111-154 ms in one run of a unit each (an audit, 2026-12-07). A run then holds fewer items,
 * and a comparison counts the lighter of its two items' weights.
 */
import { yieldToEventLoop } from './event-loop.js';

/** Units of items sorted in one step (one `Array.prototype.sort` call). */
export const SORT_RUN_WEIGHT = 500;

/** Units of comparisons merged between two yields (a few ms). */
export const SORT_YIELD_EVERY = 10_000;

/** The default order of `sort()`: strings by UTF-16 code units. */
const byCodeUnits = (a: unknown, b: unknown): number => {
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
};

export async function sortInSlices<T>(
  items: readonly T[],
  compare: (a: T, b: T) => number = byCodeUnits,
  weightOf: (item: T) => number = () => 1,
): Promise<T[]> {
  let runs: T[][] = [];
  for (let from = 0; from < items.length;) {
    if (from > 0) await yieldToEventLoop();
    let to = from;
    for (let weight = 0; to < items.length && (to === from || weight < SORT_RUN_WEIGHT); to++) weight += weightOf(items[to]!);
    runs.push(items.slice(from, to).sort(compare));
    from = to;
  }
  let work = 0;
  while (runs.length > 1) {
    const merged: T[][] = [];
    for (let i = 0; i < runs.length; i += 2) {
      const left = runs[i]!;
      const right = runs[i + 1];
      if (!right) {
        merged.push(left);
        continue;
      }
      const out: T[] = [];
      let a = 0;
      let b = 0;
      while (a < left.length && b < right.length) {
        work += Math.min(weightOf(left[a]!), weightOf(right[b]!));
        // Stable: on a tie the left run's item goes first.
        out.push(compare(right[b]!, left[a]!) < 0 ? right[b++]! : left[a++]!);
        if (work >= SORT_YIELD_EVERY) {
          work = 0;
          await yieldToEventLoop();
        }
      }
      for (; a < left.length; a++) out.push(left[a]!);
      for (; b < right.length; b++) out.push(right[b]!);
      merged.push(out);
    }
    runs = merged;
  }
  return runs[0] ?? [];
}
