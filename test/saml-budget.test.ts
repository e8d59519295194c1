/** The SAMLResponse node count (src/guard/saml-budget.ts): an upper bound on what an XML parser builds. */
import { DOMParser } from '@xmldom/xmldom';
import { describe, expect, it } from 'vitest';
import { countXmlNodes, MAX_SAML_DEPTH, MAX_SAML_NODES, readSamlResponse, samlResponseOverBudget } from '../src/guard/saml-budget.js';

/** The nodes xmldom builds for `xml`: every element, attribute, text, comment, PI and CDATA node. */
function domNodes(xml: string): number {
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  let count = 0;
  const walk = (node: { attributes?: { length: number } | null; childNodes?: ArrayLike<unknown> | null }) => {
    count += 1 + (node.attributes?.length ?? 0);
    for (const child of Array.from(node.childNodes ?? [])) walk(child as typeof node);
  };
  walk(doc.documentElement as unknown as Parameters<typeof walk>[0]);
  return count;
}

describe('countXmlNodes', () => {
  it.each([
    ['a response', '<r xmlns:s="urn:x" ID="_1"><s:Issuer>idp</s:Issuer><s:A ID="_2"><s:V>x</s:V><s:V>y</s:V></s:A></r>'],
    ['pretty-printed', '<r>\n  <a b="1">\n    <c/>\n  </a>\n</r>'],
    ['comments, PIs and CDATA', '<r><!-- c --><?p x?><![CDATA[<a/>]]>text<!----></r>'],
    ['a > inside an attribute value', '<r a=">" b="1" c="2"><x d="e"/>t</r>'],
    ['quotes and = in a comment', '<r><!-- a="1" \' " --><x y="2"/></r>'],
    ['entities in text', '<r>a &amp; b &lt; c<x/>d</r>'],
    ['spaces and newlines around =', '<r a = "1"\n b=\n\'2\'><x\tc\t=\t"3"/></r>'],
    ['LDAP DNs in text', '<r><v>CN=App,OU=Groups,DC=corp,DC=example</v><v k="x">a=b</v></r>'],
  ])('counts at least the nodes xmldom builds for %s', (_name, xml) => {
    const { nodes, markup } = countXmlNodes(xml);
    expect(nodes).toBeGreaterThanOrEqual(domNodes(xml));
    expect(markup).toBeLessThanOrEqual(nodes);
  });

  it('counts markup (elements, comments, PIs, CDATA) apart from the other nodes', () => {
    expect(countXmlNodes('<r><a/><!----><?p?><![CDATA[x]]></r>')).toEqual({ nodes: 5, markup: 5 });
    expect(countXmlNodes('<r a="1" b="2">t<c/>u</r>')).toEqual({ nodes: 6, markup: 2 });
  });
});

describe('samlResponseOverBudget', () => {
  it("takes AD FS's and PingFederate's groups as LDAP DNs: the = of a DN is text, not an attribute", () => {
    const group = (i: number) => `<saml:AttributeValue>CN=App-Group-${i},OU=Security Groups,OU=Corp,DC=corp,DC=example,DC=com</saml:AttributeValue>`;
    const xml = `<saml:Attribute Name="http://schemas.xmlsoap.org/claims/Group">${Array.from({ length: 250 }, (_, i) => group(i)).join('')}</saml:Attribute>`;
    expect(countXmlNodes(xml).nodes).toBeGreaterThanOrEqual(domNodes(xml));
    expect(countXmlNodes(xml).nodes).toBeLessThan(MAX_SAML_NODES);
    expect(samlResponseOverBudget(xml)).toBeNull();
  });
});

describe('samlResponseOverBudget on the shape of the tags', () => {
  // Found by an audit (2026-12-07): 490 namespaced elements nested in a signature's SignedInfo, within the
  // counts, cost the parser and the canonicalisation 75-138 ms before any signature was checked.
  const nested = (depth: number) =>
    `<r xmlns:ds="urn:ds"><ds:SignedInfo>${Array.from({ length: depth }, (_, i) => `<ds:e${i}>`).join('')}${Array.from({ length: depth }, (_, i) => `</ds:e${depth - 1 - i}>`).join('')}</ds:SignedInfo></r>`;

  it(`refuses elements nested more than ${MAX_SAML_DEPTH} deep, and takes ${MAX_SAML_DEPTH}`, () => {
    expect(samlResponseOverBudget(nested(490))).toBe(`the SAMLResponse nests XML elements more than ${MAX_SAML_DEPTH} deep`);
    expect(samlResponseOverBudget(nested(MAX_SAML_DEPTH - 2))).toBeNull();
  });
});

describe('readSamlResponse', () => {
  it.each([
    ['an attribute without a value', '<r a b="1"/>'],
    ['an unquoted value', '<r a=1/>'],
    ['an unclosed element', '<r><x></r>'],
    ['two root elements', '<r/><s/>'],
    ['an unknown entity', '<r>&nope;</r>'],
    ['a repeated attribute', '<r a="1" a="2"/>'],
  ])('refuses %s, which xmldom would recover from', (_name, xml) => {
    expect(readSamlResponse(xml)).toMatch(/^the SAMLResponse is not well-formed XML \(.+\)$/);
  });

  it("says what is wrong without xmldom's locator, however much of the document its message copies", () => {
    // xmldom copies an end tag's text, whitespace included, into its message before `@#[line:…]`. The cut
    // is linear (eslint's regexp/no-super-linear-move keeps it so): a pattern from \s* took 2.5 s here.
    const refusal = (spaces: number) => readSamlResponse(`<a></a${' '.repeat(spaces)}b>`) as string;
    expect(refusal(1)).toBe('the SAMLResponse is not well-formed XML (end tag name is followed by whitespace and trailing content: "a b")');
    const long = refusal(47_000);
    expect(long).toMatch(/^the SAMLResponse is not well-formed XML \(end tag name is followed by whitespace and trailing content: "a {100}/);
    expect(long).not.toContain('@#[line:');
    expect(long.length).toBeLessThanOrEqual(260);
  });

  it('takes well-formed XML, namespaces and comments included', () => {
    const doc = readSamlResponse('<?xml version="1.0"?><s:r xmlns:s="urn:x" ID="_1"><!-- c --><s:v>a &amp; b</s:v></s:r>');
    expect(typeof doc !== 'string' && doc.documentElement?.getAttribute('ID')).toBe('_1');
  });
});
