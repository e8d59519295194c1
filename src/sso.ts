/**
 * The framework-free core: `createScimSso(options)` parses the options once, wires the store, the SCIM
 * handler, the login guard and the management API, and returns a `ScimSsoCore`. The Express and Koa entries
 * (src/express/index.ts, src/koa/index.ts) build their handles on it; internals stay off the handle
 * (src/internal.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkCustomerId, connectionManager, type CreatedScimConnection, type ScimConnection } from './connections.js';
import { ScimSsoConfigError } from './errors.js';
import { createEmitter } from './events.js';
import type { AppVerify, GuardVerify, LoginRequest, OidcLoginStrategy } from './guard/contract.js';
import { asGuardVerify, asLoginStrategy, LoginRuntime } from './guard/passport.js';
import { registerInternals, type Internals } from './internal.js';
import { matchingReport } from './matching-report.js';
import type { MatchingReport } from './match/report.js';
import { oidcClientManager, type CreateOidcClientInput, type OidcClient, type UpdateOidcClientInput } from './oidc-clients.js';
import { parseOptions, privateIdpAddressesAllowed, type ScimSsoOptions } from './options.js';
import { samlConnectionManager, type CreateSamlConnectionInput, type SamlConnection, type UpdateSamlConnectionInput } from './saml-connections.js';
import { TokenCache } from './scim/auth.js';
import { createScimHandler } from './scim/handler.js';
import { requestOrigin, settleUnreadBody, toScimRequest } from './scim/mount.js';
import { writeBody } from './scim/response-body.js';
import { memoryStore } from './store/memory.js';
import { roleMappingsApi, type RoleMappingsApi } from './roles/roles-api.js';
import { directoryApi, type DirectoryApi } from './directory/directory.js';
import { provisioningEventsApi, type ProvisioningEventsApi } from './provisioning/events-api.js';
import type { StoredSsoUser } from './store/store.js';
import { setupLinkManager, type CreateSetupLinkOptions, type SetupLink } from './setup-links.js';
import { activityApi, type ActivityApi } from './activity/activity-api.js';
import type { LoginEntry } from './activity/entries.js';
import { ActivityRecorder, DEFAULT_ACTIVITY_LOG } from './activity/recorder.js';

/** Management of the customers' SCIM connections (src/connections.ts). */
export interface ScimConnectionsApi {
  /** Creates the customer's SCIM connection and returns its token (shown once); a second one is an error. */
  createScimConnection(input: { customerId: string; displayName?: string; token?: string }): Promise<CreatedScimConnection>;
  /** The customer's SCIM connection, or null. */
  fetchScimConnection(customerId: string): Promise<ScimConnection | null>;
  /** Deletes the connection with all its users and groups; false if there was none. */
  deleteScimConnection(customerId: string): Promise<boolean>;
  /** Issues (or installs) a new token; the old one keeps working for `graceSeconds` (default 0). */
  rotateScimToken(customerId: string, options?: { graceSeconds?: number; token?: string }): Promise<CreatedScimConnection>;
}

/** Management of the customers' OIDC clients (src/oidc-clients.ts). */
export interface OidcClientsApi {
  /** Creates the customer's OIDC client; a second one for the same customer is an error. */
  createOidcClient(input: CreateOidcClientInput): Promise<OidcClient>;
  /** Changes settings of the customer's OIDC client; they apply from the next login. */
  updateOidcClient(customerId: string, patch: UpdateOidcClientInput): Promise<OidcClient>;
  /** The customer's OIDC client (without its secret), or null. */
  fetchOidcClient(customerId: string): Promise<OidcClient | null>;
  /** Deletes the customer's OIDC client and its recorded SSO users; false if there was none. */
  deleteOidcClient(customerId: string): Promise<boolean>;
}

/** Management of the customers' SAML connections (src/saml-connections.ts; docs/saml.md). */
export interface SamlConnectionsApi {
  /**
   * Creates the customer's SAML connection from the IdP's metadata (XML or URL, read now) or its entryPoint,
   * idpCert and idpIssuer. Refused (ScimSsoConfigError) when the customer has a SAML connection
   * ('saml_connection_exists') or an OIDC client ('sso_connection_exists'): one SSO connection per customer.
   */
  createSamlConnection(input: CreateSamlConnectionInput): Promise<SamlConnection>;
  /** Changes settings of the customer's SAML connection (e.g. a second IdP certificate); they apply from the next login step. */
  updateSamlConnection(customerId: string, patch: UpdateSamlConnectionInput): Promise<SamlConnection>;
  /** The customer's SAML connection, or null. */
  fetchSamlConnection(customerId: string): Promise<SamlConnection | null>;
  /** Deletes the customer's SAML connection and its recorded SSO users; false if there was none. */
  deleteSamlConnection(customerId: string): Promise<boolean>;
}

/** A scim-sso instance without any framework: management, directory and report APIs, guard verify, SCIM over Node http. */
export interface ScimSsoCore extends ScimConnectionsApi, OidcClientsApi, SamlConnectionsApi, RoleMappingsApi, ActivityApi {
  /** What the customers' IdPs provisioned: users, groups and members, by cursor (src/directory/directory.ts). */
  readonly directory: DirectoryApi;
  /** The path the SCIM routes are served under (the `basePath` option, default `/scim/v2`). */
  readonly basePath: string;
  /** The customers' durable provisioning events (docs/events.md). */
  readonly events: ProvisioningEventsApi;
  /** Every login attempt through the customer's OIDC client or SAML connection, most recent first. */
  listSsoUsers(customerId: string): Promise<StoredSsoUser[]>;
  /**
   * The SCIM Matching report: every strategy of the customer's protocol (five for OIDC, four for SAML)
   * evaluated on its SSO and SCIM users, with a recommendation.
   */
  matchingReport(customerId: string): Promise<MatchingReport>;
  /**
   * A verify function for an openid-client passport Strategy the app builds itself
   * (`new Strategy({ ..., passReqToCallback: true }, sso.guardVerify(customerId))`), with the guard inside.
   */
  guardVerify(customerId: string, verify?: AppVerify): GuardVerify;
  /** A ready openid-client passport Strategy for the customer (discovery cached, PKCE + state + nonce, the guard inside). */
  strategy(customerId: string, verify?: AppVerify): Promise<OidcLoginStrategy>;
  /**
   * The SCIM routes on plain Node http: serves `req` when its URL is under `basePath` and resolves true, else
   * resolves false without touching `res` (serve it yourself). Every framework adapter behaves the same.
   */
  handleScimRequest(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /**
   * A setup link for the customer's IT admin (docs/setup-portal.md): an expiring, revocable URL into the
   * setup portal, scoped to the customer and to `allow` (default SSO and SCIM). Only its hash is stored.
   */
  createSetupLink(customerId: string, options?: CreateSetupLinkOptions): Promise<SetupLink>;
  /** Revokes every setup link of the customer and ends the portal sessions opened with them. */
  revokeSetupLinks(customerId: string): Promise<void>;
}

export type { LoginRequest };

/** Creates the core of a scim-sso instance. Throws ScimSsoConfigError('invalid_options') on bad options. */
export function createScimSso(input: ScimSsoOptions = {}): ScimSsoCore {
  const options = parseOptions(input);
  if (!options.store && process.env.NODE_ENV === 'production') {
    throw new ScimSsoConfigError(
      'invalid_options',
      'scimSso: no `store` with NODE_ENV=production. The default memory store keeps SCIM data in this process only: it is lost on restart and not shared between instances. ' +
        "Pass store: redisStore({ client }) (from 'scim-sso/redis'), or store: memoryStore() explicitly if one process with volatile data is really what you want.",
    );
  }
  const store = options.store ?? memoryStore();
  const onError = options.onError ?? ((error: unknown) => console.error('[scim-sso] unexpected error', error));
  const emit = createEmitter(options.onEvent, onError);
  // Tokens found current are trusted for scimTokenCacheMs; this instance's rotations and deletions forget them.
  const tokenCache = new TokenCache({ ttlMs: options.scimTokenCacheMs });
  const activityOptions = options.activityLog || DEFAULT_ACTIVITY_LOG;
  const activity = options.activityLog ? new ActivityRecorder(store, options.activityLog, onError) : null;
  const handleScim = createScimHandler({
    store,
    tokenCache,
    rateLimit: options.rateLimit || null,
    emit,
    paging: { defaultCount: options.defaultPageSize, maxCount: options.maxPageSize, maxScan: options.maxScanResources },
    filterLimits: { maxLength: options.maxFilterLength, maxDepth: options.maxFilterDepth },
    maxPatchOperations: options.maxPatchOperations,
    quota: options.quota,
    events: options.durableEvents,
    maxBodyBytes: options.maxBodyBytes,
    retryAfterSeconds: options.retryAfterSeconds,
    onError,
    ...(activity && { onAnswered: (answered) => activity.recordScimRequest(answered.connection.customerId, answered) }),
  });
  const mount = { basePath: options.basePath, maxBodyBytes: options.maxBodyBytes, publicBaseUrl: options.publicBaseUrl };
  // No cache is invalidated by "this instance made the change": login steps read the store and pick the
  // strategy built for the stored client version (src/guard/passport.ts), so every instance is current.
  const runtime = new LoginRuntime(
    store,
    {
      allowHttpIssuers: options.allowHttpIssuers,
      allowPrivateIdpAddresses: privateIdpAddressesAllowed(options),
      retryAfterSeconds: options.retryAfterSeconds,
      requireVerifiedEmail: options.requireVerifiedEmail,
      ...(activity && { onLoginRefused: (customerId: string, entry: LoginEntry) => activity.recordLogin(customerId, entry) }),
    },
    emit,
  );
  const internals: Internals = { options, store, handleScim, runtime, mount, emit, onError, activity };
  const connections = connectionManager(store, emit);
  /** A change of a customer's tokens, then the customer forgotten by this instance's token cache, whatever its outcome. */
  const forgettingTokens =
    <A extends unknown[], R>(change: (customerId: string, ...rest: A) => Promise<R>) =>
    async (customerId: string, ...rest: A): Promise<R> => {
      try {
        return await change(customerId, ...rest);
      } finally {
        if (typeof customerId === 'string') tokenCache.forgetCustomer(customerId);
      }
    };
  const clients = oidcClientManager(store, emit, options.allowHttpIssuers);
  const samls = samlConnectionManager(store, emit, { allowHttp: options.allowHttpIssuers, allowPrivate: privateIdpAddressesAllowed(options) });
  const roles = roleMappingsApi(store, emit);
  const setupLinks = setupLinkManager(store, options.setupPortalUrl, emit);
  const activityLog = activityApi(store, activity, activityOptions);
  const core: ScimSsoCore = {
    basePath: options.basePath,
    directory: directoryApi(store),
    events: provisioningEventsApi(store, onError),
    createScimConnection: connections.createScimConnection,
    fetchScimConnection: connections.fetchScimConnection,
    deleteScimConnection: forgettingTokens(connections.deleteScimConnection),
    rotateScimToken: forgettingTokens(connections.rotateScimToken),
    createOidcClient: clients.createOidcClient,
    updateOidcClient: clients.updateOidcClient,
    fetchOidcClient: clients.fetchOidcClient,
    deleteOidcClient: clients.deleteOidcClient,
    createSamlConnection: samls.createSamlConnection,
    updateSamlConnection: samls.updateSamlConnection,
    fetchSamlConnection: samls.fetchSamlConnection,
    deleteSamlConnection: samls.deleteSamlConnection,
    setRoleMapping: roles.setRoleMapping,
    fetchRoleMapping: roles.fetchRoleMapping,
    deleteRoleMapping: roles.deleteRoleMapping,
    activity: activityLog.activity,
    listSsoUsers: (customerId) => store.listSsoUsers(checkCustomerId(customerId)),
    matchingReport: (customerId) => matchingReport(store, checkCustomerId(customerId), options.requireVerifiedEmail),
    guardVerify: (customerId, verify) => asGuardVerify(runtime.guardVerify(checkCustomerId(customerId), verify as AppVerify<never>)),
    strategy: async (customerId, verify) => asLoginStrategy(await runtime.strategy(checkCustomerId(customerId), verify as AppVerify<never>)),
    handleScimRequest: (req, res) => handleNodeScim(internals, req, res),
    createSetupLink: setupLinks.createSetupLink,
    revokeSetupLinks: setupLinks.revokeSetupLinks,
  };
  registerInternals(core, internals);
  return core;
}

/** Serves a SCIM request on plain Node http (ScimSsoCore.handleScimRequest). */
async function handleNodeScim(internals: Internals, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const { mount } = internals;
  const request = toScimRequest(
    {
      node: req,
      url: req.url ?? '/',
      parsedBody: (req as { body?: unknown }).body,
      mountUrl: () => requestOrigin((req.socket as { encrypted?: boolean }).encrypted === true ? 'https' : 'http', req.headers.host),
    },
    mount,
  );
  if (request === null) return false;
  const response = await internals.handleScim(request);
  res.statusCode = response.status;
  for (const [name, value] of Object.entries(settleUnreadBody(req, response.headers))) res.setHeader(name, value);
  writeBody(res, response.body, response.sent);
  return true;
}
