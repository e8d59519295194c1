/**
 * The one order of SSO users: most recently seen first, then by subject. The stores page in it (the Redis
 * store scores a sorted set with {@link seenScore}, whose ties Redis breaks by the member's bytes) and the
 * matching report picks its examples in it, so a page and a report list the same people the same way.
 */

/**
 * `lastSeenAt` as epoch milliseconds, negated so that ascending order is most recent first; 0 (as old as
 * 1970) for a timestamp `Date.parse` cannot read (the stores accept any timestamp string).
 */
export function seenScore(lastSeenAt: string): number {
  const ms = Date.parse(lastSeenAt);
  return Number.isFinite(ms) ? -ms : 0;
}

/**
 * Compares two strings as their UTF-8 bytes compare (the order of Redis sorted-set members): code point
 * order, which differs from JavaScript's `<` (UTF-16 code units) only where a surrogate pair meets a code
 * unit at or above U+E000.
 */
export function byUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const sx = x >= 0xd800 && x <= 0xdfff;
    const sy = y >= 0xd800 && y <= 0xdfff;
    if (sx !== sy) return sx ? 1 : -1; // a surrogate starts a code point above U+FFFF
    return x - y;
  }
  return a.length - b.length;
}

/**
 * Most recently seen first (by {@link seenScore}), then by subject ({@link byUtf8}): the order's definition.
 * The stores sort on the score computed once per user (it parses a timestamp), to the same effect; the
 * store contract checks them against this (test/store/contract.ts).
 */
export function bySeenDescending(a: { lastSeenAt: string; subject: string }, b: { lastSeenAt: string; subject: string }): number {
  return seenScore(a.lastSeenAt) - seenScore(b.lastSeenAt) || byUtf8(a.subject, b.subject);
}
