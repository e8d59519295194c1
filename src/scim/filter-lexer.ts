/**
 * Character-level scanning for the SCIM filter parser (RFC 7644 §3.4.2.2): JSON strings, operator words,
 * attribute paths and (quoted or bare) comparison values. Errors are thrown as {@link FilterSyntaxError}
 * and turned into a 400 `invalidFilter` result by the parser's entry points, which never throw.
 */
import { isSubAttrName } from './attribute-access.js';
import type { AttrPath, FilterValue } from './filter-ast.js';

/** A syntax error with its position already in the message; internal to the parser. */
export class FilterSyntaxError extends Error {
  override readonly name = 'FilterSyntaxError';
}

const WS = new Set([' ', '\t', '\n', '\r']);
/** Ends an operator word or a keyword (`and`, `or`, `not`). */
const WORD_STOP = new Set([...WS, '(', ')', '[', ']', '"']);
/** Ends a bare (unquoted) value: whitespace, `)` or `]` (leniency for Entra and Microsoft's test collection). */
const VALUE_STOP = new Set([...WS, ')', ']']);
/** Characters of an attribute path, URN prefix included (`urn:…:enterprise:2.0:User:manager.value`). */
const PATH_CHAR = /[A-Za-z0-9_\-$:.]/;
/** RFC 8259 §6 number grammar. */
export const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** A position in the filter text with the scanning primitives the parser needs. */
export class Cursor {
  pos = 0;
  constructor(readonly text: string) {}

  get atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  /** The character at the cursor, or '' at the end. */
  peek(): string {
    return this.text.charAt(this.pos);
  }

  /** Skips whitespace; tells whether there was any. */
  skipWs(): boolean {
    const start = this.pos;
    while (WS.has(this.peek())) this.pos++;
    return this.pos > start;
  }

  /** Quotes what stands at `at`, for error messages. */
  describe(at = this.pos): string {
    if (at >= this.text.length) return 'the end of the filter';
    let end = at;
    while (end < this.text.length && end - at < 24 && !WORD_STOP.has(this.text.charAt(end))) end++;
    return `'${end > at ? this.text.slice(at, end) : this.text.charAt(at)}'`;
  }

  fail(message: string, at = this.pos): never {
    throw new FilterSyntaxError(`Invalid filter at character ${at + 1}: ${message}`);
  }

  expected(what: string, at = this.pos): never {
    return this.fail(`expected ${what} but found ${this.describe(at)}`, at);
  }

  private readWhile(keep: (c: string) => boolean): string {
    const start = this.pos;
    while (this.pos < this.text.length && keep(this.text.charAt(this.pos))) this.pos++;
    return this.text.slice(start, this.pos);
  }

  /** An operator or keyword: everything up to whitespace, a bracket, a parenthesis or a quote. */
  readWord(): string {
    return this.readWhile((c) => !WORD_STOP.has(c));
  }

  /** Looks at the next word without consuming it (or the whitespace before it). */
  peekWord(): string {
    const start = this.pos;
    this.skipWs();
    const word = this.readWord();
    this.pos = start;
    return word;
  }

  readPathText(): string {
    return this.readWhile((c) => PATH_CHAR.test(c));
  }

  /** A JSON string (RFC 8259 §7) starting at the cursor's `"`; raw control characters are tolerated. */
  readString(): string {
    const start = this.pos++;
    let out = '';
    let chunk = this.pos;
    while (this.pos < this.text.length) {
      const c = this.text.charAt(this.pos);
      if (c === '"') {
        out += this.text.slice(chunk, this.pos++);
        // `\ud800` is a valid JSON escape but no character: stored, it would become unreadable or, in Redis
        // (UTF-8), another value (U+FFFD). Body strings are refused alike (src/scim/body.ts).
        if (!out.isWellFormed()) this.fail('the string holds a lone UTF-16 surrogate (an unpaired \\ud800-\\udfff escape)', start);
        return out;
      }
      if (c !== '\\') {
        this.pos++;
        continue;
      }
      out += this.text.slice(chunk, this.pos);
      const e = this.text.charAt(this.pos + 1);
      if (e === 'u') {
        const hex = this.text.slice(this.pos + 2, this.pos + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('invalid \\u escape in string (expected 4 hex digits)');
        out += String.fromCharCode(parseInt(hex, 16));
        this.pos += 6;
      } else if (e === '') {
        break;
      } else {
        const decoded = ESCAPES[e];
        if (decoded === undefined) this.fail(`invalid escape '\\${e}' in string`);
        out += decoded;
        this.pos += 2;
      }
      chunk = this.pos;
    }
    return this.fail(`unterminated string: missing the closing '"'`, start);
  }

  /**
   * A comparison value: a JSON string, `true`/`false`/`null` (any case), a JSON number, or — leniency real
   * clients need (Entra legacy docs, Microsoft's SCIM test collection) — a bare word up to whitespace, `)`
   * or `]`. Unquoted literals keep their text in `raw` so `externalId eq 0123` or `eq 1.50` can still be
   * compared as the string written.
   */
  readValue(op: string): { value: FilterValue; raw?: string } {
    this.skipWs();
    if (this.peek() === '"') return { value: this.readString() };
    const at = this.pos;
    const word = this.readWhile((c) => !VALUE_STOP.has(c));
    if (!word) this.fail(`missing value after '${op}'`, at);
    // `'x'` would otherwise be the bare word 'x' with its quotes, matching nothing: a client would then
    // create a user it could not find, and loop on 409s.
    if (word.startsWith("'")) this.fail(`strings are written in double quotes ("…"), not single quotes`, at);
    const lower = word.toLowerCase();
    if (lower === 'true') return { value: true, raw: word };
    if (lower === 'false') return { value: false, raw: word };
    if (lower === 'null') return { value: null, raw: word };
    if (JSON_NUMBER.test(word)) return { value: Number(word), raw: word };
    return { value: word };
  }

  /**
   * Splits path text read by {@link readPathText} into an {@link AttrPath} (RFC 7644 §3.10): a `urn:` prefix
   * is the schema, up to the last `:`; then `attribute` or `attribute.subAttribute`, names as written.
   */
  toAttrPath(text: string, at: number): AttrPath {
    let schema: string | undefined;
    let rest = text;
    if (/^urn:/i.test(text)) {
      const colon = text.lastIndexOf(':');
      schema = text.slice(0, colon);
      rest = text.slice(colon + 1);
      if (!rest) this.fail(`expected an attribute name after the schema URN '${schema}'`, at + text.length);
    }
    const parts = rest.split('.');
    if (parts.length > 2) this.fail(`'${text}' has more than one sub-attribute level`, at);
    for (const part of parts) {
      // RFC 7643 §2.1 ATTRNAME (or `$ref`): names are data, checked before anything looks them up.
      if (!isSubAttrName(part)) this.fail(`'${part}' is not a valid attribute name`, at);
    }
    const path: AttrPath = { attribute: parts[0]! };
    if (schema) path.schema = schema;
    if (parts[1] !== undefined) path.subAttribute = parts[1];
    return path;
  }
}
