/**
 * The lookup IdPs send before nearly every write, `GET /Users?filter=userName eq "…"` (Okta, Entra,
 * OneLogin; `externalId eq "…"` likewise), answered on a short path. In a server whose cores are shared, a
 * request costs mostly the code and data it touches with the CPU caches cold (bench/HISTORY.md, "Session
 * 17"); the general query path (paging, projection, sort, the filter parser, the lookup plan, the scan
 * budgets) is most of that, and this request needs none of it.
 *
 * The short path takes one shape only: a lone `filter` parameter, `<attribute> eq "<value>"` with single
 * spaces, lower-case `eq`, a value without escapes, on a user attribute whose index
 * answers the filter exactly (src/scim/list.ts `indexAnswersExactly`). It answers only when the index holds
 * at most one user, within the general path's budgets; otherwise, and for every other request, the
 * general path runs (reusing the index read, if one was made). Its answer is the general path's, byte for byte
 * (test/scim/idp-lookup.test.ts compares them).
 */
import { DEFAULT_FILTER_LIMITS, type FilterLimits } from './filter.js';
import { fold } from '../fold.js';
import { findIndexed, indexAnswersExactly, type IndexRead } from './list.js';
import { DEFAULT_MAX_SCAN, type PagingLimits } from './list-query.js';
import { MAX_PAGE_BYTES } from './list-refusals.js';
import { listResponsePieces } from './list-response.js';
import { SCAN_MEMBERSHIPS_PER_RESOURCE } from './limits.js';
import type { StoredResource } from '../store/store.js';
import { renderResourceJson } from './render.js';
import type { ResourceContext } from './resources.js';
import type { ResourceSpec } from './resource-spec.js';
import { joinBody, type ScimBody } from './response-body.js';

/** `<attribute> eq "<value>"`: a plain attribute name, and a value without quotes or backslashes (so no escapes). */
const SIMPLE_EQUALITY = /^([A-Za-z][A-Za-z0-9]*) eq "([^"\\]*)"$/;

interface ExactIndex {
  index: string;
  folded: boolean;
}

/** Per resource type: the indexes that answer `<name> eq "…"` exactly, by the attribute's lower-cased name. */
const exactIndexes = new WeakMap<ResourceSpec, ReadonlyMap<string, ExactIndex>>();

function exactIndexesOf(ctx: ResourceContext): ReadonlyMap<string, ExactIndex> {
  let found = exactIndexes.get(ctx.spec);
  if (!found) {
    const map = new Map<string, ExactIndex>();
    for (const [name, index] of Object.entries(ctx.spec.equalityIndexes)) {
      if (!name.includes('.') && indexAnswersExactly(ctx, { kind: 'compare', path: { attribute: name }, op: 'eq', value: '' })) map.set(name, index);
    }
    exactIndexes.set(ctx.spec, (found = map));
  }
  return found;
}

/**
 * Whether the general path would answer this one user rather than refuse it for its size (src/scim/list.ts:
 * the memberships a lookup may derive, the page's bytes); where it would refuse, it is left to do so.
 */
function withinGeneralBudgets(user: StoredResource, paging: PagingLimits): boolean {
  const memberships = user.groups?.length ?? 0;
  return memberships <= (paging.maxScan ?? DEFAULT_MAX_SCAN) * SCAN_MEMBERSHIPS_PER_RESOURCE && user.json.length <= MAX_PAGE_BYTES;
}

/** The index read a query is, when it has the one shape the short path takes; null otherwise. */
function idpLookupOf(ctx: ResourceContext, query: URLSearchParams, paging: PagingLimits, filterLimits: FilterLimits): { index: string; value: string } | null {
  if (ctx.spec.kind !== 'User' || query.size !== 1 || Math.min(paging.maxCount, paging.defaultCount) < 1) return null;
  const filter = query.get('filter');
  // Over the length limit: the general path's 400.
  if (filter === null || filter.length > (filterLimits.maxLength ?? DEFAULT_FILTER_LIMITS.maxLength)) return null;
  const match = SIMPLE_EQUALITY.exec(filter);
  if (!match || !match[2]!.isWellFormed()) return null;
  const exact = exactIndexesOf(ctx).get(match[1]!.toLowerCase());
  if (!exact) return null;
  return { index: exact.index, value: exact.folded ? fold(match[2]!) : match[2]! };
}

/**
 * What the short path made of a query: the ListResponse body of an IdP's lookup; or no body, when the query is
 * not that shape or the index holds more than one user, with the index read made if any (the general path
 * reuses it rather than read the same users and their groups again).
 */
export type IdpLookupOutcome = { body: ScimBody } | { body: null; read: IndexRead | null };

/** Every query not of the short path's shape (nearly every list request but the IdPs' lookups). */
const OTHER_SHAPE: IdpLookupOutcome = Object.freeze({ body: null, read: null });

export async function answerIdpLookup(
  ctx: ResourceContext,
  query: URLSearchParams,
  paging: PagingLimits,
  filterLimits: FilterLimits,
  baseUrl: string,
): Promise<IdpLookupOutcome> {
  const lookup = idpLookupOf(ctx, query, paging, filterLimits);
  if (lookup === null) return OTHER_SHAPE;
  // Read as the general path reads a lookup's candidates: users with their groups.
  const found = await findIndexed(ctx, lookup.index, lookup.value, { groups: true });
  if (found.length > 1 || (found.length === 1 && !withinGeneralBudgets(found[0]!, paging))) return { body: null, read: { ...lookup, found } };
  const items = found.map((user) => renderResourceJson(ctx.spec, user, baseUrl));
  return { body: await joinBody(listResponsePieces(items.length, 1, items)) };
}
