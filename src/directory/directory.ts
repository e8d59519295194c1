/**
 * The directory API (`sso.directory`): what the customer's IdP provisioned, read by the app. Framework-free,
 * on any store, scoped to one customer per call. Lists page by cursor in creation order, O(page) per call on
 * Redis, and a walk is stable under concurrent writes: every user that exists from its first page to its
 * last is seen exactly once, deleted ones drop out, new ones come last (src/store/store.ts CursorPage).
 */
import { checkCustomerId } from '../connections.js';
import { ScimSsoConfigError } from '../errors.js';
import { fold } from '../fold.js';
import { USER_INDEX } from '../scim/users.js';
import { answerWeight } from '../scim/heavy-work.js';
import { type Store } from '../store/store.js';
import { keptWithin } from '../store/read-budgets.js';
import { MAX_CURSOR_PAGE } from '../store/store-checks.js';
import { groupView, memberView, userView, type DirectoryGroup, type DirectoryMember, type DirectoryUser } from './views.js';

export type { DirectoryGroup, DirectoryMember, DirectoryUser } from './views.js';

/** One page of a list; pass `nextCursor` back as `cursor` for the next one (null: this was the last). */
export interface DirectoryPage<T> {
  items: T[];
  nextCursor: string | null;
}

export interface PageOptions {
  /** From an earlier page's `nextCursor`; absent: from the start. */
  cursor?: string | null;
  /** Items per page, 1–1000. Default 100. */
  limit?: number;
}

/** Exactly one equality filter, answered by the store's indexes (userName and email compare case-insensitively). */
export type UserFilter = { userName: string } | { externalId: string } | { email: string };

export interface DirectoryApi {
  /** Throws CrowdedValueError (src/store/crowded-values.ts) for a filter value more users share than quota.maxResourcesPerValue. */
  listUsers(customerId: string, options?: PageOptions & { filter?: UserFilter }): Promise<DirectoryPage<DirectoryUser>>;
  getUser(customerId: string, id: string): Promise<DirectoryUser | null>;
  listGroups(customerId: string, options?: PageOptions): Promise<DirectoryPage<DirectoryGroup>>;
  /** The group without its members (`memberCount` says how many): read them with listGroupMembers. */
  getGroup(customerId: string, id: string): Promise<DirectoryGroup | null>;
  /** A group's members in list order; null when there is no such group. */
  listGroupMembers(customerId: string, groupId: string, options?: PageOptions): Promise<DirectoryPage<DirectoryMember> | null>;
  /** The groups a user is a direct member of; null when there is no such user. */
  listUserGroups(customerId: string, userId: string): Promise<{ id: string; displayName: string }[] | null>;
}

const DEFAULT_LIMIT = 100;

/**
 * What one page of users may hold (their JSON and their groups' ids and names: answerWeight, as SCIM pages
 * weigh them): past it the page ends early,
 * after at least one user, and its cursor goes on from there. A user in 1,000 groups of 1,024-character names
 * holds 1 MB of them: 50 such users were a 54 MB page, which an app serialising it spent 0.6-0.7 s on in one
 * turn (a hostile-tenant probe, 2026-12-07).
 */
const USER_PAGE_BYTES = 4 * 1024 * 1024;

const CURSOR = /^d1\.([0-9a-z]{1,11})$/;

const encodeCursor = (position: number): string => `d1.${position.toString(36)}`;

function decodeCursor(cursor: unknown): number {
  if (cursor === undefined || cursor === null) return 0;
  const match = typeof cursor === 'string' ? CURSOR.exec(cursor) : null;
  const position = match ? Number.parseInt(match[1]!, 36) : Number.NaN;
  if (!Number.isSafeInteger(position)) throw new ScimSsoConfigError('invalid_argument', 'directory: cursor must be a nextCursor from an earlier page');
  return position;
}

/** A filtered list's cursor: the id of the last user the previous page returned. */
const FILTER_CURSOR = /^f1\.(.{1,200})$/s;

const encodeFilterCursor = (lastId: string): string => `f1.${lastId}`;

/**
 * Where a filtered page starts among the matches (in creation order): right after the last user the
 * previous page returned, found by id, so matches deleted or created in between shift nothing (new ones come
 * at the end). When that user was deleted too, its place is unknown and the walk starts over: it may return
 * users twice then, never miss one (matches are few: one per userName, at most maxResourcesPerValue per
 * email or externalId).
 */
function filteredStart(found: readonly { id: string }[], cursor: unknown): number {
  if (cursor === undefined || cursor === null) return 0;
  const match = typeof cursor === 'string' ? FILTER_CURSOR.exec(cursor) : null;
  if (!match) throw new ScimSsoConfigError('invalid_argument', 'directory: cursor must be a nextCursor from an earlier page of the same filter');
  return found.findIndex((user) => user.id === match[1]) + 1;
}

function limitOf(limit: unknown): number {
  if (limit === undefined) return DEFAULT_LIMIT;
  if (!Number.isSafeInteger(limit) || (limit as number) < 1 || (limit as number) > MAX_CURSOR_PAGE) {
    throw new ScimSsoConfigError('invalid_argument', `directory: limit must be an integer from 1 to ${MAX_CURSOR_PAGE}`);
  }
  return limit as number;
}

function idOf(id: unknown, what: string): string {
  if (typeof id !== 'string' || id === '' || id.length > 200) throw new ScimSsoConfigError('invalid_argument', `directory: ${what} must be a SCIM id`);
  return id;
}

/** The store index and value an equality filter reads. */
function lookupOf(filter: unknown): { attribute: string; value: string } {
  const entries = typeof filter === 'object' && filter !== null ? Object.entries(filter) : [];
  const [name, value] = entries.length === 1 ? entries[0]! : [];
  if (typeof value === 'string' && value.length <= 1000) {
    if (name === 'userName') return { attribute: USER_INDEX.userName, value: fold(value) };
    if (name === 'email') return { attribute: USER_INDEX.email, value: fold(value) };
    if (name === 'externalId') return { attribute: USER_INDEX.externalId, value };
  }
  throw new ScimSsoConfigError('invalid_argument', 'directory: filter must be exactly one of { userName }, { externalId } or { email }, a string');
}

export function directoryApi(store: Store): DirectoryApi {
  /** The customer's SCIM connection id, or null when it has none (then every list is empty). */
  const connectionOf = async (customerId: string): Promise<string | null> =>
    (await store.getConnectionByCustomer(checkCustomerId(customerId)))?.connectionId ?? null;

  const api: DirectoryApi = {
    async listUsers(customerId, options = {}) {
      const lookup = options.filter === undefined ? null : lookupOf(options.filter);
      const after = lookup ? 0 : decodeCursor(options.cursor);
      const limit = limitOf(options.limit);
      const connectionId = await connectionOf(customerId);
      if (!connectionId) return { items: [], nextCursor: null };
      if (lookup) {
        // An index answers with few users (one per userName, at most maxResourcesPerValue per email or
        // externalId; more throw CrowdedValueError), in creation order: pages of them, each cursor naming
        // the last user it returned.
        const found = await store.findByIndex(connectionId, 'User', lookup.attribute, lookup.value);
        const from = filteredStart(found, options.cursor);
        const items = found.slice(from, from + limit);
        const next = from + limit < found.length ? encodeFilterCursor(items.at(-1)!.id) : null;
        return { items: items.map(userView), nextCursor: next };
      }
      const page = await store.listAfter(connectionId, 'User', after, limit);
      const kept = keptWithin(page.resources, answerWeight, USER_PAGE_BYTES);
      const next = kept < page.resources.length ? page.resources[kept - 1]!.seq : page.next;
      return { items: page.resources.slice(0, kept).map(userView), nextCursor: next === null ? null : encodeCursor(next) };
    },

    async getUser(customerId, id) {
      const userId = idOf(id, 'id');
      const connectionId = await connectionOf(customerId);
      const stored = connectionId ? await store.getResource(connectionId, 'User', userId) : null;
      return stored ? userView(stored) : null;
    },

    async listGroups(customerId, options = {}) {
      const after = decodeCursor(options.cursor);
      const limit = limitOf(options.limit);
      const connectionId = await connectionOf(customerId);
      if (!connectionId) return { items: [], nextCursor: null };
      const page = await store.listAfter(connectionId, 'Group', after, limit, { members: false });
      return { items: page.resources.map(groupView), nextCursor: page.next === null ? null : encodeCursor(page.next) };
    },

    async getGroup(customerId, id) {
      const groupId = idOf(id, 'id');
      const connectionId = await connectionOf(customerId);
      const stored = connectionId ? await store.getResource(connectionId, 'Group', groupId, { members: false }) : null;
      return stored ? groupView(stored) : null;
    },

    async listGroupMembers(customerId, groupId, options = {}) {
      const id = idOf(groupId, 'groupId');
      const after = decodeCursor(options.cursor);
      const limit = limitOf(options.limit);
      const connectionId = await connectionOf(customerId);
      const page = connectionId ? await store.listGroupMembersAfter(connectionId, id, after, limit) : null;
      if (!page) return null;
      return { items: page.members.map(memberView), nextCursor: page.next === null ? null : encodeCursor(page.next) };
    },

    async listUserGroups(customerId, userId) {
      return (await api.getUser(customerId, userId))?.groups ?? null;
    },
  };
  return api;
}
