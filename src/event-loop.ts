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
