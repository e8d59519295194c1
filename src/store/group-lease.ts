/**
 * Group write leases (Store.leaseGroup, docs/groups.md "Writes of more than one step"): what both stores
 * share, and the memory store's in-process leases. The Redis store keeps its leases in Redis
 * (src/store/redis-group-lease.ts), so that they hold across app instances.
 */
import { randomUUID } from 'node:crypto';
import { GROUP_LEASE_MS, LEASE_WAIT_MS, type GroupLease } from './store.js';

/** The first and the longest pause between two looks at a leased group; each look waits 1.5× the last. */
const FIRST_POLL_MS = 4;
const LEASE_POLL_MS = 100;

/** A fresh lease token: 32 hex digits (no braces or spaces; ResourceWrite.lease is checked against this form). */
export const newLeaseToken = (): string => randomUUID().replace(/-/g, '');

/**
 * The pause before look number `look` (0, 1, …) at a lease that has `ms` left: growing from FIRST_POLL_MS by
 * half each look up to LEASE_POLL_MS, never past what the lease has left, jittered so that waiting writers
 * do not look in step.
 */
export const leasePause = (ms: number, look = 0): Promise<void> => {
  const longest = Math.min(Math.max(ms, 1), FIRST_POLL_MS * 1.5 ** look, LEASE_POLL_MS);
  return new Promise((resolve) => setTimeout(resolve, 1 + Math.random() * longest));
};

/**
 * Runs `work` holding `lease` (`work` gets its token), and releases it after, whatever happens; answers
 * `refused()` when there is no lease (the wait for it ran out).
 */
export async function holding<T>(lease: GroupLease | null, refused: () => T, work: (token: string) => Promise<T>): Promise<T> {
  if (lease === null) return refused();
  try {
    return await work(lease.token);
  } finally {
    await lease.release();
  }
}

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
   * Waits while a lease other than `mine` holds `key`; false when `until` (epoch ms; LEASE_WAIT_MS from now by
   * default) came first. A caller that must act in the same turn as the last look checks {@link blocks} after it.
   */
  async function clear(key: string, mine?: string, until = Date.now() + LEASE_WAIT_MS): Promise<boolean> {
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
    const until = Date.now() + LEASE_WAIT_MS;
    do if (!(await clear(key, undefined, until))) return null;
    while (held.has(key));
    let free = () => {};
    const freed = new Promise<void>((resolve) => (free = resolve));
    const lease: Held = { token: newLeaseToken(), freed, free, timer: setTimeout(() => drop(key, lease), GROUP_LEASE_MS).unref() };
    held.set(key, lease);
    return { token: lease.token, release: async () => drop(key, lease) };
  }

  return { blocks, clear, take };
}
