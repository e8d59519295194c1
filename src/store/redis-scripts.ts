/**
 * Every Lua script of the Redis store, by what it does; each file's header says more, and
 * redis-lua-prelude.ts holds the key layout and the rules every script keeps. src/store/redis-context.ts
 * registers them as ioredis commands.
 *
 * - redis-lua-prelude.ts: the shared helpers (PRELUDE, READ_PRELUDE) and the limits they apply.
 * - redis-write-scripts.ts: create, replace and delete a resource.
 * - redis-read-scripts.ts: single resources, index lookups, a session's user, the event log.
 * - redis-login-scripts.ts: a login's lookup and record, the matching report's batches.
 * - redis-page-scripts.ts: pages by creation order or sort index, and the sort indexes' build.
 * - redis-member-scripts.ts: long member lists, group write leases and the jobs that settle them.
 * - redis-connection-scripts.ts: connection records and tokens, and the sweep of a deleted connection.
 * - redis-event-scripts.ts: event consumers' leases and cursors, and write announcements.
 */
export * from './redis-lua-prelude.js';
export * from './redis-write-scripts.js';
export * from './redis-read-scripts.js';
export * from './redis-login-scripts.js';
export * from './redis-page-scripts.js';
export * from './redis-member-scripts.js';
export * from './redis-connection-scripts.js';
