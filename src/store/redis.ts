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
 *                                           rank (see redis-lua-prelude.ts, docs/sorting.md)
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
 *   <p>{c:<id>}:u:lp                HASH    user seq -> `<version>:<id length>:<id><login projection>`, for
 *                                           users of at least LOGIN_PROJECTION_CHARS only (login-outcome.ts)
 *   <p>{c:<id>}:attrs               SET     the `<k>:i:<attribute>` and `<k>:s:<attribute>` suffixes in use
 *                                           (for deleteConnection)
 *   <p>{c:<id>}:ev, ev:*            various the durable event log (see redis-event-scripts.ts)
 *
 * SSO connections, SSO users and the customer set are described in redis-sso.ts; setup links and portal
 * sessions in redis-setup-grants.ts. The store's parts, each a file: the scripts and the keys they share
 * (redis-context.ts), connections and tokens (redis-connections.ts), resource writes (redis-writes.ts),
 * reads (redis-reads.ts), group members (redis-member-reads.ts), logins (redis-logins.ts), events
 * (redis-events.ts, redis-event-consumers.ts), activity (redis-activity.ts). Group members: see
 * docs/groups.md (no call carries more than MEMBER_CHUNK members; long lists are staged and swapped in).
 *
 * Everything of one connection carries the hash tag `{c:<id>}` (one Cluster slot, so multi-key Lua is
 * legal); token and customer keys are reached with single-key commands only. Resources live in one hash
 * per kind, keyed by seq, and indexes hold seqs: measured, that is ~2.3× the JSON size per user with four
 * indexes, against ~2.8× for one STRING key per resource and ~3.2× for one HASH key per resource. The four
 * sort indexes of a user add about 600 bytes (~3.3× in all; test/store/redis.test.ts, docs/sorting.md).
 */
import { evictionGuard } from './redis-eviction.js';
import type { Cluster, Redis } from 'ioredis';
import { resolveEventLogOptions, type EventLogOptions } from './event-log.js';
import { redisActivityLog } from './redis-activity.js';
import { redisConnections, parseRevision } from './redis-connections.js';
import { redisContext } from './redis-context.js';
import { redisEventConsumers } from './redis-event-consumers.js';
import { redisEventReads } from './redis-events.js';
import { redisLogins } from './redis-logins.js';
import { redisMemberReads } from './redis-member-reads.js';
import { redisSsoMethods } from './redis-sso.js';
import { redisReads } from './redis-reads.js';
import { replicaAcks, withReplicaAcks, type ReplicaAckOptions } from './redis-replica-acks.js';
import { redisSamlCache } from './redis-saml-cache.js';
import { redisSetupGrants } from './redis-setup-grants.js';
import { redisWrites } from './redis-writes.js';
import { resolveSsoRecordOptions, type SsoRecordOptions } from './sso-records.js';
import { type Store } from './store.js';
import { resolveTombstoneOptions, type TombstoneOptions } from './tombstones.js';
import { reportingUnavailable } from './unavailable.js';

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
  /**
   * Answer each SCIM write request, and each change of tokens, connections and SSO settings, only once this
   * many replicas hold it, waiting at most about `timeoutMs` (Redis's `WAIT`, on a connection of the store's
   * own); past it the answer is a 503 (the write stays on the primary) and the IdP sends it again. Off by
   * default: Redis replicates asynchronously, and a failover can lose a write it answered (a deactivation:
   * the person can log in again). docs/redis-deployment.md, "Failover and replicaAcks".
   */
  replicaAcks?: ReplicaAckOptions;
}

/** A SCIM store on Redis (standalone or Cluster); see the key layout at the top of this file. */
export function redisStore(options: RedisStoreOptions): Store {
  const prefix = options.prefix ?? 'scim:';
  if (typeof prefix !== 'string' || /[{}]/.test(prefix)) {
    throw new TypeError('prefix must be a string without { or } (they would replace the hash tag)');
  }
  const { client } = options;
  const { tombstoneRetentionMs: retention, maxTombstones, now } = resolveTombstoneOptions(options);
  const eventLog = resolveEventLogOptions(options);
  const sso = resolveSsoRecordOptions(options);
  const adoptJobsAfterMs = options.adoptJobsAfterMs ?? 60_000;
  if (!Number.isSafeInteger(adoptJobsAfterMs) || adoptJobsAfterMs < 0) throw new TypeError('adoptJobsAfterMs must be a non-negative integer');
  const ctx = redisContext(client, prefix, now);
  const ssoPart = redisSsoMethods({ client, prefix, customerKey: ctx.customerKey, ...sso });
  const consumers = redisEventConsumers({
    client,
    prefix,
    run: ctx.run,
    tag: ctx.tag,
    now,
    clockGiven: options.now !== undefined,
    customerOf: (raw) => parseRevision(raw).record.customerId,
  });
  const members = redisMemberReads(ctx);
  const reads = redisReads(ctx, members);
  const writes = redisWrites(ctx, { adoptJobsAfterMs, retention, maxTombstones, eventLog }, members, consumers);
  const acks = options.replicaAcks === undefined ? null : replicaAcks(client, options.replicaAcks);
  const eviction = evictionGuard(client);
  const store: Store = {
    kind: 'redis',
    ...redisConnections(ctx, ssoPart, consumers),
    ...redisActivityLog(ctx),
    ...writes.methods,
    ...redisEventReads(ctx, writes.settle),
    ...reads.methods,
    ...members.methods,
    ...redisLogins(ctx, { retention, ...sso }, reads, ssoPart),
    ...ssoPart.methods,
    ...redisSamlCache(client, prefix),
    ...consumers.methods,
    ...redisSetupGrants(client, prefix, now),
    async close() {
      // The client belongs to the app; the store holds only the connection replicaAcks opened.
      await acks?.close();
    },
  };
  return reportingUnavailable(acks ? withReplicaAcks(store, acks, prefix, ctx.tag) : store, () => eviction.gate());
}
