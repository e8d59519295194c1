/**
 * The SAML request and assertion caches of the in-memory store (Store.saveSamlRequest,
 * rememberSamlAssertion; docs/saml.md §What the store caches). Entries expire; each cache holds at most
 * `maxEntries`, the expired ones swept first when it is full.
 */
import { StoreUnavailableError } from './unavailable.js';
import { assertSamlCacheArgs, type Store } from './store.js';

export type SamlCacheMethods = Pick<Store, 'saveSamlRequest' | 'getSamlRequest' | 'deleteSamlRequest' | 'rememberSamlAssertion'>;

/** How many entries each cache keeps at most (a login step adds one request; a login one assertion). */
export const MAX_MEMORY_SAML_ENTRIES = 100_000;

/** Keys → value and expiry time (ms), in insertion order. */
class ExpiringKeys {
  private readonly expiries = new Map<string, { value: string; expiry: number }>();
  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number,
  ) {}

  get(key: string): string | null {
    const entry = this.expiries.get(key);
    if (entry === undefined) return null;
    if (entry.expiry > this.now()) return entry.value;
    this.expiries.delete(key);
    return null;
  }

  /** Adds `key`; when full after sweeping, drops the oldest when `evict`, else answers false (not added). */
  add(key: string, value: string, ttlMs: number, evict: boolean): boolean {
    if (this.expiries.size >= this.maxEntries && !this.expiries.has(key)) {
      const now = this.now();
      for (const [k, entry] of this.expiries) if (entry.expiry <= now) this.expiries.delete(k);
      if (this.expiries.size >= this.maxEntries) {
        if (!evict) return false;
        this.expiries.delete(this.expiries.keys().next().value!);
      }
    }
    this.expiries.delete(key);
    this.expiries.set(key, { value, expiry: this.now() + ttlMs });
    return true;
  }

  delete(key: string): void {
    this.expiries.delete(key);
  }
}

/** A customer and an id as one key (customer ids hold no whitespace, so the space cannot be ambiguous). */
const keyOf = (customerId: string, id: string) => `${customerId} ${id}`;

export function memorySamlCache(options: { maxEntries?: number; now?: () => number } = {}): SamlCacheMethods {
  const max = options.maxEntries ?? MAX_MEMORY_SAML_ENTRIES;
  const now = options.now ?? Date.now;
  const requests = new ExpiringKeys(max, now);
  const assertions = new ExpiringKeys(max, now);
  return {
    async saveSamlRequest(customerId, requestId, value, ttlMs) {
      assertSamlCacheArgs(customerId, requestId, ttlMs, value);
      // A full request cache drops its oldest entry: that login then fails, and can be started again.
      requests.add(keyOf(customerId, requestId), value, ttlMs, true);
    },
    async getSamlRequest(customerId, requestId) {
      assertSamlCacheArgs(customerId, requestId);
      return requests.get(keyOf(customerId, requestId));
    },
    async deleteSamlRequest(customerId, requestId) {
      assertSamlCacheArgs(customerId, requestId);
      requests.delete(keyOf(customerId, requestId));
    },
    async rememberSamlAssertion(customerId, assertionId, ttlMs) {
      assertSamlCacheArgs(customerId, assertionId, ttlMs);
      const key = keyOf(customerId, assertionId);
      if (assertions.get(key) !== null) return false;
      // A full assertion cache must not forget a live assertion (it could be replayed): fail closed.
      if (!assertions.add(key, '1', ttlMs, false)) throw new StoreUnavailableError('the SAML assertion cache is full; retry later');
      return true;
    },
  };
}
