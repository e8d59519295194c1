/**
 * The shape scanXml reads from XML text before any parser runs (src/saml/xml-bounds.ts): the nesting, whether
 * tags balance, the widest start tag, the parser's search for end tags. It must read tags as xmldom does.
 */
import { DOMParser } from '@xmldom/xmldom';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countXmlNodes, scanXml } from '../src/saml/xml-bounds.js';

/** The element depth, DOM nodes and widest element of what xmldom builds from `xml`, and whether it complained. */
function domShape(xml: string): { depth: number; nodes: number; attributes: number; complained: boolean } {
  let complained = false;
  const complain = () => void (complained = true);
  const doc = new DOMParser({ errorHandler: { warning: complain, error: complain, fatalError: complain } }).parseFromString(xml, 'text/xml');
  let depth = 0;
  let nodes = 0;
  let attributes = 0;
  const walk = (node: Node, level: number) => {
    nodes++;
    if (node.nodeType === 1) {
      const count = (node as Element).attributes.length;
      nodes += count;
      attributes = Math.max(attributes, count);
      depth = Math.max(depth, level);
    }
    for (const child of Array.from(node.childNodes ?? [])) walk(child, node.nodeType === 1 ? level + 1 : level);
  };
  walk(doc.documentElement!, 1);
  return { depth, nodes, attributes, complained };
}

describe('scanXml', () => {
  it('counts the nesting of elements; empty elements, and what comments, CDATA, instructions and values hold, do not nest', () => {
    expect(scanXml('<r><a/><b x="/>" y=\'>\'><c></c></b></r>', 32)).toMatchObject({ depth: 3, balanced: true, attributes: 2 });
    expect(scanXml('<?xml version="1.0"?><r><!-- <a> </r> --><![CDATA[<b></r>]]><?p <c> ?></r>', 32)).toMatchObject({ depth: 1, balanced: true });
    expect(scanXml('<r><a></a ><b\n/></r\n>', 32)).toMatchObject({ depth: 2, balanced: true });
  });

  it('counts elements never closed as nested, up to one past the limit', () => {
    expect(scanXml('<r>' + '<a>'.repeat(100), 32)).toMatchObject({ depth: 33, balanced: false, endTagSearch: 0 });
    expect(scanXml('<r><a>', 32)).toMatchObject({ depth: 2, balanced: false });
    expect(scanXml('<r><!-- never closed </r>', 32).balanced).toBe(false);
  });

  it('does not let an end tag naming another element close the innermost one', () => {
    expect(scanXml('<r><a></b></r>', 32).balanced).toBe(false);
    expect(scanXml('<r></r></r>', 32).balanced).toBe(false);
    expect(scanXml('<r><a></A></r>', 32).balanced).toBe(false);
  });

  it('counts references and namespace declarations', () => {
    expect(scanXml('<r xmlns="urn:r" xmlns:p="urn:p" a="&amp;&#65;"><p:a>x &lt; y</p:a></r>', 32)).toMatchObject({ references: 3, namespaces: 2 });
  });

  it('measures the parser’s search for end tags: from the end of the text to each name’s last `</name>`', () => {
    const xml = '<r><a></a><a></a><p>xxxxxxxx</p></r>';
    const search = ['r', 'a', 'p'].reduce((sum, name) => sum + xml.length - xml.lastIndexOf(`</${name}>`), 0);
    expect(scanXml(xml, 32)).toMatchObject({ balanced: true, endTagSearch: search });
    // A name only ever closed as `</a >` makes the parser search twice.
    expect(scanXml('<r><a></a ></r>', 32).endTagSearch).toBe(4 + 2 * 15);
  });

  it('reads random well-formed documents as xmldom builds them', () => {
    const text = fc.constantFrom('t', ' ', '&amp;', '>', '/', '"', "'", '=', 'x="1"');
    const value = fc.array(fc.constantFrom('v', '>', '/>', '/', '=', ' ', '&amp;', '<!--', '-->'), { maxLength: 4 }).map((parts) => parts.join(''));
    const name = fc.constantFrom('a', 'b', 'p:c', 'md:EntityDescriptor');
    // Each node: its text, and the names of the elements in it that are not written empty (`<a/>`), which
    // xmldom looks for the end tag of.
    type Node = { xml: string; searched: string[] };
    const leaf: fc.Arbitrary<Node> = fc
      .oneof(
        text,
        fc.constantFrom('<!-- <a> </b> > - -->', '<![CDATA[<a></b>]] >]]>', '<?pi <a> > ?>', '<!---->'),
        name.map((n) => `<${n}/>`),
      )
      .map((xml) => ({ xml, searched: [] }));
    const tree: fc.Arbitrary<Node> = fc.letrec<{ node: Node }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf,
        fc
          .record({
            name,
            attributes: fc.uniqueArray(fc.constantFrom('x', 'y', 'xmlns:q', 'q:z'), { maxLength: 3 }),
            value,
            quote: fc.constantFrom('"', "'"),
            children: fc.array(tie('node'), { maxLength: 4 }),
            space: fc.constantFrom('', ' ', '\n'),
            empty: fc.boolean(),
          })
          .map(({ name, attributes, value, quote, children, space, empty }): Node => {
            const v = quote === '"' ? value.replace(/"/g, '') : value.replace(/'/g, '');
            const attrs = attributes.map((a) => ` ${a}=${quote}${a.startsWith('xmlns') ? 'urn:q' : v}${quote}`).join('');
            if (empty && children.length === 0) return { xml: `<${name}${attrs}${space}/>`, searched: [] };
            const inner = children.map((c) => c.xml).join('');
            return { xml: `<${name}${attrs}>${inner}</${name}${space}>`, searched: [name, ...children.flatMap((c) => c.searched)] };
          }),
      ),
    })).node;
    fc.assert(
      fc.property(tree, (body) => {
        const xml = `<?xml version="1.0"?><root xmlns:md="urn:md" xmlns:p="urn:p" xmlns:q="urn:q">${body.xml}</root>`;
        const scan = scanXml(xml, 64);
        const dom = domShape(xml);
        expect(scan.balanced).toBe(true);
        // xmldom closes an element where it stands when no `</name>` follows it, even if `</name >` does (it
        // complains, and parseXmlStrictly refuses the document): then it nests less than the scan counts.
        if (dom.complained) expect(scan.depth).toBeGreaterThanOrEqual(dom.depth);
        else expect(scan.depth).toBe(dom.depth);
        expect(scan.attributes).toBe(dom.attributes);
        expect(scan.nodes).toBeGreaterThanOrEqual(dom.nodes);
        expect(scan).toMatchObject(countXmlNodes(xml));
        // The search xmldom makes: for each name of an element that is not empty, the text after its last `</name>`.
        const search = [...new Set(['root', ...body.searched])].reduce((sum, n) => sum + xml.length - xml.lastIndexOf(`</${n}>`), 0);
        expect(scan.endTagSearch).toBeGreaterThanOrEqual(search);
      }),
      { numRuns: 300 },
    );
  });
});
