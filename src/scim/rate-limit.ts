/**
 * Per-connection rate limiting of SCIM requests: a token bucket per connection, in this process (each app
 * instance limits on its own). Over the limit a client gets 429 with an integer `Retry-After`, which Okta
 * honours (it reads only integer seconds) and Entra retries on.
 *
 * Buckets live in a bounded LRU (src/lru.ts), so the map never grows with the number of connections. An
 * evicted bucket starts full again; with the default capacity that needs 10,000 other connections to send
 * requests after its last one, by which time it has normally refilled anyway.
 */
import { CACHE_LIMITS, Lru } from '../lru.js';

export interface RateLimit {
  /** Sustained requests per second per connection. */
  requestsPerSecond: number;
  /** Requests allowed in a burst above the sustained rate. */
  burst: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class RateLimiter {
  private readonly buckets: Lru<string, Bucket>;

  constructor(
    private readonly limit: RateLimit,
    capacity: number = CACHE_LIMITS.rateLimitBuckets,
  ) {
    this.buckets = new Lru(capacity);
  }

  /** Buckets held (bounded by the capacity). */
  get size(): number {
    return this.buckets.size;
  }

  /** Takes one request from the connection's bucket: 0 if allowed, else the seconds to wait (an integer ≥ 1). */
  take(connectionId: string, now = Date.now()): number {
    const { requestsPerSecond, burst } = this.limit;
    // A known bucket is changed in place: get() already marked it as just used.
    let bucket = this.buckets.get(connectionId);
    if (!bucket) this.buckets.set(connectionId, (bucket = { tokens: burst, updatedAt: now }));
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * requestsPerSecond);
    bucket.updatedAt = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / requestsPerSecond));
  }
}
