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

/** How long a call waits for the first check (a server that does not answer fails the call itself anyway). */
const FIRST_CHECK_WAIT_MS = 2_000;

/** Whether INFO itself is refused (an ACL, a renamed command): the check is skipped then, with a warning. */
const infoRefused = (error: unknown): boolean => error instanceof Error && /NOPERM|unknown command/i.test(error.message);

export interface EvictionGuard {
  /**
   * What a store call does first: null (go on), the error it fails with while the policy is unsafe, or a
   * promise to wait for before asking again (until a first check has answered). Starts a check when one is due.
   */
  gate(): StoreUnavailableError | Promise<void> | null;
}

/**
 * Reads the policy of every master of `client` before the first call goes on, and every EVICTION_CHECK_MS
 * after in the background; the last answer stands while a check fails (a master down, a reconnect).
 */
export function evictionGuard(client: Redis | Cluster, now: () => number = Date.now): EvictionGuard {
  let verdict: 'unknown' | 'safe' | 'skipped' | StoreUnavailableError = 'unknown';
  let checkedAt = -Infinity;
  let inFlight: Promise<void> | null = null;
  const warned = new Set<string>();
  const warnOnce = (message: string) => {
    if (warned.has(message)) return;
    warned.add(message);
    process.emitWarning(message, { code: 'SCIM_SSO_REDIS_EVICTION' });
  };
  const read = async (): Promise<string[]> => {
    const nodes = 'nodes' in client && typeof client.nodes === 'function' ? client.nodes('master') : [client];
    // A Cluster lists no master while it connects or reconnects: no answer, not a safe one.
    if (nodes.length === 0) throw new Error('no Redis master to ask');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('INFO did not answer')), FIRST_CHECK_WAIT_MS);
    });
    try {
      return await Promise.race([Promise.all(nodes.map((node) => node.info('memory'))), late]);
    } finally {
      clearTimeout(timer);
    }
  };
  const check = async () => {
    try {
      const infos = await read();
      let unsafe: string | null = null;
      for (const info of infos) {
        const eviction = evictionOf(info);
        if (!eviction) continue;
        const refusal = unsafeEviction(eviction);
        unsafe ??= refusal;
        const warning = refusal ?? volatileWarning(eviction);
        if (warning) warnOnce(warning);
      }
      verdict = unsafe === null ? 'safe' : new StoreUnavailableError(`the store is unavailable: ${unsafe}`);
      checkedAt = now();
    } catch (error) {
      if (infoRefused(error)) {
        verdict = 'skipped';
        checkedAt = now();
        warnOnce('Redis refuses INFO to this client: scim-sso cannot check its maxmemory-policy, which must be noeviction (docs/redis-deployment.md)');
      } else if (verdict !== 'unknown') {
        // The last answer stands; ask again a few seconds on.
        checkedAt = now() - EVICTION_CHECK_MS + 5_000;
      }
    } finally {
      inFlight = null;
    }
  };
  return {
    gate() {
      if (verdict === 'unknown') return (inFlight ??= check());
      if (inFlight === null && now() - checkedAt >= EVICTION_CHECK_MS) inFlight = check();
      return verdict instanceof StoreUnavailableError ? verdict : null;
    },
  };
}
