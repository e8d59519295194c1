/**
 * `scim-sso/redis`: the Redis store. Its own entry because its types name ioredis (an optional peer
 * dependency): apps on the memory store compile without ioredis installed.
 */
export { redisStore, type RedisStoreOptions } from './store/redis.js';
