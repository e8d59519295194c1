/**
 * Management of OIDC clients: one per customer, paired with the customer's SCIM connection by
 * `customerId`. The IdP type picks the default matching strategy (docs/design-decisions.md §Matching strategies); an explicit strategy wins and
 * can be changed later. Client secrets are stored for the login flow and never returned.
 */
import { DISCOVERY_ADDRESS_PROBLEM, isDiscoveryAddress } from './guard/discovery-address.js';
import { multiTenantIssuerProblem } from './guard/entra-tenant.js';
import { sharedIssuerProblem, subjectClaimProblem } from './guard/tenant-claims.js';
import { CLAIM_NAME, MAX_REQUIRED_CLAIM_VALUES, MAX_REQUIRED_CLAIMS } from './store/sso-records.js';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { checkCustomerId } from './connections.js';
import { parseArgument as parse, ScimSsoConfigError } from './errors.js';
import { MATCHING_STRATEGIES, type MatchingStrategy } from './match/strategies.js';
import type { IdpType, Store, StoredOidcClient } from './store/store.js';
import type { AuditEventType, Emit } from './events.js';

/** Default matching strategy per IdP type (PropelAuth's table; Entra's `sub` is pairwise, so `oid` ↔ externalId). */
export const DEFAULT_STRATEGY: Record<IdpType, MatchingStrategy> = {
  Okta: 'OidcEmailToScimUsername',
  MicrosoftEntra: 'OidcSubToScimExternalId',
  Generic: 'OidcEmailToScimUsername',
};

/** Default subject claim per IdP type: Entra's `oid` (its directory object id), else `sub`. */
export const DEFAULT_SUBJECT_CLAIM: Record<IdpType, string> = { Okta: 'sub', MicrosoftEntra: 'oid', Generic: 'sub' };

const settings = {
  idpType: z.enum(['Okta', 'MicrosoftEntra', 'Generic']),
  issuer: z
    .url({ protocol: /^https?$/ })
    .refine((issuer) => multiTenantIssuerProblem(issuer) === null, {
      error: (issue) => multiTenantIssuerProblem(String(issue.input)) ?? 'a multi-tenant issuer',
    })
    .refine((issuer) => !isDiscoveryAddress(issuer), { error: DISCOVERY_ADDRESS_PROBLEM }),
  clientId: z.string().min(1).max(500),
  clientSecret: z.string().min(1).max(2000).nullable(),
  redirectUri: z.url({ protocol: /^https?$/ }),
  matchingStrategy: z.enum(MATCHING_STRATEGIES),
  subjectClaim: z
    .string()
    .regex(CLAIM_NAME, 'subjectClaim must be a claim name')
    .refine((name) => subjectClaimProblem(name) === null, { error: (issue) => subjectClaimProblem(String(issue.input)) ?? 'not a subject claim' }),
  claimsSource: z.enum(['id_token', 'userinfo', 'auto']),
  scopes: z.array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'scopes are OAuth scope tokens')).min(1),
  /** true: the email strategies need email_verified true; false: absent is enough; null: the instance default. */
  requireVerifiedEmail: z.boolean().nullable(),
  /** Claims a login must carry with one of the values listed (src/guard/tenant-claims.ts). */
  requiredClaims: z
    .record(z.string().regex(CLAIM_NAME, 'requiredClaims names claims'), z.array(z.string().min(1).max(500)).min(1).max(MAX_REQUIRED_CLAIM_VALUES))
    .refine((claims) => Object.keys(claims).length <= MAX_REQUIRED_CLAIMS, { error: `requiredClaims names at most ${MAX_REQUIRED_CLAIMS} claims` }),
};

/** Throws unless the client's issuer gets the claims a shared issuer needs (src/guard/tenant-claims.ts). */
function checkSharedIssuer(client: Pick<StoredOidcClient, 'issuer' | 'requiredClaims'>, what: string): void {
  const problem = sharedIssuerProblem(client.issuer, client.requiredClaims);
  if (problem) throw new ScimSsoConfigError('invalid_argument', `${what}: ${problem}`);
}

/**
 * Throws unless the issuer is https or the instance allows http ones (`allowHttpIssuers`): every login of such
 * a client would be refused at its start (src/guard/passport.ts), so it is a configuration mistake, said here.
 */
function checkIssuerScheme(issuer: string, allowHttp: boolean, what: string): void {
  if (!allowHttp && new URL(issuer).protocol !== 'https:') {
    throw new ScimSsoConfigError('invalid_argument', `${what}: issuer ${issuer} is not https (allowHttpIssuers is for local testing)`);
  }
}

const createSchema = z.strictObject({
  customerId: z.string(),
  ...settings,
  clientSecret: settings.clientSecret.optional(),
  matchingStrategy: settings.matchingStrategy.optional(),
  subjectClaim: settings.subjectClaim.optional(),
  claimsSource: settings.claimsSource.optional(),
  scopes: settings.scopes.optional(),
  requireVerifiedEmail: settings.requireVerifiedEmail.optional(),
  requiredClaims: settings.requiredClaims.optional(),
});

const updateSchema = z.strictObject(settings).partial();

export type CreateOidcClientInput = z.input<typeof createSchema>;
export type UpdateOidcClientInput = z.input<typeof updateSchema>;

/** An OIDC client as the app sees it: no secret, and the paired SCIM connection's id. */
export interface OidcClient {
  oidcClientId: string;
  customerId: string;
  idpType: IdpType;
  issuer: string;
  clientId: string;
  /** Whether a client secret is stored (the secret itself is never returned). */
  hasClientSecret: boolean;
  redirectUri: string;
  matchingStrategy: MatchingStrategy;
  subjectClaim: string;
  claimsSource: 'id_token' | 'userinfo' | 'auto';
  scopes: string[];
  /**
   * Whether the email strategies need `email_verified` true (absent then counts as unverified); null
   * follows the scimSso instance's `requireVerifiedEmail`. docs/login-freshness.md.
   */
  requireVerifiedEmail: boolean | null;
  /** Claims a login must carry with one of the values listed ({} : none); required for Google's issuer (`hd`). */
  requiredClaims: Record<string, string[]>;
  /** The SCIM connection of the same customer, or null when there is none. */
  scimConnectionId: string | null;
  createdAt: string;
  updatedAt: string;
}

export function toPublicOidcClient(client: StoredOidcClient, scimConnectionId: string | null): OidcClient {
  return {
    oidcClientId: client.oidcClientId,
    customerId: client.customerId,
    idpType: client.idpType,
    issuer: client.issuer,
    clientId: client.clientId,
    hasClientSecret: client.clientSecret !== null,
    redirectUri: client.redirectUri,
    matchingStrategy: client.matchingStrategy as MatchingStrategy,
    subjectClaim: client.subjectClaim,
    claimsSource: client.claimsSource,
    scopes: [...client.scopes],
    requireVerifiedEmail: client.requireVerifiedEmail ?? null,
    requiredClaims: structuredClone(client.requiredClaims ?? {}),
    scimConnectionId,
    createdAt: client.createdAt,
    updatedAt: client.updatedAt,
  };
}

/**
 * The client after an update. A strategy or subject claim that was the old IdP type's default follows a new
 * IdP type. `updatedAt` always moves forward (at least 1 ms), as the compare-and-set relies on it.
 */
function merged(current: StoredOidcClient, changes: UpdateOidcClientInput): StoredOidcClient {
  const updatedAt = new Date(Math.max(Date.now(), Date.parse(current.updatedAt) + 1)).toISOString();
  const next: StoredOidcClient = { ...current, ...(changes as Partial<StoredOidcClient>), updatedAt };
  if (changes.idpType && !changes.matchingStrategy && current.matchingStrategy === DEFAULT_STRATEGY[current.idpType]) {
    next.matchingStrategy = DEFAULT_STRATEGY[changes.idpType];
  }
  if (changes.idpType && !changes.subjectClaim && current.subjectClaim === DEFAULT_SUBJECT_CLAIM[current.idpType]) {
    next.subjectClaim = DEFAULT_SUBJECT_CLAIM[changes.idpType];
  }
  if (!next.scopes.includes('openid')) next.scopes = ['openid', ...next.scopes];
  return next;
}

export function oidcClientManager(store: Store, emit: Emit = () => {}, allowHttpIssuers = false) {
  const changed = (type: AuditEventType, customerId: string) => {
    emit({ type, actor: 'admin', outcome: 'success', customerId, connectionId: null });
  };
  const pairedConnectionId = async (customerId: string) => (await store.getConnectionByCustomer(customerId))?.connectionId ?? null;

  return {
    /** Creates the customer's OIDC client; a second one for the same customer is an error. */
    async createOidcClient(input: CreateOidcClientInput): Promise<OidcClient> {
      const parsed = parse(createSchema, input, 'createOidcClient');
      const customerId = checkCustomerId(parsed.customerId);
      const now = new Date().toISOString();
      const client: StoredOidcClient = {
        oidcClientId: randomUUID(),
        customerId,
        idpType: parsed.idpType,
        issuer: parsed.issuer,
        clientId: parsed.clientId,
        clientSecret: parsed.clientSecret ?? null,
        redirectUri: parsed.redirectUri,
        matchingStrategy: parsed.matchingStrategy ?? DEFAULT_STRATEGY[parsed.idpType],
        subjectClaim: parsed.subjectClaim ?? DEFAULT_SUBJECT_CLAIM[parsed.idpType],
        claimsSource: parsed.claimsSource ?? 'auto',
        scopes: parsed.scopes ?? ['openid', 'email', 'profile'],
        requireVerifiedEmail: parsed.requireVerifiedEmail ?? null,
        requiredClaims: parsed.requiredClaims ?? {},
        createdAt: now,
        updatedAt: now,
      };
      if (!client.scopes.includes('openid')) client.scopes.unshift('openid');
      checkIssuerScheme(client.issuer, allowHttpIssuers, 'createOidcClient');
      checkSharedIssuer(client, 'createOidcClient');
      const created = await store.createOidcClient(client);
      if (created === 'exists') throw new ScimSsoConfigError('oidc_client_exists', `customer "${customerId}" already has an OIDC client`);
      if (created === 'other_protocol') {
        throw new ScimSsoConfigError(
          'sso_connection_exists',
          `customer "${customerId}" already has a SAML connection; a customer has one SSO connection (delete it first to switch to OIDC)`,
        );
      }
      changed('oidc_client.created', customerId);
      return toPublicOidcClient(client, await pairedConnectionId(customerId));
    },

    /** Changes settings of the customer's OIDC client; they apply from the next login. */
    async updateOidcClient(customerId: string, patch: UpdateOidcClientInput): Promise<OidcClient> {
      checkCustomerId(customerId);
      const changes = parse(updateSchema, patch, 'updateOidcClient');
      if (changes.issuer !== undefined) checkIssuerScheme(changes.issuer, allowHttpIssuers, 'updateOidcClient');
      // Read, merge, compare-and-set on updatedAt: concurrent updates (dashboard Save, app code) all land.
      for (let attempt = 0; attempt < 10; attempt++) {
        const current = await store.getOidcClient(customerId);
        if (!current) throw new ScimSsoConfigError('oidc_client_not_found', `customer "${customerId}" has no OIDC client`);
        const next = merged(current, changes);
        checkSharedIssuer(next, 'updateOidcClient');
        if (await store.replaceOidcClient(next, current.updatedAt)) {
          changed('oidc_client.updated', customerId);
          return toPublicOidcClient(next, await pairedConnectionId(customerId));
        }
      }
      throw new ScimSsoConfigError('oidc_client_not_found', `customer "${customerId}"'s OIDC client kept changing during the update; retry`);
    },

    /** The customer's OIDC client (without its secret), or null. */
    async fetchOidcClient(customerId: string): Promise<OidcClient | null> {
      const client = await store.getOidcClient(checkCustomerId(customerId));
      return client ? toPublicOidcClient(client, await pairedConnectionId(customerId)) : null;
    },

    /** Deletes the customer's OIDC client and its recorded SSO users; false if there was none. */
    async deleteOidcClient(customerId: string): Promise<boolean> {
      const deleted = await store.deleteOidcClient(checkCustomerId(customerId));
      if (deleted) changed('oidc_client.deleted', customerId);
      return deleted;
    },
  };
}
