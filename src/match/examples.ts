/**
 * A category of the matching report: how many fall in it, and at most a fixed number of examples, so that
 * the report on 100,000 SSO users is as small as the report on 100.
 */
export interface Examples<T> {
  count: number;
  /** The first few in the category's order (REPORT_EXAMPLES at most, src/match/report.ts). */
  examples: T[];
}

export const noExamples = <T>(): Examples<T> => ({ count: 0, examples: [] });

/** Counts one more, and answers whether it is among the first `limit` by arrival: then the caller pushes it. */
export function countFirst<T>(list: Examples<T>, limit: number): boolean {
  list.count++;
  return list.examples.length < limit;
}

/**
 * Counts one more, and answers where an item with `key` goes among the first `limit` by `compare`
 * (negative when `key` comes before the example), or -1 when it is not kept: then the caller makes no item.
 * A key after the last kept one costs one comparison.
 */
export function countInOrder<T, K>(list: Examples<T>, limit: number, key: K, compare: (key: K, example: T) => number): number {
  list.count++;
  const { examples } = list;
  if (examples.length >= limit && (limit === 0 || compare(key, examples[examples.length - 1]!) >= 0)) return -1;
  let at = examples.length;
  while (at > 0 && compare(key, examples[at - 1]!) < 0) at--;
  return at;
}

/** Keeps `item` at the place countInOrder answered, dropping the last one past `limit`. */
export function keepAt<T>(list: Examples<T>, limit: number, at: number, item: T): void {
  list.examples.splice(at, 0, item);
  if (list.examples.length > limit) list.examples.pop();
}
