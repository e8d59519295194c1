/**
 * The one bounded cache for per-process state (discovery, openid-client configurations, strategies,
 * rate-limit buckets): a least-recently-used map with a fixed capacity. Every cache keyed by something a
 * customer or a client controls (customer ids, connections, issuers) must be one of these, so a process
 * serving many tenants (or a tenant creating many) never grows without bound. docs/login-freshness.md
 * lists the bounds.
 */
import { OrderedMap } from './ordered-map.js';

export class Lru<K, V> {
  /** Least recently used first (src/ordered-map.ts: a read, a set and an eviction are O(1)). */
  private readonly entries = new OrderedMap<K, V>();
  /** The summed weight of the values, when the cache is bounded by weight too. */
  private weight = 0;

  /**
   * @param capacity the most entries kept; the least recently used one goes when a new one would exceed it.
   * @param bound optionally also a most total weight (e.g. bytes) of the values; `weigh` is called when a value
   *   is set and when it goes, and must give the same weight both times.
   */
  constructor(
    readonly capacity: number,
    private readonly bound?: { maxWeight: number; weigh: (value: V) => number },
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('Lru capacity must be a positive integer');
    if (bound && !(bound.maxWeight > 0)) throw new RangeError('Lru maxWeight must be positive');
  }

  /** The summed weight of the values held (0 without a weight bound). */
  get totalWeight(): number {
    return this.weight;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The value, marked as just used; undefined when absent. */
  get(key: K): V | undefined {
    return this.entries.use(key);
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  /**
   * Stores the value as the most recently used, evicting the least recently used entries beyond capacity
   * (or beyond the weight bound; a value heavier than the whole bound is not kept at all).
   */
  set(key: K, value: V): this {
    const weight = this.bound ? this.bound.weigh(value) : 0;
    if (this.bound && weight > this.bound.maxWeight) {
      this.remove(key);
      return this;
    }
    // A key already held is updated in place and made the newest (OrderedMap.set): no node is unlinked and
    // made again, which the recent users' copy of every user read paid on each read.
    if (this.bound && this.entries.has(key)) this.weight -= this.bound.weigh(this.entries.get(key) as V);
    this.entries.set(key, value);
    this.weight += weight;
    while (this.entries.size > this.capacity || (this.bound && this.weight > this.bound.maxWeight)) {
      this.remove(this.entries.oldest()![0]);
    }
    return this;
  }

  delete(key: K): boolean {
    return this.remove(key);
  }

  /** Deletes the entry, keeping the total weight right. */
  private remove(key: K): boolean {
    if (!this.entries.has(key)) return false;
    if (this.bound) this.weight -= this.bound.weigh(this.entries.get(key) as V);
    return this.entries.delete(key);
  }

  /** Deletes every entry whose value passes `test` (O(size): for rare administrative changes). */
  deleteWhere(test: (value: V) => boolean): number {
    let deleted = 0;
    for (const [key, value] of this.entries.entries()) {
      if (test(value) && this.remove(key)) deleted++;
    }
    return deleted;
  }

  /**
   * Deletes the entry only if it still holds `value` (a failed promise must not evict a newer entry that
   * replaced it in the meantime).
   */
  deleteIf(key: K, value: V): boolean {
    if (!this.entries.has(key) || this.entries.get(key) !== value) return false;
    return this.remove(key);
  }
}

/** Capacities of the per-process caches (docs/login-freshness.md says why these numbers). */
export const CACHE_LIMITS = {
  /** openid-client Configurations (discovery + client credentials), one per customer. */
  discoveries: 1000,
  /** Built passport strategies, one per customer (for its stored client version). */
  strategies: 1000,
  /** SCIM rate-limit token buckets, one per connection that sent a request. */
  rateLimitBuckets: 10_000,
  /** SCIM bearer tokens known good, one per connection's current token (src/scim/auth.ts TokenCache). */
  scimTokens: 10_000,
  /** Users this instance read or wrote last, the start of its next PUT or PATCH (src/scim/recent-users.ts). */
  recentUsers: 10_000,
  /** The most UTF-16 code units of user JSON and group memberships those hold together (about 32 MB). */
  recentUsersChars: 16 * 1024 * 1024,
  /** Session users' last version checked and whether it was active, per store (src/guard/session-check.ts). */
  sessionVersions: 10_000,
} as const;
