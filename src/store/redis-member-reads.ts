/**
 * Reading group members on Redis: member pages (at most MEMBER_CHUNK members a call), a whole list read in
 * pages of one version, and groups with all their members (docs/groups.md).
 */
import { newLeaseToken } from './group-lease.js';
import { parseMembers, parseResource } from './redis-codec.js';
import type { RedisContext } from './redis-context.js';
import { takeLease, tryLease } from './redis-group-lease.js';
import { MEMBER_CHUNK as CHUNK } from './redis-scripts.js';
import { isValidStoreId, type GroupLease, type MemberPage, type Store, type StoredMember, type StoredResource, type WriteOutcome } from './store.js';
import { assertCursorPaging, assertPaging, assertStoreId } from './store-checks.js';
import { keptWithin, PAGE_MEMBERS_BUDGET } from './read-budgets.js';

/** How often a group read restarts when the group changes between its member pages. */
const MAX_READ_ATTEMPTS = 5;

/** What the rest of the Redis store reads members with. */
export interface RedisMemberReads {
  methods: Pick<Store, 'listGroupMembers' | 'listGroupMembersAfter' | 'leaseGroup'>;
  readAllMembers(connectionId: string, groupId: string, expectedVersion: number, take: (page: StoredMember[]) => void): Promise<number | WriteOutcome>;
  memberPage(connectionId: string, groupId: string, offset: number, count: number): Promise<MemberPage | null>;
  withMembers(connectionId: string, group: StoredResource): Promise<StoredResource | null>;
  allWithMembers(connectionId: string, groups: StoredResource[], upTo?: number): Promise<StoredResource[]>;
  withinMembersBudget<T extends StoredResource>(groups: T[], upTo?: number): T[];
}

export function redisMemberReads(ctx: RedisContext): RedisMemberReads {
  const { run, tag } = ctx;

  /**
   * Hands every member of a group at `expectedVersion` to `take`, a page (at most CHUNK) at a time as each
   * arrives; answers how many, or the refusal a write at that version gets (not_found, version_mismatch).
   */
  async function readAllMembers(
    connectionId: string,
    groupId: string,
    expectedVersion: number,
    take: (page: StoredMember[]) => void,
  ): Promise<number | WriteOutcome> {
    for (let offset = 0, count = 0; ; offset += CHUNK) {
      const page = await memberPage(connectionId, groupId, offset, CHUNK);
      if (page === null) return { ok: false, reason: 'not_found' };
      if (page.version !== expectedVersion) return { ok: false, reason: 'version_mismatch', currentVersion: page.version };
      take(page.members);
      count += page.members.length;
      if (offset + CHUNK >= page.total) return count;
    }
  }

  /** One LIST_MEMBERS call (at most CHUNK members). */
  async function memberPage(connectionId: string, groupId: string, offset: number, count: number): Promise<MemberPage | null> {
    const reply = (await run('members', tag(connectionId), groupId, offset, Math.min(count, CHUNK))) as unknown[];
    if (reply.length === 0) return null;
    const [version, total, flat] = reply as [number, number, string[]];
    return { version: Number(version), total: Number(total), members: parseMembers(flat) };
  }

  /**
   * Up to `count` members from `offset`, in calls of at most CHUNK, read once; `consistent` tells whether
   * every call found the version the first did.
   */
  async function memberRun(connectionId: string, groupId: string, offset: number, count: number): Promise<{ page: MemberPage; consistent: boolean } | null> {
    const page = await memberPage(connectionId, groupId, offset, count);
    if (page === null) return null;
    let consistent = true;
    for (let at = offset + CHUNK; consistent && page.members.length < count && at < page.total; at += CHUNK) {
      const next: MemberPage | null = await memberPage(connectionId, groupId, at, Math.min(CHUNK, count - page.members.length));
      if (next === null) return null;
      consistent = next.version === page.version;
      page.members.push(...next.members);
    }
    return { page, consistent };
  }

  /** Up to `count` members from `offset`, in calls of at most CHUNK, all of one version (else restarted). */
  async function memberPages(connectionId: string, groupId: string, offset: number, count: number): Promise<MemberPage | null> {
    let page: MemberPage | null = null;
    for (let attempt = 0; attempt < MAX_READ_ATTEMPTS; attempt++) {
      const read = await memberRun(connectionId, groupId, offset, count);
      if (read === null) return null;
      page = read.page;
      if (read.consistent) return page;
    }
    // The group kept changing: answer the last read with its first page's version, which is already stale,
    // so that no conditional request can match what this mixed read returned.
    return page;
  }

  /**
   * The group with all its members, read in pages of the group's version. A group that changed while it was
   * read is read again under its write lease when that is free, which holds its writers back (only a
   * deletion moves it then): re-read while one-member PATCHes kept changing it, a 100,000-member group took
   * 13-19 s to read.
   */
  async function withMembers(connectionId: string, group: StoredResource): Promise<StoredResource | null> {
    let row = group;
    let lease: GroupLease | null = null;
    let triedLease = false;
    try {
      for (let attempt = 0; ; attempt++) {
        const read = await memberRun(connectionId, row.id, 0, Number.MAX_SAFE_INTEGER);
        if (read === null) return null;
        const out = { ...row, members: read.page.members, memberCount: read.page.total };
        if (read.consistent && read.page.version === row.version) return out;
        // Never answer a mix with the newer version: the older one can match no conditional request later.
        if (attempt + 1 >= MAX_READ_ATTEMPTS) return { ...out, version: Math.min(row.version, read.page.version) };
        // One try, not a wait: the caller may be a write that holds this lease itself (a PATCH that needs
        // the list in hand), and a lease held by another is only waited for by writes.
        if (!triedLease) {
          triedLease = true;
          const taken = await tryLease(run, tag(connectionId), row.id);
          if (typeof taken !== 'number') lease = taken;
        }
        const fresh = (await run('get', tag(connectionId), 'g', row.id)) as unknown[];
        if (fresh.length === 0) return null;
        row = parseResource('Group', fresh);
      }
    } finally {
      await lease?.release();
    }
  }

  /** The first groups of a page whose members stay within PAGE_MEMBERS_BUDGET (at least one). */
  function withinMembersBudget<T extends StoredResource>(groups: T[], upTo = Infinity): T[] {
    const kept = keptWithin(groups, (g) => ((g.memberCount ?? 0) > upTo ? 0 : (g.memberCount ?? 0)), PAGE_MEMBERS_BUDGET);
    return kept === groups.length ? groups : groups.slice(0, kept);
  }

  /** The groups with their members, but those of more than `upTo` members (ReadOptions.membersUpTo), which come as they are. */
  async function allWithMembers(connectionId: string, groups: StoredResource[], upTo = Infinity): Promise<StoredResource[]> {
    const out: StoredResource[] = [];
    for (const g of groups) {
      const full = (g.memberCount ?? 0) > upTo ? g : await withMembers(connectionId, g);
      if (full) out.push(full);
    }
    return out;
  }

  return {
    methods: {
      async listGroupMembers(connectionId, groupId, offset, count) {
        assertStoreId('connectionId', connectionId);
        assertPaging(offset, count);
        if (!isValidStoreId(groupId)) return null;
        return memberPages(connectionId, groupId, offset, count);
      },

      async leaseGroup(connectionId, groupId): Promise<GroupLease | null> {
        assertStoreId('connectionId', connectionId);
        // No group has such an id: nothing to hold (its writes answer not_found).
        if (!isValidStoreId(groupId)) return { token: newLeaseToken(), release: async () => {} };
        return takeLease(run, tag(connectionId), groupId);
      },

      async listGroupMembersAfter(connectionId, groupId, after, count) {
        assertStoreId('connectionId', connectionId);
        assertCursorPaging(after, count);
        if (!isValidStoreId(groupId)) return null;
        const reply = (await run('membersAfter', tag(connectionId), groupId, after, Math.min(count, CHUNK))) as unknown[];
        if (reply.length === 0) return null;
        const [version, total, flat, next] = reply as [number, number, string[], string];
        return { version: Number(version), total: Number(total), members: parseMembers(flat), next: next === '' ? null : Number(next) };
      },
    },
    readAllMembers,
    memberPage,
    withMembers,
    allWithMembers,
    withinMembersBudget,
  };
}
