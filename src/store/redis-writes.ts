/**
 * Resource writes on Redis: one script for a user or a short member list (CREATE_RESOURCE,
 * REPLACE_RESOURCE, DELETE_RESOURCE), long member lists staged and swapped in, long member changes applied
 * in chunks under the group's lease, and the jobs those leave settled in bounded batches, by the writer or,
 * if it died, by a later write (docs/groups.md).
 */
import { randomUUID } from 'node:crypto';
import { checkWriteEvents, type EventLogOptions } from './event-log.js';
import { holding, leasePause } from './group-lease.js';
import { lastModifiedSortValue } from './last-modified.js';
import { Lru } from '../lru.js';
import { encodeSortValue, KIND_CODE, outcome, parseResource, writeArgs, type Leased, type MembersMode } from './redis-codec.js';
import type { RedisContext } from './redis-context.js';
import type { RedisEventConsumers } from './redis-event-consumers.js';
import { eventArgs } from './redis-events.js';
import { memberChunks, takeLease, type MemberChunk } from './redis-group-lease.js';
import type { RedisMemberReads } from './redis-member-reads.js';
import { BUMP_JOB, INLINE_MEMBERS, MEMBER_CHUNK } from './redis-scripts.js';
import {
  isValidStoreId,
  LEASE_WAIT_MS,
  type MemberChanges,
  type ResourceWrite,
  type Store,
  type StoredMember,
  type StoreQuota,
  type WriteOutcome,
} from './store.js';
import { assertQuota, assertResourceKind, assertStoreId, normalizeResourceWrite } from './store-checks.js';
import { memberMeta, sameMembers } from './write-weights.js';

/**
 * Per instance, a connection's stalled jobs are looked for at most this often after one of its writes (or
 * as often as `adoptJobsAfterMs`, when shorter).
 */
const STALE_JOB_CHECK_MS = 10_000;
/** Connections whose last look this instance remembers (an LRU: a look more is all forgetting costs). */
const STALE_JOB_CHECKS_KEPT = 10_000;

/** Members per script call: staged chunks and settle batches (see docs/groups.md). */
const CHUNK = MEMBER_CHUNK;
/** Members one write script joins or removes itself (inline lists and changes, chunks of longer changes). */
const INLINE = INLINE_MEMBERS;
/**
 * Members one SETTLE_JOB call settles: each moves a user's reverse entry and version (and copies its JSON
 * for the event log when an entry still names it). Batches of 1,000 took 10 ms at the median and up to 21 ms
 * on a connection of 100,000 users (a hostile-tenant audit, `SLOWLOG`); as many as a write script joins
 * itself (INLINE_MEMBERS) keep a script to a few milliseconds.
 */
const SETTLE_BATCH = INLINE_MEMBERS;

/** A fresh job token (no braces or spaces: it goes into keys and a space-separated job record). */
const newToken = (): string => randomUUID().replace(/-/g, '');

/** What the resource writes are told by the store's options. */
export interface RedisWriteOptions {
  /** adoptJobsAfterMs of RedisStoreOptions, its default applied. */
  adoptJobsAfterMs: number;
  retention: number;
  maxTombstones: number;
  eventLog: Required<EventLogOptions>;
}

export interface RedisWrites {
  methods: Pick<Store, 'createResource' | 'replaceResource' | 'deleteResource'>;
  /** Runs SETTLE_JOB for `token` until its job is finished (each call one bounded batch). */
  settle(connectionId: string, token: string): Promise<void>;
}

export function redisWrites(
  ctx: RedisContext,
  options: RedisWriteOptions,
  members: Pick<RedisMemberReads, 'readAllMembers' | 'memberPage'>,
  consumers: Pick<RedisEventConsumers, 'announce'>,
): RedisWrites {
  const { run, tag, now } = ctx;
  const { retention, maxTombstones, eventLog } = options;
  const { readAllMembers, memberPage } = members;

  async function settle(connectionId: string, token: string): Promise<void> {
    while (Number(await run('settle', tag(connectionId), token, SETTLE_BATCH)) > 0) {
      // each call settles one batch
    }
    // The users the job's batches left past their budget for new versions (BUMP_SCRIPT_BYTES).
    if (token !== BUMP_JOB) await settle(connectionId, BUMP_JOB);
  }

  const adoptAfterMs = options.adoptJobsAfterMs;
  const staleJobChecks = new Lru<string, number>(STALE_JOB_CHECKS_KEPT);

  /**
   * Finishes the jobs of a connection that stopped moving: a write of several steps settles its own job
   * (members' reverse entries, users' versions, touched groups), and one whose process died part way left
   * it, which only this finishes (docs/groups.md, "If a process dies mid-way"). Settling a swapped-in list
   * or a touch job beside a live writer only helps (each batch is atomic); STALE_JOBS hands out a staging job
   * only once nobody can still be staging it.
   */
  async function adoptStaleJobs(connectionId: string): Promise<void> {
    for (let round = 0; round < 8; round++) {
      const tokens = (await run('staleJobs', tag(connectionId), adoptAfterMs, 16)) as string[];
      let settled = 0;
      for (const token of tokens) {
        // One job that cannot be settled now (Redis away a moment) does not hold back the others.
        settled += await settle(connectionId, token).then(
          () => 1,
          () => 0,
        );
      }
      if (tokens.length < 16 || settled === 0) return;
    }
  }

  /** After a write: looks for stalled jobs of the connection, at most every STALE_JOB_CHECK_MS per instance, in the background. */
  function adoptStaleJobsNow(connectionId: string): void {
    const at = Date.now();
    const last = staleJobChecks.get(connectionId);
    if (last !== undefined && at - last < Math.min(STALE_JOB_CHECK_MS, adoptAfterMs)) return;
    staleJobChecks.set(connectionId, at);
    // A failure (Redis away, the connection deleted) is left for the next look, STALE_JOB_CHECK_MS on: nothing
    // waits on this one, and a failing Redis is not asked again on every write.
    adoptStaleJobs(connectionId).catch(() => {});
  }

  /**
   * Stages `members` in chunks under a new job token; 'gone' when the connection is gone, 'lost' when the job
   * was dropped under a chunk. STAGE_MEMBERS notes in the job a new member over `quota.maxGroupsPerMember`,
   * and the swap then refuses the write.
   */
  async function stage(connectionId: string, groupId: string, members: StoredMember[], quota: StoreQuota | undefined): Promise<string | 'gone' | 'lost'> {
    const token = newToken();
    for (let i = 0; i === 0 || i < members.length; i += CHUNK) {
      const chunk = members.slice(i, i + CHUNK);
      const args: (string | number)[] = [groupId, token, chunk.length];
      for (const m of chunk) args.push(m.value, memberMeta(m));
      args.push(quota?.maxGroupsPerMember ?? '', i === 0 ? '1' : '0');
      const reply = Number(await run('stage', tag(connectionId), ...args));
      if (reply === -1) {
        await settle(connectionId, token);
        return 'gone';
      }
      // Its job was dropped as abandoned (this writer stalled past STAGING_ABANDONED_MS): nothing was swapped.
      if (reply === -2) return 'lost';
    }
    return token;
  }

  /**
   * A create or replace. Member lists and changes of at most INLINE members go inline, in one script; longer
   * lists are staged in chunks and swapped in by the create/replace script (atomic for readers of the
   * group), and longer changes are applied in chunks under the group's lease; the reverse index and users'
   * versions are settled after, in batches (docs/groups.md).
   */
  async function writeWith(
    connectionId: string,
    write: ResourceWrite,
    expectedVersion: number,
    quota: StoreQuota | undefined,
    script: 'create' | 'replace',
  ): Promise<WriteOutcome> {
    let members: StoredMember[] | undefined = write.members;
    let mode: MembersMode = { mode: 'keep' };
    if (write.kind === 'Group') {
      if (script === 'create') members ??= [];
      const changes = write.memberChanges;
      if (changes && changes.add.length + changes.remove.length > INLINE && script === 'replace') {
        return leased(connectionId, write, expectedVersion, (lease) => writeChangesInChunks(connectionId, write, changes, expectedVersion, quota, lease));
      }
      if (changes) mode = { mode: 'delta', add: changes.add, remove: changes.remove };
      if (members !== undefined && members.length <= INLINE) mode = { mode: 'full', members };
    }
    const long = mode.mode === 'keep' && members !== undefined;
    const reply = long ? null : await attempt(connectionId, script, write, expectedVersion, mode, quota);
    if (reply !== null && reply[0] !== 'too_big') return finished(connectionId, write, reply);
    const list = members ?? [];
    if (script === 'create') return writeStaged(connectionId, write, list, expectedVersion, quota, script);
    return leased(connectionId, write, expectedVersion, (lease) => writeStaged(connectionId, write, list, expectedVersion, quota, script, lease));
  }

  /**
   * One create or replace script. A group another write holds the lease of ('leased') is waited for, looked
   * at with a cheap script (GROUP_LEASE 'peek') at growing intervals, and the write sent again once the lease
   * is gone, LEASE_WAIT_MS in all; the write then finds the group's new version, or gives up
   * ('version_mismatch': the SCIM layer reads again and retries, or answers 503).
   */
  async function attempt(
    connectionId: string,
    script: 'create' | 'replace',
    write: ResourceWrite,
    expectedVersion: number | '',
    mode: MembersMode,
    quota: StoreQuota | undefined,
    lease: Leased | undefined = write.lease === undefined ? undefined : { token: write.lease },
    events = write.events,
  ): Promise<unknown[]> {
    const until = Date.now() + LEASE_WAIT_MS;
    for (;;) {
      const args = [...writeArgs(write, expectedVersion, mode, quota, lease), ...eventArgs(events, now(), eventLog)];
      const reply = (await run(script, tag(connectionId), ...args)) as unknown[];
      if (reply[0] !== 'leased') return reply;
      for (let left = Number(reply[1]), look = 0; left > 0; look++) {
        if (Date.now() >= until) return ['version_mismatch', expectedVersion === '' ? 0 : expectedVersion];
        await leasePause(left, look);
        left = Number(await run('lease', tag(connectionId), write.id, '', 'peek'));
      }
    }
  }

  /**
   * A write's reply as its outcome, announcing its events to this instance's consumers; the users whose new
   * version the script left to the bump job (past BUMP_SCRIPT_BYTES of their records) get it first.
   */
  async function finished(connectionId: string, write: ResourceWrite, reply: unknown[]): Promise<WriteOutcome> {
    // The staged list went before the swap (dropped as abandoned, or the connection deleted): nothing changed.
    if (reply[0] === 'staging_lost') return { ok: false, reason: 'interrupted' };
    if (reply[0] === 'lease_lost') return { ok: false, reason: 'version_mismatch', currentVersion: 0 };
    if (reply[0] === 'ok' && reply[2] === BUMP_JOB) await settle(connectionId, BUMP_JOB);
    // A group write refused as a create finding its id taken (ids are the store's own UUIDs) or for its
    // version may be the second run of one whose reply was lost: the first run may have left users to the
    // bump job, and its 'ok' never came back to settle them. The script says whether that job has work left.
    const secondRun = reply[0] === 'version_mismatch' || (reply[0] === 'uniqueness' && reply[1] === 'id');
    if (write.kind === 'Group' && secondRun && Number(reply[2]) === 1) await settle(connectionId, BUMP_JOB);
    const result = outcome(reply);
    if (result.ok && write.events) consumers.announce(connectionId);
    return result;
  }

  /**
   * Runs `work` under the lease of the group `write` replaces: the one the write holds (ResourceWrite.lease),
   * else one taken for it (docs/groups.md, "Writes of more than one step"); a lease not had within
   * LEASE_WAIT_MS is a lost race (the SCIM layer reads again, or answers 503).
   */
  async function leased(
    connectionId: string,
    write: ResourceWrite,
    expectedVersion: number,
    work: (lease: string) => Promise<WriteOutcome>,
  ): Promise<WriteOutcome> {
    if (write.lease !== undefined) return work(write.lease);
    const lease = await takeLease(run, tag(connectionId), write.id);
    return holding(lease, (): WriteOutcome => ({ ok: false, reason: 'version_mismatch', currentVersion: expectedVersion }), work);
  }

  /**
   * A member list too long for one script: staged in chunks, then swapped in by the create or replace
   * script (atomic for readers), then settled. A replace holds the group's lease (`lease`) throughout, so
   * one-member PATCHes wait for the swap instead of moving the version under it.
   */
  async function writeStaged(
    connectionId: string,
    write: ResourceWrite,
    members: StoredMember[],
    expectedVersion: number,
    quota: StoreQuota | undefined,
    script: 'create' | 'replace',
    lease?: string,
  ): Promise<WriteOutcome> {
    if (script === 'replace' && write.keepIfMembersUnchanged && write.memberChanges === undefined) {
      // Too long to compare inside one script: compared here with the list read at expectedVersion, so that
      // Okta's full push of an unchanged list writes nothing (keepIfMembersUnchanged). Only a list of the
      // same length can be the same: the current one is read only then (a short list sent to replace a
      // group of 250,000 members would otherwise be compared with all of them, 180 ms of event loop).
      const first = await memberPage(connectionId, write.id, 0, 1);
      if (first === null) return { ok: false, reason: 'not_found' };
      if (first.version !== expectedVersion) return { ok: false, reason: 'version_mismatch', currentVersion: first.version };
      if (first.total === members.length) {
        const current = new Map<string, StoredMember>();
        const read = await readAllMembers(connectionId, write.id, expectedVersion, (page) => {
          for (const m of page) current.set(m.value, m);
        });
        if (typeof read !== 'number') return read;
        if (sameMembers(current, members, members.length)) return { ok: true, version: expectedVersion, unchanged: true };
      }
    }
    const token = await stage(connectionId, write.id, members, quota);
    if (token === 'gone') return { ok: false, reason: 'not_found' };
    if (token === 'lost') return { ok: false, reason: 'interrupted' };
    const held = lease === undefined ? undefined : { token: lease };
    const reply = await attempt(connectionId, script, write, expectedVersion, { mode: 'staged', token }, quota, held);
    await settle(connectionId, token); // swapped in: settles the new and old lists; refused: drops the staging
    return finished(connectionId, write, reply);
  }

  /** CHECK_MEMBER_CHANGES of one chunk: its version, the bytes it adds, whether it changes anything, a member over the cap. */
  async function checkChunk(connectionId: string, groupId: string, chunk: MemberChunk, cap: number | undefined, asCycled = true) {
    const args: (string | number)[] = [groupId, cap ?? '', chunk.remove.length, ...chunk.remove, chunk.add.length];
    chunk.add.forEach((m, i) => args.push(m.value, (asCycled && chunk.cycled[i] ? '1' : '0') + memberMeta(m)));
    const [version, bytes, changes, over] = (await run('checkMembers', tag(connectionId), ...args)) as [number, number, number, string];
    return { version: Number(version), bytes: Number(bytes), changes: Number(changes) === 1, over };
  }

  /**
   * Whether a first chunk's version mismatch is its own write, applied by a first run whose reply was lost
   * (ioredis sends a command again after a reconnect: docs/redis-deployment.md): the group is one version on,
   * stored as the chunk wrote it (its JSON carries this write's `lastModified`), and holds the chunk's
   * changes. A user's deletion touching the group the same millisecond (it takes no lease) matches the first
   * two, not the third.
   */
  async function ownFirstChunk(connectionId: string, write: ResourceWrite, chunk: MemberChunk, expectedVersion: number, reply: unknown[]): Promise<boolean> {
    if (reply[0] !== 'version_mismatch' || Number(reply[1]) !== expectedVersion + 1) return false;
    const row = (await run('get', tag(connectionId), KIND_CODE.Group, write.id)) as unknown[];
    if (row.length === 0 || parseResource('Group', row).json !== write.json) return false;
    const check = await checkChunk(connectionId, write.id, chunk, undefined, false);
    if (check.version !== expectedVersion + 1 || check.changes) return false;
    await settle(connectionId, BUMP_JOB);
    return true;
  }

  /**
   * Member changes too many for one script, applied in chunks of at most INLINE (removals, then additions)
   * under the group's lease: O(changes) in all, whatever the group's size. Every chunk is checked first
   * (CHECK_MEMBER_CHANGES: the version, the per-member limit, the bytes each adds); the first chunk's script
   * then checks the version and every quota for the whole write (the later chunks' bytes reserved), writes
   * the record and its changes; the later chunks, sent without a version (the lease keeps other writes
   * of this group out), apply their changes and log their member events (the first chunk's reservation is
   * its own arithmetic: writes of other groups between chunks are not counted against it). A reader may see the list part-way; a
   * holder that dies part-way leaves the chunks it applied, and the IdP's retry of the same PATCH completes
   * them (adding a member it has, or removing one it has not, changes nothing).
   */
  async function writeChangesInChunks(
    connectionId: string,
    write: ResourceWrite,
    changes: MemberChanges,
    expectedVersion: number,
    quota: StoreQuota | undefined,
    lease: string,
  ): Promise<WriteOutcome> {
    const chunks = memberChunks(changes, INLINE);
    const added: number[] = [];
    let changing = false;
    for (const chunk of chunks) {
      const { version, bytes, changes, over } = await checkChunk(connectionId, write.id, chunk, quota?.maxGroupsPerMember);
      if (version === -1) return { ok: false, reason: 'not_found' };
      if (version !== expectedVersion) return { ok: false, reason: 'version_mismatch', currentVersion: version };
      if (over !== '' && quota?.maxGroupsPerMember !== undefined) {
        return { ok: false, reason: 'quota', quota: 'groupsPerMember', limit: quota.maxGroupsPerMember, member: over };
      }
      added.push(bytes);
      changing ||= changes;
    }
    if (!changing && write.keepIfMembersUnchanged) return { ok: true, version: expectedVersion, unchanged: true };
    // Decided above for the whole write: no chunk may skip its script (the first checks every quota).
    const each: ResourceWrite = { ...write };
    delete each.keepIfMembersUnchanged;
    const reserve = added.slice(1).reduce((sum, b) => sum + b, 0);
    const memberEvents = write.events?.members === undefined ? undefined : { resource: null, members: write.events.members };
    let result: WriteOutcome = { ok: false, reason: 'not_found' };
    for (const [i, chunk] of chunks.entries()) {
      const mode: MembersMode = { mode: 'delta', add: chunk.add, remove: chunk.remove };
      const reply =
        i === 0
          ? await attempt(connectionId, 'replace', each, expectedVersion, mode, quota, { token: lease, reserve })
          : // Not checked against the quotas again: the PATCH is applied whole once its first chunk took it, so
            // writes through other instances between chunks may take the connection past a quota by what
            // they add (docs/storage-limits.md), never a PATCH answered 507 part-applied.
            await attempt(connectionId, 'replace', each, '', mode, undefined, { token: lease }, memberEvents);
      // A later chunk whose lease lapsed stops: what the earlier ones applied stays (never a 412 for it).
      if (i > 0 && reply[0] === 'lease_lost') return { ok: false, reason: 'interrupted' };
      // The first chunk's own write, applied by a first run whose reply was lost: the later chunks go on.
      if (i === 0 && (await ownFirstChunk(connectionId, each, chunk, expectedVersion, reply))) {
        result = { ok: true, version: expectedVersion + 1 };
        continue;
      }
      result = await finished(connectionId, write, reply);
      if (!result.ok) return result;
    }
    return result;
  }

  return {
    methods: {
      async createResource(connectionId, input, quota) {
        assertStoreId('connectionId', connectionId);
        assertQuota(quota);
        const write = normalizeResourceWrite(input);
        if (write.memberChanges !== undefined) throw new TypeError('memberChanges are for replaceResource only');
        adoptStaleJobsNow(connectionId);
        return writeWith(connectionId, write, 0, quota, 'create');
      },

      async replaceResource(connectionId, input, expectedVersion, quota) {
        assertStoreId('connectionId', connectionId);
        if (!Number.isSafeInteger(expectedVersion)) throw new TypeError('expectedVersion must be an integer');
        assertQuota(quota);
        const write = normalizeResourceWrite(input);
        adoptStaleJobsNow(connectionId);
        return writeWith(connectionId, write, expectedVersion, quota, 'replace');
      },

      async deleteResource(connectionId, kind, id, expectedVersion, events) {
        assertStoreId('connectionId', connectionId);
        assertResourceKind(kind);
        if (expectedVersion !== undefined && !Number.isSafeInteger(expectedVersion)) {
          throw new TypeError('expectedVersion must be an integer');
        }
        if (!isValidStoreId(id)) return false; // such an id can never have been written
        adoptStaleJobsNow(connectionId);
        const token = newToken();
        const logged = events === undefined ? undefined : { resource: checkWriteEvents(events).resource };
        const at = now();
        const modifiedAt = new Date(at).toISOString();
        const args = [
          KIND_CODE[kind],
          id,
          at,
          expectedVersion ?? '',
          retention,
          maxTombstones,
          token,
          modifiedAt,
          encodeSortValue(lastModifiedSortValue(modifiedAt)),
          ...eventArgs(logged, at, eventLog),
        ];
        const reply = await run('delete', tag(connectionId), ...args);
        if (Array.isArray(reply)) return { ok: false, reason: 'version_mismatch', currentVersion: Number(reply[1]) };
        const deleted = Number(reply) === 1 || Number(reply) === 2;
        // Nothing found, with jobs of this request's token left: the second run of a delete whose reply was
        // lost (docs/redis-deployment.md), whose first run's jobs are settled as if it had answered.
        const maybeSecondRun = Number(reply) === 3;
        // A deleted group's member list was renamed to the job's trash: settle it (bounded batches).
        if ((deleted || maybeSecondRun) && kind === 'Group') await settle(connectionId, token);
        // The groups it left past one script's budget are touched in batches too (TOUCH_SCRIPT_BYTES, TOUCH_SCRIPT_GROUPS).
        if (Number(reply) === 2 || maybeSecondRun) await settle(connectionId, `${token}t`);
        if (deleted && logged) consumers.announce(connectionId);
        return deleted;
      },
    },
    settle,
  };
}
