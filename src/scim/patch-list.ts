/**
 * The multi-valued lists one PATCH works on (members, emails, …), indexed once per request so that each
 * operation costs O(its own values), not O(list): a 1,000-operation PATCH on a group of 45,000 members
 * (Okta's `remove members[value eq "…"]` next to `add members`, Entra's `Remove members` with values)
 * costs O(1,000 + 45,000) instead of O(1,000 × 45,000) (issue 10).
 *
 * - Elements are indexed by their `value` (folded like filters, src/fold.ts, so it is a superset index for
 *   `value eq "…"` filters and for exact duplicate checks alike; candidates are always verified).
 * - Removal is lazy: removed elements are marked dead and the list is compacted once, when the PATCH's
 *   operations are all applied ({@link PatchLists.compact}). Only this module and patch-apply.ts touch an
 *   indexed list, and always through an {@link IndexedList}.
 * - What the index cannot answer (a filter not pinning `value`, lists of unknown attributes) scans the
 *   list; those scans are charged against {@link MAX_PATCH_SCAN} before they happen (400 `tooMany` over it).
 */
import { fold } from '../fold.js';
import { getAttr, setAttr } from './attribute-access.js';
import type { FilterNode } from './filter.js';
import { MAX_PATCH_SCAN } from './limits.js';
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

/** The index key shared by every element whose `value` is not a string. */
const ODD = 'odd';

/** The index key of a `value`: folded text for strings (a superset of exact and case-insensitive equality). */
const valueKey = (value: Json): string => (typeof value === 'string' ? `s${fold(value)}` : `j${canonical(value)}`);

/** One list of complex values, with lazily built indexes and lazily removed elements. */
export class IndexedList {
  private readonly dead = new Set<JsonObject>();
  private byValue: Map<string, JsonObject[]> | undefined;
  private whole: Map<string, JsonObject[]> | undefined;
  private positions: Map<JsonObject, number> | undefined;

  constructor(
    readonly container: JsonObject,
    readonly key: string,
    /** The array stored in `container[key]`, dead elements included until compaction. */
    readonly items: JsonObject[],
  ) {}

  /** How many live elements there are. */
  get size(): number {
    return this.items.length - this.dead.size;
  }

  /** The live elements in list order (O(list): callers charge the scan). */
  live(): JsonObject[] {
    return this.dead.size === 0 ? [...this.items] : this.items.filter((el) => !this.dead.has(el));
  }

  private valueIndex(): Map<string, JsonObject[]> {
    if (!this.byValue) {
      this.byValue = new Map();
      for (const el of this.items) if (!this.dead.has(el)) this.addTo(this.byValue, el, this.valueKeyOf(el));
    }
    return this.byValue;
  }

  private wholeIndex(): Map<string, JsonObject[]> {
    if (!this.whole) {
      this.whole = new Map();
      for (const el of this.items) if (!this.dead.has(el)) this.addTo(this.whole, el, canonical(el));
    }
    return this.whole;
  }

  /** Elements whose `value` is not a string sit under {@link ODD} too: a filter may coerce them (`5` eq `"5"`). */
  private valueKeyOf(el: JsonObject): string | undefined {
    const value = getAttr(el, 'value');
    return value === undefined ? undefined : typeof value === 'string' ? valueKey(value) : ODD;
  }

  private addTo(index: Map<string, JsonObject[]>, el: JsonObject, key: string | undefined): void {
    if (key === undefined) return;
    const list = index.get(key);
    if (list) list.push(el);
    else index.set(key, [el]); // one small array per key: most keys hold one element
  }

  private deleteFrom(index: Map<string, JsonObject[]> | undefined, el: JsonObject, key: string | undefined): void {
    if (!index || key === undefined) return;
    const list = index.get(key);
    const at = list ? list.indexOf(el) : -1;
    if (at < 0) return;
    list!.splice(at, 1);
    if (list!.length === 0) index.delete(key);
  }

  /** Live elements whose `value` may equal `value` (exactly, case-insensitively or coerced), in list order. */
  candidatesByValue(value: Json): JsonObject[] {
    const index = this.valueIndex();
    const found = [...(index.get(typeof value === 'string' ? valueKey(value) : ODD) ?? [])];
    if (typeof value === 'string') found.push(...(index.get(ODD) ?? []));
    return found.length > 1 ? this.inListOrder(found) : found;
  }

  /** Live elements whose `value` is JSON-equal to `value`. */
  withValue(value: Json): JsonObject[] {
    const wanted = canonical(value);
    return this.candidatesByValue(value).filter((el) => canonical(getAttr(el, 'value') ?? null) === wanted);
  }

  /** Live elements JSON-equal to `item` as a whole. */
  equalTo(item: Json): JsonObject[] {
    return [...(this.wholeIndex().get(canonical(item)) ?? [])];
  }

  /** Whether `item` is already in the list: equal as a whole, or (`byValue`, members) with an equal `value`. */
  has(item: Json, byValue: boolean): boolean {
    if (byValue && isObject(item) && item.value !== undefined && this.withValue(item.value).length > 0) return true;
    if (byValue && isObject(item) && item.value !== undefined) return false; // equal as a whole implies an equal value
    return this.equalTo(item).length > 0;
  }

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

  /** Takes an element out of the indexes before it is changed in place; {@link index} puts it back. */
  unindex(el: JsonObject): void {
    if (this.byValue) this.deleteFrom(this.byValue, el, this.valueKeyOf(el));
    if (this.whole) this.deleteFrom(this.whole, el, canonical(el));
  }

  index(el: JsonObject): void {
    if (this.byValue) this.addTo(this.byValue, el, this.valueKeyOf(el));
    if (this.whole) this.addTo(this.whole, el, canonical(el));
  }

  /** Writes the live elements back (the attribute is removed when none is left), unless the list was replaced. */
  compact(): void {
    if (getAttr(this.container, this.key) !== this.items) return;
    if (this.size === 0) setAttr(this.container, this.key, undefined);
    else if (this.dead.size > 0) setAttr(this.container, this.key, this.live());
  }
}

/** The indexed lists of one PATCH request, and its scan budget. */
export class PatchLists {
  private readonly lists = new Map<Json[], IndexedList>();
  private scanned = 0;

  constructor(private readonly budget = MAX_PATCH_SCAN) {}

  /**
   * Charges a scan of `n` list elements; false when the request would go over budget (the scan must then
   * not happen).
   */
  charge(n: number): boolean {
    this.scanned += n;
    return this.scanned <= this.budget;
  }

  get scannedSoFar(): number {
    return this.scanned;
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
      list = new IndexedList(container, key, current as JsonObject[]);
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
