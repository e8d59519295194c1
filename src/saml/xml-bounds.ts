/**
 * XML a customer controls (a SAMLResponse, IdP metadata), read with xmldom within bounds. xmldom, and xpath
 * over its documents, take time that grows with the number of nodes, in places faster: so the text is
 * scanned first, in one linear pass (countXmlNodes, scanXml), and each caller holds the counts to its own
 * budget (src/guard/saml-budget.ts, src/saml/idp-metadata.ts); then it is parsed by parseXmlStrictly, which
 * stops at the parser's first complaint, since some of its repairs build nodes no scan of the text can count.
 */
import { DOMParser } from '@xmldom/xmldom';

const LT = 0x3c; // <
const GT = 0x3e; // >
const SLASH = 0x2f; // /
const EQ = 0x3d; // =
const AMP = 0x26; // &
const X = 0x78; // x, as in xmlns
const BANG = 0x21; // !
const QUESTION = 0x3f; // ?
const DASH = 0x2d; // -
const BRACKET = 0x5d; // ]
const DOUBLE_QUOTE = 0x22;
const SINGLE_QUOTE = 0x27;
/** XML's S: space, tab, CR, LF. */
const isXmlSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;

/** What scanXml finds in XML text: upper bounds of what xmldom builds from it and does with it. */
export interface XmlScan {
  /** DOM nodes of every kind (as countXmlNodes). */
  nodes: number;
  /** Of which markup: elements, comments, processing instructions, CDATA sections (as countXmlNodes). */
  markup: number;
  /** Entity and character references (`&amp;`, `&#65;`): every `&`. The parser replaces each through a call. */
  references: number;
  /**
   * Namespace declarations (`xmlns="…"`, `xmlns:p="…"`): every `xmlns` after whitespace. The parser scopes
   * each through objects of its own, about three times the cost of another attribute.
   */
  namespaces: number;
  /**
   * The deepest nesting of elements. An element never closed stays open to the end, so N unclosed elements
   * nest N deep. Counted up to maxDepth + 1: past it the scan reads tags no further (balanced is then false,
   * endTagSearch 0), as it does at an end tag that does not name the innermost open element (the parser
   * would ignore that end tag and keep the element open).
   */
  depth: number;
  /** The most attributes in one start tag (each quoted value), namespace declarations included. */
  attributes: number;
  /** Every start tag is closed by an end tag naming it, in order, with no end tag, tag or comment left over. */
  balanced: boolean;
  /**
   * The characters xmldom reads looking for end tags, when balanced: it looks for the last `</name>` of each
   * element name once, from the end of the text (`fixSelfClosed` in its sax.js), so a name whose last end tag
   * is early costs nearly the whole length, and 2,000 distinct names before 1 MB of text cost it over a second.
   * Counted as the length after the last `</name>` of each name closed (twice the length for a name only ever
   * closed as `</name >`, which makes it search again).
   */
  endTagSearch: number;
}

/**
 * An upper bound on the DOM nodes of XML text, in one pass that keeps no state an attacker could confuse
 * (quotes, comments): every `<` but an end tag's (an element, comment, processing instruction or CDATA
 * section; one inside a comment only overcounts), every `>` followed by text (each text node starts right
 * after one), and every `=` followed by a quote, whitespace between (each attribute has one, as XML quotes
 * every value; one in text overcounts). An `=` in text before anything else is not
 * counted: AD FS and PingFederate send groups as LDAP DNs (`CN=App,OU=Groups,DC=corp,DC=example`), and
 * counting each `=` refused a 30 KB response of 180 groups, 434 nodes, as 1,522 (audit 24). A value left
 * unquoted builds nodes uncounted here, and parseXmlStrictly refuses it (the parser warns).
 */
export function countXmlNodes(xml: string): { nodes: number; markup: number } {
  const { nodes, markup } = scan(xml, null);
  return { nodes, markup };
}

/**
 * countXmlNodes' counts and the shape of the tags, in the same pass: the nesting, whether tags balance, and
 * the parser's search for end tags (XmlScan). The tags are read as xmldom reads them: a start tag ends at
 * the first `>` outside quotes, and is empty when a `/` comes just before it; an end tag at its first `>`;
 * comments, CDATA sections and processing instructions hold no tags; `<!` otherwise is text to xmldom (a
 * DOCTYPE is refused before). Where text is not well-formed XML the two may read it apart, and the parser
 * then complains (parseXmlStrictly refuses it); the markup bound holds either way.
 */
export function scanXml(xml: string, maxDepth: number): XmlScan {
  return scan(xml, maxDepth);
}

const TEXT = 0;
const START_TAG = 1;
const QUOTED = 2;
const END_TAG = 3;
const COMMENT = 4;
const CDATA = 5;
const INSTRUCTION = 6;

/** One pass: the counts always, the tags' shape when maxDepth is given (null: countXmlNodes, no state kept). */
function scan(xml: string, maxDepth: number | null): XmlScan {
  let markup = 0;
  let other = 0;
  let references = 0;
  let namespaces = 0;
  let tracking = maxDepth !== null;
  const limit = maxDepth ?? 0;
  // The open elements' names, innermost last: [start, end) offsets into xml, at most maxDepth of them.
  const nameStarts: number[] = [];
  const nameEnds: number[] = [];
  // Each closed name's last `</name>` (where its `<` is), or -length when only ever closed as `</name >`.
  const lastEndTag = new Map<string, number>();
  let depth = 0;
  let attributes = 0;
  let tagAttributes = 0;
  let balanced = true;
  let state = TEXT;
  let from = 0; // where the current tag's name (or a comment's, CDATA's, instruction's end) may start
  let nameEnd = -1;
  let quote = 0; // the quote a value in a start tag began with
  for (let at = 0; at < xml.length; at++) {
    const c = xml.charCodeAt(at);
    if (c === LT) {
      if (xml.charCodeAt(at + 1) !== SLASH) markup++;
    } else if (c === GT) {
      if (at + 1 < xml.length && xml.charCodeAt(at + 1) !== LT) other++;
    } else if (c === EQ) {
      // The whitespace skipped here ends at the next non-space character, so the pass stays linear.
      let next = at + 1;
      while (next < xml.length && isXmlSpace(xml.charCodeAt(next))) next++;
      const after = xml.charCodeAt(next);
      if (after === DOUBLE_QUOTE || after === SINGLE_QUOTE) other++;
    } else if (c === AMP) {
      references++;
    } else if (c === X && at > 0 && isXmlSpace(xml.charCodeAt(at - 1)) && xml.startsWith('xmlns', at)) {
      namespaces++;
    }
    if (!tracking) continue;
    switch (state) {
      case TEXT:
        if (c !== LT) break;
        nameEnd = -1;
        switch (xml.charCodeAt(at + 1)) {
          case SLASH:
            state = END_TAG;
            from = at + 2;
            break;
          case QUESTION:
            state = INSTRUCTION;
            from = at + 1; // xmldom looks for `?>` from the `<`: `<?>` ends at once
            break;
          case BANG:
            if (xml.startsWith('--', at + 2)) {
              state = COMMENT;
              from = at + 4;
            } else if (xml.startsWith('[CDATA[', at + 2)) {
              state = CDATA;
              from = at + 9;
            }
            break;
          default:
            state = START_TAG;
            from = at + 1;
            tagAttributes = 0;
        }
        break;
      case START_TAG:
        if (nameEnd < 0 && (isXmlSpace(c) || c === SLASH || c === GT)) nameEnd = at;
        if (c === DOUBLE_QUOTE || c === SINGLE_QUOTE) {
          quote = c;
          state = QUOTED;
          attributes = Math.max(attributes, ++tagAttributes);
        } else if (c === GT) {
          state = TEXT;
          const level = nameStarts.length + 1;
          if (level > limit) {
            depth = limit + 1;
            tracking = false;
            break;
          }
          depth = Math.max(depth, level);
          if (xml.charCodeAt(at - 1) === SLASH) break; // empty: opens and closes
          nameStarts.push(from);
          nameEnds.push(nameEnd);
        }
        break;
      case QUOTED:
        if (c === quote) state = START_TAG;
        break;
      case END_TAG: {
        if (nameEnd < 0 && (isXmlSpace(c) || c === GT)) nameEnd = at;
        if (c !== GT) break;
        state = TEXT;
        const open = nameStarts.length - 1;
        if (open < 0 || !sameName(xml, nameStarts[open]!, nameEnds[open]!, from, nameEnd)) {
          balanced = false;
          tracking = false;
          break;
        }
        nameStarts.pop();
        nameEnds.pop();
        const name = xml.slice(from, nameEnd);
        if (nameEnd === at) lastEndTag.set(name, from - 2);
        else if (!lastEndTag.has(name)) lastEndTag.set(name, -xml.length);
        break;
      }
      case COMMENT:
        if (c === GT && at - 2 >= from && xml.charCodeAt(at - 1) === DASH && xml.charCodeAt(at - 2) === DASH) state = TEXT;
        break;
      case CDATA:
        if (c === GT && at - 2 >= from && xml.charCodeAt(at - 1) === BRACKET && xml.charCodeAt(at - 2) === BRACKET) state = TEXT;
        break;
      case INSTRUCTION:
        if (c === GT && at - 1 >= from && xml.charCodeAt(at - 1) === QUESTION) state = TEXT;
        break;
    }
  }
  let endTagSearch = 0;
  if (tracking) {
    if (state !== TEXT || nameStarts.length > 0) balanced = false;
    for (const at of lastEndTag.values()) endTagSearch += xml.length - at;
  }
  return { nodes: markup + other, markup, references, namespaces, depth, attributes, balanced: tracking && balanced, endTagSearch };
}

/** Whether xml[a, aEnd) and xml[b, bEnd) are the same name. */
function sameName(xml: string, a: number, aEnd: number, b: number, bEnd: number): boolean {
  if (aEnd - a !== bEnd - b) return false;
  for (let i = 0; i < aEnd - a; i++) if (xml.charCodeAt(a + i) !== xml.charCodeAt(b + i)) return false;
  return true;
}

/**
 * The document xmldom (the parser under node-saml and xml-crypto) builds from `xml`, or what is wrong: its
 * first warning or error, after which it stops. That parser goes on after most problems, and some of its
 * recoveries build nodes or do work the scan above cannot see: `<r a b c …>` makes each bare name an
 * attribute (9,000 of them cost node-saml 0.3–0.6 s); an element it finds no `</name>` for is closed where
 * it stands, so after a root left open each of 20,000 unclosed elements was another root, each refused
 * through a walk of the document's children (6–8 s). Run once the caller's budget holds.
 */
export function parseXmlStrictly(xml: string): Document | { problem: string } {
  let problem: string | null = null;
  const stop = (message: string) => {
    // xmldom ends its messages with `@#[line:…]`, after text it copied from the document (an end tag's
    // whitespace, say): cut there with indexOf, as a pattern starting with \s* would cost the square of it.
    const text = String(message).replace(/^\[xmldom \w+\]\s*/, '');
    const locator = text.indexOf('@#[line:');
    problem ??= (locator === -1 ? text : text.slice(0, locator).trimEnd()).slice(0, 200);
    throw new Error(problem);
  };
  let doc: Document | undefined;
  try {
    doc = new DOMParser({ errorHandler: { warning: stop, error: stop, fatalError: stop } }).parseFromString(xml, 'text/xml');
  } catch (error) {
    problem ??= error instanceof Error ? error.message.slice(0, 200) : 'unreadable';
  }
  return problem === null && doc ? doc : { problem: problem ?? 'unreadable' };
}
