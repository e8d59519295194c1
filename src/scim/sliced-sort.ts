/**
 * A stable sort that yields to the event loop (see src/event-loop.ts): one `Array.prototype.sort` of the
 * 50,000 resources a scan may read holds the loop for 50-100 ms, so runs of LIST_YIELD_EVERY units of items
 * are sorted one at a time, then merged pairwise, yielding every SORT_YIELD_EVERY units of comparisons.
 *
 * `weightOf` is what comparing an item costs, in units of a short key (default 1): two long keys with a long
 * common prefix compare character by character, and 450 titles of 230,000 characters sharing their start
 * held the loop 111-154 ms in one run of a unit each (an audit, 2026-12-07). A run then holds fewer items,
 * and a comparison counts the lighter of its two items' weights.
 */
import { yieldToEventLoop } from '../event-loop.js';
import { LIST_YIELD_EVERY, SORT_YIELD_EVERY } from './limits.js';

export async function sortInSlices<T>(items: readonly T[], compare: (a: T, b: T) => number, weightOf: (item: T) => number = () => 1): Promise<T[]> {
  let runs: T[][] = [];
  for (let from = 0; from < items.length;) {
    if (from > 0) await yieldToEventLoop();
    let to = from;
    for (let weight = 0; to < items.length && (to === from || weight < LIST_YIELD_EVERY); to++) weight += weightOf(items[to]!);
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
