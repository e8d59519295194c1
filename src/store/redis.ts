/**
 * The Redis store, shared by every app instance. Key layout (`<p>` = prefix, `<k>` = `u` users / `g` groups):
 *
 *   <p>token:<tokenHash>            STRING  `<rev>:<connection JSON>`; previous tokens carry PEXPIREAT; claimed
 *                                           by one connection at a time (CLAIM_TOKEN)
 *   <p>customer:{<customerId>}      STRING  `<rev>:<connection JSON>`; SET NX makes creation atomic
 *   <p>roles:{<customerId>}         STRING  the customer's role mapping, `{"json":…,"updatedAt":…}`
 *   <p>activity:{<customerId>}:<log> LIST   the customer's activity log, newest first: `scim` requests,
 *                                           `logins` and refused ones, `failures` (src/store/activity-log.ts),
 *                                           capped, PEXPIRE
 *   <p>{c:<id>}:conn                STRING  `<rev>:<connection JSON>`, the authoritative record
 *   <p>{c:<id>}:dying               STRING  the record while deleteConnection runs (renamed from conn)
 *   <p>{c:<id>}:seq                 STRING  creation counter shared by users and groups
 *   <p>{c:<id>}:<k>:order           ZSET    resource id, scored by its seq (the creation counter)
 *   <p>{c:<id>}:<k>:r               HASH    seq -> `<version>:<len(id)>:<len(x)>/<len(s)>/<e>:<id><x><s><json>`,
 *                                           x = the resource's own index entries (msgpack; the SCIM
 *                                           layer's attribute names as one-byte codes), s = its sort members
 *                                           (msgpack), e = the event log entry sharing the JSON (without
 *                                           e, `/<e>` is left out; without e and s, `/<len(s)>` too)
 *   <p>{c:<id>}:<k>:i:<attribute>   HASH    index value -> space-separated seqs
 *   <p>{c:<id>}:<k>:s:<attribute>   ZSET    sort index, all scores 0: `<value>\0<seq code>` or, without a
 *                                           value, `\xff<seq code>`; byte order is the sort order, read by
 *                                           rank (see redis-scripts.ts, docs/sorting.md)
 *   <p>{c:<id>}:<k>:sorted          STRING  absent: sort indexes off (writes keep no sort members; the first
 *                                           sortBy switches them on); 'done' when every resource of the kind
 *                                           has its sort members, else how far FILL_SORT_INDEX got
 *   <p>{c:<id>}:g:dn                HASH    group id -> displayName (for users' derived `groups`)
 *   <p>{c:<id>}:g:mz:<groupId>      ZSET    member value, scored by insertion seq (order, count, pages)
 *   <p>{c:<id>}:g:mm:<groupId>      HASH    member value -> `[display, type?]` JSON (members with either)
 *   <p>{c:<id>}:member              HASH    member value -> space-separated ids of groups listing it
 *   <p>{c:<id>}:g:mb                HASH    group id -> bytes its members count for (quota accounting)
 *   <p>{c:<id>}:g:top               HASH    group id -> the highest member position it ever gave (new members
 *                                           go above it, so a member walk never meets a position it passed)
 *   <p>{c:<id>}:g:jobs              HASH    job token -> `s <gid>` (staging a long list) or `c <gid>`
 *                                           (a swapped-in or deleted list still settling)
 *   <p>{c:<id>}:g:j:<token>:<part>  various a job's staged list (`st` ZSET, `sd` HASH, `sb` LIST, `b`
 *                                           bytes) or the old list it settles (`x` ZSET)
 *   <p>{c:<id>}:bytes               STRING  bytes the connection's resources count for (resourceBytes)
 *   <p>{c:<id>}:u:gone              ZSET    user tombstones: tombstoneDigest(attribute, value), scored by
 *                                           deletion ms; trimmed by retention and cap in the delete script
 *   <p>{c:<id>}:attrs               SET     the `<k>:i:<attribute>` and `<k>:s:<attribute>` suffixes in use
 *                                           (for deleteConnection)
 *   <p>{c:<id>}:ev, ev:*            various the durable event log (see redis-event-scripts.ts)
 *
 * OIDC clients, SSO users and the customer set are described in redis-oidc.ts; setup links and portal
 * sessions in redis-setup-grants.ts. Group members: see
 * docs/groups.md (no call carries more than MEMBER_CHUNK members; long lists are staged and swapped in).
 *
 * Everything of one connection carries the hash tag `{c:<id>}` (one Cluster slot, so multi-key Lua is
 * legal); token and customer keys are reached with single-key commands only. Resources live in one hash
 * per kind, keyed by seq, and indexes hold seqs: measured, that is ~2.3× the JSON size per user with four
 * indexes, against ~2.8× for one STRING key per resource and ~3.2× for one HASH key per resource. The four
 * sort indexes of a user add about 600 bytes (~3.3× in all; test/store/redis.test.ts, docs/sorting.md).
 */
import { checkActivityAppend, type ActivityAppend, type ActivityLogName } from './activity-log.js';
import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import {
  KIND_CODE,
  encodeSortValue,
  membershipsOf,
  outcome,
  parseMembers,
  parseRawRow,
  parseResource,
  sortArgs,
  writeArgs,
  type Leased,
  type MembersMode,
} from './redis-codec.js';
import { holding, leasePause, newLeaseToken } from './group-lease.js';
import { Lru } from '../lru.js';
import { memberChunks, takeLease, tryLease } from './redis-group-lease.js';
import { lastModifiedSortValue } from './last-modified.js';
import { bufferRunner, defineScripts } from './redis-commands.js';
import * as connLua from './redis-connection-scripts.js';
import { redisOidcMethods } from './redis-oidc.js';
import { redisSamlCache } from './redis-saml-cache.js';
import { seenScore } from '../seen-order.js';
import { checkSsoUser, parseOidcClient, parseSamlConnection, resolveSsoRecordOptions, type SsoRecordOptions } from './sso-records.js';
import * as lua from './redis-scripts.js';
import { checkWriteEvents, resolveEventLogOptions, type EventLogOptions } from './event-log.js';
import { eventArgs, readEventPage } from './redis-events.js';
import { redisEventConsumers } from './redis-event-consumers.js';
import { redisSetupGrants } from './redis-setup-grants.js';
import * as eventLua from './redis-event-scripts.js';
import {
  memberMeta,
  assertIndexAttribute,
  assertCursorPaging,
  assertLookups,
  assertPaging,
  assertRowBytes,
  assertQuota,
  assertResourceKind,
  assertSortOrder,
  assertStoreId,
  checkRoleMapping,
  isValidStoreId,
  keptWithin,
  normalizeResourceWrite,
  normalizeSortKeys,
  recordLoginInSteps,
  resolveTombstoneOptions,
  sameMembers,
  LOGIN_BATCH,
  PAGE_MEMBERS_BUDGET,
  type GroupLease,
  type LoginOutcome,
  type MemberChanges,
  type MemberPage,
  type Page,
  type ReadOptions,
  type CursorPage,
  type PickedPage,
  GROUP_ID_BYTES,
  GROUP_IDS_PER_PAGE,
  LEASE_WAIT_MS,
  PAGE_READ_BYTES,
  ROWS_PER_SCRIPT,
  type ResourceKind,
  type NumberedLoginLookup,
  type NumberedResource,
  type ResourceWrite,
  type Store,
  type StoredConnection,
  type StoredMember,
  type StoredResource,
  type StoredRoleMapping,
  type StoreQuota,
  type TombstoneOptions,
  type TokenUpdate,
  type WriteOutcome,
  assertConnectionTokens,
  type ConnectionTokens,
} from './store.js';

/** Options of {@link redisStore}. */
export interface RedisStoreOptions extends TombstoneOptions, EventLogOptions, SsoRecordOptions {
  /** The app's ioredis client (standalone or Cluster); the store never closes it. */
  client: Redis | Cluster;
  /** Prepended to every key. Default: 'scim:'. Must not contain `{` or `}`. */
  prefix?: string;
  /**
   * How long a write of several steps (a long member list settling, a deletion's touched groups) may go
   * without a step before another write of the same connection, on any instance, finishes it: its writer
   * died or lost Redis part way. Default 60,000 ms.
   */
  adoptJobsAfterMs?: number;
}

/**
 * Per instance, a connection's stalled jobs are looked for at most this often after one of its writes (or
 * as often as `adoptJobsAfterMs`, when shorter).
 */
const STALE_JOB_CHECK_MS = 10_000;
/** Connections whose last look this instance remembers (an LRU: a look more is all forgetting costs). */
const STALE_JOB_CHECKS_KEPT = 10_000;

const SCRIPTS = {
  create: { lua: lua.CREATE_RESOURCE, keys: 1, readOnly: false },
  replace: { lua: lua.REPLACE_RESOURCE, keys: 1, readOnly: false },
  delete: { lua: lua.DELETE_RESOURCE, keys: 1, readOnly: false },
  get: { lua: lua.GET_RESOURCE, keys: 1, readOnly: true },
  holder: { lua: lua.GET_HOLDER, keys: 1, readOnly: true },
  find: { lua: lua.FIND_BY_INDEX, keys: 1, readOnly: true },
  groupsWith: { lua: lua.FIND_GROUPS_WITH_MEMBER, keys: 1, readOnly: true },
  groups: { lua: lua.USER_GROUPS, keys: 1, readOnly: true },
  login: { lua: lua.FIND_USERS_FOR_LOGIN, keys: 1, readOnly: true },
  loginRecord: { lua: lua.LOGIN_AND_RECORD, keys: 4, readOnly: false },
  loginBatch: { lua: lua.FIND_USERS_FOR_LOGIN_BATCH, keys: 1, readOnly: true },
  userBySeq: { lua: lua.GET_USER_BY_SEQ, keys: 1, readOnly: true },
  page: { lua: lua.LIST_PAGE, keys: 1, readOnly: true },
  sorted: { lua: lua.LIST_SORTED, keys: 1, readOnly: true },
  backlog: { lua: lua.SORT_BACKLOG, keys: 1, readOnly: false },
  fill: { lua: lua.FILL_SORT_INDEX, keys: 1, readOnly: false },
  usage: { lua: lua.GET_USAGE, keys: 1, readOnly: true },
  claimToken: { lua: connLua.CLAIM_TOKEN, keys: 1, readOnly: false },
  sweep: { lua: lua.SWEEP_CONNECTION, keys: 1, readOnly: false },
  staleJobs: { lua: lua.STALE_JOBS, keys: 1, readOnly: true },
  setIfNewer: { lua: connLua.SET_IF_NEWER, keys: 1, readOnly: false },
  deleteCopy: { lua: connLua.DELETE_COPY, keys: 1, readOnly: false },
  cas: { lua: connLua.CAS_CONNECTION, keys: 1, readOnly: false },
  beginDelete: { lua: connLua.BEGIN_DELETE, keys: 2, readOnly: false },
  stage: { lua: lua.STAGE_MEMBERS, keys: 1, readOnly: false },
  lease: { lua: lua.GROUP_LEASE, keys: 1, readOnly: false },
  checkMembers: { lua: lua.CHECK_MEMBER_CHANGES, keys: 1, readOnly: true },
  settle: { lua: lua.SETTLE_JOB, keys: 1, readOnly: false },
  members: { lua: lua.LIST_MEMBERS, keys: 1, readOnly: true },
  after: { lua: lua.LIST_AFTER, keys: 1, readOnly: true },
  positionsAfter: { lua: lua.USER_POSITIONS_AFTER, keys: 1, readOnly: true },
  usersAt: { lua: lua.USERS_AT, keys: 1, readOnly: true },
  membersAfter: { lua: lua.LIST_MEMBERS_AFTER, keys: 1, readOnly: true },
  events: { lua: lua.READ_EVENTS, keys: 1, readOnly: true },
  claimLease: { lua: eventLua.CLAIM_EVENT_LEASE, keys: 1, readOnly: false },
  commitCursor: { lua: eventLua.COMMIT_EVENT_CURSOR, keys: 1, readOnly: false },
  releaseLease: { lua: eventLua.RELEASE_EVENT_LEASE, keys: 1, readOnly: false },
  announce: { lua: eventLua.ANNOUNCE_CONNECTION, keys: 1, readOnly: false },
  announcedSince: { lua: eventLua.ANNOUNCED_SINCE, keys: 1, readOnly: true },
} as const;

/** Resources deleted per round trip by deleteConnection. */
const SWEEP_BATCH = 200;

/** Members per script call: staged chunks, settle batches and member pages (see docs/groups.md). */
const CHUNK = lua.MEMBER_CHUNK;
/** Members one write script joins or removes itself (inline lists and changes, chunks of longer changes). */
const INLINE = lua.INLINE_MEMBERS;
/**
 * Members one SETTLE_JOB call settles: each moves a user's reverse entry and version (and copies its JSON
 * for the event log when an entry still names it). Batches of 1,000 took 10 ms at the median and up to 21 ms
 * on a connection of 100,000 users (a hostile-tenant audit, `SLOWLOG`); as many as a write script joins
 * itself (INLINE_MEMBERS) keep a script to a few milliseconds.
 */
const SETTLE_BATCH = lua.INLINE_MEMBERS;

/** How often a group read restarts when the group changes between its member pages. */
const MAX_READ_ATTEMPTS = 5;

/** A fresh job token (no braces or spaces: it goes into keys and a space-separated job record). */
const newToken = (): string => randomUUID().replace(/-/g, '');

/** A StoredConnection with the revision that orders its copies. */
interface Revision {
  rev: number;
  record: StoredConnection;
}

/** A SCIM store on Redis (standalone or Cluster); see the key layout at the top of this file. */
export function redisStore(options: RedisStoreOptions): Store {
  const prefix = options.prefix ?? 'scim:';
  if (typeof prefix !== 'string' || /[{}]/.test(prefix)) {
    throw new TypeError('prefix must be a string without { or } (they would replace the hash tag)');
  }
  const client = options.client;
  const { tombstoneRetentionMs: retention, maxTombstones, now } = resolveTombstoneOptions(options);
  const eventLog = resolveEventLogOptions(options);
  // Plain commands: Redis and Cluster share these signatures; the cast only picks one for TypeScript.
  const redis = client as Redis;
  const run = defineScripts(client, SCRIPTS);
  const runBuffer = bufferRunner(client, SCRIPTS);

  const tag = (connectionId: string): string => `${prefix}{c:${connectionId}}:`;
  const connKey = (connectionId: string): string => `${tag(connectionId)}conn`;
  const tokenKey = (hash: string): string => `${prefix}token:${hash}`;
  // The customer key shares its hash tag with the OIDC client and role mapping keys, so getCustomer can MGET
  // all three on a cluster.
  const customerKey = (customerId: string): string => `${prefix}customer:{${customerId}}`;
  const rolesKey = (customerId: string): string => `${prefix}roles:{${customerId}}`;
  const deletingKey = (customerId: string): string => `${prefix}deleting:{${customerId}}`;
  const activityKey = (customerId: string, log: ActivityLogName): string => `${prefix}activity:{${customerId}}:${log}`;
  const { maxSsoUsersPerCustomer, maxSsoUserBytesPerCustomer } = resolveSsoRecordOptions(options);
  const oidc = redisOidcMethods({ client, prefix, customerKey, maxSsoUsersPerCustomer, maxSsoUserBytesPerCustomer });
  const consumers = redisEventConsumers({
    client,
    prefix,
    run,
    tag,
    now,
    clockGiven: options.now !== undefined,
    customerOf: (raw) => parseRevision(raw).record.customerId,
  });

  /** The token keys that must work for `record`: its current token, and its previous one until expiry. */
  function liveTokens(record: StoredConnection): { key: string; hash: string; expiresAt: number | null }[] {
    const live: { key: string; hash: string; expiresAt: number | null }[] = [{ key: tokenKey(record.tokenHash), hash: record.tokenHash, expiresAt: null }];
    const { previousTokenHash: previous, previousTokenExpiresAt: expiresAt } = record;
    if (previous !== null && previous !== record.tokenHash && expiresAt !== null && expiresAt > now()) {
      live.push({ key: tokenKey(previous), hash: previous, expiresAt });
    }
    return live;
  }

  /** Runs CLAIM_TOKEN for each of `live` (copies of `record` at `rev`); answers the replies (1, 0 or -1). */
  async function claim(record: StoredConnection, live: ReturnType<typeof liveTokens>, rev: number, value: string): Promise<number[]> {
    const expiry = (at: number | null): string | number => (at === null ? '' : Math.ceil(at)); // PEXPIREAT wants an integer
    const replies = await Promise.all(live.map((t) => run('claimToken', t.key, record.connectionId, rev, value, expiry(t.expiresAt), now(), t.hash)));
    return replies.map(Number);
  }

  /**
   * Claims the token keys that must work for `record` and that `owned` (the connection's record before, if
   * any) did not already hold. On a refusal (another connection's live token), releases what it claimed
   * and answers false; else answers the keys written.
   */
  async function claimNewTokens(record: StoredConnection, rev: number, value: string, owned?: StoredConnection): Promise<string[] | false> {
    const held = owned ? liveTokens(owned).map((t) => t.key) : [];
    const live = liveTokens(record).filter((t) => !held.includes(t.key));
    const replies = await claim(record, live, rev, value);
    const written = live.filter((_, i) => replies[i] === 1).map((t) => t.key);
    if (replies.every((r) => r !== -1)) return written;
    await release(record.connectionId, written, rev + 1);
    return false;
  }

  /** Deletes the token keys among `keys` that hold a copy of the connection older than `belowRev`. */
  async function release(connectionId: string, keys: string[], belowRev: number | ''): Promise<void> {
    await Promise.all(keys.map((key) => run('deleteCopy', key, connectionId, belowRev)));
  }

  /** Runs SETTLE_JOB for `token` until its job is finished (each call one bounded batch). */
  async function settle(connectionId: string, token: string): Promise<void> {
    while (Number(await run('settle', tag(connectionId), token, SETTLE_BATCH)) > 0) {
      // each call settles one batch
    }
  }

  const adoptAfterMs = options.adoptJobsAfterMs ?? 60_000;
  if (!Number.isSafeInteger(adoptAfterMs) || adoptAfterMs < 0) throw new TypeError('adoptJobsAfterMs must be a non-negative integer');
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

  /** A write's reply as its outcome, announcing its events to this instance's consumers. */
  function finished(connectionId: string, write: ResourceWrite, reply: unknown[]): WriteOutcome {
    // The staged list went before the swap (dropped as abandoned, or the connection deleted): nothing changed.
    if (reply[0] === 'staging_lost') return { ok: false, reason: 'interrupted' };
    if (reply[0] === 'lease_lost') return { ok: false, reason: 'version_mismatch', currentVersion: 0 };
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
      const args: (string | number)[] = [write.id, quota?.maxGroupsPerMember ?? '', chunk.remove.length, ...chunk.remove, chunk.add.length];
      chunk.add.forEach((m, i) => args.push(m.value, (chunk.cycled[i] ? '1' : '0') + memberMeta(m)));
      const [version, bytes, changes, over] = (await run('checkMembers', tag(connectionId), ...args)) as [number, number, number, string];
      if (Number(version) === -1) return { ok: false, reason: 'not_found' };
      if (Number(version) !== expectedVersion) return { ok: false, reason: 'version_mismatch', currentVersion: Number(version) };
      if (over !== '' && quota?.maxGroupsPerMember !== undefined) {
        return { ok: false, reason: 'quota', quota: 'groupsPerMember', limit: quota.maxGroupsPerMember, member: over };
      }
      added.push(Number(bytes));
      changing ||= Number(changes) === 1;
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
      result = finished(connectionId, write, reply);
      if (!result.ok) return result;
    }
    return result;
  }

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

  /** A LIST_PAGE or LIST_SORTED reply as a page (groups with their members unless told otherwise). */
  async function pageFrom(connectionId: string, kind: ResourceKind, reply: PageReply, options?: ReadOptions): Promise<Page> {
    const [total, rows, aux] = reply;
    const resources: StoredResource[] = [];
    const later: StoredResource[] = [];
    rows.forEach((row, i) => {
      const resource = parseRawRow(kind, row, aux[i] ?? []);
      if (resource && options?.groups === false) delete resource.groups;
      if (resource) resources.push(resource);
      if (resource && kind === 'User' && aux[i]?.length === 1) later.push(resource);
    });
    await fillGroups(connectionId, later);
    const withAll = kind === 'Group' && options?.members !== false ? await allWithMembers(connectionId, withinMembersBudget(resources)) : resources;
    return { total: Number(total), resources: withAll };
  }

  /** The page scripts' last argument: '0' when users' groups are not wanted (ReadOptions.groups). */
  const groupsFlag = (options: ReadOptions | undefined): string => (options?.groups === false ? '0' : '1');

  /**
   * What a lookup found (findAll in redis-scripts.ts), as StoredResources with users' groups all read. Rows the script left past its byte budget (version -1) are read
   * one script each, and kept only if they still hold what was looked up (`lookup`: an index value, or the
   * member whose groups were listed), so a deferred read never answers a resource changed meanwhile.
   */
  async function parseFound(
    connectionId: string,
    kind: ResourceKind,
    rows: unknown[][],
    lookup: { source: 'i' | 'm'; attribute: string; value: string },
  ): Promise<StoredResource[]> {
    const { source, attribute, value } = lookup;
    const deferred = await Promise.all(
      rows.map((row) => (Number(row[2]) === -1 ? run('holder', tag(connectionId), KIND_CODE[kind], source, attribute, value, String(row[0])) : null)),
    );
    rows = rows.map((row, i) => (deferred[i] ? (deferred[i] as unknown[]) : row)).filter((row) => row.length > 0 && Number(row[2]) !== -1);
    const found = rows.map((row) => parseResource(kind, row));
    if (kind === 'User')
      await fillGroups(
        connectionId,
        found.filter((_, i) => (rows[i]![3] as unknown[]).length === 1),
      );
    return found;
  }

  /**
   * Reads with USER_GROUPS the groups of the users a script left without them (aux {'*'}: past its budget,
   * GROUP_IDS_PER_SCRIPT), a script's worth at a time: as they are now, which may be newer than the row.
   */
  async function fillGroups(connectionId: string, users: StoredResource[]): Promise<void> {
    for (let from = 0; from < users.length;) {
      const ids = users.slice(from, from + CHUNK).map((u) => u.id);
      const reply = (await run('groups', tag(connectionId), ...ids)) as string[][];
      reply.forEach((aux, j) => {
        users[from + j]!.groups = membershipsOf(aux);
      });
      from += Math.max(1, reply.length);
    }
  }

  /**
   * One LIST_AFTER script (listAfter): up to `count` resources after creation number `after`, within `left`
   * row bytes and group ids (what the page may still hold; the script keeps at least one resource).
   */
  async function afterOnce(
    connectionId: string,
    kind: ResourceKind,
    after: number,
    count: number,
    options?: ReadOptions,
    left = { bytes: PAGE_READ_BYTES, groupIds: GROUP_IDS_PER_PAGE },
  ): Promise<CursorPage> {
    const args = [KIND_CODE[kind], after, count, groupsFlag(options), left.bytes, left.groupIds];
    const [seqs, rows, aux, more] = (await runBuffer('after', tag(connectionId), ...args)) as [Buffer[], (Buffer | null)[], Buffer[][], number];
    const resources: NumberedResource[] = [];
    const later: NumberedResource[] = [];
    rows.forEach((row, i) => {
      const resource = parseRawRow(kind, row, aux[i] ?? []);
      if (resource && options?.groups === false) delete resource.groups;
      if (resource) resources.push({ ...resource, seq: Number(seqs[i]!.toString()) });
      if (resource && kind === 'User' && aux[i]?.length === 1) later.push(resources.at(-1)!);
    });
    await fillGroups(connectionId, later);
    const last = seqs.at(-1);
    const next = Number(more) === 1 && last ? Number(last.toString()) : null;
    if (kind !== 'Group' || options?.members === false) return { resources, next };
    // Groups with their members (a group deleted meanwhile drops out), as many as the budget allows.
    const kept = withinMembersBudget(resources);
    const seqOf = new Map(kept.map((r) => [r.id, r.seq]));
    const full = await allWithMembers(connectionId, kept);
    return { resources: full.map((g) => ({ ...g, seq: seqOf.get(g.id)! })), next: kept.length < resources.length ? kept.at(-1)!.seq : next };
  }

  /**
   * Whether a page read in parts (listAfter, pickUsersAfter) takes `resource` within what is `left` of its
   * row bytes and group ids (the page's first always), and if so counts it off.
   */
  function takeWithin(left: { bytes: number; groupIds: number }, resource: StoredResource, first: boolean): boolean {
    const bytes = resource.json.length;
    const groupIds = (resource.groups?.length ?? 0) * GROUP_ID_BYTES;
    if (!first && (bytes > left.bytes || groupIds > left.groupIds)) return false;
    left.bytes -= bytes;
    left.groupIds -= groupIds;
    return true;
  }

  /** The first groups of a page whose members stay within PAGE_MEMBERS_BUDGET (at least one). */
  function withinMembersBudget<T extends StoredResource>(groups: T[]): T[] {
    const kept = keptWithin(groups, (g) => g.memberCount ?? 0, PAGE_MEMBERS_BUDGET);
    return kept === groups.length ? groups : groups.slice(0, kept);
  }

  async function allWithMembers(connectionId: string, groups: StoredResource[]): Promise<StoredResource[]> {
    const out: StoredResource[] = [];
    for (const g of groups) {
      const full = await withMembers(connectionId, g);
      if (full) out.push(full);
    }
    return out;
  }

  const cluster = (client as { isCluster?: boolean }).isCluster === true;
  const store: Store = {
    kind: 'redis',

    async createConnection(connection) {
      const record = checkConnection(connection);
      const value = serialize(1, record);
      // Order: claim the id-scoped record (NX), then the customer (NX: the atomic "one per customer"
      // decision), then claim the token (atomic set-if-absent in CLAIM_TOKEN: the token key lives in
      // another Cluster slot than the connection's, so it cannot share a script with the record; a refused
      // token undoes the first two steps). A crash in between leaves nothing half-usable: before the
      // customer key nothing finds the record; before the token keys no request authenticates, and the
      // app can still find the connection by customer to rotate its token or delete it. The customer set
      // (listCustomers) is added to after the customer key: see redis-oidc.ts for why that order.
      if ((await redis.set(connKey(record.connectionId), value, 'NX')) === null) {
        if ((await redis.exists(customerKey(record.customerId))) === 1) return 'exists';
        throw new Error('connectionId is already in use');
      }
      if ((await redis.set(customerKey(record.customerId), value, 'NX')) === null) {
        await redis.del(connKey(record.connectionId));
        return 'exists';
      }
      if ((await claimNewTokens(record, 1, value)) === false) {
        await run('deleteCopy', customerKey(record.customerId), record.connectionId, '');
        await redis.del(connKey(record.connectionId));
        return 'token_in_use';
      }
      await oidc.customers.add(record.customerId);
      return 'created';
    },

    async getConnectionByCustomer(customerId) {
      assertStoreId('customerId', customerId);
      const raw = await redis.get(customerKey(customerId));
      return raw === null ? null : parseRevision(raw).record;
    },

    async getCustomer(customerId) {
      assertStoreId('customerId', customerId);
      const [connection, client, saml, roles] = await redis.mget(
        customerKey(customerId),
        oidc.oidcKey(customerId),
        oidc.samlKey(customerId),
        rolesKey(customerId),
      );
      return {
        connection: connection == null ? null : parseRevision(connection).record,
        client: client == null ? null : parseOidcClient(client),
        saml: saml == null ? null : parseSamlConnection(saml),
        roleMapping: roles == null ? null : parseRoleMapping(roles),
      };
    },

    async getRoleMapping(customerId) {
      assertStoreId('customerId', customerId);
      const raw = await redis.get(rolesKey(customerId));
      return raw === null ? null : parseRoleMapping(raw);
    },

    async setRoleMapping(customerId, mapping) {
      assertStoreId('customerId', customerId);
      if (mapping === null) await redis.del(rolesKey(customerId));
      else await redis.set(rolesKey(customerId), JSON.stringify(checkRoleMapping(mapping)));
    },

    async appendActivity(appends, ttlMs) {
      // One MULTI per customer (its two lists share the hash tag, so one Cluster slot), all sent together.
      const byCustomer = new Map<string, ActivityAppend[]>();
      for (const append of appends) {
        assertStoreId('customerId', append.customerId);
        checkActivityAppend(append, ttlMs);
        byCustomer.set(append.customerId, [...(byCustomer.get(append.customerId) ?? []), append]);
      }
      await Promise.all(
        [...byCustomer.values()].map((lists) => {
          const multi = redis.multi();
          for (const { customerId, log, entries, maxEntries } of lists) {
            if (entries.length === 0) continue;
            const key = activityKey(customerId, log);
            multi
              .lpush(key, ...entries)
              .ltrim(key, 0, maxEntries - 1)
              .pexpire(key, ttlMs);
          }
          return multi.exec();
        }),
      ).then((answers) => {
        for (const [error] of answers.flatMap((answer) => answer ?? [])) if (error) throw error;
      });
    },

    async readActivity(customerId, log, limit) {
      assertStoreId('customerId', customerId);
      if (!Number.isSafeInteger(limit) || limit < 1) return [];
      return redis.lrange(activityKey(customerId, log), 0, limit - 1);
    },

    async findConnectionByTokenHash(tokenHash) {
      if (!isValidStoreId(tokenHash)) return null;
      const raw = await redis.get(tokenKey(tokenHash));
      if (raw === null) return null;
      const { record } = parseRevision(raw);
      if (record.tokenHash === tokenHash) return record;
      // PEXPIREAT runs on Redis's clock; checking here too keeps the app's clock authoritative.
      const expiresAt = record.previousTokenExpiresAt;
      if (record.previousTokenHash === tokenHash && expiresAt !== null && expiresAt > now()) return record;
      return null;
    },

    async updateConnectionTokens(connectionId, tokens, expectedTokenHash): Promise<TokenUpdate> {
      assertStoreId('connectionId', connectionId);
      if (expectedTokenHash !== undefined) assertStoreId('expectedTokenHash', expectedTokenHash);
      // Order: (1) claim the token keys new to this connection (refused if another connection's live
      // token: then nothing changed); (2) compare-and-set the record, which serialises concurrent rotations
      // (if it lost, release what (1) claimed unless the winner keeps it); (3) rewrite the keys the
      // connection already held (e.g. the old token, now previous, with its expiry) and the customer copy;
      // (4) delete token keys that must stop working; (5) read the record again: if the connection is
      // gone, remove what (1) and (3) wrote; if a newer rotation won meanwhile, remove what they wrote that
      // the newer record does not keep. The new token is returned only after (2), so nobody can present it
      // before its key exists; copies carry `rev`, so an older rotation never overwrites or deletes a newer
      // one's keys. With `expectedTokenHash`, a rotation that finds another token current gives up.
      for (let attempt = 0; attempt < 16; attempt++) {
        const raw = await redis.get(connKey(connectionId));
        if (raw === null) return { ok: false, reason: 'not_found' };
        const { rev, record } = parseRevision(raw);
        if (expectedTokenHash !== undefined && record.tokenHash !== expectedTokenHash) return { ok: false, reason: 'token_changed' };
        const next = checkConnection({ ...record, ...pickTokens(tokens) });
        const mine = rev + 1;
        const value = serialize(mine, next);
        const claimed = await claimNewTokens(next, mine, value, record);
        if (claimed === false) return { ok: false, reason: 'token_in_use' };
        const swapped = Number(await run('cas', connKey(connectionId), rev, value));
        if (swapped !== 1) {
          const current = await redis.get(connKey(connectionId));
          const keep = current === null ? [] : liveTokens(parseRevision(current).record).map((t) => t.key);
          await release(
            connectionId,
            claimed.filter((key) => !keep.includes(key)),
            mine + 1,
          );
          if (swapped === -1) return { ok: false, reason: 'not_found' };
          continue;
        }
        const live = liveTokens(next);
        await claim(
          next,
          live.filter((t) => !claimed.includes(t.key)),
          mine,
          value,
        );
        const written = live.map((t) => t.key);
        await run('setIfNewer', customerKey(next.customerId), mine, value, '', 'xx');
        const stale = [record.tokenHash, record.previousTokenHash]
          .filter((h): h is string => h !== null)
          .map(tokenKey)
          .filter((key) => !written.includes(key));
        await Promise.all(stale.map((key) => run('deleteCopy', key, connectionId, mine)));
        const after = await redis.get(connKey(connectionId));
        const latest = after === null ? null : parseRevision(after);
        if (latest?.rev !== mine) {
          const keep = latest ? liveTokens(latest.record).map((t) => t.key) : [];
          const orphans = written.filter((key) => !keep.includes(key));
          await release(connectionId, orphans, mine + 1);
          if (latest === null) return { ok: false, reason: 'not_found' };
        }
        return { ok: true, connection: next };
      }
      throw new Error('token rotation kept losing to concurrent rotations');
    },

    async deleteConnection(connectionId) {
      assertStoreId('connectionId', connectionId);
      // Renaming conn away first makes every resource write fail (its script checks conn) and every
      // concurrent rotation give up; then the copies outside the tag go, then the tagged data in batches.
      // An interrupted delete leaves `dying`, and calling deleteConnection again finishes it.
      const raw = String(await run('beginDelete', connKey(connectionId), `${tag(connectionId)}dying`));
      const customerId = raw === '' ? null : parseRevision(raw).record.customerId;
      // Noted under the customer before its copies go, so that the customer's next delete or create can
      // finish a delete whose caller died (its copies were the only way from the customer to the id).
      if (customerId !== null) await redis.sadd(deletingKey(customerId), connectionId);
      if (raw !== '') {
        const { record } = parseRevision(raw);
        const keys = [record.tokenHash, record.previousTokenHash]
          .filter((h): h is string => h !== null)
          .map(tokenKey)
          .concat(customerKey(record.customerId));
        await Promise.all(keys.map((key) => run('deleteCopy', key, connectionId, '')));
        await oidc.customers.release(record.customerId);
      }
      while (Number(await run('sweep', tag(connectionId), SWEEP_BATCH)) > 0) {
        // each call deletes one batch
      }
      await consumers.forget(connectionId);
      if (customerId !== null) await redis.srem(deletingKey(customerId), connectionId);
      return raw !== '';
    },

    async unfinishedConnectionDeletes(customerId) {
      assertStoreId('customerId', customerId);
      const unfinished: string[] = [];
      for (const connectionId of await redis.smembers(deletingKey(customerId))) {
        // A delete whose caller died after its sweep's last batch left only this note: it is finished.
        if (await redis.exists(`${tag(connectionId)}dying`)) unfinished.push(connectionId);
        else await redis.srem(deletingKey(customerId), connectionId);
      }
      return unfinished;
    },

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
      const deleted = Number(reply) >= 1;
      // A deleted group's member list was renamed to the job's trash: settle it (bounded batches).
      if (deleted && kind === 'Group') await settle(connectionId, token);
      // The groups it left past one script's budget are touched in batches too (TOUCH_SCRIPT_BYTES, TOUCH_SCRIPT_GROUPS).
      if (Number(reply) === 2) await settle(connectionId, `${token}t`);
      if (deleted && logged) consumers.announce(connectionId);
      return deleted;
    },

    async readEvents(connectionId, after, limit) {
      assertStoreId('connectionId', connectionId);
      const reader = {
        read: async (cid: string, from: string, n: number, budget: number) => (await run('events', tag(cid), from, n, budget)) as unknown[],
        settle,
      };
      return readEventPage(reader, connectionId, after, limit);
    },

    async lastEventCursor(connectionId) {
      assertStoreId('connectionId', connectionId);
      const last = await redis.get(`${tag(connectionId)}ev:last`);
      return last;
    },

    async getUsage(connectionId) {
      assertStoreId('connectionId', connectionId);
      const [users, groups, bytes] = (await run('usage', tag(connectionId))) as [number, number, string];
      return { users: Number(users), groups: Number(groups), bytes: Number(bytes) };
    },

    async getResource(connectionId, kind, id, options) {
      assertStoreId('connectionId', connectionId);
      assertResourceKind(kind);
      if (!isValidStoreId(id)) return null;
      const reply = (await run('get', tag(connectionId), KIND_CODE[kind], id)) as unknown[];
      if (reply.length === 0) return null;
      const resource = parseResource(kind, reply);
      return kind === 'Group' && options?.members !== false ? withMembers(connectionId, resource) : resource;
    },

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

    async listAfter(connectionId, kind, after, count, options) {
      assertStoreId('connectionId', connectionId);
      assertResourceKind(kind);
      assertCursorPaging(after, count);
      // Groups with their members are one read of at most ROWS_PER_SCRIPT, held to the members budget.
      if (kind === 'Group' && options?.members !== false) return afterOnce(connectionId, kind, after, Math.min(count, ROWS_PER_SCRIPT), options);
      // Others: scripts of at most ROWS_PER_SCRIPT rows until the page is full, the page as a whole within
      // PAGE_READ_BYTES of rows and GROUP_IDS_PER_PAGE of memberships (each script is given what is left, and
      // a later one's rows past it are dropped: only the page's first resource may pass them).
      const resources: NumberedResource[] = [];
      const left = { bytes: PAGE_READ_BYTES, groupIds: GROUP_IDS_PER_PAGE };
      for (let from = after; ;) {
        const asked = Math.min(count - resources.length, ROWS_PER_SCRIPT);
        const page = await afterOnce(connectionId, kind, from, asked, options, left);
        for (const resource of page.resources) {
          if (!takeWithin(left, resource, resources.length === 0)) return { resources, next: resources.at(-1)!.seq };
          resources.push(resource);
        }
        // A script that ended early (its budget passed) ends the page there.
        if (page.next === null || resources.length >= count || page.resources.length < asked) return { resources, next: page.next };
        if (left.bytes <= 0 || left.groupIds <= 0) return { resources, next: page.next };
        from = page.next;
      }
    },

    async pickUsersAfter(connectionId, after, count, wanted, options) {
      assertStoreId('connectionId', connectionId);
      assertCursorPaging(after, count);
      const withNames = options?.userNames === true;
      // Names are read from the rows, about 7 µs a row in Lua: at most ROWS_PER_SCRIPT positions a call then
      // (1,000 held Redis 7-16 ms a script on 200,000 users).
      const positions = withNames ? Math.min(count, ROWS_PER_SCRIPT) : count;
      const reply = (await run('positionsAfter', tag(connectionId), after, positions, withNames ? '1' : '0')) as string[] | [number, string[]];
      // (id, seq) pairs, or (id, seq, userName) triples and whether the rows' budget cut them short.
      const [cut, flat, width] = withNames ? [Number(reply[0]) === 1, reply[1] as string[], 3] : [false, reply as string[], 2];
      const seqs: number[] = [];
      const ids: string[] = [];
      const userNames: string[] = [];
      for (let i = 0; i + 1 < flat.length && seqs.length < positions; i += width) {
        ids.push(flat[i]!);
        seqs.push(Number(flat[i + 1]));
        if (withNames) userNames.push(flat[i + 2]!);
      }
      const more = cut || flat.length > width * positions;
      const picked = seqs.flatMap((seq, i) => (wanted(seq) ? [i] : []));
      const users: NumberedResource[] = [];
      // As listAfter: scripts of ROWS_PER_SCRIPT rows, the page within PAGE_READ_BYTES and GROUP_IDS_PER_PAGE as
      // a whole; where the budget ends it, the page ends at the last picked user it held.
      const left = { bytes: PAGE_READ_BYTES, groupIds: GROUP_IDS_PER_PAGE };
      const named = (page: PickedPage): PickedPage => (withNames ? { ...page, userNames: userNames.slice(0, page.seqs.length) } : page);
      const endAfter = (i: number): PickedPage => named({ seqs: seqs.slice(0, i + 1), users, next: seqs[i]! });
      for (let from = 0; from < picked.length; from += ROWS_PER_SCRIPT) {
        const part = picked.slice(from, from + ROWS_PER_SCRIPT);
        const args = [groupsFlag(options), left.bytes, left.groupIds, ...part.flatMap((i) => [seqs[i]!, ids[i]!])];
        const [rows, aux] = (await runBuffer('usersAt', tag(connectionId), ...args)) as [(Buffer | null)[], Buffer[][]];
        const read = rows.map((row, j) => {
          const user = parseRawRow('User', row, aux[j] ?? []);
          if (user && options?.groups === false) delete user.groups;
          return user;
        });
        await fillGroups(
          connectionId,
          read.filter((user, j): user is StoredResource => user !== null && aux[j]?.length === 1),
        );
        for (const [j, user] of read.entries()) {
          if (!user) continue;
          if (!takeWithin(left, user, users.length === 0)) return endAfter(picked[from + j - 1]!);
          users.push({ ...user, seq: seqs[part[j]!]! });
        }
        const last = from + read.length - 1;
        if (last < picked.length - 1 && (read.length < part.length || left.bytes <= 0 || left.groupIds <= 0)) return endAfter(picked[last]!);
      }
      return named({ seqs, users, next: more && seqs.length > 0 ? seqs.at(-1)! : null });
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

    async findByIndex(connectionId, kind, attribute, value, options) {
      assertStoreId('connectionId', connectionId);
      assertResourceKind(kind);
      assertIndexAttribute(attribute);
      if (typeof value !== 'string') throw new TypeError('index value must be a string');
      const reply = (await run('find', tag(connectionId), KIND_CODE[kind], attribute, value)) as unknown[][];
      const found = await parseFound(connectionId, kind, reply, { source: 'i', attribute, value });
      return kind === 'Group' && options?.members !== false ? allWithMembers(connectionId, found) : found;
    },

    async findGroupsWithMember(connectionId, value, options) {
      assertStoreId('connectionId', connectionId);
      if (typeof value !== 'string') throw new TypeError('member value must be a string');
      // ROWS_PER_SCRIPT groups per script (FIND_GROUPS_WITH_MEMBER), in creation order, each after the last.
      const rows: unknown[][] = [];
      for (let after = '0'; ;) {
        const [last, slice] = (await run('groupsWith', tag(connectionId), value, after)) as [string, unknown[][]];
        rows.push(...slice);
        if (last === '') break;
        after = String(last);
      }
      const found = await parseFound(connectionId, 'Group', rows, { source: 'm', attribute: '', value });
      return options?.members !== false ? allWithMembers(connectionId, found) : found;
    },

    async findUsersForLogin(connectionId, attribute, value) {
      assertStoreId('connectionId', connectionId);
      assertIndexAttribute(attribute);
      if (typeof value !== 'string') throw new TypeError('index value must be a string');
      const [users, gone] = (await run('login', tag(connectionId), attribute, value, now(), retention)) as [unknown[][], number];
      return { users: await parseFound(connectionId, 'User', users, { source: 'i', attribute, value }), deletedMatch: Number(gone) === 1 };
    },

    async findUsersForLoginBatch(connectionId, lookups) {
      assertStoreId('connectionId', connectionId);
      assertLookups(lookups);
      // Scripts of at most LOGIN_BATCH lookups, sent together (one round trip), so that logins are not held
      // up behind one long script. Each script takes its lookups grouped by attribute.
      const chunkOf = (indexes: number[]) => {
        const byAttribute = new Map<string, number[]>();
        for (const i of indexes) {
          const group = byAttribute.get(lookups[i]!.attribute);
          if (group) group.push(i);
          else byAttribute.set(lookups[i]!.attribute, [i]);
        }
        const args: (string | number)[] = [now(), retention];
        for (const [attribute, at] of byAttribute) args.push(attribute, at.length, ...at.map((i) => lookups[i]!.value));
        return { at: [...byAttribute.values()].flat(), args };
      };
      let chunks: { at: number[]; args: (string | number)[] }[] = [];
      for (let from = 0; from < lookups.length; from += LOGIN_BATCH) {
        chunks.push(chunkOf(Array.from({ length: Math.min(LOGIN_BATCH, lookups.length - from) }, (_, j) => from + j)));
      }
      const answers: NumberedLoginLookup[] = new Array(lookups.length);
      const byId = new Map<string, NumberedResource>(); // one object per user, across scripts too
      const deferred: NumberedResource[] = []; // users whose groups a script left out (fillGroups)
      const heavy: { lookup: number; seqs: string[] }[] = []; // first lookups too heavy for one script
      const retried = new Set<number>(); // heavy lookups whose holders all vanished, looked up again once
      /** Takes in one script's reply for the lookups `at` (in the order sent); returns the lookups it left. */
      const takeReply = ([seqs, rows, groups, refs, gone, later, answered, oversized]: BatchReply, at: number[]): number[] => {
        if (Number(answered) === 0) {
          heavy.push({ lookup: at[0]!, seqs: oversized.toString().split(' ') });
          return at.slice(1);
        }
        const aux = new Map<number, Buffer[]>();
        for (let i = 0; i < groups.length; i += 2 + 2 * Number(groups[i + 1])) {
          aux.set(Number(groups[i]), groups.slice(i + 2, i + 2 + 2 * Number(groups[i + 1])) as Buffer[]);
        }
        const seq = seqs.toString().split(' ');
        const users = rows.map((row, i) => {
          const user = parseRawRow('User', row, aux.get(i + 1) ?? []) as NumberedResource;
          user.seq = Number(seq[i]);
          const first = byId.get(user.id) ?? user;
          byId.set(user.id, first);
          return first;
        });
        for (const n of later.toString().split(' ')) if (n !== '') deferred.push(users[Number(n) - 1]!);
        const found = refs.toString().split(',');
        const buried = gone.toString();
        const done = Number(answered);
        at.slice(0, done).forEach((i, p) => {
          const ref = found[p]!;
          answers[i] = { users: ref === '' ? [] : ref.split(' ').map((n) => users[Number(n) - 1]!), deletedMatch: buried[p] === '1' };
        });
        return at.slice(done);
      };
      /** A lookup whose holders pass PAGE_READ_BYTES together: each holder read by a script of its own. */
      const readHeavy = async ({ lookup, seqs }: { lookup: number; seqs: string[] }) => {
        const replies = (await Promise.all(seqs.map((seq) => run('userBySeq', tag(connectionId), seq)))) as unknown[][];
        const users = replies.flatMap((reply, i) => {
          if (reply.length === 0) return []; // deleted since the batch script
          const user = parseResource('User', reply) as NumberedResource;
          user.seq = Number(seqs[i]);
          const first = byId.get(user.id) ?? user;
          byId.set(user.id, first);
          return [first];
        });
        if (users.length > 0) answers[lookup] = { users, deletedMatch: false };
        // All of them deleted meanwhile: the lookup goes again (another may hold the value now), once.
        else if (!retried.has(lookup)) retried.add(lookup);
        else
          answers[lookup] = {
            users: [],
            deletedMatch: (await store.findUsersForLogin(connectionId, lookups[lookup]!.attribute, lookups[lookup]!.value)).deletedMatch,
          };
      };
      // A script answers its lookups up to PAGE_READ_BYTES of rows (at least one, or a first one's holders
      // only): those it left go again.
      while (chunks.length > 0) {
        const replies = await Promise.all(chunks.map(({ args }) => runBuffer('loginBatch', tag(connectionId), ...args) as Promise<BatchReply>));
        chunks = replies.flatMap((reply, c) => {
          const left = takeReply(reply, chunks[c]!.at);
          return left.length > 0 ? [chunkOf(left)] : [];
        });
        const read = heavy.splice(0);
        await Promise.all(read.map(readHeavy));
        const again = read.filter(({ lookup }) => answers[lookup] === undefined).map(({ lookup }) => lookup);
        if (again.length > 0) chunks.push(chunkOf(again));
      }
      await fillGroups(connectionId, [...new Set(deferred)]);
      return answers;
    },

    async listPage(connectionId, kind, offset, count, options) {
      assertStoreId('connectionId', connectionId);
      assertResourceKind(kind);
      assertPaging(offset, count);
      assertRowBytes(options);
      const reply = (await runBuffer('page', tag(connectionId), KIND_CODE[kind], offset, count, groupsFlag(options), options?.rowBytes ?? '')) as PageReply;
      return pageFrom(connectionId, kind, reply, options);
    },

    async listSorted(connectionId, kind, order, offset, count, options) {
      assertStoreId('connectionId', connectionId);
      assertResourceKind(kind);
      assertSortOrder(order);
      assertPaging(offset, count);
      assertRowBytes(options);
      const args = [KIND_CODE[kind], order.attribute ?? '', order.descending ? '1' : '0', offset, count, groupsFlag(options), options?.rowBytes ?? ''];
      const reply = (await runBuffer('sorted', tag(connectionId), ...args)) as PageReply;
      return Number(reply[0]) === -1 ? null : pageFrom(connectionId, kind, reply, options);
    },

    async sortBacklog(connectionId, kind, count) {
      assertStoreId('connectionId', connectionId);
      assertResourceKind(kind);
      assertPaging(0, count);
      const [done, through, rows] = (await runBuffer('backlog', tag(connectionId), KIND_CODE[kind], count)) as [number, number, Buffer[]];
      const resources = rows.map((row) => parseRawRow(kind, row, [])).filter((r): r is StoredResource => r !== null);
      return { done: Number(done) === 1, through: Number(through), resources };
    },

    async fillSortIndex(connectionId, kind, through, fills) {
      assertStoreId('connectionId', connectionId);
      assertResourceKind(kind);
      if (!Number.isSafeInteger(through) || through < 0) throw new TypeError('through must be a non-negative integer');
      const args: (string | number)[] = [KIND_CODE[kind], through, fills.length];
      for (const fill of fills) {
        assertStoreId('resource id', fill.id);
        if (!Number.isSafeInteger(fill.version)) throw new TypeError('version must be an integer');
        args.push(fill.id, fill.version, ...sortArgs(normalizeSortKeys(fill.sortKeys)));
      }
      return String(await run('fill', tag(connectionId), ...args)) as 'done' | 'more' | 'retry';
    },

    ...oidc.methods,
    ...redisSamlCache(client, prefix),
    ...consumers.methods,
    ...redisSetupGrants(client, prefix, now),

    async recordLogin(customerId, attempt) {
      // On a Cluster the SSO user hash ({s:<customerId>}) and the connection ({c:<id>}) are in different
      // slots: lookup and record are two round trips there (docs/round-trips.md §Login).
      if (cluster || attempt.connectionId === null) return recordLoginInSteps(store, customerId, attempt);
      assertStoreId('customerId', customerId);
      assertStoreId('connectionId', attempt.connectionId);
      assertIndexAttribute(attempt.inactiveWhenFalse);
      const { lookup } = attempt;
      if (lookup) {
        assertIndexAttribute(lookup.attribute);
        if (typeof lookup.value !== 'string') throw new TypeError('index value must be a string');
      }
      const record = checkSsoUser({ ...attempt.user, ...UNDECIDED });
      if (!record.json.endsWith(UNDECIDED_SUFFIX)) throw new Error('unexpected SSO user record layout');
      const json = `${record.json.slice(0, -UNDECIDED_SUFFIX.length)}}`;
      const args = [lookup ? '1' : '0', lookup?.attribute ?? '', lookup?.value ?? '', now(), retention, attempt.inactiveWhenFalse];
      const keys = [tag(attempt.connectionId), oidc.ssoKey(customerId), oidc.seenKey(customerId), oidc.ssoBytesKey(customerId)];
      const score = String(seenScore(record.lastSeenAt));
      const reply = (await run(
        'loginRecord',
        ...keys,
        ...args,
        record.subject,
        record.firstSeenAt,
        json,
        score,
        maxSsoUsersPerCustomer,
        maxSsoUserBytesPerCustomer,
      )) as [unknown[][], number, number, string, string, string];
      const [users, gone, done, outcome, reason, id] = reply;
      const found = {
        users: lookup ? await parseFound(attempt.connectionId, 'User', users, { source: 'i', ...lookup }) : [],
        deletedMatch: Number(gone) === 1,
      };
      if (Number(done) !== 1) return { found, recorded: null };
      const recorded: LoginOutcome = {
        lastOutcome: outcome === 'admitted' ? 'admitted' : 'refused',
        lastReason: reason === '' ? null : reason,
        lastScimUserId: id === '' ? null : id,
      };
      return { found, recorded };
    },

    async close() {
      // The client belongs to the app; the store holds nothing else.
    },
  };
  return store;
}

/** What LIST_PAGE and LIST_SORTED answer, read as bytes: {total, rows, aux}. */
type PageReply = [number | Buffer, (Buffer | null)[], Buffer[][]];
/** FIND_USERS_FOR_LOGIN_BATCH's reply, read as bytes: seqs, rows, groups (positions and counts as integers), refs, tombstones. */
type BatchReply = [Buffer, Buffer[], (Buffer | number)[], Buffer, Buffer, Buffer, number, Buffer];

/** The outcome fields recordLogin sends for the script to fill in, and how checkSsoUser's JSON ends with them. */
const UNDECIDED: LoginOutcome = { lastOutcome: 'admitted', lastReason: null, lastScimUserId: null };
const UNDECIDED_SUFFIX = ',"lastOutcome":"admitted","lastReason":null,"lastScimUserId":null}';

function pickTokens(tokens: ConnectionTokens): ConnectionTokens {
  return {
    tokenHash: tokens.tokenHash,
    previousTokenHash: tokens.previousTokenHash,
    previousTokenExpiresAt: tokens.previousTokenExpiresAt,
  };
}

/** Validates a connection and returns it with exactly the contract's fields, in a fixed order. */
function checkConnection(c: StoredConnection): StoredConnection {
  assertStoreId('connectionId', c.connectionId);
  assertStoreId('customerId', c.customerId);
  assertConnectionTokens(c);
  return {
    connectionId: c.connectionId,
    customerId: c.customerId,
    displayName: c.displayName,
    tokenHash: c.tokenHash,
    previousTokenHash: c.previousTokenHash,
    previousTokenExpiresAt: c.previousTokenExpiresAt,
    createdAt: c.createdAt,
  };
}

/** A stored role mapping record, checked as the store writes it (written by hand otherwise: refused). */
function parseRoleMapping(raw: string): StoredRoleMapping {
  return checkRoleMapping(JSON.parse(raw) as StoredRoleMapping);
}

const serialize = (rev: number, record: StoredConnection): string => `${rev}:${JSON.stringify(record)}`;

function parseRevision(raw: string): Revision {
  const colon = raw.indexOf(':');
  const rev = Number(raw.slice(0, colon));
  if (colon < 1 || !Number.isSafeInteger(rev)) throw new Error('malformed connection record in Redis');
  return { rev, record: JSON.parse(raw.slice(colon + 1)) as StoredConnection };
}
