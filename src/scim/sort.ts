/**
 * `sortBy` (RFC 7644 §3.4.2.3): parsing, the value a resource sorts by, the in-memory sort of a scanned or
 * looked-up list, and the sort entries a write hands the store so that the sortable attributes of each
 * resource type (ResourceSpec.sortIndexes) are answered from the store's sort indexes instead (list.ts).
 * Both paths order alike: values compared as JavaScript compares strings (case-insensitive attributes
 * lower-cased), equal values in creation order, then the resources without the attribute in creation
 * order; descending is the exact reverse, so those come first (RFC 7644 §3.4.2.3, docs/sorting.md).
 */
import { ok, fail, scimErrors, type Result } from '../errors.js';
import type { SortEntry } from '../store/store.js';
import { getAttr, getAttrOf, isAttrName, isSubAttrName } from './attribute-access.js';
import { MAX_PATH_LENGTH } from './limits.js';
import { isObject, type Json, type JsonObject } from './normalize.js';
import type { ResourceSpec, SortIndex } from './resource-spec.js';
import { dottedSchemaUrnProblem, findAttribute, resolveAttribute, splitCustomUrn, splitSchemaUrn } from './schemas.js';
import { sortInSlices } from '../sliced-sort.js';

/** A validated `sortBy`: where the attribute lives, its canonical name, an optional sub-attribute, and its case rule. */
export interface SortKey {
  container: string | null;
  attribute: string;
  subAttribute?: string;
  caseExact: boolean;
  /** What a resource without the attribute sorts as, when not "no value": a user's `active` (true, as filters read it). */
  absentAs?: boolean;
}

/**
 * Parses `sortBy` (RFC 7644 §3.4.2.3): `[urn:…:]attribute[.subAttribute]`, names checked against the RFC
 * 7643 §2.1 grammar; a malformed one is a 400 `invalidValue`. The URN's own dots are not separators.
 */
export function parseSortBy(spec: ResourceSpec, text: string | null): Result<SortKey | null> {
  if (text === null || text.trim() === '') return ok(null);
  const bad = () =>
    fail(scimErrors.badRequest('invalidValue', `sortBy: "${text.length > 60 ? `${text.slice(0, 57)}...` : text}" is not an attribute path (RFC 7644 §3.10)`));
  if (text.length > MAX_PATH_LENGTH) return bad();
  const trimmed = text.trim();
  const dotted = dottedSchemaUrnProblem(spec.type, trimmed);
  if (dotted) return fail(scimErrors.badRequest('invalidValue', `sortBy: ${dotted}`));
  const known = splitSchemaUrn(spec.type, trimmed);
  // A custom extension's attribute (`urn:…:CustomExtension:2.0:User:badge`): the URN up to the last ":", as
  // a filter or a PATCH path reads it, so that a sort finds what a filter on the same path finds.
  const { urn, rest } = (known.urn === undefined && /^urn:/i.test(trimmed) ? splitCustomUrn(trimmed) : null) ?? known;
  const parts = rest.split('.');
  const [attribute = '', sub] = parts;
  if (parts.length > 2 || !isAttrName(attribute) || (sub !== undefined && !isSubAttrName(sub))) return bad();
  const resolved = resolveAttribute(spec.type, attribute, urn);
  const subDef = sub === undefined ? undefined : findAttribute(resolved.def?.subAttributes, sub);
  const key: SortKey = {
    container: resolved.schemaId === spec.type.schema.id ? null : resolved.schemaId,
    attribute: resolved.name,
    caseExact: (subDef ?? resolved.def)?.caseExact ?? false,
  };
  if (sub !== undefined) key.subAttribute = subDef?.name ?? sub;
  // A user without `active` is active (isActiveUser; locateInResource in src/scim/filter-eval.ts reads it so).
  else if (spec.type.name === 'User' && key.container === null && resolved.name === 'active') key.absentAs = true;
  return ok(key);
}

export type SortValue = string | number | boolean | null;

/** The value a resource sorts by: a multi-valued attribute by its primary (else first) value; own keys only. */
export function sortValue(resource: JsonObject, key: SortKey): SortValue {
  const holder = key.container ? getAttrOf(resource, key.container) : resource;
  let value = getAttrOf(holder, key.attribute);
  if (Array.isArray(value)) {
    const items = value as Json[];
    value = items.find((v) => getAttrOf(v, 'primary') === true) ?? items[0];
  }
  if (isObject(value)) value = getAttr(value, key.subAttribute ?? 'value');
  if (value === undefined && key.absentAs !== undefined) return key.absentAs;
  if (value === undefined || value === null || typeof value === 'object') return null;
  return typeof value === 'string' && !key.caseExact ? value.toLowerCase() : value;
}

/** The store sort index that answers `key` for this resource type, if any (core attributes only). */
export function sortIndexOf(spec: ResourceSpec, key: SortKey): SortIndex | undefined {
  if (key.container !== null) return undefined;
  const path = (key.subAttribute === undefined ? key.attribute : `${key.attribute}.${key.subAttribute}`).toLowerCase();
  return spec.sortIndexes.find((index) => index.path.toLowerCase() === path);
}

/** The parsed key of each sort index that the store keeps (not the creation order), per resource type. */
const indexedKeys = new WeakMap<ResourceSpec, { attribute: string; key: SortKey }[]>();

/**
 * The sort entries a resource hands the store: for each sortable attribute kept in a store sort index, the
 * value {@link sortValue} gives it (null: none). These attributes are strings (normalize.ts), so the store's
 * string order is the order of {@link compareSorted}.
 */
export function sortEntries(spec: ResourceSpec, resource: JsonObject): SortEntry[] {
  let keys = indexedKeys.get(spec);
  if (!keys) {
    keys = [];
    for (const index of spec.sortIndexes) {
      const parsed = parseSortBy(spec, index.path);
      if (index.attribute !== null && parsed.ok && parsed.value) keys.push({ attribute: index.attribute, key: parsed.value });
    }
    indexedKeys.set(spec, keys);
  }
  return keys.map(({ attribute, key }) => {
    const value = sortValue(resource, key);
    return { attribute, value: value === null ? null : String(value) };
  });
}

/** A resource with the value it sorts by and its position in the list (creation order for a scan). */
export interface Keyed {
  key: SortValue;
  position: number;
}

/**
 * RFC 7644 §3.4.2.3 order: by value (strings honour `caseExact` through {@link sortValue}), ties by position,
 * then the resources without the attribute in position order; descending is the exact reverse, so those come
 * first ("ordered last if ascending and first if descending").
 */
function compareSorted(descending: boolean): (a: Keyed, b: Keyed) => number {
  return (a, b) => {
    let order: number;
    if (a.key === null || b.key === null) order = a.key === b.key ? a.position - b.position : a.key === null ? 1 : -1;
    else order = a.key < b.key ? -1 : a.key > b.key ? 1 : a.position - b.position;
    return descending ? -order : order;
  };
}

/** Characters of a string key one unit of sort work covers (a comparison reads up to the shorter key). */
const SORT_KEY_CHARS_PER_UNIT = 64;

/** What comparing a keyed resource costs, in units of a short key (src/sliced-sort.ts). */
export const keyWeight = (keyed: Keyed): number => (typeof keyed.key === 'string' ? 1 + Math.floor(keyed.key.length / SORT_KEY_CHARS_PER_UNIT) : 1);

/** Sorts keyed resources in slices that yield to the event loop, long keys weighing more (src/sliced-sort.ts). */
export function sortKeyed<T extends Keyed>(resources: readonly T[], descending: boolean): Promise<T[]> {
  return sortInSlices(resources, compareSorted(descending), keyWeight);
}
