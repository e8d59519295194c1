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
  /** Groups: their members, in the order they were first added. */
  members?: StoredMember[];
  /** Users: the groups they are a direct member of. */
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

/** The contract. Every resource method is scoped to one connection id: nothing crosses connections. */
export interface Store {
  /** A short name for diagnostics: 'memory' or 'redis'. */
  readonly kind: string;

  /** Creates a connection; 'exists' when the customer already has one. */
  createConnection(connection: StoredConnection): Promise<'created' | 'exists'>;
  getConnectionByCustomer(customerId: string): Promise<StoredConnection | null>;
  /** Finds the connection whose current token, or unexpired previous token, has this hash. */
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

  /** Releases what the store holds (not the app's Redis client). */
  close?(): Promise<void>;
}
