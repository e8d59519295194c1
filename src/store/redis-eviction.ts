/**
 * Redis's eviction policy, checked. Under `maxmemory` with an `allkeys-*` policy Redis drops any key to make
 * room: a customer's record (its login then reads "no SCIM connection" and admits a deactivated person), a
 * connection's creation counter (the next create overwrites another user's row), an index (a duplicate
 * userName accepted). An audit of Redis deployments (2026-12-07) saw 15 of 150 deactivated users admitted
 * after one customer filled memory. So the store fails closed while such a policy is set: every call throws
 * StoreUnavailableError (SCIM answers 503, logins are refused `store_unavailable`) with the reason, and a
 * process warning says how to fix it. A `volatile-*` policy drops only keys with a time to live (group write
 * leases, a rotated token's grace, setup links, the activity log; none lets anyone in): a warning only.
 * docs/redis-deployment.md.
 */
import type { Cluster, Redis } from 'ioredis';
import { StoreUnavailableError } from './unavailable.js';

/** How often the policy is read again while calls come (an operator may change it at run time). */
export const EVICTION_CHECK_MS = 60_000;

/** What `INFO memory` says of eviction, or null when it says nothing of it (an INFO a proxy trimmed). */
export function evictionOf(info: string): { policy: string; maxmemory: number } | null {
  const policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
  const maxmemory = /^maxmemory:(\d+)/m.exec(info)?.[1];
  return policy === undefined ? null : { policy, maxmemory: maxmemory === undefined ? 0 : Number(maxmemory) };
}

/** The reason a policy makes the store unsafe (it may drop keys that carry no time to live), or null. */
export function unsafeEviction(eviction: { policy: string; maxmemory: number }): string | null {
  if (eviction.maxmemory === 0 || !eviction.policy.startsWith('allkeys-')) return null;
  return (
    `Redis evicts any key under maxmemory-policy ${eviction.policy} (maxmemory ${eviction.maxmemory} bytes): ` +
    `a customer's SCIM data could vanish and a deactivated user be admitted; set maxmemory-policy noeviction`
  );
}

/** The warning for a policy that may drop keys with a time to live only, or null. */
function volatileWarning(eviction: { policy: string; maxmemory: number }): string | null {
  if (eviction.maxmemory === 0 || !eviction.policy.startsWith('volatile-')) return null;
  return (
    `Redis evicts keys with a time to live under maxmemory-policy ${eviction.policy}: when memory is full, ` +
    `scim-sso's group write leases, setup links and activity log may be dropped; set maxmemory-policy noeviction`
  );
}

export interface EvictionGuard {
  /** The error every store call throws while the policy is unsafe, else null; starts a check when one is due. */
  refusal(): StoreUnavailableError | null;
}

/** Reads the policy of every master of `client` at the first call and every EVICTION_CHECK_MS after. */
export function evictionGuard(client: Redis | Cluster, now: () => number = Date.now): EvictionGuard {
  let unsafe: string | null = null;
  let checkedAt = -Infinity;
  let checking = false;
  const warned = new Set<string>();
  const warnOnce = (message: string) => {
    if (warned.has(message)) return;
    warned.add(message);
    process.emitWarning(message, { code: 'SCIM_SSO_REDIS_EVICTION' });
  };
  const check = async () => {
    checking = true;
    try {
      const nodes = 'nodes' in client && typeof client.nodes === 'function' ? client.nodes('master') : [client];
      const infos = await Promise.all(nodes.map((node) => node.info('memory')));
      checkedAt = now();
      unsafe = null;
      for (const info of infos) {
        const eviction = evictionOf(info);
        if (!eviction) continue;
        unsafe ??= unsafeEviction(eviction);
        const warning = unsafeEviction(eviction) ?? volatileWarning(eviction);
        if (warning) warnOnce(warning);
      }
    } catch {
      // Not connected yet, or INFO refused (an ACL): the next call tries again, a few seconds on.
      checkedAt = now() - EVICTION_CHECK_MS + 5_000;
    } finally {
      checking = false;
    }
  };
  return {
    refusal() {
      if (!checking && now() - checkedAt >= EVICTION_CHECK_MS) void check();
      return unsafe === null ? null : new StoreUnavailableError(`the store is unavailable: ${unsafe}`);
    },
  };
}
