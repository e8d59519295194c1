/**
 * The one folding rule for everything compared case-insensitively: index keys, uniqueness, SCIM filters,
 * login matching and the matching report. In TypeScript, never in Lua (whose `lower` is ASCII-only).
 *
 * The rule is ASCII-safe: no character outside ASCII may ever fold to an ASCII one, because identities
 * (userName, emails) are mostly ASCII and a look-alike must not collide with a real address.
 * - Only ASCII whitespace (space, tab, CR, LF, FF, VT) is trimmed at the ends; Unicode spaces and the BOM
 *   are kept as they are, so `"\u00a0alice"` stays a different value from `"alice"`.
 * - ASCII letters are lower-cased.
 * - Other characters are NFC-normalised and lower-cased, except characters that would turn into ASCII
 *   (the Kelvin sign U+212A, which NFC and `toLowerCase` both map to `k`; `İ` U+0130, which lower-cases
 *   to `i` plus a combining dot), format characters (zero-width joiners, the BOM, bidi controls),
 *   non-ASCII whitespace, and canonical singletons (Ω U+2126, Å U+212B, CJK compatibility ideographs):
 *   those are kept exactly as sent. They never match their look-alike.
 * docs/folding.md explains the choice and its consequences.
 */

function isAsciiOnly(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** ASCII whitespace (space, tab, CR, LF, FF, VT): what {@link fold} trims. */
const isAsciiSpace = (code: number): boolean => code === 0x20 || (code >= 0x09 && code <= 0x0d);

/**
 * `value` without ASCII whitespace at either end, by index: linear whatever the value (a regular expression
 * with `[…]+$` backtracks quadratically over a long inner run of spaces).
 */
function trimAsciiSpace(value: string): string {
  let from = 0;
  let to = value.length;
  while (from < to && isAsciiSpace(value.charCodeAt(from))) from++;
  while (to > from && isAsciiSpace(value.charCodeAt(to - 1))) to--;
  return from === 0 && to === value.length ? value : value.slice(from, to);
}

/**
 * Canonical singletons: code points whose canonical decomposition is one other code point (so NFC replaces
 * them). They all live in these ranges (Unicode's DerivedNormalizationProps); the set is computed once.
 */
export const SINGLETON_RANGES: readonly (readonly [number, number])[] = [
  [0x0340, 0x0390],
  [0x1f70, 0x1fff],
  [0x2000, 0x2001],
  [0x2126, 0x212b],
  [0x2329, 0x232a],
  [0xf900, 0xfaff],
  [0x2f800, 0x2fa1f],
];
const SINGLETONS: readonly number[] = (() => {
  const out: number[] = [];
  for (const [from, to] of SINGLETON_RANGES) {
    for (let cp = from; cp <= to; cp++) {
      const ch = String.fromCodePoint(cp);
      const decomposed = ch.normalize('NFD');
      if (decomposed !== ch && [...decomposed].length === 1) out.push(cp);
    }
  }
  return out;
})();

/**
 * Characters kept verbatim, outside ASCII: format characters, non-ASCII whitespace and canonical singletons.
 * (ASCII whitespace is kept verbatim too, but lower-casing keeps it anyway, and it never takes part in a
 * canonical composition, so a run need not end there: NFC(a + " " + b) = NFC(a) + " " + NFC(b).)
 */
const PROTECTED_ONE = new RegExp(`^[[[\\p{Cf}\\p{White_Space}]--[\\t\\n\\v\\f\\r ]]${SINGLETONS.map((cp) => `\\u{${cp.toString(16)}}`).join('')}]$`, 'v');

/** Which characters of the Basic Multilingual Plane are protected, one byte each; built on first use. */
let bmpProtected: Uint8Array | null = null;
function bmpTable(): Uint8Array {
  if (bmpProtected) return bmpProtected;
  const table = new Uint8Array(0x10000);
  for (let code = 0x80; code < 0x10000; code++) {
    if ((code < 0xd800 || code > 0xdfff) && PROTECTED_ONE.test(String.fromCharCode(code))) table[code] = 1;
  }
  return (bmpProtected = table);
}

/** Astral code points seen, and whether each is protected (bounded: cleared when full). */
const astralProtected = new Map<number, boolean>();
function isAstralProtected(cp: number): boolean {
  let known = astralProtected.get(cp);
  if (known === undefined) {
    if (astralProtected.size >= 4_096) astralProtected.clear();
    known = PROTECTED_ONE.test(String.fromCodePoint(cp));
    astralProtected.set(cp, known);
  }
  return known;
}

/**
 * The characters whose lower case as a whole string differs from lower-casing them one by one, as the rule
 * does: `İ` U+0130 (lower-cases to `i` + U+0307, so it is kept) and `Σ` U+03A3 (whose lower case depends on
 * its neighbours, final sigma; one by one it is always `σ`). The Kelvin sign, the only other character
 * whose lower case is ASCII, is a singleton and never reaches a run. test/scim/scan-work.test.ts checks
 * every code point against the character-by-character rule.
 */
const CASE_SPECIAL = /[\u0130\u03a3]/;

/**
 * Lower-cases NFC text without letting anything become ASCII: the same as lower-casing each character alone
 * and keeping those whose lower case holds ASCII, in a few whole-string calls. `Σ` becomes `σ` first (`σ`
 * is its own lower case, and no other character's lower case depends on its neighbours); `İ` stays.
 */
function lowerNormal(normal: string): string {
  // Lower case may leave NFC text that is no longer NFC: `J` + U+030C (no capital J with caron exists)
  // lower-cases to `j` + U+030C, which NFC composes to `ǰ` U+01F0. Composed again, so that fold is idempotent
  // and the two spellings of one letter fold alike (else they index as two userNames, and a login's encoding
  // picks the user).
  return lowerNormalCased(normal).normalize('NFC');
}

function lowerNormalCased(normal: string): string {
  if (!CASE_SPECIAL.test(normal)) return normal.toLowerCase();
  // split and join: replaceAll is several times slower over many matches.
  const sigma = normal.includes('\u03a3') ? normal.split('\u03a3').join('\u03c3') : normal;
  const pieces = sigma.split('\u0130');
  piecesFolded += pieces.length;
  if (pieces.length === 1) return sigma.toLowerCase();
  // Lower-cased whole, each İ becomes two characters (i + U+0307) and no other character changes length:
  // the pieces between them are cut out of it (one call, not one per piece).
  const lower = sigma.toLowerCase();
  let at = 0;
  for (let i = 0; i < pieces.length; i++) {
    const length = pieces[i]!.length;
    pieces[i] = lower.slice(at, at + length);
    at += length + 2;
  }
  return pieces.join('\u0130');
}

/**
 * Runs and pieces folded one by one so far (a value with many protected or special characters costs a few
 * calls each): what a caller bounding its work (src/scim/scan-work.ts) charges besides the length.
 */
let piecesFolded = 0;
export const foldedPieces = (): number => piecesFolded;

/** Lower-cases one run of characters without protected ones, NFC-normalised (see {@link lowerNormal}). */
function lowerRun(run: string): string {
  piecesFolded++;
  return run === '' ? '' : lowerNormal(run.normalize('NFC'));
}

/** A whole value folded for comparison: ASCII whitespace trimmed at both ends, then {@link foldCase}. */
export function fold(value: string): string {
  return foldCase(trimAsciiSpace(value));
}

/** Whether `fold(value)` is '' (the value is ASCII whitespace only: folding empties nothing else), without folding. */
export function foldsEmpty(value: string): boolean {
  return !/[^\t\n\v\f\r ]/.test(value);
}

/**
 * The case folding alone, without trimming: for substring comparisons (`co`, `sw`, `ew` filters). Linear in
 * the value's length, in a few whole-string calls (a value may be a megabyte long). A value already in NFC
 * (nearly every one) is lower-cased whole: it holds no singleton (NFC would replace it), its runs are NFC as
 * they are, and lower-casing changes no protected character. Others are normalised run by run.
 */
export function foldCase(value: string): string {
  if (isAsciiOnly(value)) return value.toLowerCase();
  const normal = value.normalize('NFC');
  if (normal === value) return lowerNormal(value);
  // Runs between protected characters, found by table (a run may be one character long, a value a
  // megabyte: no per-run regular expression).
  const table = bmpTable();
  let out = '';
  let from = 0;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x80) continue;
    let width = 1;
    let kept = table[code] === 1;
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < value.length) {
      const low = value.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        width = 2;
        kept = isAstralProtected((code - 0xd800) * 0x400 + (low - 0xdc00) + 0x10000);
      }
    }
    if (kept) {
      out += lowerRun(value.slice(from, i)) + value.slice(i, i + width);
      from = i + width;
    }
    i += width - 1;
  }
  return from === 0 ? lowerNormal(normal) : out + lowerRun(value.slice(from));
}

/** The part of an address before its last `@`, or the whole value when it has none. */
export function localPart(value: string): string {
  const at = value.lastIndexOf('@');
  return at === -1 ? value : value.slice(0, at);
}
