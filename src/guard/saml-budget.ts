/**
 * What a SAMLResponse may cost before node-saml parses it (docs/saml.md §Bounds): the XML libraries it
 * uses (xmldom, xpath) take time that grows with the number of elements, quadratically in xpath's case
 * (10,000 sibling elements, 53 KB, blocked the event loop for seconds). So the decoded XML is checked
 * first, with a linear scan that allocates nothing: at most MAX_SAML_ELEMENTS elements. A real response
 * has 30–60, or about 200 with Entra's 150-group claim.
 */

/** The largest SAMLResponse accepted, in base64 characters (~48 KB of XML; Entra's with 150 groups is ~20 KB). */
export const MAX_SAML_RESPONSE_CHARS = 64 * 1024;
/** The most elements (start tags) a response may hold. */
export const MAX_SAML_ELEMENTS = 500;

/** The number of start tags in XML text: `<` not followed by `/`, `!` or `?`. Linear, no allocation. */
export function countStartTags(xml: string): number {
  let count = 0;
  for (let at = xml.indexOf('<'); at !== -1; at = xml.indexOf('<', at + 1)) {
    const next = xml.charCodeAt(at + 1);
    if (next !== 0x2f && next !== 0x21 && next !== 0x3f) count++;
  }
  return count;
}

/** Null when a base64 SAMLResponse (at most MAX_SAML_RESPONSE_CHARS, checked before) holds few enough elements, else what is wrong. */
export function samlResponseOverBudget(base64: string): string | null {
  const elements = countStartTags(Buffer.from(base64, 'base64').toString('utf8'));
  if (elements > MAX_SAML_ELEMENTS) return `the SAMLResponse holds ${elements} XML elements; at most ${MAX_SAML_ELEMENTS} are accepted`;
  return null;
}
