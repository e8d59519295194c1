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

/**
 * Counts `item` and keeps it if it is among the first `limit` by `order` (by arrival without one). The
 * examples stay sorted; an item after the last kept one costs one comparison, any other O(limit).
 */
export function addExample<T>(list: Examples<T>, item: T, limit: number, order?: (a: T, b: T) => number): void {
  list.count++;
  const { examples } = list;
  const full = examples.length >= limit;
  if (!order) {
    if (!full) examples.push(item);
    return;
  }
  if (full && (limit === 0 || order(item, examples[examples.length - 1]!) >= 0)) return;
  let at = examples.length;
  while (at > 0 && order(item, examples[at - 1]!) < 0) at--;
  examples.splice(at, 0, item);
  if (examples.length > limit) examples.pop();
}
