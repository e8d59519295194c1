/**
 * A group's write lease on Redis (Store.leaseGroup; docs/groups.md, "Writes of more than one step"), and
 * the chunks of member changes too many for one script, which are applied under it. While one write holds
 * the lease, REPLACE_RESOURCE answers every other write of that group 'leased', and the other write waits
 * instead of racing: before the lease, a long write lost to a stream of one-member PATCHes again and again
 * (it read or staged the whole list each time) and answered 503.
 */
import type { RunScript } from './redis-commands.js';
import { leasePause, newLeaseToken } from './group-lease.js';
import { LEASE_WAIT_MS, type GroupLease, type MemberChanges, type StoredMember } from './store.js';

export type LeaseScript = 'lease';

/**
 * Takes group `groupId`'s lease (GROUP_LEASE), waiting while another write holds it (at most
 * LEASE_WAIT_MS); null when the wait ran out.
 */
export async function takeLease(run: RunScript<LeaseScript>, tag: string, groupId: string): Promise<GroupLease | null> {
  const until = Date.now() + LEASE_WAIT_MS;
  for (let look = 0; ; look++) {
    const taken = await tryLease(run, tag, groupId);
    if (typeof taken !== 'number') return taken;
    if (Date.now() >= until) return null;
    await leasePause(taken, look);
  }
}

/** One try at group `groupId`'s lease: the lease, or the milliseconds its holder's has left. */
export async function tryLease(run: RunScript<LeaseScript>, tag: string, groupId: string): Promise<GroupLease | number> {
  const token = newLeaseToken();
  const left = Number(await run('lease', tag, groupId, token, 'take'));
  if (left !== 0) return left;
  return { token, release: async () => void (await run('lease', tag, groupId, token, 'drop')) };
}

/** One chunk of a chunked member write: removals, or additions (`cycled`: also removed by an earlier chunk). */
export interface MemberChunk {
  remove: string[];
  add: StoredMember[];
  cycled: boolean[];
}

/**
 * Pure: member changes cut into chunks of at most `size` values, removals first, then additions, in the
 * order a single write applies them (MemberChanges, src/store/store.ts: additions are appended at the end).
 */
export function memberChunks(changes: MemberChanges, size: number): MemberChunk[] {
  const chunks: MemberChunk[] = [];
  for (let i = 0; i < changes.remove.length; i += size) chunks.push({ remove: changes.remove.slice(i, i + size), add: [], cycled: [] });
  const removed = new Set(changes.remove);
  for (let i = 0; i < changes.add.length; i += size) {
    const add = changes.add.slice(i, i + size);
    chunks.push({ remove: [], add, cycled: add.map((m) => removed.has(m.value)) });
  }
  return chunks;
}
