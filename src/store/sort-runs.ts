/**
 * Where a sorted page lies in a sort index that keeps resources without a value apart (listSorted).
 */

/** A run of ranks in a sort index, ascending [from, to), read backwards when `reverse`. */
export interface RankRun {
  from: number;
  to: number;
  reverse: boolean;
}

/**
 * Where listSorted's page [offset, offset + count) lies in an ascending index of `total` entries (the null
 * values last, in creation order): ascending, those ranks; descending, the index read backwards from its end.
 * LIST_SORTED in redis-page-scripts.ts does the same arithmetic in Lua.
 */
export function sortedRun(total: number, descending: boolean, offset: number, count: number): RankRun | null {
  const end = Math.min(total, offset + count);
  if (offset >= end) return null;
  return descending ? { from: total - end, to: total - offset, reverse: true } : { from: offset, to: end, reverse: false };
}
