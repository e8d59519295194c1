/**
 * The multi-valued lists one PATCH works on (members, emails, …), indexed once per request so that each
 * operation costs O(its own values), not O(list): a 1,000-operation PATCH on a group of 45,000 members
 * (Okta's `remove members[value eq "…"]` next to `add members`, Entra's `Remove members` with values)
 * costs O(1,000 + 45,000) instead of O(1,000 × 45,000) (issue 10).
 *
 * - Elements are indexed by their exact `value` (for duplicate checks, and for `value eq "…"` filters when
 *   `value` is caseExact, as `members.value` is), and — only for lists whose `value` compares
 *   case-insensitively (emails), when such a filter first needs it — by their folded `value` (src/fold.ts).
 *   A lookup returns the elements that may match (candidates are always verified with the whole filter),
 *   so 30,000 members whose values differ only in case never share a bucket. Buckets are insertion-ordered
 *   sets: adding and removing an element is O(1) whatever the bucket's size.
 * - Removal is lazy: removed elements are marked dead and the list is compacted once, when the PATCH's
 *   operations are all applied ({@link PatchLists.compact}). Only this module and patch-apply.ts touch an
 *   indexed list, and always through an {@link IndexedList}.
 * - What the index cannot answer (a filter not pinning `value`, lists of unknown attributes), candidates
 *   beyond the first of a lookup, and building the folded index, are charged against {@link MAX_PATCH_SCAN}
 *   before they happen (400 `tooMany` over it), by their work ({@link filterWork}): a comparison of long or
 *   non-ASCII strings costs more than one of short ones.
 */
import { fold } from '../fold.js';
import { getAttr, setAttr } from './attribute-access.js';
import type { AttrPath, FilterNode } from './filter.js';
import { MAX_PATCH_SCAN, PATCH_SCAN_CHARS, PATCH_SCAN_FOLDED_CHARS } from './limits.js';
import { isObject, type Json, type JsonObject } from './normalize.js';
import { findAttribute, type AttributeDef } from './schemas.js';

/** A key equal for JSON-equal values (object keys sorted), so duplicate checks are set lookups, not scans. */
export function canonical(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k] as Json)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The key of a complex value under the schema's equality (RFC 7643 §2.4, §2.2): {@link canonical}, with the
 * strings of sub-attributes that are not caseExact folded (src/fold.ts), so `{"value":"A@x.com"}` and
 * `{"value":"a@x.com"}` are one email, and `primary: false` the same as no `primary` (the server stores
 * `false` on the values it took `primary` from). Sub-attributes the schema does not describe compare exactly.
 */
export function equalityKey(def: AttributeDef | undefined): (value: Json) => string {
  if (!def) return canonical;
  let key = equalityKeys.get(def);
  if (!key) equalityKeys.set(def, (key = buildEqualityKey(def)));
  return key;
}

/** One {@link equalityKey} per attribute definition, built once. */
const equalityKeys = new WeakMap<AttributeDef, (value: Json) => string>();

function buildEqualityKey(def: AttributeDef): (value: Json) => string {
  const subs = def.subAttributes ?? [];
  const folded = new Set(subs.filter((sub) => sub.type === 'string' && !sub.caseExact).map((sub) => sub.name.toLowerCase()));
  const hasPrimary = subs.some((sub) => sub.name === 'primary');
  if (folded.size === 0 && !hasPrimary) return canonical;
  return (value) => {
    if (!isObject(value)) return canonical(value);
    const parts: string[] = [];
    for (const k of Object.keys(value).sort()) {
      const v = value[k] as Json;
      if (hasPrimary && v === false && k.toLowerCase() === 'primary') continue;
      parts.push(`${JSON.stringify(k)}:${typeof v === 'string' && folded.has(k.toLowerCase()) ? JSON.stringify(fold(v)) : canonical(v)}`);
    }
    return `{${parts.join(',')}}`;
  };
}

/** The key of a `value` sub-attribute under its caseExact rule: a string that is not caseExact is folded. */
export function valueKey(def: AttributeDef | undefined): (value: Json) => string {
  const value = findAttribute(def?.subAttributes, 'value');
  if (!value || value.caseExact) return canonical;
  return (v) => (typeof v === 'string' ? JSON.stringify(fold(v)) : canonical(v));
}

type Bucket = Set<JsonObject>;

/** The exact-index key of a `value`: {@link canonical}, without its walk for the usual string. */
const exactKey = (value: Json): string => (typeof value === 'string' ? JSON.stringify(value) : canonical(value));

const NOT_ASCII = /[\u0080-\u{10ffff}]/u;

/**
 * The units of {@link MAX_PATCH_SCAN} one comparison of `text` costs beyond its first: its length over
 * {@link PATCH_SCAN_FOLDED_CHARS} when it is folded (`folds`) and not ASCII, else over {@link PATCH_SCAN_CHARS}.
 */
export function textWork(text: string, folds: boolean): number {
  if (text.length < PATCH_SCAN_FOLDED_CHARS) return 0;
  return Math.floor(text.length / (folds && NOT_ASCII.test(text) ? PATCH_SCAN_FOLDED_CHARS : PATCH_SCAN_CHARS));
}

/** What keying one element for the whole-element index costs beyond a unit: its strings' {@link textWork}, folded. */
function elementTextWork(el: Json): number {
  if (typeof el === 'string') return textWork(el, true);
  if (!isObject(el)) return 0;
  let work = 0;
  for (const k of Object.keys(el)) {
    const v = el[k];
    if (typeof v === 'string') work += textWork(v, true);
  }
  return work;
}

/** One list of complex values, with lazily built indexes and lazily removed elements. */
export class IndexedList {
  private readonly dead = new Set<JsonObject>();
  /** canonical(value) → elements (every element with a `value`). */
  private exact: Map<string, Bucket> | undefined;
  /** Elements whose `value` is not a string: a filter may coerce them (`5` eq `"5"`), so they are candidates of every lookup. */
  private odd: Bucket | undefined;
  /** fold(value) → elements with a string `value`; built only for lists whose `value` is not caseExact. */
  private folded: Map<string, Bucket> | undefined;
  /** sameKey(element) → elements. */
  private whole: Map<string, Bucket> | undefined;
  private positions: Map<JsonObject, number> | undefined;
  /** Each string of the folded index folded once per request (an entry per distinct `value` indexed). */
  private readonly foldMemo = new Map<string, string>();

  constructor(
    readonly container: JsonObject,
    readonly key: string,
    /** The array stored in `container[key]`, dead elements included until compaction. */
    readonly items: JsonObject[],
    /** Whether `value eq "…"` compares `value` exactly (its definition's caseExact; RFC 7643 §2.2). */
    readonly caseExact: boolean = false,
    /** The key of elements equal under the schema ({@link equalityKey}). */
    private readonly sameKey: (value: Json) => string = canonical,
  ) {}

  /** How many live elements there are. */
  get size(): number {
    return this.items.length - this.dead.size;
  }

  /** The live elements in list order (O(list): callers charge the scan). */
  live(): JsonObject[] {
    return this.dead.size === 0 ? [...this.items] : this.items.filter((el) => !this.dead.has(el));
  }

  private exactIndex(): Map<string, Bucket> {
    if (!this.exact) {
      this.exact = new Map();
      this.odd = new Set();
      for (const el of this.items) if (!this.dead.has(el)) this.indexValue(el);
    }
    return this.exact;
  }

  private foldedIndex(): Map<string, Bucket> {
    if (!this.folded) {
      this.folded = new Map();
      for (const el of this.items) {
        const value = this.dead.has(el) ? undefined : getAttr(el, 'value');
        if (typeof value === 'string') addTo(this.folded, this.foldOf(value), el);
      }
    }
    return this.folded;
  }

  private wholeIndex(): Map<string, Bucket> {
    if (!this.whole) {
      this.whole = new Map();
      for (const el of this.items) if (!this.dead.has(el)) addTo(this.whole, this.sameKey(el), el);
    }
    return this.whole;
  }

  private foldOf(value: string): string {
    let key = this.foldMemo.get(value);
    if (key === undefined) this.foldMemo.set(value, (key = fold(value)));
    return key;
  }

  /** Adds an element to the value indexes that are built. */
  private indexValue(el: JsonObject): void {
    const value = getAttr(el, 'value');
    if (value === undefined || !this.exact) return;
    addTo(this.exact, exactKey(value), el);
    if (typeof value !== 'string') this.odd!.add(el);
    else if (this.folded) addTo(this.folded, this.foldOf(value), el);
  }

  private unindexValue(el: JsonObject): void {
    const value = getAttr(el, 'value');
    if (value === undefined || !this.exact) return;
    deleteFrom(this.exact, exactKey(value), el);
    if (typeof value !== 'string') this.odd!.delete(el);
    else if (this.folded) deleteFrom(this.folded, this.foldOf(value), el);
  }

  /**
   * The work ({@link MAX_PATCH_SCAN} units) that building the index of `value eq` lookups still needs: folding
   * every string `value` of a list that compares case-insensitively, once per request; 0 once built, or when
   * `value` is caseExact. Callers charge it before {@link candidatesByValue}.
   */
  lookupIndexWork(): number {
    if (this.caseExact || this.folded) return 0;
    let work = 0;
    for (const el of this.items) {
      const value = this.dead.has(el) ? undefined : getAttr(el, 'value');
      if (typeof value === 'string') work += textWork(value, true);
    }
    return work;
  }

  private bucketOf(value: string): Bucket | undefined {
    const exact = this.exactIndex(); // also builds the odd elements' set
    return this.caseExact ? exact.get(exactKey(value)) : this.foldedIndex().get(this.foldOf(value));
  }

  /**
   * The work ({@link MAX_PATCH_SCAN} units) of keying `elements` for the whole-element index `times` each
   * (a change in place keys an element twice: out, then back in): its long strings, which {@link equalityKey}
   * folds. 0 while that index is not built, as no key is then made. Callers charge it before the change.
   */
  rekeyWork(elements: readonly Json[], times = 2): number {
    if (!this.whole) return 0;
    let work = 0;
    for (const el of elements) work += elementTextWork(el);
    return work * times;
  }

  /** {@link rekeyWork} of every live element once: what building the whole-element index costs. */
  private liveTextWork(): number {
    let work = 0;
    for (const el of this.items) if (!this.dead.has(el)) work += elementTextWork(el);
    return work;
  }

  /** The work of {@link has} then {@link append} for `items`: the whole-element index built if they need it, and their keys. */
  addWork(items: readonly Json[], byValue: boolean): number {
    // Members (identified by value) use the value index: keys are made only once the whole index exists.
    const byValueOnly = byValue && items.every((item) => isObject(item) && item.value !== undefined);
    if (byValueOnly && !this.whole) return 0;
    const itemsWork = items.reduce<number>((n, item) => n + elementTextWork(item), 0);
    if (byValueOnly) return itemsWork;
    return (this.whole ? 0 : this.liveTextWork()) + 2 * itemsWork;
  }

  /**
   * The most work removing the elements equal to `items` costs ({@link withEqualValue} or {@link equalTo}, then
   * {@link remove}): with the whole-element index built, or needed for items without a `value`, keying the
   * items and at most every live element.
   */
  removeWork(items: readonly Json[], byValue: boolean): number {
    const needsWhole = !byValue || items.some((item) => !isObject(item) || item.value === undefined);
    if (!this.whole && !needsWhole) return 0;
    return this.liveTextWork() + items.reduce<number>((n, item) => n + elementTextWork(item), 0);
  }

  /** How many elements {@link candidatesByValue} answers, in O(1) (plus folding `value`). */
  countByValue(value: string): number {
    return (this.bucketOf(value)?.size ?? 0) + this.odd!.size;
  }

  /**
   * Live elements whose `value` may equal `value` under the list's caseExact rule (exactly, case-insensitively
   * or coerced), in list order: O(candidates), whatever other elements share their folded value.
   */
  candidatesByValue(value: string): JsonObject[] {
    const bucket = this.bucketOf(value);
    const found = bucket ? [...bucket] : [];
    for (const el of this.odd!) found.push(el);
    return found.length > 1 ? this.inListOrder(found) : found;
  }

  /** Live elements whose `value` is JSON-equal to `value`: O(matches). */
  withValue(value: Json): JsonObject[] {
    const bucket = this.exactIndex().get(exactKey(value));
    return bucket ? [...bucket] : [];
  }

  /**
   * Live elements whose `value` equals `value` under the list's caseExact rule (an email's case-insensitively):
   * O(matches). Callers charge {@link lookupIndexWork} first.
   */
  withEqualValue(value: Json): JsonObject[] {
    if (typeof value !== 'string') return this.withValue(value);
    const bucket = this.bucketOf(value);
    return bucket ? [...bucket] : [];
  }

  /** Live elements equal to `item` as a whole under the schema ({@link equalityKey}): O(matches). */
  equalTo(item: Json): JsonObject[] {
    const bucket = this.wholeIndex().get(this.sameKey(item));
    return bucket ? [...bucket] : [];
  }

  /** Whether `item` is already in the list: equal as a whole, or (`byValue`, members) with an equal `value`. O(1). */
  has(item: Json, byValue: boolean): boolean {
    // Equal as a whole implies an equal value, so with a value only the value index is asked.
    if (byValue && isObject(item) && item.value !== undefined) return (this.exactIndex().get(exactKey(item.value))?.size ?? 0) > 0;
    return (this.wholeIndex().get(this.sameKey(item))?.size ?? 0) > 0;
  }

  /** Sorts elements by their position in the list (O(k log k) for k elements; positions are read once per list). */
  private inListOrder(elements: JsonObject[]): JsonObject[] {
    if (!this.positions) {
      this.positions = new Map();
      this.items.forEach((el, i) => this.positions!.set(el, i));
    }
    const at = (el: JsonObject) => this.positions!.get(el) ?? Number.MAX_SAFE_INTEGER;
    return elements.sort((a, b) => at(a) - at(b));
  }

  append(el: JsonObject): void {
    this.items.push(el);
    this.positions?.set(el, this.items.length - 1);
    this.index(el);
  }

  remove(el: JsonObject): void {
    if (this.dead.has(el)) return;
    this.unindex(el);
    this.dead.add(el);
  }

  /** Takes an element out of the indexes before it is changed in place; {@link index} puts it back. O(1) but for sameKey(element). */
  unindex(el: JsonObject): void {
    this.unindexValue(el);
    if (this.whole) deleteFrom(this.whole, this.sameKey(el), el);
  }

  index(el: JsonObject): void {
    this.indexValue(el);
    if (this.whole) addTo(this.whole, this.sameKey(el), el);
  }

  /** Writes the live elements back (the attribute is removed when none is left), unless the list was replaced. */
  compact(): void {
    if (getAttr(this.container, this.key) !== this.items) return;
    if (this.size === 0) setAttr(this.container, this.key, undefined);
    else if (this.dead.size > 0) setAttr(this.container, this.key, this.live());
  }
}

function addTo(index: Map<string, Bucket>, key: string, el: JsonObject): void {
  const bucket = index.get(key);
  if (bucket) bucket.add(el);
  else index.set(key, new Set([el]));
}

function deleteFrom(index: Map<string, Bucket>, key: string, el: JsonObject): void {
  const bucket = index.get(key);
  if (!bucket?.delete(el)) return;
  if (bucket.size === 0) index.delete(key);
}

/** The indexed lists of one PATCH request, and its scan budget. */
export class PatchLists {
  private readonly lists = new Map<Json[], IndexedList>();
  private scanned = 0;

  constructor(readonly budget = MAX_PATCH_SCAN) {}

  /**
   * Charges `n` units of work ({@link MAX_PATCH_SCAN}: one per element comparison, more for long strings);
   * false when the request would go over budget (the work must then not happen).
   */
  charge(n: number): boolean {
    this.scanned += n;
    return this.scanned <= this.budget;
  }

  get scannedSoFar(): number {
    return this.scanned;
  }

  /** The units left before the budget is spent. */
  get remaining(): number {
    return this.budget - this.scanned;
  }

  /**
   * The indexed list at `container[key]` for a multi-valued complex attribute, created (empty) when absent;
   * null when the stored value is not a list of objects (then callers take the scanning path).
   */
  of(container: JsonObject, key: string, def: AttributeDef | undefined): IndexedList | null {
    if (!def?.multiValued || def.type !== 'complex') return null;
    let current = getAttr(container, key);
    if (current === undefined) setAttr(container, key, (current = []));
    if (!Array.isArray(current)) return null;
    let list = this.lists.get(current);
    if (!list) {
      if (!current.every(isObject)) return null;
      const caseExact = findAttribute(def.subAttributes, 'value')?.caseExact === true;
      list = new IndexedList(container, key, current as JsonObject[], caseExact, equalityKey(def));
      this.lists.set(current, list);
    }
    return list;
  }

  /** Writes every list back without its removed elements; called once all operations are applied. */
  compact(): void {
    for (const list of this.lists.values()) list.compact();
    this.lists.clear();
  }
}

/**
 * The string a value filter pins `value` to (`value eq "x"`, alone or inside an `and`), when the index can
 * answer it: a superset of the filter's matches, which are then checked with the whole filter.
 */
export function pinnedValue(filter: FilterNode, def: AttributeDef | undefined): string | undefined {
  const valueDef = findAttribute(def?.subAttributes, 'value');
  if (valueDef && valueDef.type !== 'string' && valueDef.type !== 'reference') return undefined; // dateTime etc. compare otherwise
  const stack: FilterNode[] = [filter];
  while (stack.length) {
    const node = stack.pop()!;
    if (node.kind === 'and') stack.push(node.left, node.right);
    else if (
      node.kind === 'compare' &&
      node.op === 'eq' &&
      typeof node.value === 'string' &&
      !node.path.schema &&
      !node.path.subAttribute &&
      node.path.attribute.toLowerCase() === 'value'
    ) {
      return node.value;
    }
  }
  return undefined;
}

/** How many comparisons a filter makes per element (what a scan with it costs per element). */
export function comparisonsOf(filter: FilterNode): number {
  let n = 0;
  const stack: FilterNode[] = [filter];
  while (stack.length) {
    const node = stack.pop()!;
    if (node.kind === 'and' || node.kind === 'or') stack.push(node.left, node.right);
    else if (node.kind === 'not' || node.kind === 'valuePath') stack.push(node.filter);
    else n++;
  }
  return n;
}

type Compare = Extract<FilterNode, { kind: 'compare' | 'present' }>;

/**
 * The work of evaluating `filter` on one element (filter-eval.ts `matchesElement`) beyond one unit per
 * comparison ({@link comparisonsOf}), in {@link MAX_PATCH_SCAN} units: each further value a comparison reads,
 * and the length of every string it compares and of the filter's text ({@link textWork}; folded when the
 * attribute is not caseExact). An upper bound: every value under the attribute a comparison reads counts, and
 * `and`/`or` are not short-circuited. Stops counting once past `limit`, so it costs O(limit) at most.
 */
export function filterWork(filter: FilterNode, element: Json, def: AttributeDef | undefined, limit: number): number {
  let work = 0;
  // A valuePath (not in PATCH filters: brackets do not nest) counts as every comparison inside reading its whole attribute.
  const stack: [FilterNode, AttrPath | undefined][] = [[filter, undefined]];
  while (stack.length && work <= limit) {
    const [node, outer] = stack.pop()!;
    if (node.kind === 'and' || node.kind === 'or') stack.push([node.left, outer], [node.right, outer]);
    else if (node.kind === 'not') stack.push([node.filter, outer]);
    else if (node.kind === 'valuePath') stack.push([node.filter, outer ?? node.path]);
    else if (node.kind === 'compare' || node.kind === 'present') work += comparisonWork(outer ? { ...node, path: outer } : node, element, def, limit - work);
  }
  return work;
}

/** {@link filterWork} of one comparison: the values it reads in the element, as filter-eval.ts locates them. */
function comparisonWork(node: Compare, element: Json, def: AttributeDef | undefined, limit: number): number {
  let value: Json | undefined;
  let valueDef: AttributeDef | undefined;
  if (!isObject(element)) {
    // An element of simple values is its own `value`.
    if (node.path.attribute.toLowerCase() !== 'value') return 0;
    value = element;
    valueDef = def?.subAttributes ? findAttribute(def.subAttributes, 'value') : def;
  } else {
    valueDef = findAttribute(def?.subAttributes, node.path.attribute);
    value = getAttr(element, valueDef?.name ?? node.path.attribute);
  }
  if (value === undefined) return 0;
  if (node.path.subAttribute) valueDef = findAttribute(valueDef?.subAttributes, node.path.subAttribute);
  const text = node.kind === 'compare' && node.value !== null ? (typeof node.value === 'string' ? node.value : (node.raw ?? String(node.value))) : undefined;
  const exact = valueDef?.caseExact === true && valueDef.type !== 'complex';
  // Every value under the attribute (objects compare their sub-attributes, case-insensitively at worst).
  let work = -1; // the comparison's first value is its one unit
  const stack: [Json, boolean][] = [[value, !exact]];
  while (stack.length && work <= limit) {
    const [v, folds] = stack.pop()!;
    if (Array.isArray(v)) for (const item of v) stack.push([item, folds]);
    else if (isObject(v)) for (const item of Object.values(v)) stack.push([item as Json, true]);
    else {
      work += 1;
      if (typeof v === 'string' && text !== undefined) work += textWork(v, folds) + textWork(text, folds);
    }
  }
  return Math.max(0, work);
}
