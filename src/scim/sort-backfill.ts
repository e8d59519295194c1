/**
 * Sort indexes for data an earlier version of this library stored (before writes carried sort entries):
 * until they are complete the store's listSorted answers null, and a `sortBy` that a sort index would
 * answer indexes a bounded share of that backlog before it is answered by a scan (docs/sorting.md).
 * Nothing runs in the background: connections whose clients never sort never pay for it.
 */
import { yieldToEventLoop } from './event-loop.js';
import { LIST_YIELD_EVERY } from './limits.js';
import type { ResourceContext } from './resources.js';
import { sortEntries } from './sort.js';

/** Resources one request reads from the backlog at most (4 slices of LIST_YIELD_EVERY, 2 round trips each). */
export const BACKLOG_PER_REQUEST = 4 * LIST_YIELD_EVERY;

/** Indexes up to BACKLOG_PER_REQUEST resources of the backlog; answers whether the sort indexes are complete. */
export async function indexSortBacklog(ctx: ResourceContext): Promise<boolean> {
  const { store, connectionId, spec } = ctx;
  for (let read = 0; read < BACKLOG_PER_REQUEST; read += LIST_YIELD_EVERY) {
    if (read > 0) await yieldToEventLoop();
    const backlog = await store.sortBacklog(connectionId, spec.kind, LIST_YIELD_EVERY);
    if (backlog.done) return true;
    // A resource changed since the read answers 'retry': the next slice reads it again.
    const fills = backlog.resources.map((r) => ({ id: r.id, version: r.version, sortKeys: sortEntries(spec, spec.fromStored(r)) }));
    if ((await store.fillSortIndex(connectionId, spec.kind, backlog.through, fills)) === 'done') return true;
  }
  return false;
}
