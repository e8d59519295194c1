/**
 * Evaluates parsed SCIM filters (RFC 7644 §3.4.2.2) against a resource, or against one element of a
 * multi-valued complex attribute (PATCH value paths). Attribute definitions (RFC 7643 §2.2–2.4) decide
 * case-exactness and dateTime handling; attributes no schema declares compare case-insensitively.
 * Evaluation never throws, whatever JSON the resource holds; attributes are read through
 * attribute-access.ts (own properties only, case-insensitive without rescanning wide objects).
 *
 * Given a {@link WorkMeter} (a list scan), evaluation charges its work as it goes (each value compared
 * with each comparison, the characters compared, each stored string folded once per resource) and stops
 * with WorkBudgetExceeded past a budget (scan-work.ts).
 */
import type { AttrPath, CompareOp, FilterNode, FilterValue } from './filter.js';
import { fold, foldCase } from '../fold.js';
import { JSON_NUMBER } from './filter-lexer.js';
import { getAttr } from './attribute-access.js';
import { coerceBoolean, isObject, type Json, type JsonObject } from './normalize.js';
import { findAttribute, resolveAttribute, type AttributeDef, type ResourceTypeDef } from './schemas.js';
import { SCAN_COMPARE_CHARS } from './limits.js';
import { WorkBudgetExceeded, type WorkMeter } from './scan-work.js';

/** What a filter is evaluated against: the resource type whose schemas define the attributes. */
export interface FilterScope {
  type: ResourceTypeDef;
}

/**
 * What a path names in the current context: its value (undefined when absent) and its definition; and
 * where the value sits (`holder[key]`, key lower-cased), so that a meter folds a stored string only once.
 */
interface Located {
  value: Json | undefined;
  def: AttributeDef | undefined;
  holder?: object;
  key?: string | number;
  /** The value is not stored but assumed (a `primary` left out is false): compared, but neither present nor null. */
  assumed?: true;
}
type Locate = (path: AttrPath) => Located;
type CompareNode = Extract<FilterNode, { kind: 'compare' }>;

/** The meter of the evaluation under way (evaluation is synchronous: one at a time). */
let meter: WorkMeter | undefined;

/**
 * Tells whether a (normalised) resource matches a filter. With a meter, the work is charged to it, and
 * WorkBudgetExceeded is thrown past its budget.
 */
export function matchesFilter(node: FilterNode, resource: JsonObject, scope: FilterScope, workMeter?: WorkMeter): boolean {
  return metered(workMeter, () => evaluate(node, (path) => locateInResource(resource, scope.type, path)));
}

/**
 * Evaluate a filter against one element of a multi-valued complex attribute (used by PATCH value paths like
 * members[value eq "x"]). Not metered here: a PATCH charges a value filter before evaluating it (chargeFilter,
 * src/scim/patch-apply.ts).
 */
export function matchesElement(node: FilterNode, element: Json, elementDef: AttributeDef | undefined): boolean {
  return metered(undefined, () => evaluate(node, (path) => locateInElement(element, elementDef, path)));
}

function metered(workMeter: WorkMeter | undefined, run: () => boolean): boolean {
  const outer = meter;
  meter = workMeter;
  try {
    return run();
  } catch (error) {
    if (error instanceof WorkBudgetExceeded) throw error;
    return false; // unreachable for parsed filters (their depth is bounded); a guard for hand-built trees
  } finally {
    meter = outer;
  }
}

const charge = (units: number): void => meter?.charge(units);

/** Core and common attributes at the top level; extension attributes under their schema URN (RFC 7643 §3.3). */
function locateInResource(resource: JsonObject, type: ResourceTypeDef, path: AttrPath): Located {
  const resolved = resolveAttribute(type, path.attribute, path.schema);
  const container = resolved.schemaId === type.schema.id ? resource : getAttr(resource, resolved.schemaId);
  if (!isObject(container)) return { value: undefined, def: resolved.def };
  const value = getAttr(container, resolved.name);
  // A user provisioned without `active` is active (isActiveUser, which the login guard decides by): a filter
  // on `active` (`active eq true`, a reconciliation's "who is active") finds them as active too.
  if (value === undefined && container === resource && type.name === 'User' && resolved.name === 'active') return { value: true, def: resolved.def };
  return { value, def: resolved.def, holder: container, key: resolved.name.toLowerCase() };
}

/** Paths inside `[...]` are relative to the element (RFC 7644 §3.4.2.2 valuePath); `at`: where the element sits. */
function locateInElement(element: Json | undefined, def: AttributeDef | undefined, path: AttrPath, at?: Slot): Located {
  if (!isObject(element)) {
    // An element of a multi-valued attribute of simple values is its own `value`.
    if (path.attribute.toLowerCase() !== 'value' || element === undefined) return { value: undefined, def: undefined };
    return { value: element, def: def?.subAttributes ? findAttribute(def.subAttributes, 'value') : def, holder: at?.holder, key: at?.key };
  }
  const sub = findAttribute(def?.subAttributes, path.attribute);
  const name = sub?.name ?? path.attribute;
  const value = getAttr(element, name);
  if (value === undefined && assumesFalse(sub)) return { value: false, def: sub, assumed: true };
  return { value, def: sub, holder: element, key: name.toLowerCase() };
}

/**
 * Whether a sub-attribute left out of a multi-valued attribute's element is read as false: `primary` (RFC
 * 7643 §2.4: "If not specified, the value of 'primary' SHALL be assumed to be 'false'"), so that
 * `emails[primary eq false]` finds the emails sent without it.
 */
const assumesFalse = (sub: AttributeDef | undefined): boolean => sub?.name === 'primary' && sub.type === 'boolean';

/** Where a value sits: `holder[key]` (an object and a lower-cased name, or an array and an index). */
interface Slot {
  holder: object | undefined;
  key: string | number;
}

const toList = (value: Json | undefined): Json[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** Each value of `value` (itself, or each element of an array) with where it sits, `value` being `holder[key]`. */
function eachValue(value: Json | undefined, holder: object | undefined, key: string | number | undefined, visit: (value: Json, at: Slot) => boolean): boolean {
  if (value === undefined) return false;
  if (!Array.isArray(value)) return visit(value, { holder: key === undefined ? undefined : holder, key: key ?? 0 });
  for (let i = 0; i < value.length; i++) if (visit(value[i]!, { holder: value, key: i })) return true;
  return false;
}

/**
 * Visits the values a comparison reads until `visit` says true, each charged 1 (and each element read on
 * the way): `located`'s own values (`from` null), or those of the sub-attribute `from.sub` across all the
 * elements of a (possibly multi-valued) complex attribute, with its simple elements too when
 * `from.simple` (a complex attribute compared without a sub-attribute compares its `value`s).
 */
function someValue(located: Located, from: ValuesFrom | null, visit: (value: Json, at: Slot) => boolean): boolean {
  const charged = (value: Json, at: Slot): boolean => {
    charge(1);
    return visit(value, at);
  };
  if (from === null) return eachValue(located.value, located.holder, located.key, charged);
  const key = from.sub.toLowerCase();
  return eachValue(located.value, located.holder, located.key, (item, at) => {
    if (!isObject(item)) return from.simple && charged(item, at);
    charge(1);
    const value = getAttr(item, from.sub);
    if (value === undefined && from.assumeFalse) return charged(false, { holder: undefined, key: 0 });
    return eachValue(value, item, key, charged);
  });
}

/** Where someValue reads: a sub-attribute of each element (and simple elements too when `simple`); `assumeFalse`: an element without it has it false (assumesFalse). */
interface ValuesFrom {
  sub: string;
  simple: boolean;
  assumeFalse?: boolean;
}

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
      if (located.assumed) return false;
      const values = node.path.subAttribute ? subValues(located, node.path.subAttribute).values : [located.value];
      charge(values.length);
      return values.some(isPresent);
    }
    case 'compare':
      return evaluateCompare(node, locate(node.path));
    case 'valuePath': {
      // Some element must satisfy the bracket filter (and the trailing `.sub op value`, folded into it).
      let located = locate(node.path);
      if (node.path.subAttribute) located = subValues(located, node.path.subAttribute);
      const def = located.def;
      return eachValue(located.value, located.holder, located.key, (element, at) => {
        charge(1);
        return evaluate(node.filter, (path) => locateInElement(element, def, path, at));
      });
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
  let from: ValuesFrom | null = null;
  let def: AttributeDef | undefined;
  if (located.assumed && node.value === null) return node.op === 'eq'; // an assumed value is unassigned for `eq null`
  if (node.path.subAttribute) {
    def = findAttribute(located.def?.subAttributes, node.path.subAttribute);
    from = { sub: def?.name ?? node.path.subAttribute, simple: false, assumeFalse: node.value !== null && assumesFalse(def) };
  } else if (located.def?.type === 'complex' || toList(located.value).some(isObject)) {
    // A complex attribute compared without a sub-attribute (`emails co "x"`) compares its `value`s.
    from = { sub: 'value', simple: true };
    def = findAttribute(located.def?.subAttributes, 'value');
  } else {
    def = located.def;
  }
  if (node.value === null) {
    // `eq null` means unassigned (RFC 7643 §2.5); ordering against null matches nothing.
    const present = someValue(located, from, isPresent);
    return node.op === 'eq' ? !present : node.op === 'ne' ? present : false;
  }
  // `ne`, like every operator on a multi-valued attribute, matches when any value matches: some value differs
  // (RFC 7644 §3.4.2.2). An attribute with no value at all matches `ne` too, as `not (… eq …)` would.
  if (node.op === 'ne') {
    return !someValue(located, from, isPresent) || someValue(located, from, (v, at) => !compareOne(v, 'eq', node, def, at));
  }
  return someValue(located, from, (v, at) => compareOne(v, node.op, node, def, at)); // multi-valued: any value matches
}

/**
 * Case folding for caseExact=false (RFC 7643 §2.2): the same rule as the indexes and uniqueness
 * (src/fold.ts), so a filter finds exactly the users a POST would collide with. A stored value is folded
 * through the meter (once per resource), the filter's own text once per comparison node.
 */
function folded(s: string, caseExact: boolean, at: Slot | undefined, cased = false): string {
  if (caseExact) return s;
  if (meter) return meter.fold(s, cased, at?.holder, at?.key ?? 0);
  return cased ? foldCase(s) : fold(s);
}

const foldedTexts = new WeakMap<CompareNode, { trimmed?: string; cased?: string }>();
function foldedText(node: CompareNode, text: string, caseExact: boolean, cased = false): string {
  if (caseExact) return text;
  let texts = foldedTexts.get(node);
  if (!texts) foldedTexts.set(node, (texts = {}));
  return cased ? (texts.cased ??= foldCase(text)) : (texts.trimmed ??= fold(text));
}

/** Charges the characters a string comparison reads (besides the 1 each value costs). */
function chargeChars(length: number): void {
  if (length >= SCAN_COMPARE_CHARS) charge(Math.floor(length / SCAN_COMPARE_CHARS));
}

/** An xsd:dateTime (RFC 7643 §2.3.5): date, time, any fractional digits, and an optional offset. */
const XSD_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})?$/i;

/**
 * The instant an xsd:dateTime names, in whole ms, or undefined when the text is not one (`"1"`, `"tomorrow"`,
 * a date alone, month 13 or February 30). A time without an offset is read as UTC, the same on every server,
 * not in the server's local time zone. Digits past the millisecond (.NET writes 7) are not in the ms:
 * {@link instantOrder} compares them.
 */
export function instant(text: string): number | undefined {
  return parseInstant(text)?.ms;
}

/**
 * Sign of a − b for two xsd:dateTimes as instants, to any fractional digit (RFC 7643 §2.3.5 allows any
 * number), or undefined when either is not one.
 */
export function instantOrder(a: string, b: string): number | undefined {
  const x = parseInstant(a);
  const y = parseInstant(b);
  if (x === undefined || y === undefined) return undefined;
  if (x.ms !== y.ms) return Math.sign(x.ms - y.ms);
  // Digit strings without trailing zeros compare as the fractions they write ("5" > "45", "4" < "45").
  return x.beyondMs < y.beyondMs ? -1 : x.beyondMs > y.beyondMs ? 1 : 0;
}

/** An xsd:dateTime as whole ms and its fractional digits past the millisecond, trailing zeros trimmed. */
function parseInstant(text: string): { ms: number; beyondMs: string } | undefined {
  const m = XSD_DATE_TIME.exec(text.trim());
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const at = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  // Date.UTC rolls over (month 13, February 30, hour 24) and reads years below 100 as 19xx: refuse those.
  if (at.getUTCFullYear() !== year || at.getUTCMonth() !== month - 1 || at.getUTCDate() !== day || at.getUTCHours() !== hour) return undefined;
  if (at.getUTCMinutes() !== minute || at.getUTCSeconds() !== second) return undefined;
  const fraction = m[7] ?? '';
  const ms = at.getTime() + Number(`${fraction}000`.slice(0, 3));
  let end = fraction.length;
  while (end > 3 && fraction.charCodeAt(end - 1) === 0x30 /* '0' */) end--;
  const beyondMs = fraction.slice(3, end);
  const zone = m[8];
  if (zone === undefined || zone.toUpperCase() === 'Z') return { ms, beyondMs };
  const offsetHours = Number(zone.slice(1, 3));
  const offsetMinutes = Number(zone.slice(4, 6));
  if (offsetHours > 14 || offsetMinutes > 59) return undefined;
  return { ms: ms - (zone[0] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000, beyondMs };
}

/** One comparison node applied to a stored value: the filter's value and text, the attribute's rules, where the value sits. */
interface Comparison {
  node: CompareNode;
  expected: FilterValue;
  /** The text of the filter value: as quoted, or as written when unquoted (`externalId eq 123`). */
  text: string;
  def: AttributeDef | undefined;
  caseExact: boolean;
  at: Slot | undefined;
}

function compareOne(actual: Json, op: CompareOp, node: CompareNode, def: AttributeDef | undefined, at?: Slot): boolean {
  if (actual === null || typeof actual === 'object') return false; // objects and arrays never compare
  const expected = node.value;
  const text = typeof expected === 'string' ? expected : (node.raw ?? String(expected));
  const c: Comparison = { node, expected, text, def, caseExact: def?.caseExact ?? false, at };
  switch (op) {
    case 'eq':
    case 'ne':
      return equals(actual, c);
    case 'co':
    case 'sw':
    case 'ew': {
      if (typeof actual !== 'string') return false; // RFC 7644: string operators apply to strings
      const a = folded(actual, c.caseExact, at, true);
      const b = foldedText(node, text, c.caseExact, true);
      chargeChars(op === 'co' ? a.length : b.length);
      return op === 'co' ? a.includes(b) : op === 'sw' ? a.startsWith(b) : a.endsWith(b);
    }
    default: {
      const order = ordering(actual, c);
      if (order === undefined || Number.isNaN(order)) return false;
      return op === 'gt' ? order > 0 : op === 'ge' ? order >= 0 : op === 'lt' ? order < 0 : order <= 0;
    }
  }
}

function equals(actual: string | number | boolean, { node, expected, text, def, caseExact, at }: Comparison): boolean {
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
    chargeChars(actual.length);
    const order = instantOrder(actual, text);
    if (order !== undefined) return order === 0;
  }
  const a = folded(actual, caseExact, at);
  const b = foldedText(node, text, caseExact);
  if (a.length === b.length) chargeChars(a.length); // strings of different lengths differ at once
  return a === b;
}

/** Sign of actual − expected, or undefined when the two cannot be ordered. */
function ordering(actual: string | number | boolean, { node, expected, text, def, caseExact, at }: Comparison): number | undefined {
  // RFC 7644 §3.4.2.2 makes gt/ge/lt/le on boolean or binary a 400 (checkFilterValues, src/scim/filter-check.ts,
  // refuses those the schema declares); a value found boolean only here matches nothing.
  if (typeof actual === 'boolean' || typeof expected === 'boolean' || def?.type === 'binary') return undefined;
  if (typeof actual === 'number') {
    const b = typeof expected === 'number' ? expected : JSON_NUMBER.test(text.trim()) ? Number(text.trim()) : undefined;
    return b === undefined ? undefined : Math.sign(actual - b);
  }
  if (def?.type === 'dateTime') {
    // dateTime compares as instants (RFC 7644 §3.4.2.2: "the chronological order").
    chargeChars(actual.length);
    return instantOrder(actual, text);
  }
  const a = folded(actual, caseExact, at); // strings: lexicographic (RFC 7644 §3.4.2.2), honouring caseExact
  const b = foldedText(node, text, caseExact);
  chargeChars(Math.min(a.length, b.length));
  return a < b ? -1 : a > b ? 1 : 0;
}
