/**
 * `scim-sso`: the framework-free core. No Express, Koa, passport or ioredis at run time or in its types; the
 * frameworks have their own entries (src/express/index.ts, src/koa/index.ts, src/express/dashboard.ts,
 * src/koa/dashboard.ts, src/express/setup.ts, src/koa/setup.ts) and so does the Redis store (src/redis.ts).
 */
export { createScimSso, type ScimSsoCore, type ScimConnectionsApi, type OidcClientsApi, type SamlConnectionsApi } from './sso.js';
export type { RoleMappingsApi, RoleMappingView } from './roles/roles-api.js';
export type { DirectoryApi, DirectoryGroup, DirectoryMember, DirectoryPage, DirectoryUser, PageOptions, UserFilter } from './directory/directory.js';
export { rolesFor, type RoleMapping, type RoleMappingInput, type RoleRule, type SessionGroup } from './roles/role-mapping.js';
export type { ScimSsoOptions } from './options.js';
export type { ActivityApi, CustomerActivity, LoginEntry, RefusedLogin, ScimRequestEntry } from './activity/activity-api.js';
export { memoryStore, type MemoryStoreOptions } from './store/memory.js';
export type { Store, IdpType, StoredSsoUser as SsoUser } from './store/store.js';
export { StoreUnavailableError } from './store/unavailable.js';
export { EventsExpiredError } from './store/event-log.js';
export { CrowdedValueError } from './store/crowded-values.js';
export type { ProvisioningEvent, ProvisioningEventPage, ProvisioningEventsApi, ReadEventsOptions } from './provisioning/events-api.js';
export type { ConsumeOptions, ConsumerHandle } from './provisioning/consumer.js';
export type { DeadLetter } from './provisioning/dead-letters.js';
export type { ProvisioningEventType } from './scim/provisioning-events.js';
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
export type { SamlConnection, CreateSamlConnectionInput, UpdateSamlConnectionInput } from './saml-connections.js';
export { ENTRA_OBJECT_ID_ATTRIBUTE, ENTRA_EMAIL_ATTRIBUTE } from './saml-connections.js';
export {
  MATCHING_STRATEGIES,
  SAML_MATCHING_STRATEGIES,
  type MatchingStrategy,
  type SamlMatchingStrategy,
  type SsoMatchingStrategy,
} from './match/strategies.js';
export type {
  AppVerify,
  DefaultSessionUser,
  GuardResult,
  GuardVerify,
  LoginRequest,
  LoginTokens,
  OidcLoginStrategy,
  PassportDone,
  ScimUserView,
  SessionUser,
  VerifiedCallback,
} from './guard/contract.js';
export type { GuardDecision } from './match/decide.js';
export type { SsoIdentity } from './match/strategies.js';
export type { AuditEvent, AuditEventType } from './events.js';
export type { DashboardOptions } from './dashboard/index.js';
export type { SetupPortalOptions } from './setup/index.js';
export type { CreateSetupLinkOptions, SetupArea, SetupLink } from './setup-links.js';
export type { MatchingReport, StrategyEvaluation, SsoUserSummary, ScimUserSummary } from './match/report.js';
