/**
 * What a SAMLResponse may cost before node-saml parses it (docs/saml.md §Bounds): the XML libraries it
 * uses (xmldom, xpath) take time that grows with the number of DOM nodes, more than linearly in xpath's case
 * (10,000 sibling elements, 53 KB, blocked the event loop for seconds; 6,700 empty comments, 48 KB, for
 * 0.5–1 s). So the decoded XML is checked first, with a linear scan (src/saml/xml-bounds.ts): at most
 * MAX_SAML_NODES nodes of every kind a parser makes (elements, comments, processing instructions, CDATA,
 * text, attributes), of which at most MAX_SAML_ELEMENTS markup, nested at most MAX_SAML_DEPTH deep (Okta
 * declares two namespaces on each group value, so their count is left to the node bound). A real response has 100–200 nodes, about
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
/**
 * The deepest nesting of elements a response may have: real ones nest about 10 deep (Response, Assertion,
 * Signature, SignedInfo, Reference, Transforms, Transform). 490 namespaced elements nested inside a
 * signature's SignedInfo, within the counts above, cost xmldom and xml-crypto's canonicalisation 75-138 ms
 * where 495 siblings cost 51 (an audit, 2026-12-07), before any signature was found valid.
 */
export const MAX_SAML_DEPTH = 32;

import { countXmlNodes, parseXmlStrictly, scanXml } from '../saml/xml-bounds.js';

/** The scan the ACS counts with (src/saml/xml-bounds.ts, shared with the IdP metadata's budget). */
export { countXmlNodes };

/** Null when a decoded SAMLResponse (at most MAX_SAML_RESPONSE_CHARS base64, checked before) holds few enough nodes, else what is wrong. */
export function samlResponseOverBudget(xml: string): string | null {
  const { nodes, markup, depth } = scanXml(xml, MAX_SAML_DEPTH);
  if (depth > MAX_SAML_DEPTH) return `the SAMLResponse nests XML elements more than ${MAX_SAML_DEPTH} deep`;
  if (markup > MAX_SAML_ELEMENTS)
    return `the SAMLResponse holds ${markup} XML elements, comments or processing instructions; at most ${MAX_SAML_ELEMENTS} are accepted`;
  if (nodes > MAX_SAML_NODES) return `the SAMLResponse holds ${nodes} XML nodes; at most ${MAX_SAML_NODES} are accepted`;
  return null;
}

/**
 * The response parsed by xmldom (the parser under node-saml and xml-crypto), or why it is refused: when the
 * parser warns or errs (parseXmlStrictly: some recoveries build nodes countXmlNodes cannot see, `<r a b c …>`
 * making each bare name an attribute; 9,000 of them cost node-saml 0.3-0.6 s). Run once the budget holds (a
 * parse of 500 elements takes ~5 ms); the document then serves the signature look (saml-signature-check.ts).
 */
export function readSamlResponse(xml: string): Document | string {
  const doc = parseXmlStrictly(xml);
  return 'problem' in doc ? `the SAMLResponse is not well-formed XML (${doc.problem})` : doc;
}
