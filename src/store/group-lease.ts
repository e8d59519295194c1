/**
 * Group write leases (Store.leaseGroup, docs/groups.md "Writes of more than one step"): what both stores
 * share, and the memory store's in-process leases. The Redis store keeps its leases in Redis
 * (src/store/redis-group-lease.ts), so that they hold across app instances.
 */
import { randomUUID } from 'node:crypto';
import { GROUP_LEASE_MS, LEASE_WAIT_MS, type GroupLease } from './store.js';

/** The longest single pause between two looks at a leased group. */
const LEASE_POLL_MS = 25;

/** A fresh lease token: 32 hex digits (no braces or spaces; ResourceWrite.lease is checked against this form). */
export const newLeaseToken = (): string => randomUUID().replace(/-/g, '');

/** A pause of up to `ms` (at most LEASE_POLL_MS), jittered so that waiting writers do not retry in step. */
export const leasePause = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, 1 + Math.random() * Math.min(Math.max(ms, 1), LEASE_POLL_MS)));

/** One lease held in process. */
interface Held {
  token: string;
  freed: Promise<void>;
  free: () => void;
  timer: NodeJS.Timeout;
}

/** Leases held in this process, by key (the memory store's: connection and group). */
export function inProcessLeases() {
  const held = new Map<string, Held>();
  const drop = (key: string, lease: Held) => {
    if (held.get(key) !== lease) return;
    held.delete(key);
    clearTimeout(lease.timer);
    lease.free();
  };

  /**
   * Whether a lease other than `mine` holds `key`, at once. Holding it (`mine`) renews it: it lives
   * GROUP_LEASE_MS past its holder's last write.
   */
  function blocks(key: string, mine?: string): boolean {
    const lease = held.get(key);
    if (lease === undefined) return false;
    if (lease.token !== mine) return true;
    lease.timer.refresh();
    return false;
  }

  /**
   * Waits while a lease other than `mine` holds `key`; false when LEASE_WAIT_MS ran out. A caller that must
   * act in the same turn as the last look checks {@link blocks} after it.
   */
  async function clear(key: string, mine?: string): Promise<boolean> {
    const until = Date.now() + LEASE_WAIT_MS;
    for (let lease = held.get(key); lease !== undefined && lease.token !== mine; lease = held.get(key)) {
      const left = until - Date.now();
      if (left <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([lease.freed, new Promise((resolve) => (timer = setTimeout(resolve, left)))]);
      clearTimeout(timer);
    }
    return true;
  }

  /** Takes the lease of `key`, waiting while another holds it; null when LEASE_WAIT_MS ran out. */
  async function take(key: string): Promise<GroupLease | null> {
    do if (!(await clear(key))) return null;
    while (held.has(key));
    let free = () => {};
    const freed = new Promise<void>((resolve) => (free = resolve));
    const lease: Held = { token: newLeaseToken(), freed, free, timer: setTimeout(() => drop(key, lease), GROUP_LEASE_MS).unref() };
    held.set(key, lease);
    return { token: lease.token, release: async () => drop(key, lease) };
  }

  return { blocks, clear, take };
}
