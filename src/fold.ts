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

const ASCII_EDGE_SPACE = /^[\t\n\v\f\r ]+|[\t\n\v\f\r ]+$/g;

function isAsciiOnly(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) > 0x7f) return false;
  return true;
}

function hasAscii(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) <= 0x7f) return true;
  return false;
}
/** Characters kept verbatim: format characters and non-ASCII whitespace. */
const PROTECTED_CLASS = /[\p{Cf}\p{White_Space}]/u;

/**
 * Canonical singletons: code points whose canonical decomposition is one other code point (so NFC replaces
 * them). They all live in these ranges (Unicode's DerivedNormalizationProps); the set is computed once.
 */
const SINGLETON_RANGES: [number, number][] = [
  [0x0340, 0x0390],
  [0x1f70, 0x1fff],
  [0x2000, 0x2001],
  [0x2126, 0x212b],
  [0x2329, 0x232a],
  [0xf900, 0xfaff],
  [0x2f800, 0x2fa1f],
];
const SINGLETONS: ReadonlySet<string> = (() => {
  const out = new Set<string>();
  for (const [from, to] of SINGLETON_RANGES) {
    for (let cp = from; cp <= to; cp++) {
      const ch = String.fromCodePoint(cp);
      const decomposed = ch.normalize('NFD');
      if (decomposed !== ch && [...decomposed].length === 1) out.add(ch);
    }
  }
  return out;
})();

const isProtected = (ch: string): boolean => SINGLETONS.has(ch) || PROTECTED_CLASS.test(ch);

/** Lower-cases one non-protected, NFC-normalised run of characters without letting anything become ASCII. */
function lowerRun(run: string): string {
  let out = '';
  for (const ch of run.normalize('NFC')) {
    if (ch.length === 1 && ch.charCodeAt(0) < 0x80) {
      out += ch.toLowerCase();
      continue;
    }
    const lower = ch.toLowerCase();
    out += hasAscii(lower) ? ch : lower;
  }
  return out;
}

/** A whole value folded for comparison: ASCII whitespace trimmed at both ends, then {@link foldCase}. */
export function fold(value: string): string {
  return foldCase(value.replace(ASCII_EDGE_SPACE, ''));
}

/** Whether `fold(value)` is '' (the value is ASCII whitespace only: folding empties nothing else), without folding. */
export function foldsEmpty(value: string): boolean {
  return !/[^\t\n\v\f\r ]/.test(value);
}

/** The case folding alone, without trimming: for substring comparisons (`co`, `sw`, `ew` filters). */
export function foldCase(value: string): string {
  if (isAsciiOnly(value)) return value.toLowerCase();
  let out = '';
  let run = '';
  for (const ch of value) {
    if (isProtected(ch)) {
      out += lowerRun(run) + ch;
      run = '';
    } else run += ch;
  }
  return out + lowerRun(run);
}

/** The part of an address before its last `@`, or the whole value when it has none. */
export function localPart(value: string): string {
  const at = value.lastIndexOf('@');
  return at === -1 ? value : value.slice(0, at);
}
