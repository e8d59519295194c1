/**
 * Group writes waiting for a group's write lease (Store.leaseGroup, and a store write of a group another
 * write holds the lease of), per SCIM connection and in the process. A waiter holds its parsed body and the
 * member changes planned from it for up to LEASE_WAIT_MS, and the rate limit counts requests, not what they
 * hold: 400 `replace members` PATCHes of 20,000 values each on one group held 1.7 GB while they waited (an
 * audit of 2026-12), 26 GB at the rate limit's pace. So each waiter is weighed ({@link waiterWeight}), and one
 * that would take its connection's waiters past LEASE_WAIT_BYTES_PER_CONNECTION, or the process's past
 * LEASE_WAIT_BYTES, is refused at once (the caller answers 503 and `Retry-After`, as when the wait runs out)
 * instead of waiting; a connection's or the process's first waiter is always let wait.
 */
import { LEASE_WAIT_BYTES, LEASE_WAIT_BYTES_PER_CONNECTION, LEASE_WAITER_BYTES_PER_VALUE, LEASE_WAITER_MIN_BYTES } from './limits.js';

/** What waiters hold: how many, and their weight in all. */
export interface Waiting {
  waiters: number;
  bytes: number;
}

/**
 * What a waiting group write holds, estimated: its body's bytes, plus what every member value it carries
 * costs once parsed and planned (the value's object, its entries in the plan's maps), at least
 * LEASE_WAITER_MIN_BYTES, which also bounds how many light waiters poll the store. Pure.
 */
export function waiterWeight(bodyBytes: number, values: number): number {
  return Math.max(LEASE_WAITER_MIN_BYTES, bodyBytes + values * LEASE_WAITER_BYTES_PER_VALUE);
}

export class LeaseWaiters {
  /** Connection id → its waiters; an entry exists only while one waits. */
  private readonly byConnection = new Map<string, Waiting>();
  private readonly all: Waiting = { waiters: 0, bytes: 0 };

  constructor(
    private readonly perConnection = LEASE_WAIT_BYTES_PER_CONNECTION,
    private readonly perProcess = LEASE_WAIT_BYTES,
  ) {}

  /**
   * Runs `wait` (a wait for a lease, or the store write that may wait) counted as a waiter of `connectionId`
   * weighing `weight` until it settles; or, were the connection's or the process's budget passed, does not
   * run it and answers why.
   */
  async wait<T>(connectionId: string, weight: number, wait: () => Promise<T>): Promise<{ waited: T } | { refused: string }> {
    const own = this.byConnection.get(connectionId) ?? { waiters: 0, bytes: 0 };
    if (own.waiters > 0 && own.bytes + weight > this.perConnection) {
      return { refused: `${own.waiters} writes of this connection already wait for groups' write leases` };
    }
    if (this.all.waiters > 0 && this.all.bytes + weight > this.perProcess) return { refused: "too many writes wait for groups' write leases" };
    this.count(connectionId, own, 1, weight);
    try {
      return { waited: await wait() };
    } finally {
      this.count(connectionId, own, -1, -weight); // the connection's entry while it has a waiter: this one
    }
  }

  /** What the waiters of `connectionId` hold now, or those of the whole process without one (tests). */
  held(connectionId?: string): Waiting {
    const waiting = connectionId === undefined ? this.all : this.byConnection.get(connectionId);
    return { waiters: waiting?.waiters ?? 0, bytes: waiting?.bytes ?? 0 };
  }

  private count(connectionId: string, own: Waiting, waiters: number, bytes: number): void {
    own.waiters += waiters;
    own.bytes += bytes;
    this.all.waiters += waiters;
    this.all.bytes += bytes;
    if (own.waiters > 0) this.byConnection.set(connectionId, own);
    else this.byConnection.delete(connectionId);
  }
}

/** The process's waiters: one budget for every handler (and so every app mounting scim-sso) in it. */
export const leaseWaiters = new LeaseWaiters();
