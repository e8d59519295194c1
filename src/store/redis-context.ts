/**
 * What every part of the Redis store shares: the client, the key prefix, the Lua scripts it runs (each an
 * ioredis command, one round trip per call) and the keys more than one part names.
 */
import type { Cluster, Redis } from 'ioredis';
import { bufferRunner, defineScripts, type RunScript } from './redis-commands.js';
import * as connLua from './redis-connection-scripts.js';
import * as eventLua from './redis-event-scripts.js';
import * as lua from './redis-scripts.js';

export const SCRIPTS = {
  create: { lua: lua.CREATE_RESOURCE, keys: 1, readOnly: false },
  replace: { lua: lua.REPLACE_RESOURCE, keys: 1, readOnly: false },
  delete: { lua: lua.DELETE_RESOURCE, keys: 1, readOnly: false },
  get: { lua: lua.GET_RESOURCE, keys: 1, readOnly: true },
  holder: { lua: lua.GET_HOLDER, keys: 1, readOnly: true },
  find: { lua: lua.FIND_BY_INDEX, keys: 1, readOnly: true },
  groupsWith: { lua: lua.FIND_GROUPS_WITH_MEMBER, keys: 1, readOnly: true },
  groups: { lua: lua.USER_GROUPS, keys: 1, readOnly: true },
  sessionUser: { lua: lua.READ_SESSION_USER, keys: 1, readOnly: true },
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
  namesAt: { lua: lua.USER_NAMES_AT, keys: 1, readOnly: true },
  usersAt: { lua: lua.USERS_AT, keys: 1, readOnly: true },
  membersAfter: { lua: lua.LIST_MEMBERS_AFTER, keys: 1, readOnly: true },
  events: { lua: lua.READ_EVENTS, keys: 1, readOnly: true },
  claimLease: { lua: eventLua.CLAIM_EVENT_LEASE, keys: 1, readOnly: false },
  commitCursor: { lua: eventLua.COMMIT_EVENT_CURSOR, keys: 1, readOnly: false },
  releaseLease: { lua: eventLua.RELEASE_EVENT_LEASE, keys: 1, readOnly: false },
  announce: { lua: eventLua.ANNOUNCE_CONNECTION, keys: 1, readOnly: false },
  announcedSince: { lua: eventLua.ANNOUNCED_SINCE, keys: 1, readOnly: true },
} as const;

export type ScriptName = keyof typeof SCRIPTS;

/** The shared part of the Redis store (see the key layout in redis.ts). */
export interface RedisContext {
  client: Redis | Cluster;
  /** Plain commands: Redis and Cluster share these signatures; the cast only picks one for TypeScript. */
  redis: Redis;
  prefix: string;
  /** Runs a script; its reply's strings arrive as strings. */
  run: RunScript<ScriptName>;
  /** Runs a script; its reply's strings arrive as Buffers. */
  runBuffer: RunScript<ScriptName>;
  /** The prefix of every key of one connection, `<p>{c:<id>}:` (one Cluster slot). */
  tag(connectionId: string): string;
  /**
   * The customer's copy of its connection record. It shares its hash tag with the OIDC client and role
   * mapping keys, so getCustomer can MGET all of them on a cluster.
   */
  customerKey(customerId: string): string;
  now(): number;
}

export function redisContext(client: Redis | Cluster, prefix: string, now: () => number): RedisContext {
  return {
    client,
    redis: client as Redis,
    prefix,
    run: defineScripts(client, SCRIPTS),
    runBuffer: bufferRunner(client, SCRIPTS),
    tag: (connectionId) => `${prefix}{c:${connectionId}}:`,
    customerKey: (customerId) => `${prefix}customer:{${customerId}}`,
    now,
  };
}
