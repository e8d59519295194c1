/**
 * The SCIM filter language of RFC 7644 §3.4.2.2, parsed by hand (recursive descent over {@link Cursor}).
 * Grammar, with precedence `not` > `and` > `or`:
 *
 *   FILTER    = term *( "or" term-and )      ; left-associative chains, built iteratively
 *   term-and  = unary *( "and" unary )
 *   unary     = "not" "(" FILTER ")" / "(" FILTER ")" / valuePath [ "." subAttr attrTail ] / attrPath attrTail
 *   attrTail  = "pr" / compareOp value
 *   valuePath = attrPath "[" FILTER "]"        ; paths inside are relative; brackets do not nest
 *
 * Operators, keywords and attribute names are case-insensitive; names are kept as written.
 */
import { fail, ok, scimErrors, type Result } from '../errors.js';
import type { AttrPath, CompareOp, FilterNode } from './filter-ast.js';
import { Cursor, FilterSyntaxError } from './filter-lexer.js';
import { MAX_FILTER_TERMS } from './limits.js';

export type { AttrPath, CompareOp, FilterNode, FilterValue } from './filter-ast.js';

/** Bounds on hostile input: text length, nesting of parentheses, `not` and brackets, and comparisons. */
export interface FilterLimits {
  maxLength: number;
  maxDepth: number;
  /** Most comparisons (`attr op value`, `attr pr`); evaluation costs this per resource. Default: MAX_FILTER_TERMS. */
  maxTerms?: number;
}

/** The limits {@link parseFilter} applies unless told otherwise. */
export const DEFAULT_FILTER_LIMITS: Required<FilterLimits> = { maxLength: 4096, maxDepth: 32, maxTerms: MAX_FILTER_TERMS };

const COMPARE_OPS: ReadonlySet<string> = new Set<CompareOp>(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']);
const OPERATOR_LIST = 'eq, ne, co, sw, ew, gt, ge, lt, le or pr';
const isOperator = (word: string) => word.toLowerCase() === 'pr' || COMPARE_OPS.has(word.toLowerCase());

const invalid = (detail: string) => scimErrors.badRequest('invalidFilter', detail);

/** Parses a `filter` query parameter; a bad filter is a 400 `invalidFilter` result. Never throws. */
export function parseFilter(text: string, limits: Partial<FilterLimits> = {}): Result<FilterNode> {
  const { maxLength, maxDepth, maxTerms } = { ...DEFAULT_FILTER_LIMITS, ...definedOnly(limits) };
  if (typeof text !== 'string') return fail(invalid('Invalid filter: the filter must be a string'));
  // Checked before anything else so over-long input costs nothing (e.g. 100,000 '(').
  if (text.length > maxLength) {
    return fail(invalid(`Invalid filter: the filter is ${text.length} characters long; the limit is ${maxLength}`));
  }
  if (text.trim() === '') return fail(invalid('Invalid filter: the filter is empty'));
  try {
    const parser = new Parser(new Cursor(text), maxDepth, maxTerms);
    return ok(parser.parseAll());
  } catch (error) {
    if (error instanceof FilterSyntaxError) return fail(invalid(error.message));
    // Only reachable with a caller-raised maxDepth: the depth limit normally stops recursion long before.
    if (error instanceof RangeError) return fail(invalid('Invalid filter: the filter is nested too deeply'));
    return fail(invalid('Invalid filter: the filter could not be parsed'));
  }
}

/** The limits given, without keys set to undefined (which would override the defaults). */
function definedOnly(limits: Partial<FilterLimits>): Partial<FilterLimits> {
  const out: Partial<FilterLimits> = {};
  if (limits.maxLength !== undefined) out.maxLength = limits.maxLength;
  if (limits.maxDepth !== undefined) out.maxDepth = limits.maxDepth;
  if (limits.maxTerms !== undefined) out.maxTerms = limits.maxTerms;
  return out;
}

class Parser {
  private terms = 0;

  constructor(
    private readonly c: Cursor,
    private readonly maxDepth: number,
    private readonly maxTerms: number,
  ) {}

  parseAll(): FilterNode {
    const node = this.or(0, false);
    this.c.skipWs();
    if (!this.c.atEnd) {
      const ch = this.c.peek();
      if (ch === ')') this.c.fail(`unbalanced ')' with no matching '('`);
      if (ch === ']') this.c.fail(`unbalanced ']' with no matching '['`);
      this.c.expected(`'and', 'or' or the end of the filter`);
    }
    return node;
  }

  /** `or` chains; `and` binds tighter (RFC 7644 §3.4.2.2, table 4). Chains loop rather than recurse. */
  private or(depth: number, inBrackets: boolean): FilterNode {
    let node = this.and(depth, inBrackets);
    while (this.nextKeyword('or')) node = { kind: 'or', left: node, right: this.and(depth, inBrackets) };
    return node;
  }

  private and(depth: number, inBrackets: boolean): FilterNode {
    let node = this.unary(depth, inBrackets);
    while (this.nextKeyword('and')) node = { kind: 'and', left: node, right: this.unary(depth, inBrackets) };
    return node;
  }

  /** Consumes the keyword (any case) if it comes next. */
  private nextKeyword(keyword: string): boolean {
    if (this.c.peekWord().toLowerCase() !== keyword) return false;
    this.c.skipWs();
    this.c.readWord();
    return true;
  }

  /** One nesting level deeper; refused beyond maxDepth before any recursion happens. */
  private enter(depth: number, at: number): number {
    if (depth + 1 > this.maxDepth) this.c.fail(`the filter nests deeper than ${this.maxDepth} levels`, at);
    return depth + 1;
  }

  private close(closer: ')' | ']', openAt: number): void {
    this.c.skipWs();
    if (this.c.peek() === closer) {
      this.c.pos++;
      return;
    }
    const opener = closer === ')' ? '(' : '[';
    if (this.c.atEnd) this.c.fail(`missing '${closer}' to close the '${opener}' at character ${openAt + 1}`);
    this.c.expected(`'and', 'or' or '${closer}'`);
  }

  private unary(depth: number, inBrackets: boolean): FilterNode {
    const c = this.c;
    c.skipWs();
    const at = c.pos;
    const ch = c.peek();
    if (ch === '(') {
      const inner = this.enter(depth, at);
      c.pos++;
      const node = this.or(inner, inBrackets);
      this.close(')', at);
      return node;
    }
    if (ch === '"' || /[-0-9]/.test(ch)) {
      c.fail(`a value cannot come first; a comparison is written attribute-operator-value, e.g. userName eq "bjensen"`);
    }
    const pathText = c.readPathText();
    if (!pathText) c.expected(`an attribute name, '(' or 'not'`, at);
    if (pathText.toLowerCase() === 'not' && this.isNot(at)) {
      // RFC 7644 §3.4.2.2: "not" "(" valFilter ")"; the parentheses belong to the `not` (one level).
      const openAt = c.pos;
      const inner = this.enter(depth, at);
      c.pos++;
      const filter = this.or(inner, inBrackets);
      this.close(')', openAt);
      return { kind: 'not', filter };
    }
    const path = c.toAttrPath(pathText, at);
    if (!path.schema && !path.subAttribute && /^(true|false|null)$/i.test(path.attribute)) {
      c.fail(`a value cannot come first; a comparison is written attribute-operator-value`, at);
    }
    if (c.peek() !== '[') return this.attrTail(path);

    // valuePath (RFC 7644 §3.4.2.2): attrPath "[" valFilter "]"; nesting brackets is not allowed.
    if (inBrackets) c.fail(`'[' cannot appear inside another '[...]' filter`);
    if (path.subAttribute) c.fail(`'[...]' must follow an attribute, not the sub-attribute '${path.subAttribute}'`);
    const openAt = c.pos;
    const inner = this.enter(depth, openAt);
    c.pos++;
    const filter = this.or(inner, true);
    this.close(']', openAt);
    if (c.peek() !== '.') return { kind: 'valuePath', path, filter };

    // `emails[type eq "work"].value eq "x"` (Entra): the same element must match both parts.
    c.pos++;
    const subAt = c.pos;
    const sub = c.readPathText();
    if (!sub || sub.includes('.') || sub.includes(':')) c.expected(`a sub-attribute name after '].'`, subAt);
    const tail = this.attrTail(c.toAttrPath(sub, subAt));
    return { kind: 'valuePath', path, filter: { kind: 'and', left: filter, right: tail } };
  }

  /** After the word `not`: the keyword if '(' follows; an attribute called "not" if an operator follows. */
  private isNot(at: number): boolean {
    const start = this.c.pos;
    this.c.skipWs();
    if (this.c.peek() === '(') return true;
    const word = this.c.peekWord();
    this.c.pos = start;
    if (isOperator(word)) return false;
    return this.c.fail(`'not' must be followed by a parenthesised filter, e.g. not (userName eq "bjensen")`, at);
  }

  /** The operator and value after an attribute path. */
  private attrTail(path: AttrPath): FilterNode {
    const c = this.c;
    // Refused while parsing, before any evaluation: a filter's cost is its terms times the resources scanned.
    if (++this.terms > this.maxTerms) c.fail(`the filter has more than ${this.maxTerms} comparisons`);
    c.skipWs();
    const opAt = c.pos;
    const word = c.readWord();
    if (!word) c.expected(`an operator (${OPERATOR_LIST})`, opAt);
    const op = word.toLowerCase();
    if (op === 'pr') {
      c.skipWs();
      const next = c.peekWord().toLowerCase();
      if (!c.atEnd && c.peek() !== ')' && c.peek() !== ']' && next !== 'and' && next !== 'or') {
        c.fail(`'pr' takes no value but is followed by ${c.describe()}`);
      }
      return { kind: 'present', path };
    }
    if (!COMPARE_OPS.has(op)) c.fail(`unknown operator '${word}'; expected one of ${OPERATOR_LIST}`, opAt);
    const { value, raw } = c.readValue(op);
    const node: FilterNode = { kind: 'compare', path, op: op as CompareOp, value };
    if (raw !== undefined) node.raw = raw;
    return node;
  }
}
