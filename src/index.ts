/** Public exports of scim-sso. */
export { scimSso, type ScimSso } from './sso.js';
export type { ScimSsoOptions } from './options.js';
export { memoryStore } from './store/memory.js';
export { redisStore, type RedisStoreOptions } from './store/redis.js';
export type { Store } from './store/store.js';
export { StoreUnavailableError } from './store/unavailable.js';
export { ScimError, ScimSsoConfigError, type ScimErrorBody, type ScimType, type ConfigErrorCode } from './errors.js';
export type { ScimConnection, CreatedScimConnection } from './connections.js';
