/**
 * Sharing the event loop with every other tenant: long work is cut into phases or slices with a yield
 * between them, so no single request holds the loop for long (docs/limits.md §Measured).
 */

/**
 * Lets every other ready callback run before continuing, I/O included. Two immediates, not one: an
 * immediate set from an I/O callback (a request's body just read) runs in the same turn of the loop, before
 * any new I/O is polled, so the steps either side of one such yield held the loop as one step (67 ms for a
 * 1 MB PATCH body's prescan and parse, audit 24). The second is set from the check phase, so the loop polls
 * I/O and runs timers before it.
 */
export const yieldToEventLoop = (): Promise<void> => new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));

/**
 * Group member lists longer than this are handled in phases (parse, shape check, normalise, check, write,
 * render) with a yield between them, so no phase holds the loop for the whole list's work.
 */
export const PHASED_MEMBERS = 1_000;

/** Request bodies larger than this yield once after parsing. */
export const PHASED_BODY_BYTES = 64 * 1024;

/**
 * Stored resources whose JSON is longer than this are updated in phases (parse, apply, rebuild, compare,
 * serialise, diff) with a yield between them: on a 1 MB user each phase takes 3-15 ms, and together they
 * held the loop 30-64 ms.
 */
export const PHASED_JSON_CHARS = 64 * 1024;

/** Yields between two steps over a stored resource when it is large: long JSON, or a long member list. */
export async function yieldForResource(resource: { json: string; members?: readonly unknown[] | undefined }): Promise<void> {
  if (resource.json.length > PHASED_JSON_CHARS || (resource.members?.length ?? 0) > PHASED_MEMBERS) await yieldToEventLoop();
}

/** Yields when a write or read carries a member list long enough to matter (a list, or how many it holds). */
export async function yieldForMembers(members: readonly unknown[] | number | undefined): Promise<void> {
  const count = typeof members === 'number' ? members : (members?.length ?? 0);
  if (count > PHASED_MEMBERS) await yieldToEventLoop();
}

/**
 * `fn` over `items`, `size` at a time in parallel, with a yield between chunks: replies to many parallel
 * store reads would otherwise arrive and be handled in one turn of the loop (100 users in 1,000 groups each
 * held it 58-100 ms on the dashboard's customer page).
 */
export async function mapInChunks<T, R>(items: readonly T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let from = 0; from < items.length; from += size) {
    if (from > 0) await yieldToEventLoop();
    out.push(...(await Promise.all(items.slice(from, from + size).map(fn))));
  }
  return out;
}

/** Items sorted in one step up to this many; longer lists are sorted in slices of this size, then merged. */
export const SORT_SLICE = 8_192;

/** The default order of `sort()`: strings by UTF-16 code units. */
const byCodeUnits = (a: unknown, b: unknown): number => {
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
};

/** The two sorted lists merged into one; on ties `a`'s items first (a stable merge). */
function mergeSorted<T>(a: readonly T[], b: readonly T[], compare: (x: T, y: T) => number): T[] {
  const out: T[] = new Array<T>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = compare(b[j]!, a[i]!) < 0 ? b[j++]! : a[i++]!;
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
}

/**
 * `items` sorted as `[...items].sort(compare)` would (stably), without one long step: slices of SORT_SLICE
 * sorted, then merged pairwise, with a yield after each. One sort of 100,000 customer ids held the loop
 * about 70 ms, one of 100,000 SSO users by when they were last seen 2.1 s.
 */
export async function sortInSlices<T>(items: readonly T[], compare: (a: T, b: T) => number = byCodeUnits): Promise<T[]> {
  if (items.length <= SORT_SLICE) return [...items].sort(compare);
  let runs: T[][] = [];
  for (let from = 0; from < items.length; from += SORT_SLICE) {
    runs.push(items.slice(from, from + SORT_SLICE).sort(compare));
    await yieldToEventLoop();
  }
  while (runs.length > 1) {
    const merged: T[][] = [];
    for (let r = 0; r < runs.length; r += 2) {
      merged.push(r + 1 < runs.length ? mergeSorted(runs[r]!, runs[r + 1]!, compare) : runs[r]!);
      await yieldToEventLoop();
    }
    runs = merged;
  }
  return runs[0]!;
}
