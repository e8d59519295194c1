/**
 * Queries on /Users and /Groups (RFC 7644 §3.4.2): filter, sort, paging and projection.
 *
 * Cost: without a filter or sort, a page is read directly in creation order (O(page)). An `eq` on an
 * indexed attribute (`id`, `userName`, `externalId`, `emails.value`, group `displayName`) — alone, inside
 * an `and`, or in every branch of an `or` — reads only the indexed candidates (O(matches)); the full filter
 * is then applied to them, so the index never decides a result by itself. Any other filter, and `sortBy`,
 * scan the connection's resources in creation order in batches (O(resources)).
 */
import { fail, ok, scimErrors, type Result } from '../errors.js';
import { fold } from '../fold.js';
import type { StoredResource } from '../store/store.js';
import { parseFilter, type FilterLimits, type FilterNode } from './filter.js';
import { matchesFilter } from './filter-eval.js';
import type { Json, JsonObject } from './normalize.js';
import { parseProjection, type Projection } from './projection.js';
import { renderResource } from './render.js';
import type { ResourceContext } from './resources.js';
import { resolveAttribute, splitSchemaUrn } from './schemas.js';

export const LIST_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

export interface ListQuery {
  filter: FilterNode | null;
  /** 1-based (RFC 7644 §3.4.2.4). */
  startIndex: number;
  count: number;
  sortBy: string | null;
  descending: boolean;
  projection: Projection;
}

export interface PagingLimits {
  defaultCount: number;
  maxCount: number;
}

/** Reads a query parameter case-insensitively (clients send `startindex`, `Count`, …). */
function param(query: URLSearchParams, name: string): string | null {
  const direct = query.get(name);
  if (direct !== null) return direct;
  const lower = name.toLowerCase();
  for (const [key, value] of query) if (key.toLowerCase() === lower) return value;
  return null;
}

function parseInteger(text: string | null, name: string): Result<number | null> {
  if (text === null || text.trim() === '') return ok(null);
  if (!/^\s*[-+]?\d{1,15}\s*$/.test(text)) return fail(scimErrors.badRequest('invalidValue', `${name} must be an integer`));
  return ok(Number.parseInt(text, 10));
}

export function parseListQuery(
  ctx: ResourceContext,
  query: URLSearchParams,
  paging: PagingLimits,
  filterLimits: FilterLimits,
): Result<ListQuery> {
  const startIndex = parseInteger(param(query, 'startIndex'), 'startIndex');
  if (!startIndex.ok) return startIndex;
  const count = parseInteger(param(query, 'count'), 'count');
  if (!count.ok) return count;
  const filterText = param(query, 'filter');
  let filter: FilterNode | null = null;
  if (filterText !== null) {
    const parsed = parseFilter(filterText, filterLimits);
    if (!parsed.ok) return parsed;
    filter = parsed.value;
  }
  const sortOrder = (param(query, 'sortOrder') ?? 'ascending').toLowerCase();
  if (sortOrder !== 'ascending' && sortOrder !== 'descending') {
    return fail(scimErrors.badRequest('invalidValue', 'sortOrder must be "ascending" or "descending"'));
  }
  return ok({
    filter,
    // RFC 7644 §3.4.2.4: startIndex < 1 is read as 1; a negative count as 0; count is capped at maxCount.
    startIndex: Math.max(1, startIndex.value ?? 1),
    count: Math.min(paging.maxCount, Math.max(0, count.value ?? paging.defaultCount)),
    sortBy: param(query, 'sortBy'),
    descending: sortOrder === 'descending',
    projection: parseProjection(ctx.spec.type, param(query, 'attributes'), param(query, 'excludedAttributes')),
  });
}

interface Lookup {
  index: string | null; // null: by id
  value: string;
}

/** Index lookups whose union is a superset of the filter's matches, or null when none exists. */
export function planLookups(ctx: ResourceContext, node: FilterNode): Lookup[] | null {
  switch (node.kind) {
    case 'and':
      return planLookups(ctx, node.left) ?? planLookups(ctx, node.right);
    case 'or': {
      const left = planLookups(ctx, node.left);
      const right = left && planLookups(ctx, node.right);
      return left && right ? [...left, ...right] : null;
    }
    case 'valuePath': {
      // emails[type eq "work"].value eq "x" is parsed as valuePath(emails, and(type eq "work", value eq "x")).
      const inner = innerEquality(node.filter);
      if (!inner) return null;
      return equalityLookup(ctx, node.path.schema, node.path.attribute, 'value', inner);
    }
    case 'compare': {
      if (node.op !== 'eq') return null;
      const value = typeof node.value === 'string' ? node.value : typeof node.value === 'number' ? (node.raw ?? String(node.value)) : null;
      if (value === null) return null;
      return equalityLookup(ctx, node.path.schema, node.path.attribute, node.path.subAttribute, value);
    }
    default:
      return null;
  }
}

function innerEquality(node: FilterNode): string | null {
  if (node.kind === 'and') return innerEquality(node.left) ?? innerEquality(node.right);
  if (node.kind === 'compare' && node.op === 'eq' && typeof node.value === 'string' && node.path.attribute.toLowerCase() === 'value' && !node.path.subAttribute) {
    return node.value;
  }
  return null;
}

function equalityLookup(ctx: ResourceContext, schema: string | undefined, attribute: string, sub: string | undefined, value: string): Lookup[] | null {
  const resolved = resolveAttribute(ctx.spec.type, attribute, schema);
  if (resolved.schemaId !== ctx.spec.type.schema.id) return null;
  const key = sub ? `${resolved.name}.${sub}`.toLowerCase() : resolved.name.toLowerCase();
  if (key === 'id') return [{ index: null, value }];
  const index = Object.hasOwn(ctx.spec.equalityIndexes, key) ? ctx.spec.equalityIndexes[key] : undefined;
  if (!index) return null;
  return [{ index: index.index, value: index.folded ? fold(value) : value }];
}

const SCAN_BATCH = 500;

/** Every resource of the connection that could match, in creation order. */
async function candidates(ctx: ResourceContext, filter: FilterNode | null): Promise<StoredResource[]> {
  const lookups = filter ? planLookups(ctx, filter) : null;
  if (lookups) {
    const seen = new Map<string, StoredResource>();
    for (const lookup of lookups) {
      const found = lookup.index === null
        ? [await ctx.store.getResource(ctx.connectionId, ctx.spec.kind, lookup.value)].filter((r): r is StoredResource => r !== null)
        : await ctx.store.findByIndex(ctx.connectionId, ctx.spec.kind, lookup.index, lookup.value);
      for (const resource of found) if (!seen.has(resource.id)) seen.set(resource.id, resource);
    }
    return [...seen.values()];
  }
  const all: StoredResource[] = [];
  for (let offset = 0; ; offset += SCAN_BATCH) {
    const page = await ctx.store.listPage(ctx.connectionId, ctx.spec.kind, offset, SCAN_BATCH);
    all.push(...page.resources);
    if (page.resources.length < SCAN_BATCH) return all;
  }
}

/** One resource of a page: as stored, and rendered when filtering or sorting already needed it. */
export interface ListedResource {
  stored: StoredResource;
  rendered: JsonObject | null;
}

export interface ListResult {
  total: number;
  startIndex: number;
  resources: ListedResource[];
}

/** Runs a query: the page's resources (rendered only where filtering or sorting needed it). */
export async function listResources(ctx: ResourceContext, query: ListQuery, baseUrl: string): Promise<ListResult> {
  const offset = query.startIndex - 1;
  if (!query.filter && !query.sortBy) {
    const page = await ctx.store.listPage(ctx.connectionId, ctx.spec.kind, offset, query.count);
    // count=0 asks for totalResults only; listPage with 0 still returns the total.
    return { total: page.total, startIndex: query.startIndex, resources: page.resources.map((stored) => ({ stored, rendered: null })) };
  }
  const scope = { type: ctx.spec.type };
  let matches = (await candidates(ctx, query.filter))
    .map((stored) => ({ stored, rendered: renderResource(ctx.spec, stored, baseUrl) }))
    .filter((r) => !query.filter || matchesFilter(query.filter, r.rendered, scope));
  if (query.sortBy) matches = sortResources(ctx, matches, query.sortBy, query.descending);
  return { total: matches.length, startIndex: query.startIndex, resources: matches.slice(offset, offset + query.count) };
}

/**
 * RFC 7644 §3.4.2.3: sorts by one attribute; a multi-valued attribute sorts by its primary (else first)
 * value; strings honour `caseExact`. Resources without the attribute sort last in ascending order.
 */
function sortResources<T extends { rendered: JsonObject }>(ctx: ResourceContext, resources: T[], sortBy: string, descending: boolean): T[] {
  // `urn:…:enterprise:2.0:User:employeeNumber`: the URN's own dots are not sub-attribute separators.
  const { urn, rest } = splitSchemaUrn(ctx.spec.type, sortBy);
  const [attribute = '', sub] = rest.split('.', 2);
  const resolved = resolveAttribute(ctx.spec.type, attribute, urn);
  const container = resolved.schemaId === ctx.spec.type.schema.id ? null : resolved.schemaId;
  const subDef = sub ? resolved.def?.subAttributes?.find((s) => s.name.toLowerCase() === sub.toLowerCase()) : undefined;
  const caseExact = (subDef ?? resolved.def)?.caseExact ?? false;
  const keyOf = (resource: JsonObject): string | number | boolean | null => {
    const holder = container ? resource[container] : resource;
    let value: Json | undefined = holder && typeof holder === 'object' && !Array.isArray(holder) ? holder[resolved.name] : undefined;
    if (Array.isArray(value)) {
      const items = value as Json[];
      value = items.find((v) => typeof v === 'object' && v !== null && (v as JsonObject).primary === true) ?? items[0];
    }
    if (value && typeof value === 'object' && !Array.isArray(value)) value = (value as JsonObject)[sub ?? 'value'];
    if (value === undefined || value === null || typeof value === 'object') return null;
    return typeof value === 'string' && !caseExact ? value.toLowerCase() : value;
  };
  const keyed = resources.map((resource, position) => ({ resource, key: keyOf(resource.rendered), position }));
  keyed.sort((a, b) => {
    if (a.key === null || b.key === null) return a.key === b.key ? a.position - b.position : a.key === null ? 1 : -1;
    const order = a.key < b.key ? -1 : a.key > b.key ? 1 : a.position - b.position;
    return descending ? -order : order;
  });
  return keyed.map((k) => k.resource);
}

export function listResponse(total: number, startIndex: number, items: JsonObject[]): JsonObject {
  return { schemas: [LIST_RESPONSE_SCHEMA], totalResults: total, startIndex, itemsPerPage: items.length, Resources: items };
}

/** The same ListResponse as text, from resources already serialised (see renderResourceJson). */
export function listResponseJson(total: number, startIndex: number, items: string[]): string {
  return `{"schemas":["${LIST_RESPONSE_SCHEMA}"],"totalResults":${total},"startIndex":${startIndex},"itemsPerPage":${items.length},"Resources":[${items.join(',')}]}`;
}
