/**
 * What the stores keep for consumer groups of the event log (docs/events.md): per (group, connection) a
 * committed cursor and a lease, so that one app instance at a time reads a connection's events for a group
 * (per-connection order) and another takes over when the lease expires (the visibility timeout); the
 * connections whose logs were written to lately, so consumers find new events without scanning every
 * connection; and the dead letters of each group. Generic: events are the stores' own records, dead
 * letters opaque JSON.
 */

/** Group names follow the rules of store ids (isValidStoreId, src/store/store-id.ts): they go into keys. */
const GROUP_NAME = /^[^{}\s\p{Cc}]{1,200}$/u;

/** What a lease holder learns when it takes a connection's lease. */
export interface EventLease {
  /** The customer of the connection (for the events it hands on). */
  customerId: string;
  /** The group's committed cursor in the connection's log (null: from the start). */
  cursor: string | null;
}

/** A dead letter as stored: an id unique within its group, and the JSON the consumer parked. */
export interface StoredDeadLetter {
  id: string;
  json: string;
}

/**
 * A store may announce a connection at most once per this many ms (per app instance): writes in between
 * go unannounced, so a consumer looks at an announced connection again this long after the announcement.
 */
export const ANNOUNCE_INTERVAL_MS = 1000;

export interface EventConsumerStore {
  /**
   * The connections whose logs were written to at or after `since` (epoch ms on the store's clock: Redis's,
   * shared by every instance), with the time of the last such write, as the writes announced them: best
   * effort (an announcement lost with a crash is found by a consumer's rescan). `now`: the store's clock at
   * the read, from which a consumer counts its next `since`, so that no instance's own clock takes part.
   */
  activeEventConnections(since: number): Promise<{ now: number; connections: { connectionId: string; at: number }[] }>;
  /**
   * Takes (or renews) the lease of `owner` on the connection's log for `group`, for `ttlMs`; null when
   * another owner's lease has not expired, or when there is no such connection.
   */
  claimEventLease(group: string, connectionId: string, owner: string, ttlMs: number): Promise<EventLease | null>;
  /**
   * Renews `owner`'s lease for `ttlMs` and, given a cursor, commits it as the group's position; false
   * (nothing changed) when the lease is another owner's now.
   */
  commitEventCursor(group: string, connectionId: string, owner: string, ttlMs: number, cursor?: string): Promise<boolean>;
  /** Gives the lease up if `owner` holds it. */
  releaseEventLease(group: string, connectionId: string, owner: string): Promise<void>;
  /** Parks a dead letter of `group` (replacing one with the same id). */
  addDeadLetter(group: string, letter: StoredDeadLetter): Promise<void>;
  /**
   * The group's dead letters, in no particular order (admin reads; O(n), read in batches: on Redis an
   * `HSCAN` of 1,000 at a time, not one `HGETALL` holding Redis 150 ms at 100,000 letters).
   */
  listDeadLetters(group: string): Promise<StoredDeadLetter[]>;
  /** One dead letter of the group, or null (a replay reads only the letter it replays). */
  getDeadLetter(group: string, id: string): Promise<StoredDeadLetter | null>;
  /** Removes a dead letter; false when the group has none with that id. */
  removeDeadLetter(group: string, id: string): Promise<boolean>;
}

/** Throws a TypeError unless `group` can name a consumer group (the rules of store ids). */
export function assertGroupName(group: unknown): asserts group is string {
  if (typeof group !== 'string' || !GROUP_NAME.test(group))
    throw new TypeError('a consumer group name is 1-200 characters without braces, whitespace or control characters');
}

/** Throws a TypeError unless `ttlMs` is a positive integer. */
export function assertTtl(ttlMs: number): void {
  if (!Number.isSafeInteger(ttlMs) || ttlMs < 1) throw new TypeError('ttlMs must be a positive integer');
}
