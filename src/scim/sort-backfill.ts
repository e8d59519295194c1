/**
 * Sort indexes for resources stored without sort entries: by an earlier version of this library, or
 * before a client of the connection first sorted (both stores keep sort indexes only from then on). Until
 * they are complete the store's listSorted answers null, and a `sortBy` that a sort index would answer
 * indexes a bounded share of the backlog before it is answered by a scan (docs/sorting.md); what is left
 * goes on in the background, one slice at a time with a yield between slices, once per connection and kind
 * on this instance. Connections whose clients never sort never pay for any of it.
 */
import { yieldToEventLoop } from '../event-loop.js';
import type { ResourceContext } from './resources.js';
import { sortEntries } from './sort.js';

/**
 * Resources one backlog read and one fill take: a Redis fill costs about 28 µs a resource (FILL_SORT_INDEX
 * held Redis 13–15 ms for 500 on a connection of 100,000 users, 34–47 ms under load), and more in a larger
 * connection (slices of 125 took up to 18–20 ms at 1,000,000 users under load, audit 24; slices of 64 took
 * 80–90 µs a resource there, 193 of 15,600 scripts over 10 ms, an audit of 2026-12-07), so 32 keep a script
 * to a few ms.
 */
export const BACKLOG_SLICE = 32;

/** Resources one request reads from the backlog at most (64 slices of BACKLOG_SLICE, 2 round trips each). */
export const BACKLOG_PER_REQUEST = 64 * BACKLOG_SLICE;

/** Indexes up to BACKLOG_PER_REQUEST resources of the backlog; answers whether the sort indexes are complete. */
export async function indexSortBacklog(ctx: ResourceContext): Promise<boolean> {
  const { store, connectionId, spec } = ctx;
  for (let read = 0; read < BACKLOG_PER_REQUEST; read += BACKLOG_SLICE) {
    if (read > 0) await yieldToEventLoop();
    const backlog = await store.sortBacklog(connectionId, spec.kind, BACKLOG_SLICE);
    if (backlog.done) return true;
    // A resource changed since the read answers 'retry': the next slice reads it again.
    const fills = backlog.resources.map((r) => ({ id: r.id, version: r.version, sortKeys: sortEntries(spec, spec.fromStored(r)) }));
    if ((await store.fillSortIndex(connectionId, spec.kind, backlog.through, fills)) === 'done') return true;
  }
  return false;
}

/** Backlogs being indexed in the background, per store, by `<connection id> <kind>`. */
const running = new WeakMap<object, Set<string>>();

/**
 * Goes on indexing the backlog in the background until it is complete (or the store fails: the next
 * `sortBy` starts it again). Several instances may do this at once: the store's fill is idempotent.
 */
export function continueSortBacklog(ctx: ResourceContext): void {
  let keys = running.get(ctx.store);
  if (!keys) running.set(ctx.store, (keys = new Set()));
  const key = `${ctx.connectionId} ${ctx.spec.kind}`;
  if (keys.has(key)) return;
  keys.add(key);
  void (async () => {
    try {
      while (!(await indexSortBacklog(ctx))) await yieldToEventLoop();
    } catch {
      // Store unavailable or the connection deleted: nothing is lost, the next sortBy resumes from the cursor.
    } finally {
      keys.delete(key);
    }
  })();
}
