/**
 * Evaluates parsed SCIM filters (RFC 7644 §3.4.2.2) against a resource, or against one element of a
 * multi-valued complex attribute (PATCH value paths). Attribute definitions (RFC 7643 §2.2–2.4) decide
 * case-exactness and dateTime handling; attributes no schema declares compare case-insensitively.
 * Evaluation never throws, whatever JSON the resource holds; attributes are read through
 * attribute-access.ts (own properties only, case-insensitive without rescanning wide objects).
 */
import type { AttrPath, CompareOp, FilterNode, FilterValue } from './filter.js';
import { fold, foldCase } from '../fold.js';
import { JSON_NUMBER } from './filter-lexer.js';
import { getAttr } from './attribute-access.js';
import { coerceBoolean, isObject, type Json, type JsonObject } from './normalize.js';
import { findAttribute, resolveAttribute, type AttributeDef, type ResourceTypeDef } from './schemas.js';

/** What a filter is evaluated against: the resource type whose schemas define the attributes. */
export interface FilterScope {
  type: ResourceTypeDef;
}

/** What a path names in the current context: its value (undefined when absent) and its definition. */
interface Located {
  value: Json | undefined;
  def: AttributeDef | undefined;
}
type Locate = (path: AttrPath) => Located;
type CompareNode = Extract<FilterNode, { kind: 'compare' }>;

/** Tells whether a (normalised) resource matches a filter. */
export function matchesFilter(node: FilterNode, resource: JsonObject, scope: FilterScope): boolean {
  try {
    return evaluate(node, (path) => locateInResource(resource, scope.type, path));
  } catch {
    return false; // unreachable for parsed filters (their depth is bounded); a guard for hand-built trees
  }
}

/** Evaluate a filter against one element of a multi-valued complex attribute (used by PATCH value paths like members[value eq "x"]). */
export function matchesElement(node: FilterNode, element: Json, elementDef: AttributeDef | undefined): boolean {
  try {
    return evaluate(node, (path) => locateInElement(element, elementDef, path));
  } catch {
    return false;
  }
}

/** Core and common attributes at the top level; extension attributes under their schema URN (RFC 7643 §3.3). */
function locateInResource(resource: JsonObject, type: ResourceTypeDef, path: AttrPath): Located {
  const resolved = resolveAttribute(type, path.attribute, path.schema);
  const container = resolved.schemaId === type.schema.id ? resource : getAttr(resource, resolved.schemaId);
  return { value: isObject(container) ? getAttr(container, resolved.name) : undefined, def: resolved.def };
}

/** Paths inside `[...]` are relative to the element (RFC 7644 §3.4.2.2 valuePath). */
function locateInElement(element: Json | undefined, def: AttributeDef | undefined, path: AttrPath): Located {
  if (!isObject(element)) {
    // An element of a multi-valued attribute of simple values is its own `value`.
    if (path.attribute.toLowerCase() !== 'value' || element === undefined) return { value: undefined, def: undefined };
    return { value: element, def: def?.subAttributes ? findAttribute(def.subAttributes, 'value') : def };
  }
  const sub = findAttribute(def?.subAttributes, path.attribute);
  return { value: getAttr(element, sub?.name ?? path.attribute), def: sub };
}

const toList = (value: Json | undefined): Json[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** The values of a sub-attribute across all elements of a (possibly multi-valued) complex attribute. */
function subValues(located: Located, sub: string): Located & { values: Json[] } {
  const def = findAttribute(located.def?.subAttributes, sub);
  const name = def?.name ?? sub;
  const values = toList(located.value).flatMap((item) => (isObject(item) ? toList(getAttr(item, name)) : []));
  return { value: values, values, def };
}

function evaluate(node: FilterNode, locate: Locate): boolean {
  switch (node.kind) {
    case 'and':
    case 'or':
      return evaluateChain(node, locate);
    case 'not':
      return !evaluate(node.filter, locate);
    case 'present': {
      const located = locate(node.path);
      const values = node.path.subAttribute ? subValues(located, node.path.subAttribute).values : [located.value];
      return values.some(isPresent);
    }
    case 'compare':
      return evaluateCompare(node, locate(node.path));
    case 'valuePath': {
      // Some element must satisfy the bracket filter (and the trailing `.sub op value`, folded into it).
      let located = locate(node.path);
      if (node.path.subAttribute) located = subValues(located, node.path.subAttribute);
      const def = located.def;
      return toList(located.value).some((element) => evaluate(node.filter, (path) => locateInElement(element, def, path)));
    }
  }
}

/** `a and b and c` parses left-deep; walking the left spine iteratively keeps recursion to nesting depth. */
function evaluateChain(node: Extract<FilterNode, { kind: 'and' | 'or' }>, locate: Locate): boolean {
  const operands: FilterNode[] = [];
  let current: FilterNode = node;
  while ((current.kind === 'and' || current.kind === 'or') && current.kind === node.kind) {
    operands.push(current.right);
    current = current.left;
  }
  operands.push(current);
  operands.reverse();
  return node.kind === 'and' ? operands.every((o) => evaluate(o, locate)) : operands.some((o) => evaluate(o, locate));
}

/** RFC 7644 §3.4.2.2 `pr`: has a non-empty value. RFC 7643 §2.5: null and empty array mean unassigned. */
function isPresent(value: Json | undefined): boolean {
  if (value === undefined || value === null || value === '') return false;
  if (Array.isArray(value)) return value.some(isPresent);
  if (isObject(value)) return Object.values(value).some(isPresent);
  return true;
}

function evaluateCompare(node: CompareNode, located: Located): boolean {
  let values: Json[];
  let def: AttributeDef | undefined;
  if (node.path.subAttribute) {
    ({ values, def } = subValues(located, node.path.subAttribute));
  } else if (located.def?.type === 'complex' || toList(located.value).some(isObject)) {
    // A complex attribute compared without a sub-attribute (`emails co "x"`) compares its `value`s.
    values = toList(located.value).flatMap((item) => (isObject(item) ? toList(getAttr(item, 'value')) : [item]));
    def = findAttribute(located.def?.subAttributes, 'value');
  } else {
    values = toList(located.value);
    def = located.def;
  }
  if (node.value === null) {
    // `eq null` means unassigned (RFC 7643 §2.5); ordering against null matches nothing.
    const present = values.some(isPresent);
    return node.op === 'eq' ? !present : node.op === 'ne' ? present : false;
  }
  // `ne` is the negation of `eq`, so an absent attribute matches `ne` (multi-valued: no value equals).
  if (node.op === 'ne') return !values.some((v) => compareOne(v, 'eq', node, def));
  return values.some((v) => compareOne(v, node.op, node, def)); // multi-valued: any value matches
}

/**
 * Case folding for caseExact=false (RFC 7643 §2.2): the same rule as the indexes and uniqueness
 * (src/fold.ts), so a filter finds exactly the users a POST would collide with.
 */
const folded = (s: string, caseExact: boolean) => (caseExact ? s : fold(s));
const foldedSubstring = (s: string, caseExact: boolean) => (caseExact ? s : foldCase(s));

/** `2015-10-10T14:38:21.8617979-07:00` (7 fractional digits, as .NET writes) is cut to milliseconds for Date.parse. */
function instant(text: string): number | undefined {
  const ms = Date.parse(text.trim().replace(/(\d{2}:\d{2}:\d{2}\.\d{3})\d+/, '$1'));
  return Number.isNaN(ms) ? undefined : ms;
}

function compareOne(actual: Json, op: CompareOp, node: CompareNode, def: AttributeDef | undefined): boolean {
  if (actual === null || typeof actual === 'object') return false; // objects and arrays never compare
  const expected = node.value;
  // The text of the filter value: as quoted, or as written when unquoted (`externalId eq 123`).
  const text = typeof expected === 'string' ? expected : (node.raw ?? String(expected));
  const caseExact = def?.caseExact ?? false;
  switch (op) {
    case 'eq':
    case 'ne':
      return equals(actual, expected, text, def, caseExact);
    case 'co':
    case 'sw':
    case 'ew': {
      if (typeof actual !== 'string') return false; // RFC 7644: string operators apply to strings
      const a = foldedSubstring(actual, caseExact);
      const b = foldedSubstring(text, caseExact);
      return op === 'co' ? a.includes(b) : op === 'sw' ? a.startsWith(b) : a.endsWith(b);
    }
    default: {
      const order = ordering(actual, expected, text, def, caseExact);
      if (order === undefined || Number.isNaN(order)) return false;
      return op === 'gt' ? order > 0 : op === 'ge' ? order >= 0 : op === 'lt' ? order < 0 : order <= 0;
    }
  }
}

function equals(actual: string | number | boolean, expected: FilterValue, text: string, def: AttributeDef | undefined, caseExact: boolean): boolean {
  if (typeof actual === 'boolean') return (typeof expected === 'boolean' ? expected : coerceBoolean(expected)) === actual;
  if (typeof actual === 'number') {
    if (typeof expected === 'number') return actual === expected;
    const trimmed = text.trim();
    return String(actual) === trimmed || (JSON_NUMBER.test(trimmed) && Number(trimmed) === actual);
  }
  if (typeof expected === 'boolean') {
    const b = coerceBoolean(actual); // an unknown attribute kept as the string "True"
    if (b !== undefined) return b === expected;
  }
  if (def?.type === 'dateTime') {
    const a = instant(actual);
    const b = instant(text);
    if (a !== undefined && b !== undefined) return a === b;
  }
  return folded(actual, caseExact) === folded(text, caseExact);
}

/** Sign of actual − expected, or undefined when the two cannot be ordered. */
function ordering(
  actual: string | number | boolean,
  expected: FilterValue,
  text: string,
  def: AttributeDef | undefined,
  caseExact: boolean,
): number | undefined {
  // RFC 7644 §3.4.2.2 makes gt/ge/lt/le on boolean or binary a 400; we simply match nothing.
  if (typeof actual === 'boolean' || typeof expected === 'boolean' || def?.type === 'binary') return undefined;
  if (typeof actual === 'number') {
    const b = typeof expected === 'number' ? expected : JSON_NUMBER.test(text.trim()) ? Number(text.trim()) : undefined;
    return b === undefined ? undefined : Math.sign(actual - b);
  }
  if (def?.type === 'dateTime') {
    // dateTime compares as instants (RFC 7644 §3.4.2.2: "the chronological order").
    const a = instant(actual);
    const b = instant(text);
    return a === undefined || b === undefined ? undefined : Math.sign(a - b);
  }
  const a = folded(actual, caseExact); // strings: lexicographic (RFC 7644 §3.4.2.2), honouring caseExact
  const b = folded(text, caseExact);
  return a < b ? -1 : a > b ? 1 : 0;
}
