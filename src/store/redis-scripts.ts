/**
 * The Lua scripts of the Redis store's resources, connections, logins and events, by what they do; each
 * file's header says more, and redis-lua-prelude.ts holds the key layout and the rules every script keeps.
 * src/store/redis-context.ts registers them as ioredis commands (the event scripts imported on their own).
 * The scripts of SSO records (redis-sso.ts), the SAML replay cache (redis-saml-cache.ts) and setup grants
 * (redis-setup-grants.ts) live beside the code that runs them.
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
