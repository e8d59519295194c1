/**
 * The customer's activity log as the store keeps it (docs/activity.md): three short lists per customer, the
 * recent SCIM requests, refused logins and failed logins, newest first. The store only keeps text; what an
 * entry holds is src/activity/entries.ts's business. Each list is capped at its newest `maxEntries` and
 * dropped `ttlMs` after its last append, so a customer's log never grows and an idle one disappears.
 */

/**
 * The lists of a customer's activity log: SCIM requests, refused logins (a decision on a person the
 * customer's IdP vouched for) and failed logins (broken before a decision: anyone can post junk to a public
 * callback, so failures have their own list and can never push refusals out).
 */
export type ActivityLogName = 'scim' | 'logins' | 'failures';

const LOG_NAMES: ReadonlySet<string> = new Set<ActivityLogName>(['scim', 'logins', 'failures']);

/** Entries to prepend to one list of one customer, oldest first, each one JSON text; the list keeps its newest `maxEntries`. */
export interface ActivityAppend {
  customerId: string;
  log: ActivityLogName;
  entries: string[];
  maxEntries: number;
}

/** Checks what the caller must never get wrong (the store is no place for a silent cap). */
export function checkActivityAppend(append: ActivityAppend, ttlMs: number): void {
  if (!Number.isSafeInteger(append.maxEntries) || append.maxEntries < 1) throw new RangeError('activity maxEntries must be a positive integer');
  if (!Number.isSafeInteger(ttlMs) || ttlMs < 1) throw new RangeError('activity ttlMs must be a positive integer');
  if (!LOG_NAMES.has(append.log)) throw new RangeError('activity log must be "scim", "logins" or "failures"');
}

/** The memory store's lists: newest first, capped, empty once their TTL has passed (one list per customer at most). */
export class MemoryActivityLog {
  private readonly lists = new Map<string, { entries: string[]; expiresAt: number }>();

  constructor(private readonly now: () => number) {}

  append(appends: readonly ActivityAppend[], ttlMs: number): void {
    for (const append of appends) checkActivityAppend(append, ttlMs);
    const now = this.now();
    for (const { customerId, log, entries, maxEntries } of appends) {
      const key = `${log}\0${customerId}`;
      const current = this.lists.get(key);
      const list = current && current.expiresAt > now ? current.entries : [];
      const merged = [...entries].reverse().concat(list).slice(0, maxEntries);
      this.lists.delete(key); // set again last: the map stays in the order lists were last written
      this.lists.set(key, { entries: merged, expiresAt: now + ttlMs });
    }
    this.dropExpired(now);
  }

  /** How many lists the log holds (expired ones included until an append drops them). */
  get size(): number {
    return this.lists.size;
  }

  /**
   * Drops the expired lists at the front of the map, which is in the order they were last written, so in
   * expiry order under one retention; each list is dropped once. Without it a deleted or idle customer's
   * lists stayed for the life of the process (a soak audit, 2026-12-07), where Redis expires their keys.
   */
  private dropExpired(now: number): void {
    for (const [key, list] of this.lists) {
      if (list.expiresAt > now) break;
      this.lists.delete(key);
    }
  }

  read(customerId: string, log: ActivityLogName, limit: number): string[] {
    const list = this.lists.get(`${log}\0${customerId}`);
    if (!list || list.expiresAt <= this.now()) return [];
    return list.entries.slice(0, limit);
  }
}
