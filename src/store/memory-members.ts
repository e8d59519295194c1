/**
 * Group member lists in the memory store: a list prepared before a write's synchronous step, the changes a
 * write makes to it, and the reverse entries (a user's groups) moved after it, a slice at a time for long
 * lists (docs/groups.md "Memory store").
 */
import { yieldToEventLoop } from '../event-loop.js';
import type { MemberDelta } from './memory-events.js';
import type { Entry, Space } from './memory-space.js';
import { type MemberChanges, type ResourceWrite, type StoredMember } from './store.js';
import { memberBytes, sameMembers } from './write-weights.js';

/**
 * A group's new member list, built from the write alone before the write takes its synchronous step: a long
 * list's maps are built on one side of a yield and swapped in on the other (src/event-loop.ts).
 */
export interface PreparedMembers {
  members: Map<string, StoredMember>;
  /** Positions 1…n in list order (Entry.memberPos). */
  positions: Map<string, number>;
  bytes: number;
}

/**
 * The member maps every user entry shares (a user has no members): one pair that refuses writes, instead of
 * two empty Maps per user, which were 368 of the 3,000 bytes of heap each of a million users took, and two
 * million objects for every garbage collection to walk (audit 25).
 */
class NoMembers<V> extends Map<string, V> {
  override set(): this {
    throw new Error('the memory store: a user has no members');
  }
}
export const USER_MEMBERS = new NoMembers<StoredMember>();
export const USER_MEMBER_POSITIONS = new NoMembers<number>();

/** Pure: the maps and byte count of a member list (the first occurrence of a value wins). */
export function prepareMembers(list: readonly StoredMember[]): PreparedMembers {
  const members = new Map<string, StoredMember>();
  const positions = new Map<string, number>();
  let bytes = 0;
  for (const m of list) {
    if (members.has(m.value)) continue;
    members.set(m.value, m);
    positions.set(m.value, members.size);
    bytes += memberBytes(m);
  }
  return { members, positions, bytes };
}

/** How many member values a write carries (a whole list, or the values it adds and removes). */
export const membersIn = (write: ResourceWrite): number =>
  (write.members?.length ?? 0) + (write.memberChanges ? write.memberChanges.add.length + write.memberChanges.remove.length : 0);

export const NO_DELTA: MemberDelta = { removed: [], added: [] };

/** Members whose reverse-index entries one synchronous step moves (settleLinks): 2-10 ms of work at 100,000 users. */
export const SETTLE_SLICE = 1_000;

/** A live user's derived `groups` changed: its version moves on (RFC 7644 §3.14). */
function bumpUser(s: Space, value: string): void {
  const user = s.resources.User.get(value);
  if (user) user.version += 1;
}

function link(s: Space, groupId: string, value: string): void {
  let groups = s.memberOf.get(value);
  if (!groups) s.memberOf.set(value, (groups = new Set()));
  groups.add(groupId);
  bumpUser(s, value);
}

function unlink(s: Space, groupId: string, value: string): void {
  const groups = s.memberOf.get(value);
  groups?.delete(groupId);
  if (groups?.size === 0) s.memberOf.delete(value);
  bumpUser(s, value);
}

/**
 * Who leaves and who joins when `group`'s list becomes `next`, into `delta`: O(old + new) lookups, one
 * per step, so that the same walk runs whole inside a write's synchronous step (setMembers) or in slices
 * before it (memberDelta).
 */
function* deltaSteps(group: Entry, next: Map<string, StoredMember>, delta: MemberDelta): Generator<void> {
  for (const value of group.members.keys()) {
    if (!next.has(value)) delta.removed.push(value);
    yield;
  }
  for (const value of next.keys()) {
    if (!group.members.has(value)) delta.added.push(value);
    yield;
  }
}

/** deltaSteps before the write's synchronous step, with a yield every SETTLE_SLICE × 10 lookups (a list of 100,000 replaced is 10-30 ms of them). */
export async function memberDelta(group: Entry, next: Map<string, StoredMember>): Promise<MemberDelta> {
  const delta: MemberDelta = { removed: [], added: [] };
  let looked = 0;
  for (const _ of deltaSteps(group, next, delta)) if (++looked % (SETTLE_SLICE * 10) === 0) await yieldToEventLoop();
  return delta;
}

/**
 * Swaps in a group's prepared member list. Answers who left and joined (`planned`: computed before the
 * write's synchronous step, against this list at the version the write expects); their reverse-index
 * entries move with {@link settleLinks}.
 */
export function setMembers(group: Entry, after: PreparedMembers, planned?: MemberDelta): MemberDelta {
  const next = after.members;
  let delta = planned;
  if (!delta) {
    delta = { removed: [], added: [] };
    const steps = deltaSteps(group, next, delta);
    while (!steps.next().done);
  }
  group.members = next;
  group.memberList = null;
  group.memberPos = after.positions;
  group.memberBase = group.memberTop;
  group.memberTop += next.size;
  return delta;
}

/**
 * Moves the reverse-index entries (and versions) of the members a write of group `groupId` removed and
 * added. Up to SETTLE_SLICE of them in the write's synchronous step, as nearly every write; a longer delta
 * (a 100,000-member group deleted or replaced: 85-230 ms in one step) after it, SETTLE_SLICE at a time with
 * a yield between, before the write answers, as the Redis store settles its jobs (docs/groups.md "Long
 * lists"). Until a member's slice runs it shows its previous groups with its previous version; a deleted
 * group is skipped by every read at once. Each member is checked against the group as it is when its
 * slice runs, so a later write of the same group in between is never undone. `open`: whether `s` is still
 * its connection's space (deleteConnection drops it).
 */
export function settleLinks(s: Space, groupId: string, delta: MemberDelta, open: () => boolean): Promise<void> | undefined {
  const settleOne = (value: string, joined: boolean) => {
    const listed = s.resources.Group.get(groupId)?.members.has(value) ?? false;
    if (joined && listed) link(s, groupId, value);
    else if (!joined && !listed) unlink(s, groupId, value);
  };
  if (delta.removed.length + delta.added.length <= SETTLE_SLICE) {
    for (const value of delta.removed) settleOne(value, false);
    for (const value of delta.added) settleOne(value, true);
    return undefined;
  }
  s.settling.set(groupId, (s.settling.get(groupId) ?? 0) + 1);
  return (async () => {
    let done = 0;
    for (const [values, joined] of [
      [delta.removed, false],
      [delta.added, true],
    ] as const) {
      for (const value of values) {
        if (++done % SETTLE_SLICE === 0) {
          await yieldToEventLoop();
          // deleteConnection dropped the space meanwhile: nothing is left to settle.
          if (!open()) return;
        }
        settleOne(value, joined);
      }
    }
  })().finally(() => {
    const left = (s.settling.get(groupId) ?? 1) - 1;
    if (left > 0) s.settling.set(groupId, left);
    else s.settling.delete(groupId);
  });
}

/** The bytes member changes would add (negative: free), without applying them. */
export function changeBytes(group: Entry, changes: MemberChanges): number {
  let delta = 0;
  const removed = new Set<string>();
  for (const value of changes.remove) {
    const m = group.members.get(value);
    if (m) {
      removed.add(value);
      delta -= memberBytes(m);
    }
  }
  for (const m of changes.add) if (removed.has(m.value) || !group.members.has(m.value)) delta += memberBytes(m);
  return delta;
}

/**
 * Whether a write's members leave the group's as they are (ResourceWrite.keepIfMembersUnchanged): O(k)
 * for changes, O(list) for a full list.
 */
export function membersUnchanged(group: Entry, write: ResourceWrite, list: PreparedMembers | null): boolean {
  if (write.memberChanges) {
    const { add, remove } = write.memberChanges;
    return remove.every((value) => !group.members.has(value)) && add.every((m) => group.members.has(m.value));
  }
  return list !== null && sameMembers(group.members, list.members.values(), list.members.size);
}

/** Applies member changes: O(k). Answers the members actually removed and added. */
export function applyChanges(group: Entry, changes: MemberChanges): MemberDelta {
  const delta: MemberDelta = { removed: [], added: [] };
  for (const value of changes.remove) {
    if (!group.members.delete(value)) continue;
    group.memberPos.delete(value);
    group.memberList = null;
    delta.removed.push(value);
  }
  for (const m of changes.add) {
    if (group.members.has(m.value)) continue;
    group.members.set(m.value, m);
    group.memberPos.set(m.value, ++group.memberTop - group.memberBase);
    group.memberList = null;
    delta.added.push(m.value);
  }
  return delta;
}
