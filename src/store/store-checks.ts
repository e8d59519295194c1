/**
 * The argument checks both stores run before they touch data: ids, kinds, index attributes, lookups, paging
 * and cursors, quotas, leases, SAML cache entries and connection tokens, and the normalised form of a write
 * (normalizeResourceWrite). A store method that takes input from its caller checks it with these first, so
 * the two stores refuse the same calls the same way (test/store/contract.ts).
 */
import { assertGroupName, assertTtl } from './event-consumers.js';
import { checkWriteEvents } from './event-log.js';
import type {
  ConnectionTokens,
  IndexEntry,
  ReadOptions,
  ResourceKind,
  ResourceWrite,
  SortEntry,
  SortOrder,
  StoredMember,
  StoredRoleMapping,
  StoreQuota,
} from './store.js';
import { isValidStoreId, MAX_STORE_ID_LENGTH } from './store-id.js';

/** Members deduplicated by value (first wins), reduced to string value/display/type. */
function cleanMembers(list: StoredMember[]): StoredMember[] {
  const members = new Map<string, StoredMember>();
  for (const member of list) {
    if (typeof member?.value !== 'string') throw new TypeError('member value must be a string');
    if (members.has(member.value)) continue;
    const copy: StoredMember = { value: member.value };
    if (typeof member.display === 'string') copy.display = member.display;
    if (typeof member.type === 'string') copy.type = member.type;
    members.set(member.value, copy);
  }
  return [...members.values()];
}

/** Checks a role mapping before either store keeps it. */
export function checkRoleMapping(mapping: StoredRoleMapping): StoredRoleMapping {
  if (typeof mapping.json !== 'string' || mapping.json.length > MAX_ROLE_MAPPING_BYTES) {
    throw new TypeError(`a role mapping is JSON text of at most ${MAX_ROLE_MAPPING_BYTES} characters`);
  }
  if (typeof mapping.updatedAt !== 'string' || mapping.updatedAt.length > 40) throw new TypeError('updatedAt must be an ISO 8601 time');
  return { json: mapping.json, updatedAt: mapping.updatedAt };
}

/** The largest role mapping the stores keep (200 rules of 20 roles fit well below it). */
export const MAX_ROLE_MAPPING_BYTES = 1_000_000;

/** The longest a SAML assertion ID stays remembered (a day). */
export const MAX_SAML_CACHE_TTL_MS = 24 * 60 * 60 * 1000;

/** Checks the arguments of the SAML assertion cache (ids are key names on Redis). */
export function assertSamlCacheArgs(customerId: string, id: string, ttlMs: number): void {
  assertStoreId('customerId', customerId);
  assertStoreId('SAML message id', id);
  if (!Number.isSafeInteger(ttlMs) || ttlMs < 1 || ttlMs > MAX_SAML_CACHE_TTL_MS) {
    throw new TypeError(`ttlMs must be an integer from 1 to ${MAX_SAML_CACHE_TTL_MS}`);
  }
}

/** The token checks both stores apply (the Redis store writes these values into keys and PEXPIREAT). */
export function assertConnectionTokens(tokens: ConnectionTokens): void {
  assertStoreId('tokenHash', tokens.tokenHash);
  if (tokens.previousTokenHash !== null) assertStoreId('previousTokenHash', tokens.previousTokenHash);
  if (tokens.previousTokenExpiresAt !== null && !Number.isFinite(tokens.previousTokenExpiresAt)) {
    throw new TypeError('previousTokenExpiresAt must be epoch milliseconds or null');
  }
}

/** Throws a TypeError naming `what` unless `value` passes {@link isValidStoreId}. */
export function assertStoreId(what: string, value: unknown): asserts value is string {
  if (!isValidStoreId(value)) {
    throw new TypeError(`${what} must be 1-${MAX_STORE_ID_LENGTH} characters without braces, whitespace or control characters`);
  }
}

/** Throws a TypeError unless `kind` is 'User' or 'Group'. */
export function assertResourceKind(kind: unknown): asserts kind is ResourceKind {
  if (kind !== 'User' && kind !== 'Group') throw new TypeError(`kind must be 'User' or 'Group'`);
}

/** Throws a TypeError unless `attribute` can name an index: 1 to 200 characters, no control characters. */
export function assertIndexAttribute(attribute: unknown): asserts attribute is string {
  if (typeof attribute !== 'string' || attribute.length === 0 || attribute.length > MAX_STORE_ID_LENGTH || /\p{Cc}/u.test(attribute)) {
    throw new TypeError('index attribute must be 1-200 characters without control characters');
  }
}

/** Throws a TypeError unless an index value is a string. */
export function assertIndexValue(value: unknown): asserts value is string {
  if (typeof value !== 'string') throw new TypeError('index value must be a string');
}

/** Throws a TypeError unless every lookup has an index attribute and a string value (each attribute checked once). */
export function assertLookups(lookups: { attribute: string; value: string }[]): void {
  if (!Array.isArray(lookups)) throw new TypeError('lookups must be an array');
  const checked = new Set<string>();
  for (const { attribute, value } of lookups) {
    if (!checked.has(attribute)) {
      assertIndexAttribute(attribute);
      checked.add(attribute);
    }
    assertIndexValue(value);
  }
}

/**
 * Validates a write the same way for every store and returns a clean copy: index entries deduplicated (a
 * value claimed both unique and non-unique counts as unique), members deduplicated by `value` (first one
 * wins) and reduced to their string `value`/`display`/`type`; member changes likewise (`add` deduplicated,
 * `remove` deduplicated). Throws a TypeError on malformed input.
 */
export function normalizeResourceWrite(write: ResourceWrite): ResourceWrite {
  assertResourceKind(write.kind);
  assertStoreId('resource id', write.id);
  if (typeof write.json !== 'string') throw new TypeError('json must be a string');
  const indexes = new Map<string, IndexEntry>();
  for (const entry of write.indexes) {
    assertIndexAttribute(entry.attribute);
    assertIndexValue(entry.value);
    const key = `${entry.attribute}\u0000${entry.value}`;
    const unique = entry.unique === true || indexes.get(key)?.unique === true;
    indexes.set(key, { attribute: entry.attribute, value: entry.value, unique });
  }
  const out: ResourceWrite = { id: write.id, kind: write.kind, json: write.json, indexes: [...indexes.values()] };
  if (write.sortKeys !== undefined) out.sortKeys = normalizeSortKeys(write.sortKeys);
  if (write.events !== undefined) out.events = checkWriteEvents(write.events);
  if (write.kind === 'User') {
    if (write.members !== undefined || write.memberChanges !== undefined) throw new TypeError('members are for groups only');
    return out;
  }
  if (write.displayName !== undefined && typeof write.displayName !== 'string') {
    throw new TypeError('displayName must be a string');
  }
  out.displayName = write.displayName ?? '';
  if (write.members !== undefined && write.memberChanges !== undefined) {
    throw new TypeError('a write carries either members or memberChanges, not both');
  }
  if (write.members !== undefined) {
    if (!Array.isArray(write.members)) throw new TypeError('members must be an array');
    out.members = cleanMembers(write.members);
  }
  if (write.memberChanges !== undefined) {
    const { add, remove } = write.memberChanges;
    if (!Array.isArray(add) || !Array.isArray(remove)) throw new TypeError('memberChanges needs add and remove arrays');
    for (const value of remove) if (typeof value !== 'string') throw new TypeError('member value must be a string');
    out.memberChanges = { add: cleanMembers(add), remove: [...new Set(remove)] };
  }
  if (write.keepIfMembersUnchanged === true) out.keepIfMembersUnchanged = true;
  if (write.lease !== undefined) {
    if (typeof write.lease !== 'string' || !/^[0-9a-f]{32}$/.test(write.lease)) throw new TypeError('lease must be a token from leaseGroup');
    out.lease = write.lease;
  }
  return out;
}

/** Checked sort entries, reduced to attribute and value; throws a TypeError on a repeated attribute. */
export function normalizeSortKeys(entries: SortEntry[]): SortEntry[] {
  if (!Array.isArray(entries)) throw new TypeError('sortKeys must be an array');
  const seen = new Set<string>();
  return entries.map((entry) => {
    assertIndexAttribute(entry?.attribute);
    if (entry.value !== null && typeof entry.value !== 'string') throw new TypeError('sort value must be a string or null');
    if (seen.has(entry.attribute)) throw new TypeError(`sortKeys list ${entry.attribute} twice`);
    seen.add(entry.attribute);
    return { attribute: entry.attribute, value: entry.value };
  });
}

/** Throws a TypeError unless `order` is a SortOrder. */
export function assertSortOrder(order: SortOrder): void {
  if (order === null || typeof order !== 'object' || typeof order.descending !== 'boolean') throw new TypeError('order needs attribute and descending');
  if (order.attribute !== null) assertIndexAttribute(order.attribute);
}

/** Throws a TypeError unless `quota` holds non-negative safe integers (the per-member and per-value ones may be absent). */
export function assertQuota(quota: StoreQuota | undefined): void {
  if (quota === undefined) return;
  for (const key of ['maxUsers', 'maxGroups', 'maxBytes', 'maxGroupsPerMember', 'maxResourcesPerValue'] as const) {
    const v = quota[key];
    if ((key === 'maxGroupsPerMember' || key === 'maxResourcesPerValue') && v === undefined) continue;
    if (!Number.isSafeInteger(v) || (v as number) < 0) throw new TypeError(`quota.${key} must be a non-negative integer`);
    // A value lists its first holder whatever the cap (src/store/crowded-values.ts): 0 would mean 1.
    if (key === 'maxResourcesPerValue' && v === 0) throw new TypeError('quota.maxResourcesPerValue must be at least 1');
  }
}

/** Throws a TypeError unless `cursor` is a scan cursor: '0' or another decimal the store answered. */
export function assertCursor(cursor: unknown): asserts cursor is string {
  if (typeof cursor !== 'string' || !/^\d{1,20}$/.test(cursor)) throw new TypeError('cursor must be a decimal string');
}

/** Throws a TypeError unless ReadOptions.rowBytes, when given, is a positive safe integer. */
export function assertRowBytes(options: ReadOptions | undefined): void {
  const rowBytes = options?.rowBytes;
  if (rowBytes !== undefined && (!Number.isSafeInteger(rowBytes) || rowBytes < 1)) throw new TypeError('rowBytes must be a positive integer');
}

/** Throws a TypeError unless offset and count are non-negative safe integers. */
export function assertPaging(offset: number, count: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(count) || count < 0) {
    throw new TypeError('offset and count must be non-negative integers');
  }
}

/** The most a cursor page may ask for (listAfter, listGroupMembersAfter). */
export const MAX_CURSOR_PAGE = 1000;

export function assertCursorPaging(after: number, count: number): void {
  if (!Number.isSafeInteger(after) || after < 0 || !Number.isSafeInteger(count) || count < 1 || count > MAX_CURSOR_PAGE) {
    throw new TypeError(`after must be a non-negative integer and count an integer from 1 to ${MAX_CURSOR_PAGE}`);
  }
}

/** The checks every event lease and cursor call makes of its arguments, on both stores. */
export function assertLeaseArgs(group: string, connectionId: string, owner: string, ttlMs?: number): void {
  assertGroupName(group);
  assertStoreId('connectionId', connectionId);
  assertStoreId('owner', owner);
  if (ttlMs !== undefined) assertTtl(ttlMs);
}
