/**
 * What a SAMLResponse may cost before node-saml parses it (docs/saml.md §Bounds): the XML libraries it
 * uses (xmldom, xpath) take time that grows with the number of DOM nodes, more than linearly in xpath's case
 * (10,000 sibling elements, 53 KB, blocked the event loop for seconds; 6,700 empty comments, 48 KB, for
 * 0.5–1 s). So the decoded XML is checked first, with a linear scan that allocates nothing: at most
 * MAX_SAML_NODES nodes of every kind a parser makes (elements, comments, processing instructions, CDATA,
 * text, attributes), of which at most MAX_SAML_ELEMENTS markup. A real response has 100–200 nodes, about
 * 500 (169 of them markup) for Entra's 150-group claim pretty-printed, and Okta's reach the 64 KB bound
 * first (about 260 groups of five nodes each). Then readSamlResponse refuses what the parser would
 * have to repair, since some repairs build nodes the scan cannot count.
 */

/** The largest SAMLResponse accepted, in base64 characters (~48 KB of XML; Entra's with 150 groups is ~20 KB). */
export const MAX_SAML_RESPONSE_CHARS = 64 * 1024;
/** The most DOM nodes a response may hold (countXmlNodes). */
export const MAX_SAML_NODES = 1_500;
/**
 * The most of them that may be markup (elements, comments, processing instructions, CDATA): the costliest
 * kind (950 sibling elements: 67–76 ms; 950 comments: 19–25 ms).
 */
export const MAX_SAML_ELEMENTS = 500;

import { DOMParser } from '@xmldom/xmldom';

const LT = 0x3c; // <
const GT = 0x3e; // >
const SLASH = 0x2f; // /
const EQ = 0x3d; // =

/**
 * An upper bound on the DOM nodes of XML text, in one pass that allocates nothing and keeps no state an
 * attacker could confuse (quotes, comments): every `<` but an end tag's (an element, comment, processing
 * instruction or CDATA section; one inside a comment only overcounts), every `>` followed by text (each
 * text node starts right after one), and every `=` followed by a quote, whitespace between (each attribute
 * has one, as XML quotes every value; one in text overcounts). An `=` in text before anything else is not
 * counted: AD FS and PingFederate send groups as LDAP DNs (`CN=App,OU=Groups,DC=corp,DC=example`), and
 * counting each `=` refused a 30 KB response of 180 groups, 434 nodes, as 1,522 (audit 24). A value left
 * unquoted builds nodes uncounted here, and readSamlResponse refuses it (the parser warns).
 */
export function countXmlNodes(xml: string): { nodes: number; markup: number } {
  let markup = 0;
  let other = 0;
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
      const quote = xml.charCodeAt(next);
      if (quote === DOUBLE_QUOTE || quote === SINGLE_QUOTE) other++;
    }
  }
  return { nodes: markup + other, markup };
}

const DOUBLE_QUOTE = 0x22;
const SINGLE_QUOTE = 0x27;
/** XML's S: space, tab, CR, LF. */
const isXmlSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;

/** Null when a decoded SAMLResponse (at most MAX_SAML_RESPONSE_CHARS base64, checked before) holds few enough nodes, else what is wrong. */
export function samlResponseOverBudget(xml: string): string | null {
  const { nodes, markup } = countXmlNodes(xml);
  if (markup > MAX_SAML_ELEMENTS)
    return `the SAMLResponse holds ${markup} XML elements, comments or processing instructions; at most ${MAX_SAML_ELEMENTS} are accepted`;
  if (nodes > MAX_SAML_NODES) return `the SAMLResponse holds ${nodes} XML nodes; at most ${MAX_SAML_NODES} are accepted`;
  return null;
}

/**
 * The response parsed by xmldom (the parser under node-saml and xml-crypto), or why it is refused: when the
 * parser warns or errs. Those parsers go on after most problems, and some recoveries build nodes
 * countXmlNodes cannot see (`<r a b c …>`: each bare name an attribute; 9,000 of them cost node-saml
 * 0.3-0.6 s), so a response they would have to recover from is refused. Run once the budget holds (a parse
 * of 500 elements takes ~5 ms); the document then serves the signature look (saml-signature-check.ts).
 */
export function readSamlResponse(xml: string): Document | string {
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
  return problem === null && doc ? doc : `the SAMLResponse is not well-formed XML (${problem ?? 'unreadable'})`;
}
