/**
 * The SAML assertion cache of the in-memory store (Store.rememberSamlAssertion; docs/saml.md §What the store
 * caches). Entries expire; each customer's share holds at most `maxEntriesPerCustomer`, and each login of the
 * customer sweeps the expired ones first (src/store/expiring-keys.ts: amortised O(log n) per call). A full share refuses that
 * customer's logins only: one customer whose IdP (or an insider at it) mints responses in a loop cannot fill
 * a cache every customer relies on (audit 26: one shared cache of 100,000 entries, once full, refused every
 * customer's SAML logins with a 503).
 */
import { ExpiringKeys } from './expiring-keys.js';
import { StoreUnavailableError } from './unavailable.js';
import { type Store } from './store.js';
import { assertSamlCacheArgs } from './store-checks.js';

export type SamlCacheMethods = Pick<Store, 'rememberSamlAssertion'>;

/**
 * How many assertion IDs one customer's share keeps at most (a login adds one, kept at most about 20 minutes:
 * docs/saml.md §What the store caches): 25 logins a second for 20 minutes.
 */
export const MAX_MEMORY_SAML_ENTRIES_PER_CUSTOMER = 30_000;

export function memorySamlCache(options: { maxEntriesPerCustomer?: number; now?: () => number } = {}): SamlCacheMethods {
  const max = options.maxEntriesPerCustomer ?? MAX_MEMORY_SAML_ENTRIES_PER_CUSTOMER;
  const now = options.now ?? Date.now;
  const shares = new Map<string, ExpiringKeys>();
  return {
    async rememberSamlAssertion(customerId, assertionId, ttlMs) {
      assertSamlCacheArgs(customerId, assertionId, ttlMs);
      let assertions = shares.get(customerId);
      if (assertions === undefined) shares.set(customerId, (assertions = new ExpiringKeys(max, now)));
      if (assertions.get(assertionId) !== null) return false;
      // A full share must not forget a live assertion (it could be replayed): fail closed, for this customer.
      if (!assertions.add(assertionId, '1', ttlMs, false))
        throw new StoreUnavailableError(`the SAML assertion cache of customer ${customerId} is full; retry later`);
      return true;
    },
  };
}
