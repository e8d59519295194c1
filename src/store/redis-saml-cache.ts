/**
 * The SAML request and assertion caches of the Redis store (Store.saveSamlRequest, rememberSamlAssertion;
 * docs/saml.md §What the store caches). Keys (`<p>` = prefix), one command each, expiring by PX:
 *
 *   <p>samlreq:{<customerId>}:<requestId>      STRING  the request's issue instant, while it may be answered
 *   <p>samlseen:{<customerId>}:<assertionId>   STRING  '1' until the assertion's NotOnOrAfter (SET NX: replay check)
 */
import type { Cluster, Redis } from 'ioredis';
import type { SamlCacheMethods } from './memory-saml-cache.js';
import { assertSamlCacheArgs } from './store.js';

export function redisSamlCache(client: Redis | Cluster, prefix: string): SamlCacheMethods {
  const redis = client as Redis; // Redis and Cluster share these signatures; the cast only picks one.
  const requestKey = (customerId: string, id: string) => `${prefix}samlreq:{${customerId}}:${id}`;
  const assertionKey = (customerId: string, id: string) => `${prefix}samlseen:{${customerId}}:${id}`;
  return {
    async saveSamlRequest(customerId, requestId, value, ttlMs) {
      assertSamlCacheArgs(customerId, requestId, ttlMs, value);
      await redis.set(requestKey(customerId, requestId), value, 'PX', ttlMs);
    },
    async getSamlRequest(customerId, requestId) {
      assertSamlCacheArgs(customerId, requestId);
      return redis.get(requestKey(customerId, requestId));
    },
    async deleteSamlRequest(customerId, requestId) {
      assertSamlCacheArgs(customerId, requestId);
      await redis.del(requestKey(customerId, requestId));
    },
    async rememberSamlAssertion(customerId, assertionId, ttlMs) {
      assertSamlCacheArgs(customerId, assertionId, ttlMs);
      return (await redis.set(assertionKey(customerId, assertionId), '1', 'PX', ttlMs, 'NX')) === 'OK';
    },
  };
}
