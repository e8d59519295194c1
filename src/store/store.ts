/**
 * The storage contract of scim-sso. Two implementations (memory.ts, redis.ts) pass one contract suite
 * (test/store/contract.ts). The store knows nothing of SCIM semantics: the SCIM layer hands it JSON text
 * plus precomputed index entries, and the store keeps indexes, uniqueness and membership consistent,
 * atomically, per connection.
 */

export type ResourceKind = 'User' | 'Group';

/** A SCIM connection: one per customer. The token is kept only as its SHA-256 hash (hex). */
export interface StoredConnection {
  connectionId: string;
  customerId: string;
  displayName: string | null;
  tokenHash: string;
  /** The hash of the previous token while it is still accepted after a rotation. */
  previousTokenHash: string | null;
  /** Epoch milliseconds after which the previous token stops working. */
  previousTokenExpiresAt: number | null;
  createdAt: string;
}

/**
 * One entry of a secondary index: `attribute` names the index (e.g. `userName`, `externalId`, `email`),
 * `value` is the already-normalised key (folded by the SCIM layer where the attribute is case-insensitive).
 * A `unique` entry may point at one resource only; a second resource claiming it is a uniqueness conflict.
 */
export interface IndexEntry {
  attribute: string;
  value: string;
  unique: boolean;
}

/** A member of a group, as stored. `value` is the member's id (kept as sent, even if unknown). */
export interface StoredMember {
  value: string;
  display?: string;
  type?: string;
}

/** The group a user belongs to, derived from group membership. */
export interface StoredMembership {
  value: string;
  display: string;
}

/** What the SCIM layer writes. */
export interface ResourceWrite {
  id: string;
  kind: ResourceKind;
  /** The resource as JSON text, without `groups` (users) or `members` (groups). */
  json: string;
  /** Index entries the resource produces; the store replaces the previous set atomically. */
  indexes: IndexEntry[];
  /** Groups only: the full member list (replaces the previous one). */
  members?: StoredMember[];
  /** Groups only: the display name shown in its members' derived `groups`. */
  displayName?: string;
}

/** What the store returns. */
export interface StoredResource {
  id: string;
  kind: ResourceKind;
  json: string;
  /** Increases by one on every write; starts at 1. */
  version: number;
  /**
   * Groups: their members, in the order they were first added (the store keeps the order of the last
   * `ResourceWrite.members` list, first occurrence wins for duplicate values).
   */
  members?: StoredMember[];
  /** Users: the groups they are a direct member of, in the groups' creation order. */
  groups?: StoredMembership[];
}

export type WriteOutcome =
  | { ok: true; version: number }
  | { ok: false; reason: 'uniqueness'; attribute: string }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'version_mismatch'; currentVersion: number };

export interface Page {
  total: number;
  resources: StoredResource[];
}

/** What the login guard reads in its one round trip. */
export interface LoginLookup {
  /** The users whose index `attribute` holds `value`, in creation order. */
  users: StoredResource[];
  /**
   * Whether a user deleted from this connection held this index value. Only deleteResource of a user
   * leaves such a tombstone (one per index entry, kept until deleteConnection); a value a user dropped by
   * being replaced (e.g. renamed) does not count. It stays true after a live user takes the value again:
   * it is meant to be consulted only when `users` is empty (to tell a deleted user from one never provisioned).
   */
  deletedMatch: boolean;
}

/** The IdP kinds an OIDC client can be; they set the default matching strategy. */
export type IdpType = 'Okta' | 'MicrosoftEntra' | 'Generic';

/** An OIDC client: one per customer, paired with the SCIM connection of the same customer. */
export interface StoredOidcClient {
  oidcClientId: string;
  customerId: string;
  idpType: IdpType;
  issuer: string;
  clientId: string;
  /** Kept so the app can authenticate to the IdP; never returned by the public fetch API. */
  clientSecret: string | null;
  redirectUri: string;
  /** One of the five strategy names (match/strategies.ts). */
  matchingStrategy: string;
  /** The claim used as the subject: 'sub', or 'oid' for Entra. */
  subjectClaim: string;
  claimsSource: 'id_token' | 'userinfo' | 'auto';
  scopes: string[];
  /**
   * Whether the email strategies need `email_verified` to be true (absent counts as unverified); null or
   * absent (records written before the field existed) follows the scimSso instance's default.
   */
  requireVerifiedEmail?: boolean | null;
  createdAt: string;
  updatedAt: string;
}

/** A person who tried to log in through a customer's OIDC client (admitted or not), by subject. */
export interface StoredSsoUser {
  subject: string;
  email: string | null;
  emailVerified: boolean | null;
  preferredUsername: string | null;
  name: string | null;
  /** The other claims the matching tool may show (no tokens). */
  claims: Record<string, unknown>;
  firstSeenAt: string;
  lastSeenAt: string;
  lastOutcome: 'admitted' | 'refused';
  /** The refusal reason, or null when admitted. */
  lastReason: string | null;
  /** The SCIM user id the last login matched, if any. */
  lastScimUserId: string | null;
}

/**
 * The contract. Every resource method is scoped to one connection id: nothing crosses connections.
 * Resource writes on a connection that does not exist (or is being deleted) fail with 'not_found', so a
 * write racing a deleteConnection cannot resurrect the deleted connection's data.
 * Removing a member because the member was deleted bumps the group's version (its member list changed);
 * a user's version does not change when its derived `groups` do (RFC 7643: `groups` is read-only).
 */
export interface Store {
  /** A short name for diagnostics: 'memory' or 'redis'. */
  readonly kind: string;

  /**
   * Creates a connection; 'exists' when the customer already has one. Throws if the connectionId is
   * already used by another connection (ids are the caller's to make unique), or on invalid ids.
   */
  createConnection(connection: StoredConnection): Promise<'created' | 'exists'>;
  getConnectionByCustomer(customerId: string): Promise<StoredConnection | null>;
  /**
   * Finds the connection whose current token, or unexpired previous token, has this hash. A previous token
   * whose `previousTokenExpiresAt` is null is not accepted.
   */
  findConnectionByTokenHash(tokenHash: string): Promise<StoredConnection | null>;
  /** Replaces the token hashes (rotation). Returns the updated connection, or null if it is gone. */
  updateConnectionTokens(
    connectionId: string,
    tokens: Pick<StoredConnection, 'tokenHash' | 'previousTokenHash' | 'previousTokenExpiresAt'>,
  ): Promise<StoredConnection | null>;
  /** Deletes the connection and all its users and groups. Returns false if it did not exist. */
  deleteConnection(connectionId: string): Promise<boolean>;

  /** Creates a resource; fails with 'uniqueness' if a unique index entry is taken. */
  createResource(connectionId: string, write: ResourceWrite): Promise<WriteOutcome>;
  /**
   * Replaces a resource if its version still equals `expectedVersion` (optimistic concurrency).
   * Fails with 'not_found', 'version_mismatch' or 'uniqueness'; on failure nothing changes.
   */
  replaceResource(connectionId: string, write: ResourceWrite, expectedVersion: number): Promise<WriteOutcome>;
  /**
   * Deletes a resource with its index entries. A deleted user leaves every group; a deleted group leaves
   * every group it was a member of. Returns false if it did not exist.
   */
  deleteResource(connectionId: string, kind: ResourceKind, id: string): Promise<boolean>;

  getResource(connectionId: string, kind: ResourceKind, id: string): Promise<StoredResource | null>;
  /** The resources whose index `attribute` holds `value`, in creation order. One round trip. */
  findByIndex(connectionId: string, kind: ResourceKind, attribute: string, value: string): Promise<StoredResource[]>;
  /** Resources in creation order: `offset` is 0-based. Also returns the total count. One round trip. */
  listPage(connectionId: string, kind: ResourceKind, offset: number, count: number): Promise<Page>;

  /**
   * The login guard's lookup: users by index value, plus whether a deleted user once held that value
   * (deleting a user leaves a tombstone per index entry; see `deletedMatch`). ONE round trip.
   */
  findUsersForLogin(connectionId: string, attribute: string, value: string): Promise<LoginLookup>;

  /**
   * The customer's SCIM connection and OIDC client together, in ONE round trip (the login callback reads
   * both fresh on every login, so a change made through any app instance applies at once).
   */
  getCustomer(customerId: string): Promise<{ connection: StoredConnection | null; client: StoredOidcClient | null }>;

  /**
   * For each (attribute, value): whether a deleted user once held it (the tombstones findUsersForLogin
   * reads). For the matching report's dry run; ONE round trip per call, so callers batch.
   */
  findDeletedUsers(connectionId: string, lookups: { attribute: string; value: string }[]): Promise<boolean[]>;

  /** Creates the customer's OIDC client; 'exists' when it already has one. */
  createOidcClient(client: StoredOidcClient): Promise<'created' | 'exists'>;
  getOidcClient(customerId: string): Promise<StoredOidcClient | null>;
  /**
   * Replaces the customer's OIDC client; false when it has none or, given `expectedUpdatedAt`, when the
   * stored client's `updatedAt` differs (another update won: re-read and retry). Atomic.
   */
  replaceOidcClient(client: StoredOidcClient, expectedUpdatedAt?: string): Promise<boolean>;
  /** Deletes the customer's OIDC client and its recorded SSO users; false when it had none. */
  deleteOidcClient(customerId: string): Promise<boolean>;
  /** Every customer id with a SCIM connection or an OIDC client (admin pages; not on request paths). */
  listCustomers(): Promise<string[]>;

  /**
   * Records a login attempt: inserts or updates the SSO user with this subject (keeping `firstSeenAt`).
   * One round trip.
   */
  recordSsoUser(customerId: string, user: StoredSsoUser): Promise<void>;
  /** The customer's SSO users, most recently seen first (admin reads; may be O(n)). */
  listSsoUsers(customerId: string): Promise<StoredSsoUser[]>;

  /** Releases what the store holds (not the app's Redis client). */
  close?(): Promise<void>;
}

/** The longest connection, customer or resource id (and token hash, attribute name) the stores accept. */
export const MAX_STORE_ID_LENGTH = 200;

/**
 * True when `value` can be a connection id, customer id, resource id or token hash: 1 to 200 characters,
 * no `{` or `}` (they would break Redis Cluster hash tags), no whitespace (the Redis store separates ids by
 * spaces) and no control characters.
 */
export function isValidStoreId(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= MAX_STORE_ID_LENGTH &&
    !/[{}\s\p{Cc}]/u.test(value)
  );
}

/** Throws a TypeError naming `what` unless `value` passes {@link isValidStoreId}. */
export function assertStoreId(what: string, value: unknown): asserts value is string {
  if (!isValidStoreId(value)) {
    throw new TypeError(
      `${what} must be 1-${MAX_STORE_ID_LENGTH} characters without braces, whitespace or control characters`,
    );
  }
}

/** Throws a TypeError unless `kind` is 'User' or 'Group'. */
export function assertResourceKind(kind: unknown): asserts kind is ResourceKind {
  if (kind !== 'User' && kind !== 'Group') throw new TypeError(`kind must be 'User' or 'Group'`);
}

/** Throws a TypeError unless `attribute` can name an index: 1 to 200 characters, no control characters. */
export function assertIndexAttribute(attribute: unknown): asserts attribute is string {
  if (
    typeof attribute !== 'string' ||
    attribute.length === 0 ||
    attribute.length > MAX_STORE_ID_LENGTH ||
    /\p{Cc}/u.test(attribute)
  ) {
    throw new TypeError('index attribute must be 1-200 characters without control characters');
  }
}

/**
 * Validates a write the same way for every store and returns a clean copy: index entries deduplicated (a
 * value claimed both unique and non-unique counts as unique), members deduplicated by `value` (first one
 * wins) and reduced to their string `value`/`display`/`type`. Throws a TypeError on malformed input.
 */
export function normalizeResourceWrite(write: ResourceWrite): ResourceWrite {
  assertResourceKind(write.kind);
  assertStoreId('resource id', write.id);
  if (typeof write.json !== 'string') throw new TypeError('json must be a string');
  const indexes = new Map<string, IndexEntry>();
  for (const entry of write.indexes) {
    assertIndexAttribute(entry.attribute);
    if (typeof entry.value !== 'string') throw new TypeError('index value must be a string');
    const key = `${entry.attribute}\u0000${entry.value}`;
    const unique = entry.unique === true || indexes.get(key)?.unique === true;
    indexes.set(key, { attribute: entry.attribute, value: entry.value, unique });
  }
  const out: ResourceWrite = { id: write.id, kind: write.kind, json: write.json, indexes: [...indexes.values()] };
  if (write.kind === 'User') {
    if (write.members !== undefined) throw new TypeError('members are for groups only');
    return out;
  }
  if (write.displayName !== undefined && typeof write.displayName !== 'string') {
    throw new TypeError('displayName must be a string');
  }
  out.displayName = write.displayName ?? '';
  const members = new Map<string, StoredMember>();
  for (const member of write.members ?? []) {
    if (typeof member.value !== 'string') throw new TypeError('member value must be a string');
    if (members.has(member.value)) continue;
    const copy: StoredMember = { value: member.value };
    if (typeof member.display === 'string') copy.display = member.display;
    if (typeof member.type === 'string') copy.type = member.type;
    members.set(member.value, copy);
  }
  out.members = [...members.values()];
  return out;
}

/** Throws a TypeError unless offset and count are non-negative safe integers. */
export function assertPaging(offset: number, count: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(count) || count < 0) {
    throw new TypeError('offset and count must be non-negative integers');
  }
}
