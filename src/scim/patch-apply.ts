/**
 * One PATCH operation (RFC 7644 §3.5.2.1–3) applied at a resolved path of a working copy of a resource.
 * Values are normalised with normalize.ts against the target's definition; `null` and `""` clear the target
 * (Entra clears attributes with `""`). Attributes are read and written through attribute-access.ts
 * (own properties only). Everything here mutates only the working copy handed in by patch.ts.
 */
import { fail, ok, scimErrors, type Result } from '../errors.js';
import type { FilterNode } from './filter.js';
import { deleteAttr, getAttr, keyOf, setAttr } from './attribute-access.js';
import { matchesElement } from './filter-eval.js';
import { holdsNoData, isObject, normalizeOperationValue, normalizeValue, type Json, type JsonObject } from './normalize.js';
import type { ResolvedPatchPath } from './patch-path.js';
import { comparisonsOf, equalityKey, filterWork, pinnedValue, valueKey, type IndexedList, type PatchLists } from './patch-list.js';
import { MAX_PATCH_SCAN } from './limits.js';
import type { AttributeDef, ResourceTypeDef } from './schemas.js';

export type PatchOp = 'add' | 'remove' | 'replace';

/** The working copy of one applyPatch call. */
export interface PatchState {
  type: ResourceTypeDef;
  resource: JsonObject;
  /** Extension URNs an operation wrote to, so an emptied extension can be dropped with its URN. */
  touchedExtensions: Set<string>;
  /** The multi-valued lists indexed for this request, and its scan budget (patch-list.ts). */
  lists: PatchLists;
  /**
   * The objects the current operation wrote into (the resource or an extension, and the value written),
   * each with its key count before the operation: patch.ts measures them after it (widthProblem).
   */
  written: Map<JsonObject, number>;
  /**
   * Elements a value path created for an attribute whose values carry a `value`, with that attribute's name:
   * one still without a `value` when every operation has applied is no target (patch.ts; a later operation
   * of the same PATCH may set it).
   */
  created: { element: JsonObject; attribute: string; operation: number }[];
  /** The index of the operation being applied. */
  operation: number;
}

type Done = Result<void>;
const done: Done = ok(undefined);
const bad = (scimType: 'invalidValue' | 'mutability' | 'noTarget', detail: string) => fail(scimErrors.badRequest(scimType, detail));

/** Charges `n` units of work (a scan of `n` list elements) before it happens; over the request's budget, a 400 `tooMany`. */
function charge(state: PatchState, n: number, what: string): Done {
  if (state.lists.charge(n)) return done;
  return fail(
    scimErrors.badRequest(
      'tooMany',
      `this PATCH would do more than ${MAX_PATCH_SCAN} units of work comparing values of multi-valued attributes (${what}; ` +
        'a comparison is one unit, more for long or non-ASCII strings); select values with value eq filters (members[value eq "…"]), or split the request',
    ),
  );
}

/**
 * Charges evaluating `filter` on `elements` (matchesElement) before it happens, beyond the one unit per
 * element and comparison callers charge first (O(1) to know): what long strings and multi-valued
 * attributes add ({@link filterWork}), element by element, refusing as soon as the budget is passed (so this
 * costs O(budget) at most).
 */
function chargeFilter(state: PatchState, filter: FilterNode, def: AttributeDef | undefined, elements: readonly Json[], what: string): Done {
  for (const el of elements) {
    const charged = charge(state, filterWork(filter, el, def, Math.max(0, state.lists.remaining)), what);
    if (!charged.ok) return charged;
  }
  return done;
}

/** Whether a value asks to clear its target (RFC 7643 §2.5 null; `""` from Entra). */
const isClear = (value: Json | undefined) => value === null || value === '';

/** Reads an own property only, case-insensitively (never `constructor` & co. from the prototype). */
const get = getAttr;

/** Writes under the canonical name, dropping a differently-cased spelling; `undefined` deletes. */
const put = setAttr;

/** Structural equality of JSON values (object key order ignored). */
export function jsonEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (!isObject(a) || !isObject(b)) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
}

/** Applies one operation at a resolved path. */
export function applyAtPath(state: PatchState, op: PatchOp, path: ResolvedPatchPath, value: Json | undefined): Done {
  const { def, subDef } = path;
  const where = path.subAttribute ? `${path.attribute}.${path.subAttribute}` : path.attribute;
  if (path.schema === undefined && path.attribute.toLowerCase() === 'schemas') {
    // `schemas` is recomputed by the server; RFC 7644 §3.5.2.2 forbids removing a required attribute.
    return op === 'remove' ? bad('mutability', 'schemas cannot be removed') : done;
  }
  if (def?.mutability === 'readOnly') return readOnlyWrite(state, op, path, value);
  if (def?.returned === 'never' || subDef?.mutability === 'readOnly') return done; // password: accepted and discarded
  if (op === 'remove' && def?.required && !path.filter && !path.subAttribute) {
    return bad('mutability', `${path.attribute} is required and cannot be removed (RFC 7644 §3.5.2.2)`);
  }
  if (op !== 'remove' && def?.required && !path.subAttribute && isClear(value)) {
    return bad('mutability', `${path.attribute} is required and cannot be cleared (RFC 7644 §3.5.2.2)`);
  }

  if (path.schema !== undefined) state.touchedExtensions.add(path.schema);
  const container = containerOf(state, path.schema);
  const key = def ? def.name : (keyOf(container, path.attribute) ?? path.attribute);
  noteWritten(state, container);
  const target = get(container, key);
  if (isObject(target)) noteWritten(state, target);
  const outcome = writeAt(state, container, key, op, path, value, where);
  const written = get(container, key);
  if (isObject(written)) noteWritten(state, written);
  return outcome;
}

/** Notes an object the current operation writes into, with its key count before the first write. */
function noteWritten(state: PatchState, object: JsonObject): void {
  if (!state.written.has(object)) state.written.set(object, Object.keys(object).length);
}

/** The write of {@link applyAtPath} once the attribute's container and key are known. */
function writeAt(state: PatchState, container: JsonObject, key: string, op: PatchOp, path: ResolvedPatchPath, value: Json | undefined, where: string): Done {
  const { def } = path;
  if (path.filter) return atValuePath(state, container, key, op, path, path.filter, value, where);
  if (path.subAttribute) return atSubAttribute(container, key, op, path, value, where);
  if (op === 'remove') return removeValues(state, container, key, def, value, where);
  if (isClear(value)) {
    put(container, key, undefined);
    return done;
  }

  const normalized = def ? normalizeOperationValue(def, value as Json, where) : ok(value);
  if (!normalized.ok) return normalized;
  const next = normalized.value;
  const merges = !def?.multiValued;
  if (next === undefined) {
    // `{"givenName": ""}` merged into `name`: only what it sends empty is cleared (below), not all of `name`.
    if (merges && isObject(value) && Object.keys(value).length > 0 && isObject(get(container, key))) return clearSentEmpty(container, key, value, def);
    if (op === 'replace') put(container, key, undefined); // `[]` or `{}`: replace clears, add does nothing
    return done;
  }
  const indexed = op === 'add' ? state.lists.of(container, key, def) : null;
  if (indexed) return addToIndexedList(state, indexed, next, def, where);
  const current = get(container, key);
  if (def?.multiValued || (!def && Array.isArray(current) && Array.isArray(next))) {
    // §3.5.2.3: replace sets all values (and add to a list of unknown or non-object values appends).
    const list = op === 'add' && Array.isArray(current) ? current : [];
    const charged = charge(state, list.length, `${where}: ${list.length} values`);
    if (!charged.ok) return charged;
    const written = appendValues(list, toList(next), def);
    const primary = enforceSinglePrimary(state, list, written, def);
    if (!primary.ok) return primary;
    put(container, key, list.length ? list : undefined);
  } else if (isObject(next) && isObject(current) && merges) {
    // RFC 7644 §3.5.2.1 / §3.5.2.3: sub-attributes of a complex attribute are merged, the others kept; one
    // sent as "" or null is cleared (normalisation left it out of `next`, so the merge alone would keep it).
    mergeComplex(current, next, true);
    if (isObject(value)) return clearSentEmpty(container, key, value, def);
  } else {
    put(container, key, next);
  }
  return done;
}

/** RFC 7644 §3.5.2.1: add appends; an identical value is not added twice (an index lookup per value). */
function addToIndexedList(state: PatchState, indexed: IndexedList, next: Json, def: AttributeDef | undefined, where: string): Done {
  const written: Json[] = [];
  const byValue = identifiedByValue(def);
  const items = toList(next);
  const keyed = charge(state, indexed.addWork(items, byValue), `${where}: keying ${items.length} values among ${indexed.size}`);
  if (!keyed.ok) return keyed;
  for (const item of items) {
    if (!isObject(item) || indexed.has(item, byValue)) continue;
    indexed.append(item);
    written.push(item);
  }
  return enforceSinglePrimary(state, indexed, written, def);
}

/** readOnly attributes (`id`, `meta`, `groups`): writes are ignored (RFC 7644 §3.5.1 spirit), removal refused. */
function readOnlyWrite(state: PatchState, op: PatchOp, path: ResolvedPatchPath, value: Json | undefined): Done {
  if (op === 'remove') return bad('mutability', `${path.attribute} is readOnly and cannot be removed (RFC 7644 §3.5.2.2)`);
  if (path.attribute === 'id' && !path.subAttribute && !path.filter && !isClear(value)) {
    // Okta's group rename sends `{"id":"<gid>","displayName":…}`: same id is fine.
    const id = get(state.resource, 'id');
    if (value !== id) return bad('mutability', 'id is readOnly and differs from the resource id');
  }
  return done;
}

/** Where an attribute lives: the resource, or its extension object (created when absent, dropped later if empty). */
function containerOf(state: PatchState, schema: string | undefined): JsonObject {
  if (schema === undefined) return state.resource;
  const existing = get(state.resource, schema);
  if (isObject(existing)) return existing;
  const created: JsonObject = {};
  put(state.resource, schema, created);
  return created;
}

const toList = (value: Json | undefined): Json[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** Members (whose `value` is immutable) are the same element when their `value`s are equal. */
const identifiedByValue = (def: AttributeDef | undefined) => def?.subAttributes?.some((s) => s.name === 'value' && s.mutability === 'immutable') ?? false;

/**
 * Recognises elements already in a list: equal as a whole under the schema (patch-list.ts equalityKey), or —
 * for members, whose `value` is immutable, and for value lists to remove — with an equal `value` (valueKey).
 * Linear in the list and the items (a 10,000-member PATCH must not be quadratic).
 */
class Duplicates {
  private readonly whole = new Set<string>();
  private readonly values = new Set<string>();
  private readonly sameKey: (value: Json) => string;
  private readonly valueKey: (value: Json) => string;

  constructor(
    private readonly byValue: boolean,
    def: AttributeDef | undefined,
    elements: Json[] = [],
  ) {
    this.sameKey = equalityKey(def);
    this.valueKey = valueKey(def);
    for (const el of elements) this.add(el);
  }

  add(el: Json): void {
    this.whole.add(this.sameKey(el));
    if (this.byValue && isObject(el) && el.value !== undefined) this.values.add(this.valueKey(el.value as Json));
  }

  has(item: Json): boolean {
    if (this.whole.has(this.sameKey(item))) return true;
    return this.byValue && isObject(item) && item.value !== undefined && this.values.has(this.valueKey(item.value as Json));
  }
}

/** Appends values not already present; returns the appended ones. */
function appendValues(list: Json[], items: Json[], def: AttributeDef | undefined): Json[] {
  const written: Json[] = [];
  const present = new Duplicates(identifiedByValue(def), def, list);
  for (const item of items) {
    if (present.has(item)) continue;
    list.push(item);
    present.add(item);
    written.push(item);
  }
  return written;
}

/**
 * RFC 7644 §3.5.2: setting `primary` true on one value sets it false on the others (the first written wins).
 * An entry holding no data (`{"value": "", "primary": true}`: OneLogin's placeholder) wins nothing: it is left
 * out of the write (docs/idp-behaviour.md rule 21), so it must not take `primary` from the real one; once a
 * later operation gives it data, that operation makes it win. An indexed list's keys hold `primary`: each
 * entry it demotes is keyed out and back in.
 */
function enforceSinglePrimary(state: PatchState, list: Json[] | IndexedList, written: Json[], def: AttributeDef | undefined): Done {
  const winner = written.find((el) => isObject(el) && el.primary === true && !(def && holdsNoData(def, el)));
  if (!winner) return done;
  const indexed = Array.isArray(list) ? undefined : list;
  const entries = indexed ? indexed.live() : (list as Json[]);
  const charged = charge(state, entries.length, `primary among ${entries.length} values`);
  if (!charged.ok) return charged;
  for (const el of entries) {
    if (el === winner || !isObject(el) || el.primary !== true) continue;
    indexed?.unindex(el);
    el.primary = false;
    indexed?.index(el);
  }
  return done;
}

/**
 * Merges sub-attributes into a complex value. For a single-valued reference (`manager`), a different `value`
 * names a different resource whose old `$ref`/`displayName` would be stale: the object is then replaced.
 */
function mergeComplex(target: JsonObject, source: JsonObject, isReference = false): void {
  if (isReference && source.value !== undefined && target.value !== undefined && !jsonEqual(source.value, target.value)) {
    for (const k of Object.keys(target)) put(target, k, undefined);
  }
  for (const [k, v] of Object.entries(source)) put(target, k, v);
}

/**
 * Clears the sub-attributes of `container[key]` (a complex value) that `sent` gives as "" or null, and the
 * value itself once nothing is left in it (rule 15 of docs/idp-behaviour.md, within a merge).
 */
function clearSentEmpty(container: JsonObject, key: string, sent: JsonObject, def: AttributeDef | undefined): Done {
  const current = get(container, key) as JsonObject;
  for (const [k, v] of Object.entries(sent)) {
    if (!isClear(v)) continue;
    if (clearsReference(def, current, k)) {
      put(container, key, undefined);
      return done;
    }
    put(current, keyOf(current, k) ?? k, undefined);
  }
  if (Object.keys(current).length === 0) put(container, key, undefined);
  return done;
}

/**
 * Whether clearing sub-attribute `sub` of the single-valued complex value `current` clears all of it: a
 * reference (`manager`) cleared of its `value` is no reference, its `displayName` and `$ref` named the old
 * one (docs/idp-behaviour.md rules 7 and 15), whether the PATCH names `manager` or `manager.value`. A
 * reference is an attribute whose schema gives it a `value` (one no schema declares: that holds one).
 */
function clearsReference(def: AttributeDef | undefined, current: JsonObject, sub: string): boolean {
  if (sub.toLowerCase() !== 'value') return false;
  return def ? def.subAttributes?.some((s) => s.name === 'value') === true : keyOf(current, 'value') !== undefined;
}

/** `name.familyName`, `manager.value`: the sub-attribute of a single-valued complex attribute. */
function atSubAttribute(container: JsonObject, key: string, op: PatchOp, path: ResolvedPatchPath, value: Json | undefined, where: string): Done {
  const sub = path.subAttribute as string;
  const current = get(container, key);
  if (op === 'remove' || isClear(value)) {
    if (!isObject(current)) return done; // removing something absent is a no-op
    if (clearsReference(path.def, current, sub)) {
      put(container, key, undefined);
      return done;
    }
    put(current, keyOf(current, sub) ?? sub, undefined);
    if (Object.keys(current).length === 0) put(container, key, undefined);
    return done;
  }
  const normalized = path.subDef ? normalizeOperationValue(path.subDef, value as Json, where) : ok(value);
  if (!normalized.ok) return normalized;
  if (normalized.value === undefined) return done;
  const target: JsonObject = isObject(current) ? current : {};
  mergeComplex(target, { [sub]: normalized.value }, true);
  put(container, key, target);
  return done;
}

/** `remove` without a filter: the whole attribute, or — with a value list (Entra) — only those values. */
function removeValues(state: PatchState, container: JsonObject, key: string, def: AttributeDef | undefined, value: Json | undefined, where: string): Done {
  const current = get(container, key);
  if (value === undefined || isClear(value) || !Array.isArray(current) || (def && !def.multiValued)) {
    put(container, key, undefined);
    return done;
  }
  const normalized = def ? normalizeOperationValue(def, value, where) : ok(value);
  if (!normalized.ok) return normalized;
  // Values are identified by their `value` sub-attribute when they have one (members, emails).
  const byValue = !def || def.subAttributes?.some((s) => s.name === 'value') === true;
  const indexed = state.lists.of(container, key, def);
  if (indexed) {
    const items = toList(normalized.value);
    const indexing = charge(state, indexed.lookupIndexWork() + indexed.removeWork(items, byValue), `${where}: indexing ${indexed.size} values`);
    if (!indexing.ok) return indexing;
    for (const item of items) {
      // Equal as a whole implies an equal `value`, so the whole-value index is only needed without one.
      const doomed = byValue && isObject(item) && item.value !== undefined ? indexed.withEqualValue(item.value) : indexed.equalTo(item);
      for (const el of doomed) indexed.remove(el);
    }
    return done;
  }
  const charged = charge(state, current.length, `${where}: ${current.length} values`);
  if (!charged.ok) return charged;
  const doomed = new Duplicates(byValue, def, toList(normalized.value));
  const remaining = current.filter((el) => !doomed.has(el));
  put(container, key, remaining.length ? remaining : undefined);
  return done;
}

/**
 * `emails[type eq "work"].value`, `members[value eq "x"]`: the elements selected by a filter (RFC 7644 §3.5.2).
 * A filter pinning `value` is answered from the list index; any other filter scans the list (charged).
 */
function atValuePath(
  state: PatchState,
  container: JsonObject,
  key: string,
  op: PatchOp,
  path: ResolvedPatchPath,
  filter: FilterNode,
  value: Json | undefined,
  where: string,
): Done {
  const { def } = path;
  const sub = path.subAttribute;
  const indexed = state.lists.of(container, key, def);
  const cost = comparisonsOf(filter);
  if (!indexed) {
    const list = toList(get(container, key));
    const what = `${where}: ${list.length} values × ${cost} comparisons`;
    const charged = charge(state, list.length * cost, what);
    if (!charged.ok) return charged;
    const filtered = chargeFilter(state, filter, def, list, what);
    if (!filtered.ok) return filtered;
    return atValuePathScanning(state, container, key, op, path, filter, value, where);
  }
  const pinned = pinnedValue(filter, def);
  let candidates: JsonObject[];
  let what: string;
  if (pinned !== undefined) {
    // An index lookup: O(1) for the first candidate; the others (values equal but for case where `value` is
    // not caseExact, values that are not strings) and folding the list's values for the index are charged.
    const built = charge(state, indexed.lookupIndexWork(), `${where}: indexing ${indexed.size} values`);
    if (!built.ok) return built;
    const count = indexed.countByValue(pinned);
    what = `${where}: ${count} values the value eq filter selects × ${cost} comparisons`;
    const charged = charge(state, Math.max(0, count - 1) * cost, what);
    if (!charged.ok) return charged;
    candidates = indexed.candidatesByValue(pinned);
  } else {
    what = `${where}: ${indexed.size} values × ${cost} comparisons`;
    const charged = charge(state, indexed.size * cost, what);
    if (!charged.ok) return charged;
    candidates = indexed.live();
  }
  const filtered = chargeFilter(state, filter, def, candidates, what);
  if (!filtered.ok) return filtered;
  const matched = candidates.filter((el) => matchesElement(filter, el, def));
  // Each selected element is keyed out of the whole-element index and back in as it changes.
  const rekeyed = charge(state, indexed.rekeyWork(matched), `${where}: re-keying ${matched.length} values`);
  if (!rekeyed.ok) return rekeyed;

  if (op === 'remove' || isClear(value)) {
    // RFC 7644 §3.5.2.2: remove the selected values, or the sub-attribute of each; no match is a no-op.
    for (const el of matched) {
      if (!sub) {
        indexed.remove(el);
        continue;
      }
      indexed.unindex(el);
      put(el, keyOf(el, sub) ?? sub, undefined);
      if (Object.keys(el).length > 0) indexed.index(el);
      else indexed.remove(el);
    }
    return done;
  }

  const shaped = valuePathPatch(path, value, where);
  if (!shaped.ok) return shaped;
  if (shaped.value === undefined) return done;
  const { patch, asElement } = shaped.value;

  const written: Json[] = [];
  if (matched.length === 0) {
    const created = createdElement(state, path, filter, patch, asElement, where);
    if (!created.ok) return created;
    const keyed = charge(state, indexed.addWork([created.value], identifiedByValue(def)), `${where}: keying a value among ${indexed.size}`);
    if (!keyed.ok) return keyed;
    if (!indexed.has(created.value, identifiedByValue(def))) indexed.append(created.value);
    written.push(created.value);
  } else {
    for (const el of matched) {
      if (op === 'add' || sub) {
        indexed.unindex(el);
        noteWritten(state, el);
        mergeComplex(el, patch);
        indexed.index(el);
        written.push(el);
        continue;
      }
      // RFC 7644 §3.5.2.3: replace the selected values; they keep what the filter asserted about them.
      const replacement = asElement(describedElement(filter, patch));
      if (!replacement.ok) return replacement;
      if (!isObject(replacement.value)) continue;
      // Replaced in place, so the element keeps its position and identity in the index.
      indexed.unindex(el);
      for (const k of Object.keys(el)) put(el, k, undefined);
      for (const [k, v] of Object.entries(replacement.value)) put(el, k, v);
      indexed.index(el);
      written.push(el);
    }
  }
  return enforceSinglePrimary(state, indexed, written, def);
}

/** What an add/replace at a value path writes: the sub-attribute or element fields, and how to shape an element. */
function valuePathPatch(
  path: ResolvedPatchPath,
  value: Json | undefined,
  where: string,
): Result<{ patch: JsonObject; asElement: (fields: Json) => Result<Json | undefined> } | undefined> {
  const { def, subDef } = path;
  const sub = path.subAttribute;
  const elementDef: AttributeDef | undefined = def ? { ...def, multiValued: false } : undefined;
  // An element and its sub-attributes are an entry's: an empty string in them is the entry's to judge (normalize.ts).
  const asElement = (fields: Json): Result<Json | undefined> => (elementDef ? normalizeValue(elementDef, fields, where, undefined, true) : ok(fields));
  const normalized = sub ? (subDef ? normalizeValue(subDef, value as Json, where, undefined, true) : ok(value)) : asElement(value as Json);
  if (!normalized.ok) return normalized;
  if (normalized.value === undefined) return ok(undefined);
  if (!sub && !isObject(normalized.value)) return bad('invalidValue', `${where} must be an object`);
  const patch: JsonObject = sub ? { [sub]: normalized.value } : (normalized.value as JsonObject);
  return ok({ patch, asElement });
}

/**
 * Deliberate deviation from RFC 7644 §3.5.2.3 (noTarget): add *and* replace on an unmatched value path
 * create the element, as Microsoft's validator expects. Its fields come from the filter's `eq` comparisons;
 * if the result would not match the filter, there is no target. Nor is there when the attribute's values
 * carry a `value` (emails, phone numbers, roles, …) and the element would have none:
 * `emails[type eq "work"].primary` on a user without a work email would create an address-less email and,
 * being primary, take `primary` from the real one.
 */
function createdElement(
  state: PatchState,
  path: ResolvedPatchPath,
  filter: FilterNode,
  patch: JsonObject,
  asElement: (fields: Json) => Result<Json | undefined>,
  where: string,
): Result<JsonObject> {
  const created = asElement(describedElement(filter, patch));
  if (!created.ok) return created;
  const noTarget = () => bad('noTarget', `no value of ${path.attribute} matches the filter, and the filter does not describe one to create`);
  if (!isObject(created.value)) return noTarget();
  const charged = chargeFilter(state, filter, path.def, [created.value], `${where}: the value to create`);
  if (!charged.ok) return charged;
  if (!matchesElement(filter, created.value, path.def)) return noTarget();
  if (path.def?.subAttributes?.some((sub) => sub.name === 'value'))
    state.created.push({ element: created.value, attribute: path.attribute, operation: state.operation });
  return ok(created.value);
}

/** The noTarget of an element a value path created that no operation gave a `value` (PatchState.created). */
export function valuelessCreation(state: PatchState): Result<void> {
  for (const { element, attribute, operation } of state.created) {
    // Not a target any more once a later operation removed it (or its attribute) again.
    const list = getAttr(state.resource, attribute);
    if (!Array.isArray(list) || !list.includes(element)) continue;
    const value = getAttr(element, 'value');
    if (value === undefined || value === null || value === '') {
      return bad(
        'noTarget',
        `Operations[${operation}]: no value of ${attribute} matched the value path, and the ${attribute} value the PATCH would create has no "value"`,
      );
    }
  }
  return ok(undefined);
}

/** {@link atValuePath} on a list the index does not cover (unknown attributes, non-object values); already charged. */
function atValuePathScanning(
  state: PatchState,
  container: JsonObject,
  key: string,
  op: PatchOp,
  path: ResolvedPatchPath,
  filter: FilterNode,
  value: Json | undefined,
  where: string,
): Done {
  const { def } = path;
  const sub = path.subAttribute;
  const list = toList(get(container, key));
  const matched = new Set(list.filter((el) => matchesElement(filter, el, def)));

  if (op === 'remove' || isClear(value)) {
    const remaining: Json[] = [];
    for (const el of list) {
      if (!matched.has(el)) remaining.push(el);
      else if (sub && isObject(el)) {
        put(el, keyOf(el, sub) ?? sub, undefined);
        if (Object.keys(el).length > 0) remaining.push(el);
      }
    }
    put(container, key, remaining.length ? remaining : undefined);
    return done;
  }

  const shaped = valuePathPatch(path, value, where);
  if (!shaped.ok) return shaped;
  if (shaped.value === undefined) return done;
  const { patch, asElement } = shaped.value;

  const written: Json[] = [];
  if (matched.size === 0) {
    const created = createdElement(state, path, filter, patch, asElement, where);
    if (!created.ok) return created;
    if (!new Duplicates(identifiedByValue(def), def, list).has(created.value)) list.push(created.value);
    written.push(created.value);
  } else {
    for (const [index, el] of list.entries()) {
      if (!matched.has(el)) continue;
      if (isObject(el) && (op === 'add' || sub)) {
        noteWritten(state, el);
        mergeComplex(el, patch);
        written.push(el);
        continue;
      }
      const replacement = asElement(describedElement(filter, patch));
      if (!replacement.ok) return replacement;
      if (replacement.value === undefined) continue;
      list[index] = replacement.value;
      written.push(replacement.value);
    }
  }
  const primary = enforceSinglePrimary(state, list, written, path.def);
  if (!primary.ok) return primary;
  put(container, key, list);
  return done;
}

/** The `attr eq value` comparisons of an `and`-only filter, as element fields (`type eq "work"` → `{type:"work"}`). */
function derivedFields(filter: FilterNode): JsonObject {
  const out: JsonObject = {};
  const stack: FilterNode[] = [filter];
  while (stack.length) {
    const node = stack.pop() as FilterNode;
    if (node.kind === 'and') stack.push(node.right, node.left);
    else if (node.kind === 'compare' && node.op === 'eq' && !node.path.subAttribute && !node.path.schema && node.value !== null) {
      if (node.path.attribute !== '__proto__') setAttr(out, keyOf(out, node.path.attribute) ?? node.path.attribute, node.value);
    }
  }
  return out;
}

/**
 * The element a value path describes: the filter's `eq` fields, then the patch's own over them, names
 * compared in any case (`[type eq "work"]` with `{"Type": "work", …}` is one `type`, not two keys that
 * normalisation would refuse as a name given twice).
 */
function describedElement(filter: FilterNode, patch: JsonObject): JsonObject {
  const out = derivedFields(filter);
  for (const key of Object.keys(patch)) deleteAttr(out, key);
  return { ...out, ...patch };
}
