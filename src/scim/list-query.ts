/**
 * The parameters of a list query (RFC 7644 §3.4.2; the members of a SearchRequest, §3.4.3), read into a
 * {@link ListQuery}: case-insensitive names, each given at most once; integers clamped as §3.4.2.4 says;
 * the filter parsed and its values checked against the schema; the projection and the sort key resolved.
 */
import { fail, ok, ScimError, scimErrors, type Result } from '../errors.js';
import { parseFilter, type FilterLimits, type FilterNode } from './filter.js';
import { checkFilterValues } from './filter-check.js';
import { parseProjection, type Projection } from './projection.js';
import type { ResourceContext } from './resources.js';
import { parseSortBy, type SortKey } from './sort.js';

export interface ListQuery {
  filter: FilterNode | null;
  /** 1-based (RFC 7644 §3.4.2.4). */
  startIndex: number;
  count: number;
  sortBy: SortKey | null;
  descending: boolean;
  projection: Projection;
  /** Most resources a scan (a filter no index answers, or a `sortBy` no sort index answers) may read; more is a 400 `tooMany`. */
  maxScan: number;
}

export interface PagingLimits {
  defaultCount: number;
  maxCount: number;
  /** See {@link ListQuery.maxScan}. Default: DEFAULT_MAX_SCAN. */
  maxScan?: number;
}

export const DEFAULT_MAX_SCAN = 50_000;

/** The list parameters (RFC 7644 §3.4.2; the members of a SearchRequest, §3.4.3), lower-cased. */
export const LIST_PARAMETERS: ReadonlySet<string> = new Set(['attributes', 'excludedattributes', 'filter', 'sortby', 'sortorder', 'startindex', 'count']);

/**
 * The list parameter a query or SearchRequest name stands for, lower-cased: the name itself in any case, or
 * written with a bracket suffix or spaces (`filter[]`, `attributes[0]`, ` count`, as qs-style clients write
 * lists); null for any other name. `exact` tells the two apart.
 */
export function listParameterNamed(name: string): { parameter: string; exact: boolean } | null {
  const lower = name.toLowerCase();
  if (LIST_PARAMETERS.has(lower)) return { parameter: lower, exact: true };
  const bracket = lower.indexOf('[');
  const base = (bracket === -1 ? lower : lower.slice(0, bracket)).trim();
  return LIST_PARAMETERS.has(base) ? { parameter: base, exact: false } : null;
}

/**
 * The 400 for a list parameter given twice, in any case (`filter=a&FILTER=b`, or both in a SearchRequest):
 * which one a request means is not ours to guess, and a proxy in front may have read the other; and for one
 * named with a bracket suffix or spaces (listParameterNamed), which, read as an unknown parameter, would
 * silently answer an unfiltered list. Null when none is.
 */
export function repeatedParameter(names: Iterable<string>): ScimError | null {
  const seen = new Set<string>();
  for (const name of names) {
    const named = listParameterNamed(name);
    if (named === null) continue;
    if (!named.exact) {
      return scimErrors.badRequest('invalidValue', `"${name.slice(0, 60)}" is not a list parameter: send it as ${named.parameter}=…, once`);
    }
    if (seen.has(named.parameter)) return scimErrors.badRequest('invalidValue', `${name} is given twice (parameter names are case-insensitive)`);
    seen.add(named.parameter);
  }
  return null;
}

/**
 * Reads query parameters case-insensitively (clients send `startindex`, `Count`, …): the name as written
 * first, else the first parameter whose name matches in any case. The query is walked once, not per name.
 */
export function paramReader(query: URLSearchParams): (name: string) => string | null {
  let lowered: Map<string, string> | null = null;
  return (name) => {
    const direct = query.get(name);
    if (direct !== null) return direct;
    if (lowered === null) {
      lowered = new Map();
      for (const [key, value] of query) {
        const lower = key.toLowerCase();
        if (!lowered.has(lower)) lowered.set(lower, value);
      }
    }
    return lowered.get(name.toLowerCase()) ?? null;
  };
}

/**
 * An integer query parameter. One of more digits than a safe integer holds is clamped to
 * ±Number.MAX_SAFE_INTEGER: RFC 7644 §3.4.2.4 answers a `startIndex` past the end with an empty page and
 * caps a large `count`, whatever their size.
 */
function parseInteger(text: string | null, name: string): Result<number | null> {
  if (text === null || text.trim() === '') return ok(null);
  // No two parts of the pattern can match the same characters, so it runs in linear time whatever a client
  // sends (`0*(\d+)` took seconds on a body of zeros followed by a letter).
  const match = /^\s*([-+]?)(\d+)\s*$/.exec(text);
  if (!match) return fail(scimErrors.badRequest('invalidValue', `${name} must be an integer`));
  const digits = match[2]!.replace(/^0+/, '') || '0';
  const magnitude = digits.length > 15 ? Number.MAX_SAFE_INTEGER : Number.parseInt(digits, 10);
  return ok(match[1] === '-' ? -magnitude : magnitude);
}

export function parseListQuery(ctx: ResourceContext, query: URLSearchParams, paging: PagingLimits, filterLimits: FilterLimits): Result<ListQuery> {
  const repeated = repeatedParameter(query.keys());
  if (repeated) return fail(repeated);
  const param = paramReader(query);
  const startIndex = parseInteger(param('startIndex'), 'startIndex');
  if (!startIndex.ok) return startIndex;
  const count = parseInteger(param('count'), 'count');
  if (!count.ok) return count;
  // An empty filter is no filter, as an empty count or startIndex is no value: clients that always send the
  // parameter (SailPoint-style request templates) would otherwise fail every full read.
  const filterText = param('filter');
  let filter: FilterNode | null = null;
  if (filterText !== null && filterText.trim() !== '') {
    const parsed = parseFilter(filterText, filterLimits);
    if (!parsed.ok) return parsed;
    const checked = checkFilterValues(ctx.spec.type, parsed.value);
    if (!checked.ok) return checked;
    filter = parsed.value;
  }
  const projection = parseProjection(ctx.spec.type, param('attributes'), param('excludedAttributes'));
  if (!projection.ok) return projection;
  const sortBy = parseSortBy(ctx.spec, param('sortBy'));
  if (!sortBy.ok) return sortBy;
  // Blank, as every other parameter here: absent (a template that always sends every parameter).
  const sortOrder = (param('sortOrder')?.trim() || 'ascending').toLowerCase();
  if (sortOrder !== 'ascending' && sortOrder !== 'descending') {
    return fail(scimErrors.badRequest('invalidValue', 'sortOrder must be "ascending" or "descending"'));
  }
  return ok({
    filter,
    // RFC 7644 §3.4.2.4: startIndex < 1 is read as 1; a negative count as 0; count is capped at maxCount.
    startIndex: Math.max(1, startIndex.value ?? 1),
    count: Math.min(paging.maxCount, Math.max(0, count.value ?? paging.defaultCount)),
    sortBy: sortBy.value,
    descending: sortOrder === 'descending',
    projection: projection.value,
    maxScan: paging.maxScan ?? DEFAULT_MAX_SCAN,
  });
}
