/**
 * The refusals of list queries (RFC 7644 §3.12 `tooMany`, or a 503 while a sort index is built) and the byte
 * limits they enforce. Each names what the client can send instead: the filters the indexes answer
 * (list.ts plans them), a smaller `count`, or a later retry.
 */
import { ScimError, scimErrors } from '../errors.js';
import type { CrowdedValueError } from '../store/crowded-values.js';
import type { StoredResource } from '../store/store.js';
import { SCAN_GROUP_MEMBERS } from './limits.js';
import type { ResourceContext } from './resources.js';
import type { WorkBudgetExceeded } from './scan-work.js';

/** The paths an `eq` filter is answered on from an index (`emails`, the same index as `emails.value`, named once). */
function indexedPaths(ctx: ResourceContext): string {
  return ['id', ...Object.keys(ctx.spec.equalityIndexes).filter((path) => path !== 'emails')].join(', ');
}

/** A scan over the budget: which requests the indexes answer instead. */
export function scanTooLarge(ctx: ResourceContext, total: number, max: number): ScimError {
  const indexed = indexedPaths(ctx);
  const sortable = ctx.spec.sortIndexes.map((index) => index.path);
  return scimErrors.badRequest(
    'tooMany',
    `this filter or sortBy would scan all ${total} ${ctx.spec.type.name} resources of the connection, over this server's limit of ${max}; ` +
      `filter with "eq" on ${indexed} (alone, in an "and", or in every branch of an "or"), ` +
      `or page without a filter, with sortBy on ${sortable.join(', ')} or none`,
  );
}

/** Seconds a client is asked to wait while a connection's sort index is built (`Retry-After`). */
const SORT_INDEX_RETRY_SECONDS = 5;

/**
 * A sortBy the sort index will answer once it has indexed the resources stored before the first sortBy
 * (or by an earlier version; sort-backfill.ts goes on in the background), over the scan budget meanwhile:
 * the same request succeeds shortly, so it is a 503 with `Retry-After`, not a 400 a client would not retry.
 */
export function sortIndexNotReady(ctx: ResourceContext, total: number, max: number): ScimError {
  return new ScimError(
    503,
    `the sort index of this connection's ${total} ${ctx.spec.type.name} resources is being built (on the first sortBy, for what was stored before it); ` +
      `until it is, this sortBy would scan over this server's limit of ${max}: retry in a few seconds`,
    undefined,
    { 'Retry-After': String(SORT_INDEX_RETRY_SECONDS) },
  );
}

/**
 * Stored bytes a scan may read (and hold while it evaluates): 50,000 users (`maxScanResources`) of 2.5 KB.
 * One tenant's scans must not fill the process's memory, which every tenant shares.
 */
export const SCAN_MAX_BYTES = 128 * 1024 * 1024;

/** A scan over SCAN_MAX_BYTES. */
export function scanTooBig(ctx: ResourceContext): ScimError {
  const indexed = indexedPaths(ctx);
  return scimErrors.badRequest(
    'tooMany',
    `this filter or sortBy would scan more than ${SCAN_MAX_BYTES / 1024 / 1024} MB of the connection's ${ctx.spec.type.name} resources, ` +
      `over this server's limit; filter with "eq" on ${indexed} (alone, in an "and", or in every branch of an "or")`,
  );
}

/** A scan whose resources carry more group memberships or members than `max`. */
export function scanTooHeavy(ctx: ResourceContext, max: number): ScimError {
  const indexed = indexedPaths(ctx);
  const what = ctx.spec.kind === 'User' ? 'users are in' : 'groups hold';
  return scimErrors.badRequest(
    'tooMany',
    `this filter or sortBy would scan resources whose ${what} more than ${max} group memberships in all, over this server's limit; ` +
      `filter with "eq" on ${indexed}`,
  );
}

/** Index reads (a long `or` of them, or of members in many groups) that find more than the scan budget. */
export function lookupsTooLarge(ctx: ResourceContext, max: number): ScimError {
  return scimErrors.badRequest(
    'tooMany',
    `this filter's index lookups find more than ${max} ${ctx.spec.type.name} resources, over this server's limit; filter with fewer "eq" terms`,
  );
}

/** A filter that reads member lists, on a group with more than SCAN_GROUP_MEMBERS members. */
export function groupTooLarge(ctx: ResourceContext, group: StoredResource): ScimError {
  return scimErrors.badRequest(
    'tooMany',
    `this filter reads the members of group ${group.id}, which has ${group.memberCount ?? group.members?.length} members, over this server's limit of ` +
      `${SCAN_GROUP_MEMBERS} for filters on members; filter on members with members[value eq "id"] only (answered from an index ` +
      `whatever the group's size), and read the members of one group with GET ${ctx.spec.type.endpoint}/{id}`,
  );
}

/**
 * A filter (or sortBy) whose evaluation passed the work budget (scan-work.ts): of the whole request, or on
 * one resource. Names what the indexes answer, as {@link scanTooLarge} does.
 */
export function scanTooMuchWork(ctx: ResourceContext, over: WorkBudgetExceeded): ScimError {
  const indexed = indexedPaths(ctx);
  const name = ctx.spec.type.name;
  const what =
    over.scope === 'request'
      ? `this filter or sortBy would do more work scanning the connection's ${name} resources than this server's limit of ${over.limit} units ` +
        `(each value read by each comparison, and the length of the strings compared, count); ` +
        `filter with "eq" on ${indexed} (alone, in an "and", or in every branch of an "or"), or with fewer comparisons`
      : `this filter would do more work on one ${name} resource than this server's limit of ${over.limit} units ` +
        `(each value read by each comparison, and the length of the strings compared, count); ` +
        `use fewer comparisons on its long or many-valued attributes, or filter with "eq" on ${indexed}`;
  return scimErrors.badRequest('tooMany', what);
}

/**
 * Stored bytes of rows one client page may hold: a larger page is refused (400 `tooMany`) rather than built.
 * The rows a page holds live until its answer is built, through the young generation's collections: at 16 MB
 * one such collection held the event loop 43-75 ms (an audit of 2026-12-06), at 8 MB 12-21 ms.
 */
export const MAX_PAGE_BYTES = 8 * 1024 * 1024;

/** A page of `count` resources from `offset` whose rows passed MAX_PAGE_BYTES. */
export function pageTooLarge(ctx: ResourceContext, count: number, offset: number): ScimError {
  return scimErrors.badRequest(
    'tooMany',
    `the ${count} ${ctx.spec.type.endpoint.slice(1)} from startIndex ${offset + 1} hold more than ${MAX_PAGE_BYTES / 1024 / 1024} MB; ask for a smaller count`,
  );
}

/** What the store's index attributes are called in SCIM terms (src/scim/users.ts, src/scim/groups.ts). */
const INDEX_WHAT: Record<string, string> = { externalId: 'externalId', email: 'email address (emails.value)', userNameLocal: 'userName before the @' };

/**
 * A lookup of a crowded value (src/store/crowded-values.ts): more resources hold it than the store lists for
 * one value, so the answer would be most of them or none. Which filters name one resource instead.
 */
export function lookupTooCrowded(ctx: ResourceContext, error: CrowdedValueError): ScimError {
  const what = (Object.hasOwn(INDEX_WHAT, error.attribute) ? INDEX_WHAT[error.attribute] : undefined) ?? error.attribute;
  const unique = ctx.spec.kind === 'User' ? 'id or userName' : 'id';
  return scimErrors.badRequest(
    'tooMany',
    `more than ${ctx.quota.maxResourcesPerValue ?? 'the'} ${ctx.spec.type.name} resources of this connection share this ${what}, over this server's limit ` +
      `per value (quota.maxResourcesPerValue); filter with "eq" on ${unique}, which name one resource`,
  );
}
