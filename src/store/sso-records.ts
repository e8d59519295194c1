/**
 * Validation and copying of the SSO connection records (OIDC clients, SAML connections) and SSO users,
 * shared by both stores so that they accept, store and return exactly the same thing. The records travel as
 * JSON text inside the stores: what comes out is always a fresh copy, never an object a caller could use to
 * change the store.
 */
import { type IdpType, type SamlSignedPart, type Store, type StoredOidcClient, type StoredSamlConnection, type StoredSsoUser } from './store.js';
import { assertStoreId } from './store-checks.js';

/** The Store methods about SSO connections, SSO users and customers (memory-sso.ts, redis-sso.ts). */
export type SsoMethods = Pick<
  Store,
  | 'createOidcClient'
  | 'getOidcClient'
  | 'replaceOidcClient'
  | 'deleteOidcClient'
  | 'listCustomers'
  | 'createSamlConnection'
  | 'getSamlConnection'
  | 'replaceSamlConnection'
  | 'deleteSamlConnection'
  | 'recordSsoUser'
  | 'listSsoUsers'
  | 'listSsoUserPage'
  | 'scanSsoUsers'
  | 'getSsoUser'
>;

/** The longest SSO subject the stores accept (subjects are hash fields, not key names). */
export const MAX_SUBJECT_LENGTH = 1000;

/**
 * The largest SSO user record (its stored JSON) the stores accept. The guard's records stay far below it
 * (src/guard/identity.ts bounds every value it records: about 25 KB at the very worst, a few hundred bytes
 * in practice), so that a page of records is bounded too.
 */
export const MAX_SSO_RECORD_BYTES = 32 * 1024;

const IDP_TYPES: readonly IdpType[] = ['Okta', 'MicrosoftEntra', 'Generic'];
const CLAIMS_SOURCES: readonly StoredOidcClient['claimsSource'][] = ['id_token', 'userinfo', 'auto'];
const OUTCOMES: readonly StoredSsoUser['lastOutcome'][] = ['admitted', 'refused'];

function str(what: string, value: unknown): string {
  if (typeof value !== 'string') throw new TypeError(`${what} must be a string`);
  return value;
}

function strOrNull(what: string, value: unknown): string | null {
  if (value !== null && typeof value !== 'string') throw new TypeError(`${what} must be a string or null`);
  return value;
}

function boolOrNull(what: string, value: unknown): boolean | null {
  if (value !== null && typeof value !== 'boolean') throw new TypeError(`${what} must be a boolean or null`);
  return value;
}

/** The SSO user records the stores keep per customer (see {@link SsoRecordOptions}). */
export interface SsoRecordOptions {
  /**
   * Most SSO user records (the matching report's and the dashboard's: one per subject that tried to log in)
   * kept per customer; past it, a recording drops the least recently seen. The customer's own
   * IdP decides which subjects log in, so without a bound it could grow the storage every customer shares
   * by one record per login. Default: 2,000,000 (the default `quota.maxUsers`, twice a 1,000,000-user
   * enterprise).
   */
  maxSsoUsersPerCustomer?: number;
  /**
   * Most bytes of SSO user records kept per customer (each record's stored form: `firstSeenAt`, a newline
   * and its JSON, in UTF-8), enforced as `maxSsoUsersPerCustomer` is. Records are a few hundred bytes, but
   * an IdP can make each up to 32 KB (MAX_SSO_RECORD_BYTES) with made-up claims: 2,000,000 of those would
   * be 64 GB. Default: 1 GiB (about 2,000,000 ordinary records).
   */
  maxSsoUserBytesPerCustomer?: number;
}

export const DEFAULT_MAX_SSO_USERS_PER_CUSTOMER = 2_000_000;
export const DEFAULT_MAX_SSO_USER_BYTES_PER_CUSTOMER = 1024 ** 3;

/**
 * Most records one recording drops: a cap lowered below what a customer holds is reached over the next
 * logins, never in one long step.
 */
export const SSO_DROPS_PER_RECORD = 64;

/** Validates {@link SsoRecordOptions} and fills in the default. */
export function resolveSsoRecordOptions(options: SsoRecordOptions): Required<SsoRecordOptions> {
  const max = options.maxSsoUsersPerCustomer ?? DEFAULT_MAX_SSO_USERS_PER_CUSTOMER;
  if (!Number.isSafeInteger(max) || max < 1) throw new TypeError('maxSsoUsersPerCustomer must be a positive integer');
  const maxBytes = options.maxSsoUserBytesPerCustomer ?? DEFAULT_MAX_SSO_USER_BYTES_PER_CUSTOMER;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) throw new TypeError('maxSsoUserBytesPerCustomer must be a positive integer');
  return { maxSsoUsersPerCustomer: max, maxSsoUserBytesPerCustomer: maxBytes };
}

/** A claim name as OIDC clients name one (subjectClaim, requiredClaims); never `__proto__`. */
export const CLAIM_NAME = /^(?!__proto__$)[A-Za-z0-9_.:-]{1,100}$/;

/** Most claims an OIDC client may require, and most values each may accept. */
export const MAX_REQUIRED_CLAIMS = 10;
export const MAX_REQUIRED_CLAIM_VALUES = 100;

/** A copy of an OIDC client's required claims: own names of claim-name form, each 1-100 strings of 1-500 characters. */
function requiredClaimsOf(value: unknown): Record<string, string[]> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError('requiredClaims must be an object');
  const names = Object.keys(value);
  if (names.length > MAX_REQUIRED_CLAIMS) throw new TypeError(`requiredClaims names at most ${MAX_REQUIRED_CLAIMS} claims`);
  const out: Record<string, string[]> = {};
  for (const name of names) {
    const accepted = (value as Record<string, unknown>)[name];
    const valid =
      CLAIM_NAME.test(name) &&
      Array.isArray(accepted) &&
      accepted.length >= 1 &&
      accepted.length <= MAX_REQUIRED_CLAIM_VALUES &&
      accepted.every((v) => typeof v === 'string' && v.length >= 1 && v.length <= 500);
    if (!valid) throw new TypeError(`requiredClaims.${name.slice(0, 100)} must be a claim name with 1 to ${MAX_REQUIRED_CLAIM_VALUES} accepted strings`);
    Object.defineProperty(out, name, { value: [...(accepted as string[])], enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function oneOf<T extends string>(what: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw new TypeError(`${what} must be one of ${allowed.join(', ')}`);
  return value as T;
}

/** A timestamp (ISO 8601 expected): 1-100 characters, no control characters (the Redis store ends it with `\n`). */
function timestamp(what: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 100 || /\p{Cc}/u.test(value)) {
    throw new TypeError(`${what} must be a timestamp string without control characters`);
  }
  return value;
}

/** Whether `subject` can be an SSO user's: 1-1000 characters without control characters or lone surrogates. */
export function isSsoSubject(subject: unknown): subject is string {
  return typeof subject === 'string' && subject.length > 0 && subject.length <= MAX_SUBJECT_LENGTH && !/\p{Cc}/u.test(subject) && subject.isWellFormed();
}

/** Throws a TypeError unless {@link isSsoSubject}. */
function assertSsoSubject(subject: unknown): asserts subject is string {
  if (!isSsoSubject(subject)) throw new TypeError(`subject must be 1-${MAX_SUBJECT_LENGTH} characters without control characters or lone surrogates`);
}

/** Validates an OIDC client and returns a copy with exactly the contract's fields, in a fixed order. */
export function checkOidcClient(c: StoredOidcClient): StoredOidcClient {
  assertStoreId('customerId', c.customerId);
  if (!Array.isArray(c.scopes) || !c.scopes.every((s) => typeof s === 'string')) {
    throw new TypeError('scopes must be an array of strings');
  }
  return {
    oidcClientId: str('oidcClientId', c.oidcClientId),
    customerId: c.customerId,
    idpType: oneOf('idpType', c.idpType, IDP_TYPES),
    issuer: str('issuer', c.issuer),
    clientId: str('clientId', c.clientId),
    clientSecret: strOrNull('clientSecret', c.clientSecret),
    redirectUri: str('redirectUri', c.redirectUri),
    matchingStrategy: str('matchingStrategy', c.matchingStrategy),
    subjectClaim: str('subjectClaim', c.subjectClaim),
    claimsSource: oneOf('claimsSource', c.claimsSource, CLAIMS_SOURCES),
    scopes: [...c.scopes],
    // Optional: records written before the field existed (and callers that omit it) keep not having it.
    ...(c.requireVerifiedEmail === undefined ? {} : { requireVerifiedEmail: boolOrNull('requireVerifiedEmail', c.requireVerifiedEmail) }),
    ...(c.requiredClaims === undefined ? {} : { requiredClaims: requiredClaimsOf(c.requiredClaims) }),
    createdAt: str('createdAt', c.createdAt),
    updatedAt: str('updatedAt', c.updatedAt),
  };
}

const SIGNED_PARTS: readonly SamlSignedPart[] = ['assertion', 'response', 'both'];

/** Validates a SAML connection and returns a copy with exactly the contract's fields, in a fixed order. */
export function checkSamlConnection(c: StoredSamlConnection): StoredSamlConnection {
  assertStoreId('customerId', c.customerId);
  if (!Array.isArray(c.idpCerts) || c.idpCerts.length < 1 || c.idpCerts.length > 3 || !c.idpCerts.every((cert) => typeof cert === 'string')) {
    throw new TypeError('idpCerts must be an array of 1 to 3 strings');
  }
  if (!Number.isSafeInteger(c.clockSkewSeconds) || c.clockSkewSeconds < 0 || c.clockSkewSeconds > 300) {
    throw new TypeError('clockSkewSeconds must be an integer from 0 to 300');
  }
  return {
    samlConnectionId: str('samlConnectionId', c.samlConnectionId),
    customerId: c.customerId,
    idpType: oneOf('idpType', c.idpType, IDP_TYPES),
    idpEntityId: str('idpEntityId', c.idpEntityId),
    entryPoint: str('entryPoint', c.entryPoint),
    idpCerts: [...c.idpCerts],
    spEntityId: str('spEntityId', c.spEntityId),
    acsUrl: str('acsUrl', c.acsUrl),
    matchingStrategy: str('matchingStrategy', c.matchingStrategy),
    matchAttribute: str('matchAttribute', c.matchAttribute),
    emailAttribute: str('emailAttribute', c.emailAttribute),
    signed: oneOf('signed', c.signed, SIGNED_PARTS),
    clockSkewSeconds: c.clockSkewSeconds,
    createdAt: str('createdAt', c.createdAt),
    updatedAt: str('updatedAt', c.updatedAt),
  };
}

/** Reads a SAML connection back from the JSON text a store holds. */
export function parseSamlConnection(json: string): StoredSamlConnection {
  return JSON.parse(json) as StoredSamlConnection;
}

/** Reads an OIDC client back from the JSON text a store holds. */
export function parseOidcClient(json: string): StoredOidcClient {
  return JSON.parse(json) as StoredOidcClient;
}

/**
 * One protocol's SSO connection records, as a store keeps them: a customer has an OIDC client or a SAML
 * connection, never both, and the two are created, read, replaced (compare-and-set on `updatedAt`) and
 * deleted alike. Each store writes these four once (memory-sso.ts, redis-sso.ts) and names them per protocol
 * with {@link namedSsoConnectionMethods}.
 */
export interface SsoConnectionRecords<R> {
  create(record: R): Promise<'created' | 'exists' | 'other_protocol'>;
  get(customerId: string): Promise<R | null>;
  replace(record: R, expectedUpdatedAt?: string): Promise<boolean>;
  /** Deletes the record and the customer's SSO users; false if there was no record. */
  delete(customerId: string): Promise<boolean>;
}

/** How one protocol's records are checked on the way in and read back from the JSON a store holds. */
export interface SsoConnectionKind<R extends { customerId: string; updatedAt: string }> {
  check(record: R): R;
  parse(json: string): R;
}

export const OIDC_CLIENT_RECORDS: SsoConnectionKind<StoredOidcClient> = { check: checkOidcClient, parse: parseOidcClient };
export const SAML_CONNECTION_RECORDS: SsoConnectionKind<StoredSamlConnection> = { check: checkSamlConnection, parse: parseSamlConnection };

/** The Store's methods about SSO connection records, named per protocol. */
export function namedSsoConnectionMethods(
  oidc: SsoConnectionRecords<StoredOidcClient>,
  saml: SsoConnectionRecords<StoredSamlConnection>,
): Pick<SsoMethods, `${'create' | 'get' | 'replace' | 'delete'}${'OidcClient' | 'SamlConnection'}`> {
  return {
    createOidcClient: oidc.create,
    getOidcClient: oidc.get,
    replaceOidcClient: oidc.replace,
    deleteOidcClient: oidc.delete,
    createSamlConnection: saml.create,
    getSamlConnection: saml.get,
    replaceSamlConnection: saml.replace,
    deleteSamlConnection: saml.delete,
  };
}

/**
 * An SSO user split the way the stores keep it: `firstSeenAt` on its own (the store decides which one to
 * keep) and the rest as JSON text (`claims` go through JSON, so they must be JSON data).
 */
export interface SsoUserRecord {
  subject: string;
  firstSeenAt: string;
  /** Also inside `json`; apart for the stores' order (src/seen-order.ts). */
  lastSeenAt: string;
  /** Every field except `firstSeenAt`, as JSON. */
  json: string;
}

/** Validates an SSO user and splits it into a {@link SsoUserRecord}. */
export function checkSsoUser(u: StoredSsoUser): SsoUserRecord {
  assertSsoSubject(u.subject);
  if (u.emailVerified !== null && typeof u.emailVerified !== 'boolean') {
    throw new TypeError('emailVerified must be a boolean or null');
  }
  if (typeof u.claims !== 'object' || u.claims === null || Array.isArray(u.claims)) {
    throw new TypeError('claims must be an object');
  }
  const rest: Omit<StoredSsoUser, 'firstSeenAt'> = {
    subject: u.subject,
    email: strOrNull('email', u.email),
    emailVerified: u.emailVerified,
    preferredUsername: strOrNull('preferredUsername', u.preferredUsername),
    name: strOrNull('name', u.name),
    claims: u.claims,
    lastSeenAt: timestamp('lastSeenAt', u.lastSeenAt),
    lastOutcome: oneOf('lastOutcome', u.lastOutcome, OUTCOMES),
    lastReason: strOrNull('lastReason', u.lastReason),
    lastScimUserId: strOrNull('lastScimUserId', u.lastScimUserId),
  };
  const json = JSON.stringify(rest);
  if (json.length > MAX_SSO_RECORD_BYTES / 3 && Buffer.byteLength(json) > MAX_SSO_RECORD_BYTES) {
    throw new TypeError(`an SSO user record must be at most ${MAX_SSO_RECORD_BYTES} bytes of JSON`);
  }
  return { subject: u.subject, firstSeenAt: timestamp('firstSeenAt', u.firstSeenAt), lastSeenAt: rest.lastSeenAt, json };
}

/** Rebuilds the SSO user a store holds as `firstSeenAt` plus the JSON of the rest. */
export function parseSsoUser(firstSeenAt: string, json: string): StoredSsoUser {
  // Completed in place, not copied: the matching report parses every SSO user of a customer.
  const user = JSON.parse(json) as StoredSsoUser | null;
  if (typeof user !== 'object' || user === null) throw new TypeError('a stored SSO user is not a JSON object');
  user.firstSeenAt = firstSeenAt;
  return user;
}

/**
 * The earlier of two timestamps, compared as strings code unit by code unit (the Redis script compares
 * bytes: the same order for the ASCII of ISO 8601 timestamps from `toISOString()`).
 */
export function earlierTimestamp(a: string, b: string): string {
  return a <= b ? a : b;
}
