/**
 * The storage contract of scim-sso. Two implementations (memory.ts, redis.ts) pass one contract suite
 * (test/store/contract.ts). The store knows nothing of SCIM semantics: the SCIM layer hands it JSON text
 * plus precomputed index and sort entries, and the store keeps indexes, sort indexes, uniqueness and
 * membership consistent, atomically, per connection.
 */

import type { ActivityAppend, ActivityLogName } from './activity-log.js';
import type { EventPage, WriteEvents } from './event-log.js';
import type { EventConsumerStore } from './event-consumers.js';
import type { SetupGrantStore } from './setup-grants.js';

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

/** A connection's tokens: the hashes its bearer tokens are found by, and when the previous one stops working. */
export type ConnectionTokens = Pick<StoredConnection, 'tokenHash' | 'previousTokenHash' | 'previousTokenExpiresAt'>;

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

/**
 * What a resource sorts by under one sort attribute (see listSorted): `value` is compared as JavaScript
 * compares strings (UTF-16 code units), already lower-cased by the SCIM layer where the attribute is
 * case-insensitive; null when the resource has no value (it then sorts after every value ascending, before
 * every value descending).
 */
export interface SortEntry {
  attribute: string;
  value: string | null;
}

/** The order listSorted reads in: by a sort attribute, or by creation when `attribute` is null. */
export interface SortOrder {
  attribute: string | null;
  descending: boolean;
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

/** What a session check reads of its person on every request ({@link Store.readSessionUser}). */
export interface SessionUserRead {
  version: number;
  /** The user's JSON; null when `version` is the `knownVersion` the caller passed. */
  json: string | null;
  /** The user's first groups, in group creation order, with their displayNames: as far as `namedBytes` go. */
  groups: StoredMembership[];
  /** The ids of the user's other groups, in order after `groups`: their names were not read. */
  moreGroupIds: string[];
}

/**
 * Changes to a group's members (replaceResource only): `remove` is applied first, then `add`. Adding a value
 * the group already lists keeps the listed member as it is (position, display, type); removing a value it
 * does not list does nothing. Costs O(k) for k changes, whatever the group's size (see docs/groups.md).
 */
export interface MemberChanges {
  add: StoredMember[];
  /** Member values to remove. */
  remove: string[];
}

/** What the SCIM layer writes. */
export interface ResourceWrite {
  id: string;
  kind: ResourceKind;
  /** The resource as JSON text, without `groups` (users) or `members` (groups). */
  json: string;
  /** Index entries the resource produces; the store replaces the previous set atomically. */
  indexes: IndexEntry[];
  /**
   * Sort entries the resource produces, at most one per attribute (absent: none); the store replaces the
   * previous set atomically, like `indexes`.
   */
  sortKeys?: SortEntry[];
  /**
   * Groups only: the full member list (replaces the previous one; O(old + new), chunked on Redis). On a
   * create, absent means no members; on a replace, absent (and no `memberChanges`) keeps the members as
   * they are.
   */
  members?: StoredMember[];
  /** Groups only, replaceResource only: member changes instead of a full list (not with `members`). */
  memberChanges?: MemberChanges;
  /** Groups only: the display name shown in its members' derived `groups`. */
  displayName?: string;
  /**
   * Groups only, replaceResource only: the write changes nothing but the members. When its `members` or
   * `memberChanges` would leave the members as they are (the same values with the same display and type;
   * adds of members it has, removes of members it has not), nothing is written: no new version, JSON or
   * events, and the outcome is `unchanged` (RFC 7644 §3.5.2.1: such an add "SHALL NOT change the modify
   * timestamp").
   */
  keepIfMembersUnchanged?: boolean;
  /** The events the write appends to the connection's log, atomically with it (docs/events.md); absent: none. */
  events?: WriteEvents;
  /**
   * Groups, replaceResource only: the token of the group's write lease this write holds ({@link Store.leaseGroup}).
   * Without it, a write of a group another write holds the lease of waits for that lease first.
   */
  lease?: string;
}

/**
 * A group's write lease, held by a write that takes several steps (docs/groups.md, "Writes of more than one
 * step"): until it is released, or GROUP_LEASE_MS pass without a write under it, every other replaceResource
 * of that group waits (at most LEASE_WAIT_MS, then 'version_mismatch').
 */
export interface GroupLease {
  token: string;
  release(): Promise<void>;
}

/**
 * How long a group's write lease lives past its holder's last write under it: a holder that died, or forgot
 * to release it, frees the group by itself. A holder's steps take milliseconds; this leaves room for a stalled process.
 */
export const GROUP_LEASE_MS = 10_000;

/**
 * How long a write waits in all for another write's lease on its group before it gives up ('version_mismatch':
 * the SCIM layer reads again and retries, or answers 503).
 */
export const LEASE_WAIT_MS = 30_000;

/** How much of a group a read returns. */
export interface ReadOptions {
  /**
   * Whether groups come with their `members` (default true). False makes a group read O(1) whatever its
   * size: `memberCount` is still set; read the members with listGroupMembers.
   */
  members?: boolean;
  /**
   * Groups with more members than this come without `members` (their `memberCount` says how many), and do
   * not count against a page's PAGE_MEMBERS_BUDGET: a caller that refuses such groups (a scan filtering on
   * members) learns it in O(1) instead of reading 250,000 members first. Default: no limit.
   */
  membersUpTo?: number;
  /**
   * Whether users come with their derived `groups` (default true). False leaves `groups` out, costs no
   * group read, and does not measure the page against GROUP_IDS_PER_PAGE. Honoured by listPage, listSorted
   * and listAfter (a scan that needs no groups reads without them).
   */
  groups?: boolean;
  /**
   * listPage and listSorted: the most bytes of stored rows the page returns; past them it ends early, after
   * at least one resource (keptWithin's rule). 100 users of 40 KB are 4 MB, which the Redis client decodes in
   * one go when it arrives at once (40-55 ms on a busy 2-core VM): scans set it, and a client's page is read
   * in such pieces and put together whole (Okta imports step `startIndex` by `count`). Absent, or larger:
   * PAGE_READ_BYTES.
   */
  rowBytes?: number;
}

/** One page of a group's members, in the order they were added (see listGroupMembers). */
export interface MemberPage {
  /** The group's version when the page was read (pages of one version form a consistent list). */
  version: number;
  /** How many members the group has. */
  total: number;
  members: StoredMember[];
}

/** What the store returns. */
export interface StoredResource {
  id: string;
  kind: ResourceKind;
  json: string;
  /** Increases by one on every write; starts at 1. */
  version: number;
  /**
   * Groups: their members, in the order they were added (a full `ResourceWrite.members` list sets the
   * order, first occurrence wins for duplicate values; `memberChanges.add` appends). Absent when read with
   * `{ members: false }`.
   */
  members?: StoredMember[];
  /** Groups: how many members they have (always set on groups read from the store; O(1)). */
  memberCount?: number;
  /** Users: the groups they are a direct member of, in the groups' creation order. */
  groups?: StoredMembership[];
}

/** The per-connection quotas a write may be checked against (see docs/storage-limits.md). */
export interface StoreQuota {
  /** Most users a connection may hold. */
  maxUsers: number;
  /** Most groups a connection may hold. */
  maxGroups: number;
  /** Most stored bytes a connection may hold, as measured by {@link resourceBytes}. */
  maxBytes: number;
  /**
   * Most groups one member value (a user's id, or any value a group lists) may be in, counted in
   * GROUP_ID_BYTES of group ids (exact for server-issued ids); unchecked when absent. Every read of a user
   * derives its groups, at a cost proportional to them, so this bounds what a single user costs every later
   * read (docs/groups.md).
   */
  maxGroupsPerMember?: number;
  /**
   * Most resources of a kind one value of a non-unique index (a user's externalId, an email, the local part of
   * a userName) lists; unbounded when absent. A write adding a holder past them is not refused: the value
   * becomes crowded, and a lookup by it throws CrowdedValueError (a login lookup answers `crowded`)
   * instead of reading every holder (src/store/crowded-values.ts). So this bounds what one lookup (a SCIM
   * filter, a login) and one write of such a value cost.
   */
  maxResourcesPerValue?: number;
}

/** Which quota a write would exceed. */
export type QuotaName = 'users' | 'groups' | 'bytes' | 'groupsPerMember';

export type WriteOutcome =
  /**
   * `groups`: set by replaceResource of a user, its groups as they are right after the write (as a read
   * derives them). A renamed group changes no member's version, so an update computed from an older read
   * answers with these rather than the groups it read (src/scim/recent-users.ts). Optional for other stores:
   * without it the SCIM layer answers the groups it read. `unchanged`: a `keepIfMembersUnchanged` write
   * that would have changed nothing was not written; `version` is the current one.
   */
  | { ok: true; version: number; groups?: StoredMembership[]; unchanged?: true }
  | { ok: false; reason: 'uniqueness'; attribute: string }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'version_mismatch'; currentVersion: number }
  /**
   * A write of several steps (a group's member changes applied in chunks, docs/groups.md) stopped part-way,
   * its lease having lapsed: the steps before stay applied. Or its staged member list was dropped before the
   * swap, its writer having stalled for an hour (nothing applied). Sending the same write again completes it.
   */
  | { ok: false; reason: 'interrupted' }
  /**
   * The write would take the connection over `quota` (whose limit is `limit`); nothing changed. For
   * 'groupsPerMember', `member` is a value already in `limit` groups that the write would add to one more.
   */
  | { ok: false; reason: 'quota'; quota: QuotaName; limit: number; member?: string };

/**
 * What deleteResource answers: true (deleted), false (no such resource), or, given an expected version, the
 * current version when it differs (nothing was deleted).
 */
export type DeleteOutcome = boolean | { ok: false; reason: 'version_mismatch'; currentVersion: number };

/** What a connection holds against its quotas. */
export interface ConnectionUsage {
  users: number;
  groups: number;
  /** Stored bytes as measured by {@link resourceBytes}. */
  bytes: number;
}

/** What updateConnectionTokens answers. */
export type TokenUpdate =
  | { ok: true; connection: StoredConnection }
  /**
   * not_found: the connection is gone. token_in_use: a new hash is another connection's live token.
   * token_changed: the current token hash was not the expected one (another rotation won).
   */
  | { ok: false; reason: 'not_found' | 'token_in_use' | 'token_changed' };

/**
 * A page of resources. It may hold fewer than asked when its users are in very many groups, or its groups
 * (read with their members) hold very many members (at least one resource; see {@link GROUP_IDS_PER_PAGE}
 * and {@link PAGE_MEMBERS_BUDGET}): callers step by `resources.length`, as RFC 7644 §3.4.2.4 lets a SCIM
 * client do with `itemsPerPage`.
 */
export interface Page {
  total: number;
  resources: StoredResource[];
}

/**
 * A page read by cursor (listAfter): the resources after a position, in creation order, and the position
 * to continue after (null: this was the last page). Positions are the store's creation counter, so a walk
 * sees every resource that exists from its start to its end exactly once, whatever is created or deleted
 * meanwhile (new ones come last).
 */
export interface CursorPage {
  /** Each with its creation number (the position a cursor names). */
  resources: NumberedResource[];
  next: number | null;
}

/**
 * A page of users' creation numbers read by cursor (pickUsersAfter), with the users read in full only where
 * the caller asked: `seqs` are the page's positions in creation order, `users` those of them `wanted` picked
 * (a user deleted between the two reads is in `seqs` only), `next` as in {@link CursorPage}.
 */
export interface PickedPage {
  seqs: number[];
  users: NumberedResource[];
  next: number | null;
  /**
   * With `userNames`, each position's folded userName ('' for a user without one, or whose position the
   * `userNames` function declined), read from the
   * user's index entries, not its JSON: the report counts userNames without a domain from these, and reads
   * in full only the users it shows.
   */
  userNames?: string[];
}

/** A page of a group's members read by cursor (listGroupMembersAfter). */
export interface MemberCursorPage {
  /** The group's version when the page was read. */
  version: number;
  /** How many members the group has. */
  total: number;
  members: StoredMember[];
  /** The member position to continue after, or null when this was the last page. */
  next: number | null;
}

/** Resources a sort index still lacks (see Store.sortBacklog). */
export interface SortBacklog {
  /** True when the sort indexes of the kind are complete: listSorted answers pages. */
  done: boolean;
  /** Resources stored without sort entries, in creation order (each with its JSON and version). */
  resources: StoredResource[];
  /** Where this read stopped: pass it to fillSortIndex. */
  through: number;
}

/** The sort entries of one resource, as fillSortIndex takes them: for `id` if still at `version`. */
export interface SortFill {
  id: string;
  version: number;
  sortKeys: SortEntry[];
}

/** What the login guard reads in its one round trip. */
export interface LoginLookup {
  /**
   * The users whose index `attribute` holds `value`, in creation order. When exactly one of them is active
   * (`active` not false: the only one a login can admit) it carries its `groups`; the others may carry none
   * (`groups` absent: not read, which is not "in no group"). A value held by 100 users in 1,000 groups each
   * would otherwise make every login of it read 100,000 memberships (an audit, 2026-12-07).
   */
  users: StoredResource[];
  /**
   * The ids of the users found that come as their login projection, not whole: their `json` holds only the
   * top-level members a login reads (loginProjectionOf in src/store/login-outcome.ts: `userName`,
   * `externalId` and the members that are `false`), and their `version` is the one their own last write
   * gave them (a membership change since may have moved it). Only users of at least LOGIN_PROJECTION_CHARS of
   * JSON come so; on Redis the one active holder comes whole when the lookup's script decides (it leaves the
   * decision to the app only for holders past its read or decoding budget). Read a projected user with getResource for the rest. Absent or
   * empty: every user came whole.
   */
  projected?: ReadonlySet<string>;
  /**
   * Whether a user deleted from this connection held this index value. Only deleteResource of a user
   * leaves such a tombstone (a fixed-size digest per index entry, kept for the store's tombstone retention
   * and within its per-connection cap, oldest dropped first); a value a user dropped by being replaced (e.g.
   * renamed) does not count. It stays true after a live user takes the value again: it is meant to be
   * consulted only when `users` is empty (to tell a deleted user from one never provisioned).
   */
  deletedMatch: boolean;
  /**
   * true: more users hold the value than its index entry lists (quota.maxResourcesPerValue; src/store/crowded-values.ts),
   * so none was read (`users` is empty, `deletedMatch` false): the login cannot name one person, and is
   * refused `ambiguous`.
   */
  crowded?: true;
}

/** What findUsersForLoginBatch reads besides the users. */
export interface LoginBatchOptions {
  /** false: the users come without `groups` (not read), for callers that show or tally no groups (Test SSO). Default: true. */
  groups?: boolean;
  /**
   * true: users that have a login projection come as it (LoginLookup.projected, in each answer), for callers
   * that read only what a login decides on (the matching report, Test SSO), whose cost then does not grow with
   * the size of the users found. Default: false, every user whole (the Compare page shows them).
   */
  projections?: boolean;
}

/** A resource with its creation number in its connection: the order findByIndex and listPage follow, never reused. */
export interface NumberedResource extends StoredResource {
  seq: number;
}

/**
 * What findUsersForLoginBatch answers for one lookup: findUsersForLogin's answer, users numbered, except
 * that `deletedMatch` is false whenever `users` is not empty (the only case it is meant for is an empty
 * `users`, and checking a tombstone costs a digest).
 */
export interface NumberedLoginLookup extends LoginLookup {
  users: NumberedResource[];
}

/** One page of a customer's SSO users (listSsoUserPage). */
export interface SsoUserPage {
  /** How many SSO users the customer has. */
  total: number;
  users: StoredSsoUser[];
}

/** One batch of a scan of a customer's SSO users (scanSsoUsers). */
export interface SsoUserScan {
  /** The cursor of the next batch; '0' once the scan is complete. */
  cursor: string;
  users: StoredSsoUser[];
}

/** The outcome fields of a recorded login attempt (see {@link loginOutcome}). */
export type LoginOutcome = Pick<StoredSsoUser, 'lastOutcome' | 'lastReason' | 'lastScimUserId'>;

/** What recordLogin looks up and records (the login guard's decision step). */
export interface LoginAttempt {
  /** The customer's SCIM connection, or null when it has none (then nothing is looked up). */
  connectionId: string | null;
  /** The index lookup (as findUsersForLogin takes it), or null when there is nothing to look up. */
  lookup: { attribute: string; value: string } | null;
  /**
   * The top-level attribute of a user's JSON that makes the user inactive when it is `false` (the guard
   * passes `active`, RFC 7643 §4.1.1). The store reads nothing else of a user.
   */
  inactiveWhenFalse: string;
  /** The attempt to record; its outcome fields are replaced by the ones {@link loginOutcome} picks. */
  user: StoredSsoUser;
}

/** What recordLogin answers. */
export interface RecordedLogin {
  /** What findUsersForLogin would have answered (no users, no tombstone, without a connection or lookup). */
  found: LoginLookup;
  /**
   * The outcome recorded with the attempt, or null when the store could not read a found user's activity
   * (then nothing was recorded: the caller records the attempt itself with recordSsoUser).
   */
  recorded: LoginOutcome | null;
  /**
   * true: the store refuses writes for now, though its data is current (Redis full under `noeviction`,
   * waiting for replicas, a failed snapshot): `found` was read, nothing was recorded, and the caller does not
   * try to record either. A login is decided on what it reads; only its record is lost.
   */
  recordRefused?: true;
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
  /** One of the five strategy names (src/match/strategies.ts). */
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
  /**
   * Claims a login must carry, each with one of the values listed (the tenant of a shared issuer: Google's
   * `hd`; src/guard/tenant-claims.ts). Absent (records written before the field existed): none.
   */
  requiredClaims?: Record<string, string[]>;
  createdAt: string;
  updatedAt: string;
}

/**
 * A customer's mapping from IdP groups to app roles, as stored: the store keeps the JSON as is (the roles
 * module validated it, src/roles/role-mapping.ts) and knows nothing of its meaning.
 */
export interface StoredRoleMapping {
  json: string;
  updatedAt: string;
}

/** Which parts of a SAML response must carry a valid IdP signature (src/saml-connections.ts). */
export type SamlSignedPart = 'assertion' | 'response' | 'both';

/**
 * A SAML connection: the customer's SSO connection when its IdP speaks SAML 2.0 instead of OIDC (one or the
 * other per customer). The IdP's settings are stored resolved (metadata already read), so a login needs no
 * fetch. docs/saml.md.
 */
export interface StoredSamlConnection {
  samlConnectionId: string;
  customerId: string;
  idpType: IdpType;
  /** The IdP's entity ID: the `Issuer` its responses must carry. */
  idpEntityId: string;
  /** The IdP's single sign-on URL (HTTP-Redirect binding). */
  entryPoint: string;
  /** The IdP's signing certificates (PEM or base64 DER), 1 to 3: two at once while the IdP rotates. */
  idpCerts: string[];
  /** This app's entity ID for the customer: the audience the assertions must name. */
  spEntityId: string;
  /** This app's assertion consumer service URL for the customer: the recipient and destination. */
  acsUrl: string;
  /** One of the SAML strategy names (src/match/strategies.ts). */
  matchingStrategy: string;
  /** The attribute SamlAttributeToScimExternalId reads (Entra: its object identifier claim). */
  matchAttribute: string;
  /** The attribute holding the email (SamlEmailToScimUsername). */
  emailAttribute: string;
  signed: SamlSignedPart;
  /** Accepted clock skew when checking NotBefore and NotOnOrAfter, 0-300 s. */
  clockSkewSeconds: number;
  createdAt: string;
  updatedAt: string;
}

/** What the login callback reads of a customer at every login (Store.getCustomer). */
export interface CustomerRecords {
  connection: StoredConnection | null;
  client: StoredOidcClient | null;
  /** The customer's SAML connection (never together with `client`). */
  saml: StoredSamlConnection | null;
  roleMapping: StoredRoleMapping | null;
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
 * Removing a member because the member was deleted bumps the group's version (its member list changed).
 * A user's version increases whenever a membership change adds or removes it from a group (its derived
 * `groups` changed, so its ETag must too: RFC 7644 §3.14), in the same atomic step as the change; for a
 * group deletion and a full member-list replace on Redis, in the bounded follow-up steps of the same call
 * (see docs/groups.md). Renaming a group does not bump its members (that would be O(members)).
 */
export interface Store extends EventConsumerStore, SetupGrantStore {
  /** A short name for diagnostics: 'memory' or 'redis'. */
  readonly kind: string;

  /**
   * Creates a connection; 'exists' when the customer already has one; 'token_in_use' (nothing created)
   * when its token hash is another connection's current token, or unexpired previous token. Throws if the
   * connectionId is already used by another connection (ids are the caller's to make unique), or on
   * invalid ids.
   */
  createConnection(connection: StoredConnection): Promise<'created' | 'exists' | 'token_in_use'>;
  getConnectionByCustomer(customerId: string): Promise<StoredConnection | null>;
  /**
   * Finds the connection whose current token, or unexpired previous token, has this hash. A previous token
   * whose `previousTokenExpiresAt` is null is not accepted.
   */
  findConnectionByTokenHash(tokenHash: string): Promise<StoredConnection | null>;
  /**
   * Replaces the token hashes (rotation). Given `expectedTokenHash`, only if the current token hash still
   * equals it (compare-and-set: of concurrent rotations from one state, exactly one wins). Refuses new
   * hashes that are another connection's live tokens. The hash of a token that stops working is forgotten.
   */
  updateConnectionTokens(connectionId: string, tokens: ConnectionTokens, expectedTokenHash?: string): Promise<TokenUpdate>;
  /** Deletes the connection and all its users, groups and events. Returns false if it did not exist. */
  deleteConnection(connectionId: string): Promise<boolean>;
  /**
   * The customer's connections whose deletion began and has not finished (a store whose deletion takes
   * several steps, and whose caller died or lost the store part way): `deleteConnection` of each finishes
   * it. A store that deletes in one step has none and need not implement this.
   */
  unfinishedConnectionDeletes?(customerId: string): Promise<string[]>;

  /**
   * Creates a resource; fails with 'uniqueness' if a unique index entry is taken, or, given `quota`, with
   * 'quota' if the connection would hold more users, groups or bytes than it allows.
   */
  createResource(connectionId: string, write: ResourceWrite, quota?: StoreQuota): Promise<WriteOutcome>;
  /**
   * Replaces a resource if its version still equals `expectedVersion` (optimistic concurrency).
   * Fails with 'not_found', 'version_mismatch', 'uniqueness' or (given `quota`, only for a write that
   * grows the connection's bytes past maxBytes) 'quota'; on failure nothing changes. The version is checked
   * first: a write computed from an older version is 'version_mismatch' whatever else is wrong with it
   * (the SCIM layer relies on this to start writes from a possibly stale copy: src/scim/recent-users.ts).
   * Replacing a user answers its groups after the write (WriteOutcome `groups`).
   */
  replaceResource(connectionId: string, write: ResourceWrite, expectedVersion: number, quota?: StoreQuota): Promise<WriteOutcome>;
  /**
   * Deletes a resource with its index entries. A deleted user leaves every group; a deleted group leaves
   * every group it was a member of, and each group it leaves gets a new version and `meta.lastModified`
   * (src/store/last-modified.ts). Returns false if it did not exist. Given `expectedVersion`, deletes only
   * if the version still equals it (checked and deleted atomically), else answers 'version_mismatch'.
   * `events` (its `resource` event only) is appended in the same atomic step when the resource is deleted.
   */
  deleteResource(connectionId: string, kind: ResourceKind, id: string, expectedVersion?: number, events?: WriteEvents): Promise<DeleteOutcome>;

  /**
   * Up to `limit` (1 to MAX_EVENT_PAGE) events of the connection's log after `after` (a cursor of an
   * earlier read, or null: from the oldest kept), in log order; O(limit) whatever a write's size (a long
   * member list is logged once and read in pages). Throws EventsExpiredError when events after `after`
   * were dropped by the retention. An unknown connection has an empty log. A page may hold fewer than
   * `limit` events before the end of the log (Redis: past EVENT_READ_BYTES of resource JSON): read on from
   * `next` until a page is empty.
   */
  readEvents(connectionId: string, after: string | null, limit: number): Promise<EventPage>;
  /** The cursor after the connection's last logged write (null: nothing logged yet). One round trip. */
  lastEventCursor(connectionId: string): Promise<string | null>;
  /** What the connection holds against its quotas (zeros for an unknown connection). One round trip. */
  getUsage(connectionId: string): Promise<ConnectionUsage>;

  /**
   * One resource. A group comes with its members unless `options.members` is false (then O(1)); on Redis
   * its members are read in pages of bounded size, all of one version.
   */
  getResource(connectionId: string, kind: ResourceKind, id: string, options?: ReadOptions): Promise<StoredResource | null>;
  /**
   * A logged-in user as a session check needs it on every request of the app (src/guard/session-check.ts):
   * its version, its JSON unless its version is `knownVersion` (the caller remembers what it needs of that
   * version), its groups in order with their displayNames while {@link sessionGroupBytes} of them stay within
   * `namedBytes`, and only the ids of the rest. One round trip, whose size does not grow with the user's
   * other groups' names nor, while the user is unchanged, with its JSON: a user in 1,000 groups of
   * 1,024-character names was 1 MB read and parsed on every request. Null when there is no such user.
   */
  readSessionUser(connectionId: string, userId: string, options: { knownVersion: number | null; namedBytes: number }): Promise<SessionUserRead | null>;
  /**
   * The resources whose index `attribute` holds `value`, in creation order. One round trip (without members).
   * Throws CrowdedValueError (src/store/crowded-values.ts) when more hold it than quota.maxResourcesPerValue let the index list.
   */
  findByIndex(connectionId: string, kind: ResourceKind, attribute: string, value: string, options?: ReadOptions): Promise<StoredResource[]>;
  /**
   * The groups that list `value` as a member, in creation order, from the members' reverse index: O(groups
   * found), whatever the groups' sizes (the `members[value eq "…"]` filter, src/scim/member-terms.ts). One
   * round trip (without members) per ROWS_PER_SCRIPT groups on Redis.
   */
  findGroupsWithMember(connectionId: string, value: string, options?: ReadOptions): Promise<StoredResource[]>;
  /**
   * Resources in creation order: `offset` is 0-based. Also returns the total count. One round trip when
   * no group members are read (users, or `{ members: false }`).
   */
  listPage(connectionId: string, kind: ResourceKind, offset: number, count: number, options?: ReadOptions): Promise<Page>;
  /**
   * Resources in `order`, `offset` 0-based, with their total, in O(log n + count) and one round trip when no
   * group members are read. By a sort attribute: ascending by value, equal values in creation order;
   * resources whose entry is null after them, in creation order; descending is the exact reverse of that, so
   * the nulls come first (RFC 7644 §3.4.2.3). Only resources whose last write carried an entry for the attribute are listed and counted.
   * By creation (`attribute` null): every resource, oldest first (descending: newest first). Answers null
   * when the kind holds resources without sort entries and sortBacklog/fillSortIndex have not finished
   * indexing them: resources stored by an earlier version of this library, or everything stored before
   * the kind's first sortBacklog (both stores keep sort indexes only from the first time a client sorts:
   * most IdPs never do; on Redis the entries cost more memory than the rest of a user's indexes, in memory
   * keeping them current costs every write CPU).
   */
  listSorted(connectionId: string, kind: ResourceKind, order: SortOrder, offset: number, count: number, options?: ReadOptions): Promise<Page | null>;
  /**
   * The next (at most `count`) resources of the kind that were stored without sort entries, from where
   * the last fillSortIndex stopped; `done` once there are none and listSorted answers. One round trip.
   */
  sortBacklog(connectionId: string, kind: ResourceKind, count: number): Promise<SortBacklog>;
  /**
   * Stores the sort entries of resources a sortBacklog read returned (each only if still at the version
   * read, and still without entries), then moves the backlog past `through`. Answers 'done' when the
   * kind's sort indexes are complete, 'more' when more remain, or 'retry' when a resource changed since the
   * read (nothing moves on: read the backlog again). One round trip.
   */
  fillSortIndex(connectionId: string, kind: ResourceKind, through: number, fills: SortFill[]): Promise<'done' | 'more' | 'retry'>;
  /**
   * A page of a group's members in the order they were added: `offset` 0-based, at most `count` (O(page),
   * whatever the group's size), with the group's version and member count; null when there is no such
   * group.
   */
  listGroupMembers(connectionId: string, groupId: string, offset: number, count: number): Promise<MemberPage | null>;
  /**
   * Takes group `groupId`'s write lease ({@link GroupLease}), waiting while another write holds it; null when
   * LEASE_WAIT_MS ran out. A write too long for one step (a member list or member changes of more than 1,000)
   * holds it from its first read to its write, so that one-member writes of the same group wait for it
   * instead of moving the version under it again and again. Writes under it carry its token
   * (ResourceWrite.lease). Reads and deletions do not wait.
   */
  leaseGroup(connectionId: string, groupId: string): Promise<GroupLease | null>;

  /**
   * Up to `count` resources created after position `after` (0: from the first), in creation order:
   * O(log n + count) on Redis. For cursor paging (the directory API); see {@link CursorPage}.
   */
  listAfter(connectionId: string, kind: ResourceKind, after: number, count: number, options?: ReadOptions): Promise<CursorPage>;

  /**
   * listAfter for a walk that needs few of the users it passes (the matching report's count of the SCIM users
   * nobody matched): the positions of up to `count` users after `after`, and in full only the users whose
   * position `wanted` accepts (called once per position; on Redis a range of the creation order, then the
   * picked rows). The rows read are held to PAGE_READ_BYTES as listAfter's are: a page ends early at the last
   * picked user its budget held. `options.groups: false` reads the users without their groups, as listAfter does;
   * `userNames: true` adds each position's folded userName ({@link PickedPage.userNames}; on Redis from the
   * rows, ROWS_PER_SCRIPT a script, within PAGE_READ_BYTES of rows for the page, which may end it early too);
   * a function adds those of the positions it accepts only, '' for the others (on Redis only those rows are read).
   * A user whose name was asked, deleted between the read of its position and that of its name, is left out of
   * the page.
   */
  pickUsersAfter(
    connectionId: string,
    after: number,
    count: number,
    wanted: (seq: number) => boolean,
    options?: ReadOptions & { userNames?: boolean | ((seq: number) => boolean) },
  ): Promise<PickedPage>;

  /**
   * Up to `count` (at most MEMBER_CHUNK on Redis per call) members of a group after member position `after`
   * (0: from the first), in list order; null when the group does not exist. Members added while a walk is
   * under way come after every earlier one; a full member-list replacement numbers the list afresh.
   */
  listGroupMembersAfter(connectionId: string, groupId: string, after: number, count: number): Promise<MemberCursorPage | null>;

  /**
   * The login guard's lookup: users by index value, plus whether a deleted user once held that value
   * (deleting a user leaves a tombstone per index entry; see `deletedMatch`). ONE round trip.
   */
  findUsersForLogin(connectionId: string, attribute: string, value: string): Promise<LoginLookup>;

  /**
   * The customer's SCIM connection and OIDC client together, in ONE round trip (the login callback reads
   * both fresh on every login, so a change made through any app instance applies at once).
   */
  getCustomer(customerId: string): Promise<CustomerRecords>;

  /** The customer's role mapping (the JSON src/roles/role-mapping.ts validated), or null. One round trip. */
  getRoleMapping(customerId: string): Promise<StoredRoleMapping | null>;
  /** Sets (or, with null, removes) the customer's role mapping. One round trip. */
  setRoleMapping(customerId: string, mapping: StoredRoleMapping | null): Promise<void>;

  /**
   * Prepends entries to customers' activity logs (src/store/activity-log.ts), each list capped at its
   * `maxEntries` and dropped `ttlMs` after its last append. One round trip per customer, sent together;
   * called off the request path by src/activity/recorder.ts.
   */
  appendActivity(appends: readonly ActivityAppend[], ttlMs: number): Promise<void>;
  /** The newest `limit` entries of one list of the customer's activity log, newest first. One round trip. */
  readActivity(customerId: string, log: ActivityLogName, limit: number): Promise<string[]>;

  /**
   * findUsersForLogin for many lookups in ONE round trip (the matching report's dry run, the Compare page):
   * for each lookup, in order, what findUsersForLogin answers (deletedMatch only when no user is found:
   * {@link NumberedLoginLookup}), each user with its creation number `seq`. A
   * user that several lookups find is read once and is the same object in each answer. Redis runs it as
   * scripts of at most {@link LOGIN_BATCH} lookups sent together, so other clients' commands run in between.
   */
  findUsersForLoginBatch(connectionId: string, lookups: { attribute: string; value: string }[], options?: LoginBatchOptions): Promise<NumberedLoginLookup[]>;

  /**
   * Creates the customer's OIDC client; 'exists' when it already has one, 'other_protocol' when it has a
   * SAML connection (one SSO connection per customer). Atomic.
   */
  createOidcClient(client: StoredOidcClient): Promise<'created' | 'exists' | 'other_protocol'>;
  getOidcClient(customerId: string): Promise<StoredOidcClient | null>;
  /**
   * Replaces the customer's OIDC client; false when it has none or, given `expectedUpdatedAt`, when the
   * stored client's `updatedAt` differs (another update won: re-read and retry). Atomic.
   */
  replaceOidcClient(client: StoredOidcClient, expectedUpdatedAt?: string): Promise<boolean>;
  /** Deletes the customer's OIDC client and its recorded SSO users; false when it had none. */
  deleteOidcClient(customerId: string): Promise<boolean>;
  /**
   * Every customer id with a SCIM connection, an OIDC client or a SAML connection, in the default string
   * order (admin pages; not on request paths). Sorted in slices (sortInSlices, src/sliced-sort.ts).
   */
  listCustomers(): Promise<string[]>;

  /** Creates the customer's SAML connection; 'exists' when it has one, 'other_protocol' when it has an OIDC client. Atomic. */
  createSamlConnection(connection: StoredSamlConnection): Promise<'created' | 'exists' | 'other_protocol'>;
  getSamlConnection(customerId: string): Promise<StoredSamlConnection | null>;
  /** Replaces the customer's SAML connection, as replaceOidcClient does (compare-and-set on `updatedAt`). */
  replaceSamlConnection(connection: StoredSamlConnection, expectedUpdatedAt?: string): Promise<boolean>;
  /** Deletes the customer's SAML connection and its recorded SSO users; false when it had none. */
  deleteSamlConnection(customerId: string): Promise<boolean>;
  /**
   * Remembers a validated assertion's ID for `ttlMs` (until its NotOnOrAfter, at most
   * {@link MAX_SAML_CACHE_TTL_MS}): true the first time, false when the ID is already remembered (a replay),
   * atomically across instances.
   */
  rememberSamlAssertion(customerId: string, assertionId: string, ttlMs: number): Promise<boolean>;

  /**
   * Records a login attempt: inserts or updates the SSO user with this subject (keeping `firstSeenAt`).
   * Past the store's `maxSsoUsersPerCustomer` or `maxSsoUserBytesPerCustomer` the least recently seen are
   * dropped (src/store/sso-records.ts).
   * One round trip.
   */
  recordSsoUser(customerId: string, user: StoredSsoUser): Promise<void>;
  /**
   * The login guard's decision step in ONE round trip where the store can (see docs/round-trips.md): the
   * lookup of findUsersForLogin (when there is a connection and a lookup) and the recording of the attempt
   * (as recordSsoUser) with the outcome {@link loginOutcome} picks from what was found, atomically on the
   * memory store and on standalone Redis. On Redis Cluster the SSO users and the connection live in
   * different slots: two round trips (lookup, then record), the same answers.
   */
  recordLogin(customerId: string, attempt: LoginAttempt): Promise<RecordedLogin>;
  /** The customer's SSO users, most recently seen first, then by subject (src/seen-order.ts). O(n): prefer pages. */
  listSsoUsers(customerId: string): Promise<StoredSsoUser[]>;
  /**
   * One page of the customer's SSO users in listSsoUsers' order: `offset` 0-based, at most `count`, with the
   * total. One round trip, O(log n + count) on Redis (records written before that order was kept are
   * ordered once, at the first page read: docs/matching-report.md).
   */
  listSsoUserPage(customerId: string, offset: number, count: number): Promise<SsoUserPage>;
  /**
   * The customer's SSO users a batch at a time, in no particular order: start with cursor '0', pass on the
   * cursor answered, stop when it is '0'. Every SSO user recorded before the scan starts and kept until it
   * ends is answered, once (on Redis possibly twice while a lowered cap shrinks the hash: HSCAN); one first
   * recorded, or dropped by the cap, during the scan may or may not be.
   * About `count` per batch (a hint); one round trip each, memory O(batch).
   */
  scanSsoUsers(customerId: string, cursor: string, count: number): Promise<SsoUserScan>;
  /** The customer's SSO user with this subject, or null. One round trip. */
  getSsoUser(customerId: string, subject: string): Promise<StoredSsoUser | null>;

  /**
   * Resolves once what the store has answered so far for this connection is as durable as the store was
   * asked to make it (the Redis store's `replicaAcks`: held by that many replicas), else rejects with
   * StoreUnavailableError. The SCIM layer calls it before answering a write request, whatever its outcome:
   * an answer may rest on an earlier write only the primary holds (a retried PATCH that changes nothing, a
   * DELETE answered 404). Absent where there is nothing to wait for.
   */
  confirmWrites?(connectionId: string): Promise<void>;
  /** Releases what the store holds (not the app's Redis client). */
  close?(): Promise<void>;
}

export { isValidStoreId, MAX_STORE_ID_LENGTH } from './store-id.js';
