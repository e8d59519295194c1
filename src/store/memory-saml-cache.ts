/**
 * The SAML request and assertion caches of the in-memory store (Store.saveSamlRequest,
 * rememberSamlAssertion; docs/saml.md §What the store caches). Entries expire; each cache holds at most
 * `maxEntries`, the expired ones swept first when it is full (src/store/expiring-keys.ts: amortised O(log n) per call).
 */
import { ExpiringKeys } from './expiring-keys.js';
import { StoreUnavailableError } from './unavailable.js';
import { assertSamlCacheArgs, type Store } from './store.js';

export type SamlCacheMethods = Pick<Store, 'saveSamlRequest' | 'getSamlRequest' | 'deleteSamlRequest' | 'rememberSamlAssertion'>;

/** How many entries each cache keeps at most (a login step adds one request; a login one assertion). */
export const MAX_MEMORY_SAML_ENTRIES = 100_000;

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
      // A full request cache drops the entry that expires first (its oldest: every request has the same
      // lifetime): that login then fails, and can be started again.
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
