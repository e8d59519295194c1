/**
 * The SAML assertion cache of the Redis store (Store.rememberSamlAssertion; docs/saml.md §What the store
 * caches). One key per assertion (`<p>` = prefix), one command, expiring by PX:
 *
 *   <p>samlseen:{<customerId>}:<assertionId>   STRING  '1' until the assertion's NotOnOrAfter (SET NX: replay check)
 */
import type { Cluster, Redis } from 'ioredis';
import type { SamlCacheMethods } from './memory-saml-cache.js';
import { assertSamlCacheArgs } from './store-checks.js';

export function redisSamlCache(client: Redis | Cluster, prefix: string): SamlCacheMethods {
  const redis = client as Redis; // Redis and Cluster share these signatures; the cast only picks one.
  const assertionKey = (customerId: string, id: string) => `${prefix}samlseen:{${customerId}}:${id}`;
  return {
    async rememberSamlAssertion(customerId, assertionId, ttlMs) {
      assertSamlCacheArgs(customerId, assertionId, ttlMs);
      return (await redis.set(assertionKey(customerId, assertionId), '1', 'PX', ttlMs, 'NX')) === 'OK';
    },
  };
}
