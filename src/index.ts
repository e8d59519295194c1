/** Public exports of scim-sso. */
export { scimSso, type ScimSso } from './sso.js';
export type { ScimSsoOptions } from './options.js';
export { memoryStore, type MemoryStoreOptions } from './store/memory.js';
export { redisStore, type RedisStoreOptions } from './store/redis.js';
export type { Store, IdpType, StoredSsoUser as SsoUser } from './store/store.js';
export { StoreUnavailableError } from './store/unavailable.js';
export {
  ScimError,
  ScimSsoConfigError,
  ScimUserNotActive,
  SsoLoginError,
  type ScimErrorBody,
  type ScimType,
  type ConfigErrorCode,
  type ScimUserNotActiveReason,
  type SsoLoginErrorCode,
} from './errors.js';
export type { ScimConnection, CreatedScimConnection } from './connections.js';
export type { OidcClient, CreateOidcClientInput, UpdateOidcClientInput } from './oidc-clients.js';
export { MATCHING_STRATEGIES, type MatchingStrategy } from './match/strategies.js';
export type { GuardResult, ScimUserView, SessionUser } from './guard/guard.js';
export type { AppVerify } from './guard/passport.js';
export type { AuthRoutesOptions } from './express-auth.js';
export type { KoaAuthRoutesOptions } from './koa.js';
export type { AuditEvent, AuditEventType } from './events.js';
export type { DashboardOptions } from './dashboard/index.js';
export type { MatchingReport, StrategyEvaluation, SsoUserSummary, ScimUserSummary } from './match/report.js';
