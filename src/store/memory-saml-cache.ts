/**
 * The SAML assertion cache of the in-memory store (Store.rememberSamlAssertion; docs/saml.md §What the store
 * caches). Entries expire; the cache holds at most `maxEntries`, the expired ones swept first when it is full
 * (src/store/expiring-keys.ts: amortised O(log n) per call).
 */
import { ExpiringKeys } from './expiring-keys.js';
import { StoreUnavailableError } from './unavailable.js';
import { assertSamlCacheArgs, type Store } from './store.js';

export type SamlCacheMethods = Pick<Store, 'rememberSamlAssertion'>;

/** How many assertion IDs the cache keeps at most (a login adds one). */
export const MAX_MEMORY_SAML_ENTRIES = 100_000;

/** A customer and an id as one key (customer ids hold no whitespace, so the space cannot be ambiguous). */
const keyOf = (customerId: string, id: string) => `${customerId} ${id}`;

export function memorySamlCache(options: { maxEntries?: number; now?: () => number } = {}): SamlCacheMethods {
  const max = options.maxEntries ?? MAX_MEMORY_SAML_ENTRIES;
  const now = options.now ?? Date.now;
  const assertions = new ExpiringKeys(max, now);
  return {
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
